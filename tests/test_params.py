"""Parameter validation of LinearRegression, Ridge and LogisticRegression.

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

from fastlin import LinearRegression, LogisticRegression, Ridge


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
    (LogisticRegression, "penalty", "elasticnet"),
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
    (LogisticRegression, "solver", "newton-cg"),
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


def _data_for(Est):
    return _classification() if Est is LogisticRegression else _regression()


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


@pytest.mark.parametrize("Est", [LinearRegression, Ridge, LogisticRegression])
def test_every_init_parameter_is_declared(Est):
    assert set(Est._parameter_constraints) == set(Est().get_params(deep=False))


@pytest.mark.parametrize("Est", [LinearRegression, Ridge, LogisticRegression])
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


@pytest.mark.parametrize("solver", ["lbfgs"])
def test_l1_needs_a_stochastic_solver(solver):
    X, y = _classification()
    with pytest.raises(ValueError, match=r"penalty='l1' is not supported by solver='lbfgs'.*"
                                         r"'sgd', 'minibatch' or 'gd'"):
        LogisticRegression(penalty="l1", solver=solver).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "minibatch", "gd"])
def test_l1_with_a_stochastic_solver_passes_validation(solver):
    # _check_params is the entry point fastlin.streaming and fastlin._dask call
    LogisticRegression(penalty="l1", solver=solver)._check_params()


def test_check_params_validates_the_declared_constraints():
    with pytest.raises(InvalidParameterError, match="'batch_size' parameter of LogisticRegression"):
        LogisticRegression(batch_size=0)._check_params()


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
    none = LogisticRegression(penalty=None).fit(X, y)
    assert np.all(np.isfinite(inf.coef_))
    np.testing.assert_allclose(inf.coef_, none.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(inf.objective_, none.objective_, rtol=1e-12)


def test_logistic_max_iter_zero():
    X, y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(max_iter=0).fit(X, y)
    # scipy's L-BFGS-B with maxiter=0 still takes its first step (as scikit-learn's lbfgs does)
    assert np.all(np.isfinite(clf.coef_))
    assert clf.n_iter_[0] <= 1


@pytest.mark.parametrize(
    "params",
    [
        dict(penalty=None),
        dict(penalty="l2", C=1e-6),
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
