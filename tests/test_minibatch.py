"""Mini-batch SGD and full-batch GD: kernels vs their NumPy twin, the Ridge closed form, accuracy
parity with per-sample SGD, and LogisticRegression's stochastic solvers."""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from naive_logistic import sklearn_objective
from naive_minibatch import naive_minibatch_epoch
from sklearn.datasets import (load_breast_cancer, load_diabetes, make_classification,
                              make_regression)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlin import LogisticRegression, SGDClassifier, SGDRegressor
from fastlin._registry import CLASSIFICATION_LOSSES, LOSSES, PENALTIES, REGRESSION_LOSSES, SCHEDULES
from fastlin.data import kernel_X
from fastlin.kernels import minibatch, sgd

TOL = dict(rtol=1e-10, atol=1e-10)
L1_RATIO = {"none": 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": 0.4}


def _data(task, n=31, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.3] = 0.0  # exact zeros: the lazy L1 step must skip them in both layouts
    # 0.4 keeps eta ||x||^2 < 2 for the optimal schedule's first steps on the squared losses:
    # unstable dynamics would amplify rounding, not bugs.
    X *= 0.4
    if LOSSES[task].task == "classification":
        y = np.where(X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    else:
        y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    sw[3] = 0.0
    return X, y, sw


def _kernel_X(X, layout):
    if layout == "csr":
        return kernel_X(sp.csr_matrix(X))
    return np.ascontiguousarray(X, dtype=np.float32 if layout == "dense32" else np.float64)


def _run_both(loss, penalty, schedule, average_start, batch_size, layout, n_epochs=2, alpha=0.05,
              eta0=0.05, epsilon=0.3):
    X, y, sw = _data(loss)
    if layout == "dense32":
        X = X.astype(np.float32).astype(np.float64)  # the twin sees exactly the float32 values
    Xk = _kernel_X(X, layout)
    n, d = X.shape
    opt_init = sgd.optimal_init(LOSSES[loss].code, alpha, epsilon) if schedule == "optimal" else 0.0
    kw = dict(alpha=alpha, l1_ratio=L1_RATIO[penalty], eta0=eta0, power_t=0.5, epsilon=epsilon,
              fit_intercept=True, average_start=average_start, opt_init=opt_init,
              batch_size=batch_size)
    w0 = 0.3 * np.random.default_rng(1).standard_normal(d)
    ker = [w0.copy(), np.zeros(d), np.zeros(d), sgd.new_state(t=1.0, intercept=0.1)]
    nai = [w0.copy(), np.zeros(d), np.zeros(d), sgd.new_state(t=1.0, intercept=0.1)]
    rng = np.random.default_rng(2)
    for _ in range(n_epochs):
        order = rng.permutation(n).astype(np.int64)
        got = minibatch.epoch(Xk, y, sw, order, *ker, loss_code=LOSSES[loss].code,
                              penalty_code=PENALTIES[penalty], schedule_code=SCHEDULES[schedule],
                              want_loss=True, **kw)
        ref = naive_minibatch_epoch(X, y, sw, order, *nai, loss=loss, penalty=penalty,
                                    schedule=schedule, **kw)
        assert got[0] == pytest.approx(ref[0], rel=1e-10, abs=1e-10)
        assert got[1:] == ref[1:]
    for a, b in zip(ker, nai):
        np.testing.assert_allclose(a, b, **TOL)
    return ker


_LOSS_PENALTY = list(itertools.product(REGRESSION_LOSSES + CLASSIFICATION_LOSSES, PENALTIES))


@pytest.mark.parametrize("batch_size", [7, None], ids=["batch7", "full"])
@pytest.mark.parametrize("loss, penalty", _LOSS_PENALTY)
def test_kernel_matches_twin_every_loss_and_penalty(loss, penalty, batch_size):
    # schedule, averaging and layout rotate over the cases so each combination of them is met
    k = _LOSS_PENALTY.index((loss, penalty))
    schedule = ("constant", "optimal", "invscaling")[k % 3]
    average_start = (0.0, 1.0, 3.0)[(k // 3) % 3]
    layout = ("dense", "csr", "dense32")[k % 3 if batch_size is None else (k + 1) % 3]
    _run_both(loss, penalty, schedule, average_start, batch_size, layout)


@pytest.mark.parametrize("schedule", ["constant", "optimal", "invscaling"])
@pytest.mark.parametrize("average_start", [0.0, 1.0, 4.0])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_kernel_matches_twin_schedules_and_averaging(schedule, average_start, layout):
    for batch_size in (1, 4, 31):
        _run_both("log_loss", "elasticnet", schedule, average_start, batch_size, layout)


def test_dense_and_csr_give_the_same_model_and_l1_zeros_are_exact():
    for batch_size in (5, None):
        dense = _run_both("squared_error", "l1", "constant", 0.0, batch_size, "dense", n_epochs=4,
                          alpha=0.2, eta0=0.2)
        csr = _run_both("squared_error", "l1", "constant", 0.0, batch_size, "csr", n_epochs=4,
                        alpha=0.2, eta0=0.2)
        np.testing.assert_allclose(dense[0], csr[0], rtol=1e-12, atol=1e-14)
        # alpha = 0.2 zeroes some (not all) weights, and they are exact zeros
        assert 0 < np.count_nonzero(dense[0] == 0.0) < dense[0].size
    big = _run_both("hinge", "l1", "constant", 0.0, 4, "csr", n_epochs=3, alpha=50.0, eta0=0.1)
    assert np.all(big[0] == 0.0)


def test_scale_fold_and_state_between_epochs():
    """The implicit L2 step divides the scale by 1 + 0.6 eta alpha = 6.94 per step: below 1e-9 after
    11 of the 32 steps (folds mid-epoch); the state stays canonical: plain weights, no pending L1
    (u = 0, l1_q = 0), t counting samples."""
    ker = _run_both("squared_error", "elasticnet", "constant", 0.0, 2, "csr", n_epochs=2,
                    alpha=90.0, eta0=0.11)
    assert ker[3][sgd.STATE_U] == 0.0 and np.all(ker[2] == 0.0)
    assert ker[3][sgd.STATE_T] == 1.0 + 2 * 31  # the clock counts samples, whatever the batch


def test_epoch_rejects_bad_batch_size():
    X, y, sw = _data("squared_error")
    with pytest.raises(ValueError, match="batch_size"):
        minibatch.epoch(X, y, sw, np.arange(31), np.zeros(5), np.zeros(5), np.zeros(5),
                        sgd.new_state(), loss_code=0, penalty_code=0, schedule_code=0, alpha=0.0,
                        l1_ratio=0.0, eta0=0.1, power_t=0.5, epsilon=0.1, opt_init=0.0,
                        fit_intercept=True, average_start=0.0, want_loss=False, batch_size=0)


# ------------------------------------------------------------------- through the SGD estimators
def _with_batch_size(est, batch_size):
    """The SGD estimator running mini-batch/full-batch epochs.

    Uses the estimator's ``batch_size`` parameter once it exists; until then the epoch kernel is
    plugged into the estimator's documented seam (``_epoch_function``) on this instance.
    """
    if "batch_size" in est.get_params():
        return est.set_params(batch_size=batch_size)
    est._epoch_function = lambda: functools.partial(minibatch.epoch, batch_size=batch_size)
    return est


def test_full_batch_gd_converges_to_the_ridge_closed_form():
    X, y = make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std() + 3.0
    alpha = 0.2
    est = _with_batch_size(SGDRegressor(penalty="l2", alpha=alpha, learning_rate="constant",
                                        eta0=0.5, max_iter=500, tol=None, shuffle=False), None)
    est.fit(X, y)
    ridge = SkRidge(alpha=X.shape[0] * alpha).fit(X, y)
    np.testing.assert_allclose(est.coef_, ridge.coef_, atol=1e-3)
    np.testing.assert_allclose(est.intercept_, [ridge.intercept_], atol=1e-3)
    # not a coincidence of the tolerance: the alpha without the n_samples factor is far away
    assert np.max(np.abs(SkRidge(alpha=alpha).fit(X, y).coef_ - est.coef_)) > 0.05


@pytest.mark.parametrize("loss", REGRESSION_LOSSES + CLASSIFICATION_LOSSES)
def test_minibatch_reaches_the_per_sample_score(loss):
    task = LOSSES[loss].task
    if task == "regression":
        X, y = make_regression(n_samples=400, n_features=8, noise=10.0, random_state=1)
        y = (y - y.mean()) / y.std()
        make = functools.partial(SGDRegressor, loss=loss, epsilon=0.1, eta0=0.02)
    else:
        X, y = make_classification(n_samples=400, n_features=8, n_informative=5, n_redundant=0,
                                   n_clusters_per_class=1, flip_y=0.05, random_state=1)
        # squared_hinge diverges under the optimal schedule's first steps (per-sample too)
        extra = dict(learning_rate="constant", eta0=0.01) if loss == "squared_hinge" else {}
        make = functools.partial(SGDClassifier, loss=loss, alpha=1e-3, **extra)
    X = StandardScaler().fit_transform(X)
    common = dict(max_iter=60, tol=None, random_state=0)
    per_sample = make(**common).fit(X, y)
    mini = _with_batch_size(make(**common), 8).fit(X, y)
    gap = per_sample.score(X, y) - mini.score(X, y)
    assert gap <= 0.03, (per_sample.score(X, y), mini.score(X, y))
    assert mini.score(X, y) > (0.95 if task == "regression" else 0.8)  # exact: R^2 0.996, acc 0.885


def _standardised(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loss", REGRESSION_LOSSES + CLASSIFICATION_LOSSES)
@pytest.mark.parametrize("batch_size", [16, 256, None])
def test_every_batch_size_reaches_the_per_sample_quality_with_the_defaults(loss, batch_size):
    """Real data bundled with scikit-learn, standardised, every parameter at its default: a batch
    reaches the per-sample R^2 / accuracy within 0.01 (before the samples-clock and step rule,
    huber with batch_size=32 stopped at R^2 0.08 against 0.48 per sample)."""
    if LOSSES[loss].task == "regression":
        X, y = _standardised(load_diabetes)
        y = (y - y.mean()) / y.std()
        make = functools.partial(SGDRegressor, loss=loss)
    else:
        X, y = _standardised(load_breast_cancer)
        make = functools.partial(SGDClassifier, loss=loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # per-sample quality varies with the shuffle by ~0.01: its mean over three seeds
        per_sample = np.mean([make(random_state=s).fit(X, y).score(X, y) for s in range(3)])
        batch = np.mean([make(batch_size=batch_size, random_state=s).fit(X, y).score(X, y)
                         for s in range(3)])
    assert batch >= per_sample - 0.01, (per_sample, batch)


@pytest.mark.parametrize("loss", REGRESSION_LOSSES + CLASSIFICATION_LOSSES)
def test_d2loss_is_the_derivative_of_dloss(loss):
    from fastlin.kernels.losses import d2loss, dloss

    code, eps, h = LOSSES[loss].code, 0.3, 1e-6
    for y in (-1.0, 1.0) if LOSSES[loss].task == "classification" else (-1.0, 0.7):
        for p in np.linspace(-3.05, 3.05, 40) + 0.01:  # no point within h of a kink
            g = dloss(code, p, y, eps)
            fd = (dloss(code, p + h, y, eps) - dloss(code, p - h, y, eps)) / (2 * h)
            assert d2loss(code, p, y, eps, g) == pytest.approx(fd, rel=1e-6, abs=1e-8), (p, y)


def test_full_batch_step_is_the_curvature_cap_or_the_noise_scale():
    # a mini-batch of m takes m times the rate at its middle sample ...
    eta = minibatch.batch_step(SCHEDULES["invscaling"], 0.01, 0.0, 0.0, 0.25, 101.0, 32, 32, 0.0)
    assert eta == pytest.approx(32 * 0.01 / (101.0 + 15.5) ** 0.25, rel=1e-15)
    # ... capped at 2 / L_B
    assert minibatch.batch_step(SCHEDULES["constant"], 0.5, 0.0, 0.0, 0.5, 1.0, 32, 32, 4.0) == 0.5
    # noise scale B = tr(Sigma) / |G|^2 = (5 - 1) / 1 = 4: a batch of 100 is worth 100 * 5 / 104
    assert minibatch.noise_batch(100, 5.0, 1.0) == pytest.approx(100 * 5 / 104, rel=1e-15)
    assert minibatch.noise_batch(100, 1.0, 1.0) == 1.0  # no noise: one step is one step
    assert minibatch.noise_batch(100, 3.0, 0.0) == 100  # at a stationary point


# --------------------------------------------------------------- LogisticRegression stochastic
def _logistic_data(n=400, d=6, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=4, n_redundant=0,
                               flip_y=0.1, random_state=seed)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("solver", ["sgd", "minibatch", "gd"])
@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_stochastic_solvers_reach_the_optimum_within_5_percent(solver, penalty):
    X, y = _logistic_data()
    sw = np.random.default_rng(0).uniform(0.5, 1.5, X.shape[0])
    C = 0.05
    if penalty == "l2":
        exact = LogisticRegression(C=C, tol=1e-10).fit(X, y, sample_weight=sw)
        optimum = exact.objective_
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # scikit-learn >= 1.8 selects L1 by l1_ratio=1; before 1.8 that needs penalty="elasticnet"
            # (deprecated since 1.8, still accepted: its FutureWarning is ignored here).
            ref = SkLogisticRegression(C=C, penalty="elasticnet", l1_ratio=1.0, solver="saga",
                                       tol=1e-10, max_iter=20_000).fit(X, y, sample_weight=sw)
        optimum = sklearn_objective(X, y, sw, ref.coef_, ref.intercept_, C, "l1")
    clf = LogisticRegression(solver=solver, penalty=penalty, C=C, batch_size=16, max_iter=300,
                             random_state=0).fit(X, y, sample_weight=sw)
    # objective_ is the exact training objective at the returned coefficients
    assert clf.objective_ == pytest.approx(
        sklearn_objective(X, y, sw, clf.coef_, clf.intercept_, C, penalty), rel=1e-12)
    assert optimum <= clf.objective_ <= 1.05 * optimum
    if penalty == "l1" and solver == "gd":
        # proximal GD finds the lasso-like support of the exact solution, with exact zeros
        np.testing.assert_array_equal(clf.coef_ == 0.0, ref.coef_ == 0.0)


def test_stochastic_solver_is_deterministic_and_sparse_input_agrees():
    X, y = _logistic_data(n=300)
    a = LogisticRegression(solver="minibatch", batch_size=10, random_state=3).fit(X, y)
    b = LogisticRegression(solver="minibatch", batch_size=10, random_state=3).fit(X, y)
    c = LogisticRegression(solver="minibatch", batch_size=10, random_state=4).fit(X, y)
    s = LogisticRegression(solver="minibatch", batch_size=10, random_state=3).fit(sp.csr_matrix(X), y)
    assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_
    assert not np.array_equal(a.coef_, c.coef_)
    np.testing.assert_allclose(s.coef_, a.coef_, rtol=1e-9, atol=1e-12)


def test_stochastic_solvers_fit_multiclass():
    # they used to be binary only (a ValueError); now they minimise the multinomial objective
    X, y = make_classification(n_samples=60, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    ref = LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y)
    est = LogisticRegression(solver="sgd", tol=1e-8, max_iter=2000, random_state=0).fit(X, y)
    assert est.coef_.shape == (3, 4)
    assert est.objective_ <= ref.objective_ * (1 + 1e-3)


# ------------------------------------------------------------------------------ the estimators' batch_size


@pytest.mark.parametrize("batch_size", [1, 16, None])
def test_batch_size_parameter_counts_samples(batch_size):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 2.0])
    reg = SGDRegressor(batch_size=batch_size, max_iter=3, tol=None, learning_rate="constant",
                       eta0=0.05, random_state=0).fit(X, y)
    assert reg.n_iter_ == 3
    assert reg.t_ == 1 + 3 * 90  # t_ counts samples for every batch size, as scikit-learn's
    # the same seed gives the same model, bit for bit
    again = SGDRegressor(batch_size=batch_size, max_iter=3, tol=None, learning_rate="constant",
                         eta0=0.05, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.coef_, again.coef_)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "all"])
def test_batch_size_is_validated(bad):
    X = np.random.default_rng(1).standard_normal((20, 2))
    with pytest.raises(ValueError, match=r"The 'batch_size' parameter of SGDRegressor must be an "
                                         r"int in the range \[1, inf\) or None\. Got"):
        SGDRegressor(batch_size=bad).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="batch_size"):
        SGDClassifier(batch_size=bad).fit(X, X[:, 0] > 0)


@parametrize_with_checks([SGDRegressor(batch_size=None, learning_rate="constant", eta0=0.1, tol=1e-6),
                          SGDClassifier(batch_size=16, max_iter=200)],
                         expected_failed_checks=lambda est: {
                             "check_sample_weight_equivalence_on_dense_data":
                                 "mean-gradient steps over batches of different composition; "
                                 "scikit-learn declares the same for its SGD estimators",
                             "check_sample_weight_equivalence_on_sparse_data":
                                 "as on dense data"})
def test_minibatch_estimators_pass_sklearn_checks(estimator, check):
    check(estimator)
