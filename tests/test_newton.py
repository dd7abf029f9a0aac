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
from naive_newton import line as naive_line
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from fastlin import LogisticRegression
from fastlin.data.layout import kernel_X
from fastlin.engine.logistic import (add_sums, logistic_curvature_pass, logistic_hessp_sums,
                                     logistic_line_sums, logistic_piece, logistic_step_moved,
                                     logistic_step_scaled, logistic_sums, logistic_sums_curvature,
                                     logistic_trial_sums, newton_state)
from fastlin.engine.sources import ArraySource
from fastlin.kernels.logistic import logistic_loss_grad_serial, n_chunks_for
from fastlin.kernels.newton import (BLOCK_ROWS, logistic_hessp, logistic_hessp_serial,
                                    logistic_line, logistic_loss_grad_curv,
                                    logistic_loss_grad_curv_serial)
from fastlin.solvers.lbfgs import LogisticObjective
from fastlin.solvers.newton import (LINE_RTOL, LogisticHessian, _line_minimum, _next_radius,
                                    _steihaug_cg, minimize_trust_ncg)
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
    xv = np.empty((n, K))
    kernel(kernel_X(X), sw, coef, b, True, curv, V, c, work, xv, first)
    kernel(kernel_X(X), sw, coef, b, False, curv, V, c, work, xv, second)
    np.testing.assert_array_equal(first, second)
    # the product keeps the direction's logit change per row
    u = np.asarray(X.astype(np.float64) @ V.T) + c
    np.testing.assert_allclose(xv, u, rtol=0, atol=1e-12 * np.abs(u).max())
    return first, work.shape[0]


def _codes(n, K, seed):
    return np.random.default_rng(seed).integers(0, max(K, 2), n).astype(np.float64)


def _kernel_loss_grad_curv(X, y, sw, coef, b, parallel, logits=None):
    K, d = coef.shape
    n = X.shape[0]
    work = np.empty((n_chunks_for(n, K, d), K, d + 1))
    grad, curv = np.empty((K, d + 1)), np.empty((n, K))
    zs = np.empty((n, K)) if logits is None else logits.copy()
    kernel = logistic_loss_grad_curv if parallel else logistic_loss_grad_curv_serial
    loss = kernel(kernel_X(X), y, sw, coef, b, logits is not None, work, grad, curv, zs)
    return loss, grad, curv, zs


# ------------------------------------------------------------------------------ kernel parity
@pytest.mark.parametrize("K", [1, 2, 4, 8])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hessp_kernel_matches_numpy_twin(K, sparse, dtype):
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, dtype)
    ours, n_chunks = _kernel_hessp(X, sw, coef, b, V, c, parallel=False)
    assert n_chunks >= 2 and X.shape[0] // n_chunks > BLOCK_ROWS  # chunks of several blocks
    expected = naive_hessp(X, sw, coef, b, V, c)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("sparse", [False, True])
def test_hessp_parallel_and_serial_give_the_same_bits(K, sparse):
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, np.float64, seed=1)
    serial, _ = _kernel_hessp(X, sw, coef, b, V, c, parallel=False)
    parallel, _ = _kernel_hessp(X, sw, coef, b, V, c, parallel=True)
    np.testing.assert_array_equal(serial, parallel)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_grad_curv_kernel_matches_the_fused_pass_and_the_product(K, sparse, dtype):
    """f, g as the lbfgs kernel's to 1e-12; the curvature bit for bit the one a product computes
    itself (so adopting it changes no product); the logits as NumPy's to 1e-12."""
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, dtype, seed=3)
    n, d = X.shape
    y = _codes(n, K, 4)
    loss, grad, curv, zs = _kernel_loss_grad_curv(X, y, sw, coef, b, parallel=False)
    ref_grad = np.empty((K, d + 1))
    ref_loss = logistic_loss_grad_serial(kernel_X(X), y, sw, coef, b, 0.0, 1.0,
                                         np.empty((n_chunks_for(n, K, d), K, d + 1)), ref_grad)
    assert abs(loss - ref_loss) <= 1e-12 * abs(ref_loss)
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-12 * np.abs(ref_grad).max())
    z = np.asarray(X.astype(np.float64) @ coef.T) + b
    np.testing.assert_allclose(zs, z, rtol=0, atol=1e-12 * np.abs(z).max())
    product_curv = np.empty((n, K))
    work = np.empty((n_chunks_for(n, K, d), K, d + 1))
    logistic_hessp_serial(kernel_X(X), sw, coef, b, True, product_curv, V, c, work,
                          np.empty((n, K)), np.empty((K, d + 1)))
    np.testing.assert_array_equal(curv, product_curv)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_loss_grad_curv_from_known_logits_gives_the_same_bits(K, sparse, parallel):
    """Given the logits the pass would gather, it scatters the same sums (coef is not read)."""
    X, sw, coef, b, _, _ = _kernel_problem(K, sparse, np.float64, seed=9)
    y = _codes(X.shape[0], K, 10)
    gathered = _kernel_loss_grad_curv(X, y, sw, coef, b, parallel)
    known = _kernel_loss_grad_curv(X, y, sw, np.full_like(coef, np.nan), b * np.nan, parallel,
                                   logits=gathered[3])
    assert known[0] == gathered[0]
    for a, k in zip(gathered[1:], known[1:]):
        np.testing.assert_array_equal(a, k)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("sparse", [False, True])
