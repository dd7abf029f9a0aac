"""LogisticRegression(solver="newton-cg"): trust-region Newton-CG (Lin, Weng & Keerthi 2008).

* the Hessian-vector kernel (:mod:`fastlin.kernels.newton`) against its NumPy twin
  (``tests/naive_newton.py``) at 1e-12, dense and CSR, float64 and float32, binary and softmax,
  with sample weights; its serial and parallel compilations give the same bits;
* the mean-form product of :class:`fastlin.solvers.newton.LogisticHessian` against central finite
  differences of the objective's gradient;
* the solver on a quadratic (one Newton step) and the trust-region radius update;
* the estimator reaches lbfgs(tol=1e-10)'s objective to 1e-8 relative and scikit-learn's
  newton-cg coefficients to ~1e-6: binary, multinomial, dense, CSR, sample and class weights,
  with and without intercept; float32 kept; warm start; the ConvergenceWarning at max_iter; the
  refusals (L1, chunk sources).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from naive_logistic import sklearn_objective
from naive_newton import hessp as naive_hessp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlin import LogisticRegression
from fastlin.data.layout import kernel_X
from fastlin.engine.logistic import (add_sums, logistic_curvature_pass, logistic_hessp_sums,
                                     logistic_piece, logistic_sums, newton_state)
from fastlin.engine.sources import ArraySource
from fastlin.kernels.logistic import n_chunks_for
from fastlin.kernels.newton import BLOCK_ROWS, logistic_hessp, logistic_hessp_serial
from fastlin.solvers.lbfgs import LogisticObjective
from fastlin.solvers.newton import LogisticHessian, _next_radius, minimize_trust_ncg
from fastlin.streaming import fit_chunks


# ------------------------------------------------------------------------------ data
def _synthetic(K, sparse, n=3000, d=30, seed=0, dtype=np.float64):
    """Gaussian X (or CSR with ~15 % stored entries), labels from a noisy linear rule."""
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, d, density=0.15, format="csr", random_state=seed,
                      data_rvs=rng.standard_normal, dtype=dtype)
    else:
        X = rng.standard_normal((n, d)).astype(dtype)
    k = max(K, 2)
    W = rng.standard_normal((d, k)) * (2.0 if sparse else 1.0) / np.sqrt(d)
    Z = np.asarray(X @ W) + 0.5 * rng.gumbel(size=(n, k))
    return X, np.argmax(Z, axis=1)


def _kernel_problem(K, sparse, dtype, seed=0, n=4200, d=11):
    """n > 2 x MIN_CHUNK_ROWS, so the product runs over 2 chunks of several row blocks."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    X = X.astype(dtype)
    sw = rng.uniform(0.0, 3.0, n)
    coef = rng.standard_normal((K, d))  # logits of a few units: p far from 0.5 and from 0/1
    b = rng.standard_normal(K)
    V = rng.standard_normal((K, d))
    c = rng.standard_normal(K)
    return X, sw, coef, b, V, c


def _kernel_hessp(X, sw, coef, b, V, c, parallel):
    """The product at (coef, b): once computing the curvature in the same pass (``fresh``), once
    reusing it; both must give the same bits."""
    K, d = coef.shape
    n = X.shape[0]
    work = np.empty((n_chunks_for(n, K, d), K, d + 1))
    curv = np.empty((n, K))
    first, second = np.empty((K, d + 1)), np.empty((K, d + 1))
    kernel = logistic_hessp if parallel else logistic_hessp_serial
    kernel(kernel_X(X), sw, coef, b, True, curv, V, c, work, first)
    kernel(kernel_X(X), sw, coef, b, False, curv, V, c, work, second)
    np.testing.assert_array_equal(first, second)
    return first, work.shape[0]


# ------------------------------------------------------------------------------ kernel parity
@pytest.mark.parametrize("K", [1, 2, 4])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hessp_kernel_matches_numpy_twin(K, sparse, dtype):
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, dtype)
    ours, n_chunks = _kernel_hessp(X, sw, coef, b, V, c, parallel=False)
    assert n_chunks >= 2 and X.shape[0] // n_chunks > BLOCK_ROWS  # chunks of several blocks
    expected = naive_hessp(X, sw, coef, b, V, c)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_hessp_parallel_and_serial_give_the_same_bits(K, sparse):
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, np.float64, seed=1)
    serial, _ = _kernel_hessp(X, sw, coef, b, V, c, parallel=False)
    parallel, _ = _kernel_hessp(X, sw, coef, b, V, c, parallel=True)
    np.testing.assert_array_equal(serial, parallel)


