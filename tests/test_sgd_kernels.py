"""The per-sample SGD kernel against its plain NumPy twin, and the loss derivatives.

Every loss x penalty x schedule x averaging, dense (float64 and float32) and CSR, same visiting
order: weights, averaged weights, L1 accumulators, intercepts, t and the epoch loss agree to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from fastlin._registry import LOSSES, PENALTIES, SCHEDULES
from fastlin.data import kernel_X
from fastlin.kernels import losses as L
from fastlin.kernels import sgd
from naive_sgd import naive_dloss, naive_epoch, naive_loss, naive_perceptron_epoch

TOL = dict(rtol=1e-10, atol=1e-10)


def _data(task, n=30, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[rng.random((n, d)) < 0.3] = 0.0  # zeros: the L1 clip must skip them in both layouts
    if task == "regression":
        # Scaled so that the optimal schedule's first steps (eta = alpha^-1/4 = 2.1) stay stable for
        # the squared losses (eta ||x||^2 < 2): unstable dynamics would amplify rounding, not bugs.
        X *= 0.25
    if task == "classification":
        y = np.where(X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    else:
        y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    sw[3] = 0.0
    return X, y, sw


def _l1_ratio(penalty):
    return {"none": 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": 0.4}[penalty]


def _run_both(X, Xk, y, sw, orders, *, loss, penalty, schedule, average_start, alpha=0.05,
              eta0=0.05, power_t=0.5, epsilon=0.3, fit_intercept=True, w0=None, t0=1.0):
    d = X.shape[1]
    rng = np.random.default_rng(1)
    w0 = 0.3 * rng.standard_normal(d) if w0 is None else w0
    opt_init = sgd.optimal_init(LOSSES[loss].code, alpha, epsilon) if schedule == "optimal" else 0.0
    kw = dict(alpha=alpha, l1_ratio=_l1_ratio(penalty), eta0=eta0, power_t=power_t,
              epsilon=epsilon, fit_intercept=fit_intercept, average_start=average_start,
              opt_init=opt_init)
    ker = [w0.copy(), np.zeros(d), np.zeros(d), sgd.new_state(t=t0, intercept=0.1)]
    nai = [w0.copy(), np.zeros(d), np.zeros(d), sgd.new_state(t=t0, intercept=0.1)]
    for order in orders:
        got = sgd.epoch(Xk, y, sw, order, *ker, loss_code=LOSSES[loss].code,
                        penalty_code=PENALTIES[penalty], schedule_code=SCHEDULES[schedule],
                        want_loss=True, **kw)
        want = naive_epoch(X, y, sw, order, *nai, loss=loss, penalty=penalty, schedule=schedule,
                           **kw)
        np.testing.assert_allclose(got[0], want[0], **TOL)
        assert got[1] == want[1]
        assert got[2] == 0
        for a, b in zip(ker, nai):
            np.testing.assert_allclose(a, b, **TOL)
    return ker


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("loss", list(LOSSES))
def test_kernel_matches_naive_twin(loss, penalty, schedule):
    X, y, sw = _data(LOSSES[loss].task)
    n = X.shape[0]
    rng = np.random.default_rng(2)
    orders = [rng.permutation(n).astype(np.int64), np.arange(n - 5, dtype=np.int64)]
    layouts = [X, X.astype(np.float32), kernel_X(sp.csr_matrix(X))]
    for average_start in (0.0, 1.0, 17.0):  # off, from the start, from the 17th sample
        for Xk in layouts:
            is32 = getattr(Xk, "dtype", None) == np.float32
            Xn = X.astype(np.float32).astype(np.float64) if is32 else X
            _run_both(Xn, Xk, y, sw, orders, loss=loss, penalty=penalty, schedule=schedule,
                      average_start=average_start)


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
def test_scale_rescale_guard(penalty):
    """alpha eta = 0.5: the L2 scale halves every sample and crosses 1e-9 every ~30 samples."""
    X, y, sw = _data("classification", n=200)
    order = np.arange(200, dtype=np.int64)
    _run_both(X, X, y, sw, [order, order], loss="hinge", penalty=penalty, schedule="constant",
              average_start=1.0, alpha=1.0, eta0=0.5)


def test_shrink_clamped_at_zero():
    """eta alpha > 1 zeroes the weights instead of flipping their sign."""
    X, y, sw = _data("regression", n=20)
    order = np.arange(20, dtype=np.int64)
    ker = _run_both(X, X, y, sw, [order], loss="squared_error", penalty="l2", schedule="constant",
                    average_start=0.0, alpha=10.0, eta0=0.2)
    assert np.all(np.isfinite(ker[0]))


def test_dense_and_csr_agree_with_l1_and_zeros():
    X, y, sw = _data("classification", n=60, d=8)
    order = np.random.default_rng(3).permutation(60).astype(np.int64)
    dense = _run_both(X, X, y, sw, [order] * 3, loss="log_loss", penalty="elasticnet",
                      schedule="invscaling", average_start=5.0)
    csr = _run_both(X, kernel_X(sp.csr_matrix(X)), y, sw, [order] * 3, loss="log_loss",
                    penalty="elasticnet", schedule="invscaling", average_start=5.0)
    for a, b in zip(dense, csr):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_l1_gives_exact_zeros():
    X, y, sw = _data("classification", n=50)
    w = np.full(X.shape[1], 0.01)
    state = sgd.new_state()
    sgd.epoch(X, y, sw, np.arange(50, dtype=np.int64), w, np.zeros_like(w), np.zeros_like(w),
              state, loss_code=LOSSES["hinge"].code, penalty_code=PENALTIES["l1"],
              schedule_code=SCHEDULES["constant"], alpha=10.0, l1_ratio=1.0, eta0=0.01,
              power_t=0.5, epsilon=0.1, opt_init=0.0, fit_intercept=True, average_start=0.0,
              want_loss=False)
    assert np.all(w == 0.0)


def test_want_loss_false_returns_zero_loss_same_weights():
    X, y, sw = _data("classification")
    order = np.arange(X.shape[0], dtype=np.int64)
    out = []
    for want in (True, False):
        w = np.zeros(X.shape[1])
        res = sgd.epoch(X, y, sw, order, w, np.zeros_like(w), np.zeros_like(w), sgd.new_state(),
                        loss_code=LOSSES["log_loss"].code, penalty_code=1, schedule_code=0,
                        alpha=1e-3, l1_ratio=0.0, eta0=0.1, power_t=0.5, epsilon=0.1,
                        opt_init=0.0, fit_intercept=True, average_start=0.0, want_loss=want)
        out.append((res, w))
    assert out[0][0][0] > 0 and out[1][0][0] == 0.0
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_lecture_perceptron_exercise_kernel():
    """The seed's exercise, step by step, on the kernel (no bias, w0 = (1/2, -1/2), eta = 1)."""
    X = np.array([[2, 1], [1, 2], [3, 1], [3, 2], [1, 3], [2, 3]], dtype=float)
    y = np.array([-1, 1, -1, -1, 1, 1], dtype=float)
    ones = np.ones(6)
    kw = dict(loss_code=L.PERCEPTRON, penalty_code=0, schedule_code=0, alpha=0.0, l1_ratio=0.0,
              eta0=1.0, power_t=0.5, epsilon=0.1, opt_init=0.0, fit_intercept=False,
              average_start=0.0, want_loss=True)
    w = np.array([0.5, -0.5])
    z = np.zeros(2)
    state = sgd.new_state()
    # first point: a = 1/2, sign +, but y = -1: a mistake, w1 = (-3/2, -3/2)
    sumloss, n_upd, _ = sgd.epoch(X, y, ones, np.array([0], dtype=np.int64), w, z, z.copy(), state,
                                  **kw)
    assert (sumloss, n_upd) == (0.5, 1)
    np.testing.assert_array_equal(w, [-1.5, -1.5])
    # the rest of the pass: one more mistake (point 2), then w = (-1/2, 1/2)
    sumloss, n_upd, _ = sgd.epoch(X, y, ones, np.arange(1, 6, dtype=np.int64), w, z, z.copy(),
                                  state, **kw)
    np.testing.assert_array_equal(w, [-0.5, 0.5])
    assert n_upd == 1
    # converged: a second pass makes no mistake and changes nothing
    sumloss, n_upd, _ = sgd.epoch(X, y, ones, np.arange(6, dtype=np.int64), w, z, z.copy(), state,
                                  **kw)
    assert (sumloss, n_upd) == (0.0, 0)
    np.testing.assert_array_equal(w, [-0.5, 0.5])
    # and the plain twin of the lecture's rule agrees
    w_naive, _, mistakes = naive_perceptron_epoch(X, y, [0.5, -0.5], 0.0, fit_intercept=False)
    np.testing.assert_array_equal(w_naive, [-0.5, 0.5])
    assert mistakes == 2