def test_loss_grad_curv_parallel_and_serial_give_the_same_bits(K, sparse):
    X, sw, coef, b, _, _ = _kernel_problem(K, sparse, np.float64, seed=5)
    y = _codes(X.shape[0], K, 6)
    serial = _kernel_loss_grad_curv(X, y, sw, coef, b, parallel=False)
    parallel = _kernel_loss_grad_curv(X, y, sw, coef, b, parallel=True)
    assert serial[0] == parallel[0]
    for a, p in zip(serial[1:], parallel[1:]):
        np.testing.assert_array_equal(a, p)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_line_kernel_matches_numpy_twin(K, sparse):
    X, sw, coef, b, V, c = _kernel_problem(K, sparse, np.float64, seed=7, n=600)
    y = _codes(X.shape[0], K, 8)
    zs = np.asarray(X @ coef.T) + b
    u = np.asarray(X @ V.T) + c
    for step in (0.0, 0.7, -2.5):
        ours = logistic_line(zs, u, y, sw, step)
        expected = naive_line(X, y, sw, coef, b, V, c, step)[1:]
        np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_line_kernel_has_no_overflow():
    # t = 805 (y = 0) and -795 (y = 1): slopes +1 and -1, curvatures e^-800 (0): no NaN
    zs = np.array([[800.0], [-800.0]])
    d1, d2 = logistic_line(zs, np.ones((2, 1)), np.array([0.0, 1.0]), np.ones(2), 5.0)
    assert d1 == 0.0 and d2 == 0.0


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
def _objective_and_hessian(X, y, sw, K, l2, fit_intercept, newton=False):
    """The estimator's objects, built from the engine's prepared piece (as ``_fit_newton``;
    ``newton``: f and g from the Newton kernel, and the state returned too)."""
    classes = np.unique(y)
    prep = ArraySource(X, y, sw).prepare(logistic_piece, classes, np.ones(len(classes)), K)
    item = prep.items[0]
    state = newton_state(item, K)
    if newton:
        evaluate = lambda W, b: logistic_sums_curvature(item, state, W, b)  # noqa: E731
    else:
        evaluate = lambda W, b: prep.map_reduce(logistic_sums, add_sums, W, b)  # noqa: E731
    obj = LogisticObjective(evaluate, K, X.shape[1], float(sw.sum()), l2, fit_intercept)
    trial = {}
    if newton:  # trial points from known logits, as the estimator wires them
        trial = dict(step_moved=lambda a: logistic_step_moved(state, a),
                     step_scaled=lambda f: logistic_step_scaled(state, f),
                     trial_sums=lambda W, b: logistic_trial_sums(item, state, W, b))
    hess = LogisticHessian(obj, lambda W, b: logistic_curvature_pass(item, state, W, b),
                           lambda V, c: logistic_hessp_sums(item, state, V, c),
                           lambda step: logistic_line_sums(item, state, step), **trial)
    return (obj, hess, state) if newton else (obj, hess)


@pytest.mark.parametrize("K", [1, 3, 8])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("boundary", [False, True])
def test_trial_point_from_known_logits_matches_a_full_pass(K, sparse, boundary):
    """f and g at theta + s from the logits the products summed along the CG step (and after the
    step is scaled) equal those of a pass that gathers X w there."""
    X, y = _synthetic(K, sparse, n=600, d=9, seed=4)
    sw = np.random.default_rng(5).uniform(0.5, 2.0, X.shape[0])
    obj, hess, state = _objective_and_hessian(X, y, sw, K, l2=0.01, fit_intercept=True,
                                              newton=True)
    theta = 0.2 * np.random.default_rng(6).standard_normal(obj.size)
    f, g = obj(theta)
    hessp = hess(theta)
    s, _, n = _steihaug_cg(g, hessp, np.inf, 50, 1e-6, hess.on_step)
    if boundary:  # inside the region for the first CG step, on its boundary at a later one
        first, _, _ = _steihaug_cg(g, hessp, np.inf, 1, 1e-6)
        delta = 0.5 * (np.linalg.norm(first) + np.linalg.norm(s))
        assert np.linalg.norm(first) < delta < np.linalg.norm(s)
        s, _, n = _steihaug_cg(g, hessp, delta, 50, 1e-6, hess.on_step)
        assert np.isclose(np.linalg.norm(s), delta)
    assert n >= 2
    for step in (s, 0.7 * s):
        if step is not s:
            hess.scale_step(0.7)
        known = hess.trial(theta + step)
        full = obj(theta + step)
        assert known is not None
        assert known[0] == pytest.approx(full[0], rel=1e-13)
        np.testing.assert_allclose(known[1], full[1], rtol=0, atol=1e-12 * np.abs(full[1]).max())