def test_hessp_binary_curvature_has_no_overflow_or_cancellation():
    # |z| = 800: p(1-p) = e^-800 underflows to 0 (no NaN from inf/inf); |z| = 30: ~e^-30, which
    # 1 - sigmoid(30) computed by subtraction would lose entirely to rounding
    X = np.array([[800.0], [-800.0], [30.0], [-30.0]])
    sw = np.ones(4)
    ours, _ = _kernel_hessp(X, sw, np.ones((1, 1)), np.zeros(1), np.ones((1, 1)),
                            np.zeros(1), parallel=False)
    e = np.exp(-30.0)
    expected = 2 * 900.0 * e / (1 + e) ** 2
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours[0, 0], expected, rtol=1e-14)


# ------------------------------------------------------------------------------ mean form
def _objective_and_hessian(X, y, sw, K, l2, fit_intercept):
    """The estimator's objects, built from the engine's prepared piece (as ``_fit_newton``)."""
    classes = np.unique(y)
    prep = ArraySource(X, y, sw).prepare(logistic_piece, classes, np.ones(len(classes)), K)
    item = prep.items[0]
    obj = LogisticObjective(lambda W, b: prep.map_reduce(logistic_sums, add_sums, W, b),
                            K, X.shape[1], float(sw.sum()), l2, fit_intercept)
    state = newton_state(item, K)
    hess = LogisticHessian(obj, lambda W, b: logistic_curvature_pass(item, state, W, b),
                           lambda V, c: logistic_hessp_sums(item, state, V, c))
    return obj, hess


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_hessp_matches_finite_differences_of_the_gradient(K, sparse, fit_intercept):
    X, y = _synthetic(K, sparse, n=500, d=8, seed=2)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    obj, hess = _objective_and_hessian(X, y, sw, K, l2=0.01, fit_intercept=fit_intercept)
    rng = np.random.default_rng(1)
    theta = 0.3 * rng.standard_normal(obj.size)
    s = rng.standard_normal(obj.size)
    hv = hess(theta)(s)
    eps = 1e-5
    fd = (obj(theta + eps * s)[1] - obj(theta - eps * s)[1]) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=0, atol=1e-7 * np.abs(fd).max())
    # and the Hessian is symmetric: u.Hs = s.Hu
    u = rng.standard_normal(obj.size)
    assert abs(u @ hv - s @ hess(theta)(u)) <= 1e-12 * np.abs(hv).max() * np.linalg.norm(u) * 10


# ------------------------------------------------------------------------------ the solver
def test_trust_ncg_solves_a_quadratic_in_few_steps():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 12))
    H = A @ A.T + np.eye(12)
    g0 = rng.standard_normal(12)
    fun = lambda x: (0.5 * x @ H @ x + g0 @ x, H @ x + g0)  # noqa: E731
    res = minimize_trust_ncg(fun, lambda x: (lambda s: H @ s), np.zeros(12), max_iter=50,
                             tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.x, np.linalg.solve(H, -g0), rtol=1e-9)
    assert res.ratio <= 1e-12
    assert res.nit <= 15


def test_radius_update_follows_the_ratio():
    # a bad step (actual increase) shrinks to <= SIGMA2 delta; a very good one does not shrink
    assert _next_radius(1.0, 1.0, gs=-1.0, actred=-0.5, prered=0.5) <= 0.5
    assert _next_radius(1.0, 1.0, gs=-1.0, actred=0.5, prered=0.5) >= 1.0


# ------------------------------------------------------------------------------ the estimator
def _fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the fits below must converge
        return LogisticRegression(**kw).fit(X, y)