def test_xor_never_converges_kernel():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([-1, 1, 1, -1], dtype=float)
    w, state = np.zeros(2), sgd.new_state()
    for _ in range(50):
        _, n_upd, _ = sgd.epoch(X, y, np.ones(4), np.arange(4, dtype=np.int64), w, np.zeros(2),
                             np.zeros(2), state, loss_code=L.PERCEPTRON, penalty_code=0,
                             schedule_code=0, alpha=0.0, l1_ratio=0.0, eta0=1.0, power_t=0.5,
                             epsilon=0.1, opt_init=0.0, fit_intercept=True, average_start=0.0,
                             want_loss=False)
        assert n_upd > 0  # every pass makes a mistake: no separating line exists


# ---- losses ------------------------------------------------------------------------------------

_P_GRID = np.linspace(-3.1, 3.1, 41) + 0.0123  # offset: keeps away from the kinks at 0, +-1, +-eps


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_naive_and_finite_differences(name):
    code = LOSSES[name].code
    eps, h = 0.3, 1e-6
    ys = (-1.0, 1.0) if LOSSES[name].task == "classification" else (-0.7, 0.4, 1.3)
    for y in ys:
        for p in _P_GRID:
            v = L.loss(code, p, y, eps)
            g = L.dloss(code, p, y, eps)
            np.testing.assert_allclose(v, naive_loss(name, p, y, eps), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(g, naive_dloss(name, p, y, eps), rtol=1e-12, atol=1e-14)
            fd = (L.loss(code, p + h, y, eps) - L.loss(code, p - h, y, eps)) / (2 * h)
            np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_log_loss_extremes_are_finite():
    code = LOSSES["log_loss"].code
    for p in (-1e4, -40.0, 40.0, 1e4):
        for y in (-1.0, 1.0):
            assert np.isfinite(L.loss(code, p, y, 0.1)) and np.isfinite(L.dloss(code, p, y, 0.1))
    assert L.loss(code, 1e4, -1.0, 0.1) == 1e4


def test_clipped_derivatives_are_counted():
    X = np.array([[1e13, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0])
    w = np.array([1.0, 0.0])
    res = sgd.epoch(X, y, np.ones(2), np.arange(2, dtype=np.int64), w, np.zeros(2), np.zeros(2),
                    sgd.new_state(), loss_code=LOSSES["squared_error"].code, penalty_code=0,
                    schedule_code=0, alpha=0.0, l1_ratio=0.0, eta0=1e-30, power_t=0.5, epsilon=0.1,
                    opt_init=0.0, fit_intercept=False, average_start=0.0, want_loss=False)
    assert res[2] == 1
    np.testing.assert_allclose(w, [1.0 - 1e-30 * 1e12 * 1e13, 0.0], atol=1e-30)


def test_clip_dloss_and_step_size():
    assert sgd.clip_dloss(1e300) == 1e12 and sgd.clip_dloss(-1e300) == -1e12
    assert sgd.clip_dloss(0.5) == 0.5
    assert sgd.step_size(sgd.CONSTANT, 0.1, 1e-4, 0.0, 0.5, 10.0) == 0.1
    assert sgd.step_size(sgd.ADAPTIVE, 0.02, 1e-4, 0.0, 0.5, 10.0) == 0.02
    np.testing.assert_allclose(sgd.step_size(sgd.INVSCALING, 0.1, 1e-4, 0.0, 0.5, 4.0), 0.05)
    np.testing.assert_allclose(sgd.step_size(sgd.OPTIMAL, 0.1, 0.5, 3.0, 0.5, 1.0), 1 / 1.5)
    # the optimal schedule's first step is typw = alpha^(-1/4) (scikit-learn's heuristic)
    alpha = 1e-4
    t0 = sgd.optimal_init(LOSSES["hinge"].code, alpha, 0.1)
    np.testing.assert_allclose(1.0 / (alpha * t0), alpha ** -0.25)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_epoch_is_bit_identical_across_calls(layout):
    """Same inputs, same compiled kernel: the same bits (the dot's summation order is fixed)."""
    X, y, sw = _data("classification", n=80, d=40)
    Xk = X if layout == "dense" else kernel_X(sp.csr_matrix(X))
    order = np.random.default_rng(4).permutation(80).astype(np.int64)
    results = []
    for _ in range(2):
        arrays = [np.zeros(40), np.zeros(40), np.zeros(40), sgd.new_state()]
        for _epoch in range(3):
            sgd.epoch(Xk, y, sw, order, *arrays, loss_code=LOSSES["log_loss"].code,
                      penalty_code=PENALTIES["elasticnet"], schedule_code=SCHEDULES["optimal"],
                      alpha=1e-3, l1_ratio=0.3, eta0=0.0, power_t=0.5, epsilon=0.1,
                      opt_init=sgd.optimal_init(LOSSES["log_loss"].code, 1e-3, 0.1),
                      fit_intercept=True, average_start=10.0, want_loss=False)
        results.append(arrays)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