def test_trial_point_needs_the_logits_at_the_point():
    X, y = _synthetic(1, True, n=400, d=6, seed=3)
    obj, hess, state = _objective_and_hessian(X, y, np.ones(X.shape[0]), 1, l2=0.01,
                                              fit_intercept=True, newton=True)
    theta = np.full(obj.size, 0.2)
    hessp = hess(theta)  # no f/g pass at theta: its curvature is computed in the product
    s, _, _ = _steihaug_cg(-np.ones(obj.size), hessp, np.inf, 5, 1e-3, hess.on_step)
    assert not state.tracking and hess.trial(theta + s) is None


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


@pytest.mark.parametrize("shift", [0.5, 5.0, 40.0])
def test_line_minimum_of_a_convex_function(shift):
    # phi = log cosh(alpha - shift): pure Newton from 1 diverges when |1 - shift| > ~1.09; the
    # bracket must hold it. phi' = tanh(alpha - shift), phi'' = 1 - tanh^2.
    def slope(a):
        t = np.tanh(a - shift)
        return t, 1.0 - t * t
    alpha = _line_minimum(slope, float(np.tanh(-shift)))
    assert abs(np.tanh(alpha - shift)) <= LINE_RTOL * abs(np.tanh(-shift))


def test_line_minimum_gives_up_without_the_line():
    assert _line_minimum(lambda a: None, -1.0) is None


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_line_search_finds_the_minimum_along_the_step(K, fit_intercept):
    """After f/g at a point (which keeps its logits) and one product along s, the line search
    along s without X: its alpha zeroes the objective's slope along s (central differences)."""
    X, y = _synthetic(K, False, n=500, d=8, seed=9)
    sw = np.ones(X.shape[0])
    obj, hess, state = _objective_and_hessian(X, y, sw, K, l2=0.01, fit_intercept=fit_intercept,
                                              newton=True)
    rng = np.random.default_rng(2)
    theta = 0.1 * rng.standard_normal(obj.size)
    f, g = obj(theta)
    hessp = hess(theta)
    assert not state.fresh and state.has_z  # the curvature of the f/g pass was adopted
    s = -g / np.linalg.norm(g)
    hessp(s)
    alpha = hess.line_search(theta, s, float(g @ s))
    assert alpha is not None and alpha > 0
    eps = 1e-6
    slope = (obj(theta + (alpha + eps) * s)[0] - obj(theta + (alpha - eps) * s)[0]) / (2 * eps)
    assert abs(slope) <= 1.5 * LINE_RTOL * abs(g @ s)
    hessp(s)  # a second product since the point: the step need not be along one direction
    assert hess.line_search(theta, s, float(g @ s)) is None


def test_curvature_is_adopted_only_at_the_evaluated_point():
    X, y = _synthetic(1, True, n=400, d=6, seed=3)
    sw = np.ones(X.shape[0])
    obj, hess, state = _objective_and_hessian(X, y, sw, 1, l2=0.01, fit_intercept=True,
                                              newton=True)
    theta = np.full(obj.size, 0.2)
    obj(theta)
    s = np.linspace(-1, 1, obj.size)
    adopted = hess(theta)(s)
    assert not state.fresh
    fresh = hess(theta)(s)  # the trial curvature is used once: now recomputed in the product
    assert state.has_z is False and logistic_line_sums(None, state, 1.0) is None
    np.testing.assert_array_equal(adopted, fresh)
    obj(theta + 1.0)
    hess(theta)  # not the point just evaluated
    assert state.fresh


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


@pytest.mark.parametrize("K", [1, 3])
def test_trial_points_gather_once_and_match_full_passes(K, monkeypatch):
    """A fit gathers X w once (at the start): every trial point's f and g come from the logits
    the products summed. The model matches a fit that gathers at every trial point."""
    import fastlin.linear_model._logistic as est_module

    X, y = _synthetic(K, True, seed=7)
    calls = {"gather": 0, "known": 0}
    gather, known = est_module.logistic_sums_curvature, est_module.logistic_trial_sums

    def counted_gather(*a):
        calls["gather"] += 1
        return gather(*a)

    def counted_known(*a):
        out = known(*a)
        calls["known"] += out is not None
        return out
    monkeypatch.setattr(est_module, "logistic_sums_curvature", counted_gather)
    monkeypatch.setattr(est_module, "logistic_trial_sums", counted_known)
    model = _fit(X, y, solver="newton-cg", tol=1e-8)
    assert calls["gather"] == 1 and calls["known"] == model.n_iter_[0] >= 3
    monkeypatch.setattr(est_module, "logistic_trial_sums", lambda *a: None)
    full = _fit(X, y, solver="newton-cg", tol=1e-8)
    assert calls["gather"] == 2 + full.n_iter_[0]  # its start, then every trial point
    assert abs(model.objective_ - full.objective_) <= 1e-13 * full.objective_
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=0, atol=1e-9)


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
