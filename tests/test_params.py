"""Parameter validation of LinearRegression, Ridge, LogisticRegression, SGDClassifier, SGDRegressor
and Perceptron.

The per-parameter rules are declared in ``_parameter_constraints`` and checked by scikit-learn's
``_validate_params`` at the start of ``fit``, so a bad value raises scikit-learn's
``InvalidParameterError`` (a ValueError and a TypeError) naming the parameter and the estimator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation

from fastlin import (
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from fastlin._registry import CLASSIFICATION_LOSSES, PENALTIES, REGRESSION_LOSSES, SCHEDULES


class _BadType:
    pass


def _regression(n=30, d=3, n_targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, n_targets or 1))
    Y = X @ W + 0.1 * rng.standard_normal((n, n_targets or 1))
    return X, (Y[:, 0] if n_targets is None else Y)


def _classification(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


BAD = [
    # (estimator class, parameter, bad value): wrong type, out of range, NaN, unknown string
    (LinearRegression, "fit_intercept", "yes"),
    (LinearRegression, "fit_intercept", 1),
    (LinearRegression, "fit_intercept", None),
    (LinearRegression, "fit_intercept", _BadType()),
    (Ridge, "alpha", -1.0),
    (Ridge, "alpha", -1),
    (Ridge, "alpha", np.nan),
    (Ridge, "alpha", np.inf),
    (Ridge, "alpha", "1.0"),
    (Ridge, "alpha", None),
    (Ridge, "alpha", _BadType()),
    (Ridge, "fit_intercept", "no"),
    (Ridge, "fit_intercept", 0),
    (LogisticRegression, "penalty", "ridge"),
    (LogisticRegression, "penalty", "L2"),
    (LogisticRegression, "penalty", "none"),
    (LogisticRegression, "penalty", 2),
    (LogisticRegression, "C", 0.0),
    (LogisticRegression, "C", -1),
    (LogisticRegression, "C", np.nan),
    (LogisticRegression, "C", -np.inf),
    (LogisticRegression, "C", "1.0"),
    (LogisticRegression, "C", None),
    (LogisticRegression, "fit_intercept", "true"),
    (LogisticRegression, "fit_intercept", 1),
    (LogisticRegression, "tol", -1e-4),
    (LogisticRegression, "tol", np.nan),
    (LogisticRegression, "tol", np.inf),
    (LogisticRegression, "tol", "1e-4"),
    (LogisticRegression, "max_iter", -1),
    (LogisticRegression, "max_iter", 2.5),
    (LogisticRegression, "max_iter", 100.0),
    (LogisticRegression, "max_iter", np.nan),
    (LogisticRegression, "max_iter", np.inf),
    (LogisticRegression, "max_iter", None),
    (LogisticRegression, "class_weight", "auto"),
    (LogisticRegression, "class_weight", [1.0, 2.0]),
    (LogisticRegression, "class_weight", 2.0),
    (LogisticRegression, "random_state", "seed"),
    (LogisticRegression, "random_state", -1),
    (LogisticRegression, "random_state", 1.5),
    (LogisticRegression, "solver", "newton"),
    (LogisticRegression, "solver", "SAGA"),
    (LogisticRegression, "l1_ratio", 1.5),
    (LogisticRegression, "l1_ratio", -0.1),
    (LogisticRegression, "l1_ratio", np.nan),
    (LogisticRegression, "l1_ratio", "half"),
    (LogisticRegression, "dual", "no"),
    (LogisticRegression, "dual", None),
    (LogisticRegression, "intercept_scaling", 0.0),
    (LogisticRegression, "intercept_scaling", -1),
    (LogisticRegression, "intercept_scaling", np.nan),
    (LogisticRegression, "intercept_scaling", None),
    (LogisticRegression, "n_jobs", 1.5),
    (LogisticRegression, "n_jobs", "all"),
    (LogisticRegression, "solver", "LBFGS"),
    (LogisticRegression, "solver", None),
    (LogisticRegression, "verbose", -1),
    (LogisticRegression, "verbose", "loud"),
    (LogisticRegression, "warm_start", "yes"),
    (LogisticRegression, "warm_start", None),
    (LogisticRegression, "batch_size", 0),
    (LogisticRegression, "batch_size", -5),
    (LogisticRegression, "batch_size", 1.5),
    (LogisticRegression, "batch_size", np.nan),
    (LogisticRegression, "batch_size", None),
]


SGD_BAD = [
    # the same for the SGD estimators: every declared parameter, types, ranges, NaN/inf, names
    (SGDClassifier, "loss", "hinj"),
    (SGDClassifier, "loss", "Hinge"),
    (SGDClassifier, "loss", "log"),  # removed from scikit-learn in 1.3
    (SGDClassifier, "loss", None),
    (SGDRegressor, "loss", "hinge"),  # a classification loss
    (SGDRegressor, "loss", "log_loss"),
    (SGDClassifier, "penalty", "l3"),
    (SGDClassifier, "penalty", "L2"),
    (SGDClassifier, "penalty", 2),
    (Perceptron, "penalty", "ridge"),
    (SGDClassifier, "alpha", -1.0),
    (SGDClassifier, "alpha", np.nan),
    (SGDClassifier, "alpha", np.inf),
    (SGDClassifier, "alpha", "0.1"),
    (SGDClassifier, "alpha", None),
    (SGDRegressor, "alpha", -1e-9),
    (Perceptron, "alpha", -1),
    (SGDClassifier, "l1_ratio", 1.5),
    (SGDClassifier, "l1_ratio", -0.1),
    (SGDClassifier, "l1_ratio", np.nan),
    (SGDClassifier, "l1_ratio", "half"),
    (Perceptron, "l1_ratio", 2),
    (SGDClassifier, "fit_intercept", "yes"),
    (SGDClassifier, "fit_intercept", 1),
    (SGDClassifier, "fit_intercept", None),
    (SGDRegressor, "fit_intercept", 0),
    (SGDClassifier, "max_iter", 0),
    (SGDClassifier, "max_iter", -1),
    (SGDClassifier, "max_iter", 2.5),
    (SGDClassifier, "max_iter", 100.0),
    (SGDClassifier, "max_iter", np.nan),
    (SGDClassifier, "max_iter", None),
    (Perceptron, "max_iter", 0),
    (SGDClassifier, "tol", -1.0),
    (SGDClassifier, "tol", np.nan),
    (SGDClassifier, "tol", np.inf),
    (SGDClassifier, "tol", "1e-3"),
    (SGDClassifier, "shuffle", "no"),
    (SGDClassifier, "shuffle", 1),
    (SGDClassifier, "verbose", -1),
    (SGDClassifier, "verbose", "loud"),
    (SGDClassifier, "verbose", 1.5),
    (SGDClassifier, "epsilon", -0.1),
    (SGDClassifier, "epsilon", np.nan),
    (SGDRegressor, "epsilon", np.inf),
    (SGDRegressor, "epsilon", None),
    (SGDClassifier, "n_jobs", 1.5),
    (SGDClassifier, "n_jobs", "all"),
    (Perceptron, "n_jobs", 2.0),
    (SGDClassifier, "random_state", "seed"),
    (SGDClassifier, "random_state", -1),
    (SGDClassifier, "random_state", 1.5),
    (SGDClassifier, "learning_rate", "fast"),
    (SGDClassifier, "learning_rate", "Optimal"),
    (SGDClassifier, "learning_rate", None),
    (SGDRegressor, "learning_rate", "pa3"),  # not a passive-aggressive schedule (pa1, pa2 are)
    (SGDClassifier, "eta0", 0.0),
    (SGDClassifier, "eta0", -0.01),
    (SGDClassifier, "eta0", np.nan),
    (SGDClassifier, "eta0", np.inf),
    (SGDClassifier, "eta0", None),
    (Perceptron, "eta0", 0),
    (SGDClassifier, "power_t", np.nan),
    (SGDClassifier, "power_t", np.inf),
    (SGDRegressor, "power_t", -np.inf),
    (SGDRegressor, "power_t", "0.5"),
    (SGDClassifier, "early_stopping", "yes"),
    (SGDClassifier, "early_stopping", None),
    (SGDClassifier, "validation_fraction", 0.0),
    (SGDClassifier, "validation_fraction", 1.0),
    (SGDClassifier, "validation_fraction", np.nan),
    (SGDRegressor, "validation_fraction", -0.1),
    (Perceptron, "validation_fraction", 1),
    (SGDClassifier, "n_iter_no_change", 0),
    (SGDClassifier, "n_iter_no_change", 2.0),
    (SGDRegressor, "n_iter_no_change", None),
    (SGDClassifier, "class_weight", "auto"),
    (SGDClassifier, "class_weight", [1.0, 2.0]),
    (SGDClassifier, "class_weight", 2.0),
    (Perceptron, "class_weight", "weird"),
    (SGDClassifier, "warm_start", "yes"),
    (SGDClassifier, "warm_start", None),
    (Perceptron, "warm_start", 1),
    (SGDClassifier, "average", -2),
    (SGDClassifier, "average", 2.5),
    (SGDClassifier, "average", "yes"),
    (SGDClassifier, "average", None),
    (Perceptron, "average", -1),
    (SGDClassifier, "batch_size", 0),
    (SGDClassifier, "batch_size", -5),
    (SGDClassifier, "batch_size", 2.5),
    (SGDClassifier, "batch_size", np.nan),
    (SGDClassifier, "batch_size", "all"),
    (SGDRegressor, "batch_size", True),  # no scikit-learn counterpart; a bool was never a size
    (SGDRegressor, "batch_size", np.bool_(False)),
]
BAD += SGD_BAD
SGD_ESTIMATORS = [SGDClassifier, SGDRegressor, Perceptron]


def _data_for(Est):
    return _regression() if Est in (LinearRegression, Ridge, SGDRegressor) else _classification()


@pytest.mark.parametrize("Est, name, value", BAD,
                         ids=[f"{E.__name__}-{p}-{v!r}" for E, p, v in BAD])
def test_bad_value_raises_sklearn_error(Est, name, value):
    X, y = _data_for(Est)
    est = Est(**{name: value})
    match = rf"^The '{name}' parameter of {Est.__name__} must be .* Got .* instead\.$"
    with pytest.raises(ValueError, match=match) as info:
        est.fit(X, y)
    # scikit-learn's own exception type, which is both a ValueError and a TypeError
    assert isinstance(info.value, InvalidParameterError)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("Est, name, value", SGD_BAD,
                         ids=[f"{E.__name__}-{p}-{v!r}" for E, p, v in SGD_BAD])
def test_bad_value_raises_sklearn_error_in_partial_fit(Est, name, value):
    X, y = _data_for(Est)
    est = Est(**{name: value})
    kwargs = {} if Est is SGDRegressor else {"classes": np.unique(y)}
    with pytest.raises(InvalidParameterError, match=rf"^The '{name}' parameter of {Est.__name__} "):
        est.partial_fit(X, y, **kwargs)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("Est", [LinearRegression, Ridge, LogisticRegression, *SGD_ESTIMATORS])
def test_every_init_parameter_is_declared(Est):
    assert set(Est._parameter_constraints) == set(Est().get_params(deep=False))


@pytest.mark.parametrize("Est", [LinearRegression, Ridge, LogisticRegression, *SGD_ESTIMATORS])
def test_sklearn_check_param_validation(Est):
    # scikit-learn's own check (not part of parametrize_with_checks' default set): an object of an
    # unknown type and each constraint's generated invalid values must raise its error in fit.
    check_param_validation(Est.__name__, Est())


def test_validation_runs_before_touching_the_data():
    # A bad parameter is reported even when the data are bad too.
    with pytest.raises(ValueError, match="'C' parameter of LogisticRegression"):
        LogisticRegression(C=-1.0).fit([[np.nan]], [0])
    with pytest.raises(ValueError, match="'alpha' parameter of Ridge"):
        Ridge(alpha=-1.0).fit([[np.nan]], [0.0])
    for Est in SGD_ESTIMATORS:
        with pytest.raises(ValueError, match=f"'alpha' parameter of {Est.__name__}"):
            Est(alpha=-1.0).fit([[np.nan]], [0])
        with pytest.raises(ValueError, match=f"'alpha' parameter of {Est.__name__}"):
            Est(alpha=-1.0).partial_fit([[np.nan]], [0], **({} if Est is SGDRegressor
                                                             else {"classes": [0, 1]}))


def test_sgd_option_sets_come_from_the_registry():
    # the StrOptions are built from fastlin._registry, so a new row there is accepted at once
    def options(Est, name):
        return next(c for c in Est._parameter_constraints[name]
                    if hasattr(c, "options") and not c.hidden).options

    assert options(SGDClassifier, "loss") == {*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES}
    assert options(SGDRegressor, "loss") == set(REGRESSION_LOSSES)
    for Est in SGD_ESTIMATORS:
        assert options(Est, "penalty") | {"none"} == set(PENALTIES)
        assert None in Est._parameter_constraints["penalty"]
    for Est in (SGDClassifier, SGDRegressor):
        assert options(Est, "learning_rate") == set(SCHEDULES)
    # Perceptron declares only its own parameters: no loss, schedule, epsilon, power_t, batch_size
    assert not {"loss", "learning_rate", "epsilon", "power_t", "batch_size"} & set(
        Perceptron._parameter_constraints)


# ------------------------------------------------------------------ values checked by fastlin itself
def test_ridge_per_target_alpha_checked_by_ridge_alphas():
    X, Y = _regression(n_targets=2)
    with pytest.raises(ValueError, match="one value per target"):
        Ridge(alpha=[1.0, 2.0, 3.0]).fit(X, Y)
    with pytest.raises(ValueError, match="finite"):
        Ridge(alpha=[1.0, np.nan]).fit(X, Y)
    with pytest.raises(ValueError, match="finite"):
        Ridge(alpha=np.array([np.inf, 1.0])).fit(X, Y)
    with pytest.raises(ValueError, match=">= 0"):
        Ridge(alpha=[1.0, -1.0]).fit(X, Y)


@pytest.mark.parametrize("params", [dict(l1_ratio=1.0), dict(l1_ratio=0.3),
                                    dict(penalty="l1"), dict(penalty="elasticnet", l1_ratio=0.5),
                                    dict(penalty="l1", C=np.inf)], ids=repr)
def test_l1_is_rejected_by_lbfgs(params):
    # as scikit-learn 1.9: lbfgs is smooth-only (an explicit penalty='l1' even with C=inf)
    X, y = _classification()
    with warnings.catch_warnings(), pytest.raises(
            ValueError, match=r"Solver lbfgs supports only 'l2' or None penalties.*'proximal'"):
        warnings.simplefilter("ignore", FutureWarning)
        LogisticRegression(solver="lbfgs", **params).fit(X, y)


@pytest.mark.parametrize("solver", ["proximal", "saga", "sgd", "minibatch", "gd"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_with_a_proximal_or_stochastic_solver_passes_validation(solver, l1_ratio):
    # _check_params is the entry point fastlin.streaming and fastlin._dask call
    LogisticRegression(l1_ratio=l1_ratio, solver=solver)._check_params()


@pytest.mark.parametrize("solver", ["liblinear", "newton-cholesky", "sag"])
def test_sklearn_only_solvers_raise_naming_the_alternative(solver):
    # declared (scikit-learn accepts them), then refused with what fastlin offers instead
    with pytest.raises(ValueError, match=rf"solver='{solver}' is not implemented by fastlin: "
                                         r".*fastlin's solvers: 'lbfgs', 'proximal'"):
        LogisticRegression(solver=solver)._check_params()


def test_dual_true_raises_like_sklearn():
    X, y = _classification()
    with pytest.raises(ValueError, match="Solver lbfgs supports only dual=False, got dual=True"):
        LogisticRegression(dual=True).fit(X, y)


def test_penalty_is_deprecated_like_sklearn():
    X, y = _classification()
    with pytest.warns(FutureWarning, match="'penalty' was deprecated in version 1.8"):
        old = LogisticRegression(penalty="l1", solver="saga", C=0.1).fit(X, y)
    new = LogisticRegression(l1_ratio=1.0, solver="saga", C=0.1).fit(X, y)
    np.testing.assert_array_equal(old.coef_, new.coef_)
    with pytest.warns(UserWarning, match="Setting penalty=None will ignore the C"):
        LogisticRegression(penalty=None, C=0.5).fit(X, y)


def test_check_params_validates_the_declared_constraints():
    with pytest.raises(InvalidParameterError, match="'batch_size' parameter of LogisticRegression"):
        LogisticRegression(batch_size=0)._check_params()
    for Est in SGD_ESTIMATORS:
        with pytest.raises(InvalidParameterError, match=f"'eta0' parameter of {Est.__name__}"):
            Est(eta0=0.0)._check_params()


# ------------------------------------------------------------------ SGD cross-parameter rules
# Each parameter is valid alone; _check_params rejects the combination with fastlin's own message.
@pytest.mark.parametrize("Est, params, match", [
    (SGDClassifier, dict(alpha=0.0), "alpha must be > 0 with learning_rate='optimal'"),
    (SGDRegressor, dict(alpha=0, learning_rate="optimal"), "alpha must be > 0"),
    (SGDClassifier, dict(penalty="elasticnet", l1_ratio=None), "l1_ratio must be set"),
    (Perceptron, dict(penalty="elasticnet", l1_ratio=None), "l1_ratio must be set"),
])
def test_sgd_cross_parameter_rules(Est, params, match):
    X, y = _data_for(Est)
    with pytest.raises(ValueError, match=match) as info:
        Est(**params).fit(X, y)
    assert not isinstance(info.value, InvalidParameterError)


@pytest.mark.parametrize("Est", SGD_ESTIMATORS)
def test_sgd_early_stopping_with_partial_fit(Est):
    X, y = _data_for(Est)
    kwargs = {} if Est is SGDRegressor else {"classes": np.unique(y)}
    with pytest.raises(ValueError, match="early_stopping should be False with partial_fit"):
        Est(early_stopping=True).partial_fit(X, y, **kwargs)


def test_perceptron_fixed_hyper_parameters_need_no_alpha():
    # Perceptron's learning_rate is fixed to 'constant' by _hyper(): alpha=0 is fine
    X, y = _classification()
    clf = Perceptron(alpha=0.0, penalty="l2").fit(X, y)
    assert np.all(np.isfinite(clf.coef_))


# ------------------------------------------------------------------ good edge values
@pytest.mark.parametrize("alpha", [0, 0.0, np.float32(0.0), np.int64(3), 1e300])
def test_ridge_scalar_alpha_edges_accepted(alpha):
    X, y = _regression()
    reg = Ridge(alpha=alpha).fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    if alpha == 0:
        ols = LinearRegression().fit(X, y)
        np.testing.assert_allclose(reg.coef_, ols.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("alpha", [[0.0, 1.0], (0.5, 2.0), np.array([0.0, 0.0])])
def test_ridge_per_target_alpha_accepted(alpha):
    X, Y = _regression(n_targets=2)
    reg = Ridge(alpha=alpha).fit(X, Y)
    for t in range(2):
        single = Ridge(alpha=float(np.asarray(alpha)[t])).fit(X, Y[:, t])
        np.testing.assert_allclose(reg.coef_[t], single.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("Est", [LinearRegression, Ridge])
@pytest.mark.parametrize("fit_intercept", [False, True, np.bool_(False)])
def test_closed_form_fit_intercept_accepted(Est, fit_intercept):
    X, y = _regression()
    reg = Est(fit_intercept=fit_intercept).fit(X, y)
    if not fit_intercept:
        assert reg.intercept_ == 0.0


def test_logistic_C_inf_is_no_penalty():
    # as scikit-learn's LogisticRegression: C in (0, inf], C=inf means no penalty
    X, y = _classification()
    inf = LogisticRegression(C=np.inf).fit(X, y)
    with pytest.warns(FutureWarning, match="penalty"):
        none = LogisticRegression(penalty=None).fit(X, y)
    assert np.all(np.isfinite(inf.coef_))
    np.testing.assert_allclose(inf.coef_, none.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(inf.objective_, none.objective_, rtol=1e-12)


def test_logistic_max_iter_zero():
    X, y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=0).fit(X, y)
    # scipy's L-BFGS-B with maxiter=0 still takes its first step (as scikit-learn's lbfgs does);
    # n_iter_ is capped at max_iter, as scikit-learn's
    assert np.all(np.isfinite(clf.coef_))
    assert clf.n_iter_.tolist() == [0]


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty=None),
        dict(penalty="l2", C=1e-6),
        dict(C=np.inf),
        dict(l1_ratio=0.5, solver="proximal"),
        dict(l1_ratio=1, solver="saga", C=0.5),
        dict(l1_ratio=np.float32(0.25), solver="sgd"),
        dict(l1_ratio=None),
        dict(penalty="elasticnet", l1_ratio=0.5, solver="saga"),
        dict(dual=False),
        dict(dual=np.bool_(False)),
        dict(intercept_scaling=10.0),
        dict(intercept_scaling=1),
        dict(n_jobs=None),
        dict(n_jobs=1),
        dict(n_jobs=-1),
        dict(n_jobs=np.int64(2)),
        dict(tol=0.0),
        dict(tol=0),
        dict(C=1),
        dict(batch_size=1),
        dict(class_weight="balanced"),
        dict(class_weight={0: 1.0, 1: 2.0}),
        dict(random_state=np.random.RandomState(0)),
        dict(random_state=0),
        dict(verbose=False),
        dict(warm_start=True),
        dict(fit_intercept=np.bool_(False)),
        dict(max_iter=np.int64(50)),
    ],
    ids=repr,
)
def test_logistic_good_values_accepted(params):
    X, y = _classification()
    clf = LogisticRegression(**params).fit(X, y)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.classes_.tolist() == [0, 1]


@pytest.mark.parametrize(
    "Est, params",
    [
        (SGDClassifier, dict(penalty=None)),
        (SGDClassifier, dict(penalty="none")),  # hidden, kept for backward compatibility
        (SGDClassifier, dict(penalty="elasticnet", l1_ratio=0)),
        (SGDClassifier, dict(penalty="elasticnet", l1_ratio=1)),
        (SGDClassifier, dict(penalty="l2", l1_ratio=None)),
        (SGDClassifier, dict(alpha=0, learning_rate="constant")),
        (SGDClassifier, dict(alpha=np.float32(1e-3))),
        (SGDClassifier, dict(tol=None)),
        (SGDClassifier, dict(tol=0)),
        (SGDClassifier, dict(max_iter=1)),
        (SGDClassifier, dict(max_iter=np.int64(3))),
        (SGDClassifier, dict(max_iter=True)),  # an int to scikit-learn's SGDClassifier too
        (SGDClassifier, dict(n_iter_no_change=True)),
        (SGDClassifier, dict(average=True)),
        (SGDClassifier, dict(average=np.bool_(True))),
        (SGDClassifier, dict(average=0)),
        (SGDClassifier, dict(average=10)),
        (SGDClassifier, dict(epsilon=0, loss="huber")),
        (SGDClassifier, dict(eta0=1e-12, learning_rate="constant")),
        (SGDClassifier, dict(power_t=-1.0, learning_rate="invscaling")),
        (SGDClassifier, dict(power_t=0, learning_rate="invscaling")),
        (SGDClassifier, dict(validation_fraction=0.5, early_stopping=True)),
        (SGDClassifier, dict(n_jobs=-1)),
        (SGDClassifier, dict(class_weight="balanced")),
        (SGDClassifier, dict(class_weight={0: 1.0, 1: 2.0})),
        (SGDClassifier, dict(random_state=np.random.RandomState(0))),
        (SGDClassifier, dict(verbose=False)),
        (SGDClassifier, dict(fit_intercept=np.bool_(False))),
        (SGDClassifier, dict(batch_size=None)),
        (SGDClassifier, dict(batch_size=np.int64(7))),
        (SGDClassifier, dict(loss="squared_error")),  # a regression loss on targets in {-1, +1}
        (SGDRegressor, dict(loss="epsilon_insensitive", epsilon=0.0)),
        (SGDRegressor, dict(learning_rate="adaptive", eta0=0.5)),
        (SGDRegressor, dict(average=1, batch_size=4)),
        (SGDRegressor, dict(warm_start=True, shuffle=False)),
        (Perceptron, dict(penalty="l1", alpha=0.0)),
        (Perceptron, dict(eta0=np.float64(0.5), average=3)),
        (Perceptron, dict(l1_ratio=0.0, penalty="elasticnet")),
        (Perceptron, dict(n_jobs=2, early_stopping=True)),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else repr(v),
)
def test_sgd_good_values_accepted(Est, params):
    X, y = _data_for(Est)
    params = dict(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Est(max_iter=params.pop("max_iter", 20), **params).fit(X, y)
        assert np.all(np.isfinite(est.coef_))
        kwargs = {} if Est is SGDRegressor else {"classes": np.unique(y)}
        if not est.early_stopping and getattr(est, "class_weight", None) != "balanced":
            est.partial_fit(X, y, **kwargs)
            assert np.all(np.isfinite(est.coef_))