def _sk(X, y, sample_weight=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SkLogisticRegression(solver="newton-cg", tol=1e-10, max_iter=1000, **kw).fit(
            X, y, sample_weight=sample_weight)


CASES = [  # (K, sparse, weighted, class_weight, fit_intercept)
    (1, False, False, None, True),
    (1, True, False, None, True),
    (1, False, True, None, False),
    (1, True, True, "balanced", True),
    (3, False, False, None, True),
    (3, True, False, None, False),
    (3, False, True, "balanced", True),
    (4, True, True, {0: 2.0, 1: 0.5, 2: 1.0, 3: 1.5}, True),
]


@pytest.mark.parametrize("K, sparse, weighted, class_weight, fit_intercept", CASES)
def test_reaches_the_lbfgs_optimum_and_sklearn_coefficients(K, sparse, weighted, class_weight,
                                                            fit_intercept):
    X, y = _synthetic(K, sparse)
    sw = np.random.default_rng(5).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    kw = dict(C=0.5, class_weight=class_weight, fit_intercept=fit_intercept)
    ours = LogisticRegression(solver="newton-cg", tol=1e-10, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours.fit(X, y, sample_weight=sw)
    ref = LogisticRegression(solver="lbfgs", tol=1e-10, max_iter=5000, **kw).fit(
        X, y, sample_weight=sw)
    assert abs(ours.objective_ - ref.objective_) <= 1e-8 * abs(ref.objective_)
    assert ours.objective_ <= ref.objective_ * (1 + 1e-12)  # at least as low: we stop later
    sk = _sk(X, y, sample_weight=sw, **kw)
    np.testing.assert_allclose(ours.coef_, sk.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, rtol=0, atol=1e-6)
    # objective_ is the mean form of scikit-learn's objective, as for the other solvers
    if class_weight is None:
        w = np.ones(X.shape[0]) if sw is None else sw
        expected = sklearn_objective(X, np.searchsorted(ours.classes_, y), w,
                                     ours.coef_.astype(np.float64), ours.intercept_, kw["C"])
        np.testing.assert_allclose(ours.objective_, expected, rtol=1e-10)


def test_no_penalty_and_many_iterations_report_outer_iterations():
    X, y = _synthetic(1, False, n=2000, d=10, seed=3)
    model = _fit(X, y, solver="newton-cg", C=np.inf, tol=1e-8)
    ref = _fit(X, y, solver="lbfgs", C=np.inf, tol=1e-10, max_iter=2000)
    assert abs(model.objective_ - ref.objective_) <= 1e-8 * ref.objective_
    assert 1 <= model.n_iter_[0] <= 30
    assert model.n_iter_.dtype == np.int32


@pytest.mark.parametrize("sparse", [False, True])
def test_float32_input_gives_float32_coefficients(sparse):
    X, y = _synthetic(3, sparse, dtype=np.float32)
    model = _fit(X, y, solver="newton-cg", tol=1e-8)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    ref = _fit(X.astype(np.float64), y, solver="newton-cg", tol=1e-8)
    # the same data (float32 values are exact in float64): the same optimum
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=1e-5)


def test_warm_start_reduces_the_iterations():
    X, y = _synthetic(3, False, seed=4)
    cold = _fit(X, y, solver="newton-cg", tol=1e-8)
    model = LogisticRegression(solver="newton-cg", tol=1e-4)
    model.fit(X, y)
    first = int(model.n_iter_[0])
    model.set_params(warm_start=True, tol=1e-8)
    model.fit(X, y)
    assert int(model.n_iter_[0]) < int(cold.n_iter_[0])
    assert first + int(model.n_iter_[0]) >= int(cold.n_iter_[0]) - 2
    assert abs(model.objective_ - cold.objective_) <= 1e-10 * cold.objective_
    # from the optimum itself: the gradient test (relative to the gradient at zero) holds at once
    model.fit(X, y)
    assert model.n_iter_[0] == 0


def test_max_iter_warns_naming_the_gradient_ratio():
    X, y = _synthetic(1, False, seed=5)
    with pytest.warns(ConvergenceWarning,
                      match=r"solver='newton-cg' reached max_iter=2 .*gradient ratio "
                            r"\|\|g\|\| / \|\|g\(0\)\|\| of [0-9.e-]+ > tol=1e-10"):
        model = LogisticRegression(solver="newton-cg", max_iter=2, tol=1e-10).fit(X, y)
    assert model.n_iter_[0] == 2


def test_max_iter_zero_reports_the_start():
    X, y = _synthetic(1, False, seed=5)
    model = LogisticRegression(solver="newton-cg", max_iter=0).fit(X, y)
    assert model.n_iter_[0] == 0
    np.testing.assert_array_equal(model.coef_, 0.0)
    np.testing.assert_allclose(model.objective_, np.log(2.0), rtol=1e-12)


def test_l1_is_refused_like_lbfgs():
    X, y = _synthetic(1, False, n=100, d=4)
    with pytest.raises(ValueError, match=r"Solver newton-cg supports only 'l2' or None penalties"):
        LogisticRegression(solver="newton-cg", l1_ratio=1.0).fit(X, y)


def test_chunk_sources_raise_a_clear_error():
    X, y = _synthetic(1, False, n=200, d=4)
    chunks = [(X[:100], y[:100]), (X[100:], y[100:])]
    with pytest.raises(ValueError, match=r"solver='newton-cg'\) is not available.*in memory.*"
                                         r"solver='lbfgs'"):
        fit_chunks(LogisticRegression(solver="newton-cg"), chunks)


def test_nan_in_X_gives_sklearn_message():
    X, y = _synthetic(1, False, n=100, d=4)
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LogisticRegression(solver="newton-cg").fit(X, y)


def test_default_tol_predicts_like_the_optimum():
    # the default (tol=1e-4 relative) is a usable model, not just a finite one: its predictions
    # agree with the exact optimum's on (almost) every training row
    X, y = _synthetic(3, True, seed=6)
    model = _fit(X, y, solver="newton-cg")
    exact = _fit(X, y, solver="newton-cg", tol=1e-10)
    assert np.mean(model.predict(X) == exact.predict(X)) >= 0.995
    assert model.objective_ - exact.objective_ <= 1e-6 * exact.objective_
