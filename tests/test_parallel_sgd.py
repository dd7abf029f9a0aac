"""One SGD problem on several cores (fastlin.solvers.parallel): determinism, the reference
algorithm, n_jobs=1 unchanged, accuracy, dense and CSR, float32."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from fastlin._registry import LOSSES, PENALTIES, SCHEDULES
from fastlin._threads import limit_threads
from fastlin.data import kernel_X
from fastlin.kernels import sgd as _sgd
from fastlin.linear_model._perceptron import Perceptron
from fastlin.linear_model._sgd_base import MAX_INT
from fastlin.linear_model._stochastic import SGDClassifier, SGDRegressor
from fastlin.solvers import parallel

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def small_threshold(monkeypatch):
    """Split problems of a few hundred rows, so the tests stay fast."""
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_PART", 50)
    monkeypatch.setattr(parallel, "MIN_WORK_PER_PART", 1)
    monkeypatch.setattr(parallel, "MIN_WORK_PER_FEATURE", 0)


def _dense(n=2000, d=20, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    coef = rng.standard_normal(d)
    y = (X @ coef + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X.astype(dtype), y


def _csr(n=2000, d=300, nnz=12, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.integers(0, d, size=(n, nnz)), axis=1)
    X = sp.csr_matrix((rng.standard_normal(n * nnz), cols.ravel(),
                       np.arange(0, n * nnz + 1, nnz)), shape=(n, d))
    X.sum_duplicates()
    coef = rng.standard_normal(d)
    y = (X @ coef + 0.3 * rng.standard_normal(n) > 0).astype(int)
    return X.astype(dtype), y


# ---- the reference: the same algorithm from the sequential kernel, one part after the other ----


def _cuts(n, k):
    return [(j * n) // k for j in range(k + 1)]


def _reference_round(Xk, y, sw, piece, w, avg, q, state, n_parts, prm, load):
    """One round of parameter mixing, written plainly (every array copied).

    ``w``, ``l1_q``, ``u``: the start plus the parts' changes weighted by
    :func:`fastlin.solvers.parallel.mixing_weights`; the intercept: the mean; the averages: the
    running mean of every part's iterates. One part is the sequential kernel on the caller's
    arrays, no mixing.
    """
    if n_parts == 1:
        _sgd.epoch(Xk, y, sw, piece, w, avg, q, state, **prm)
        return w, avg, q, state
    cuts = _cuts(piece.shape[0], n_parts)
    parts = []
    for k in range(n_parts):
        copy = [w.copy(), avg.copy(), q.copy(), state.copy()]
        _sgd.epoch(Xk, y, sw, piece[cuts[k]:cuts[k + 1]], *copy, **prm)
        parts.append(copy)
    t0, a = state[_sgd.STATE_T], prm["average_start"]
    sizes = np.diff(cuts).astype(float)
    gamma = parallel.mixing_weights(sizes, t0, prm, load)
    share = sizes / sizes.sum()
    m = np.maximum(0.0, t0 + sizes - max(t0, a)) if a > 0 else np.zeros(n_parts)
    n0 = max(0.0, t0 - a) if a > 0 else 0.0

    def changes(start, values, weights):
        return start + sum_parts([weights[k] * (values[k] - start) for k in range(n_parts)])

    new_w = changes(w, [p[0] for p in parts], gamma)
    if m.sum() > 0:  # the running mean of every iterate of every part
        sums = [(n0 + m[k]) * parts[k][1] - n0 * avg for k in range(n_parts) if m[k] > 0]
        new_avg = (n0 * avg + sum_parts(sums)) / (n0 + m.sum())
        sb = [(n0 + m[k]) * parts[k][3][1] - n0 * state[1] for k in range(n_parts) if m[k] > 0]
        avg_b = (n0 * state[1] + sum(sb)) / (n0 + m.sum())
    else:
        new_avg, avg_b = avg, state[1]
    l1 = prm["penalty_code"] in (PENALTIES["l1"], PENALTIES["elasticnet"])
    new_q = changes(q, [p[2] for p in parts], gamma) if l1 else q
    st = state.copy()
    st[_sgd.STATE_INTERCEPT] = changes(state[0], [p[3][0] for p in parts], share)
    st[_sgd.STATE_AVG_INTERCEPT] = avg_b
    st[_sgd.STATE_U] = changes(state[2], [p[3][2] for p in parts], gamma)
    st[_sgd.STATE_T] = t0 + sizes.sum()
    return new_w, new_avg, new_q, st


def sum_parts(arrays):
    total = arrays[0].copy() if isinstance(arrays[0], np.ndarray) else arrays[0]
    for a in arrays[1:]:
        total += a
    return total


def _reference_fit(est, X, y, n_parts, sync_points=1):
    """(coef, intercept, t) of a binary fit by the reference algorithm, with ``est``'s seeds."""
    prm = est._check_params()
    Xk = est._kernel_X(X)
    classes = np.unique(y)
    yy = np.where(y == classes[1], 1.0, -1.0)
    sw = np.ones(y.shape[0])
    seed = int(np.random.RandomState(est.random_state).randint(MAX_INT, size=1)[0])
    rng = np.random.default_rng(seed)
    kw = {k: prm[k] for k in ("loss_code", "penalty_code", "schedule_code", "alpha", "l1_ratio",
                              "eta0", "power_t", "epsilon", "fit_intercept", "average_start")}
    kw["opt_init"] = (_sgd.optimal_init(prm["loss_code"], prm["alpha"], prm["epsilon"])
                      if est.learning_rate == "optimal" else 0.0)
    kw["want_loss"] = False
    d = X.shape[1]
    w, avg, q, state = np.zeros(d), np.zeros(d), np.zeros(d), _sgd.new_state()
    load = parallel.column_load(Xk, d)
    for _ in range(est.max_iter):
        order = rng.permutation(np.arange(y.shape[0], dtype=np.int64))
        rounds = _cuts(order.shape[0], sync_points)
        for r in range(sync_points):
            w, avg, q, state = _reference_round(Xk, yy, sw, order[rounds[r]:rounds[r + 1]], w, avg,
                                                 q, state, n_parts, kw, load)
    t = state[_sgd.STATE_T]
    if prm["average_start"] > 0 and prm["average_start"] <= t - 1:
        return avg, state[_sgd.STATE_AVG_INTERCEPT], t
    return w, state[_sgd.STATE_INTERCEPT], t


def _clf(**kw):
    base = dict(max_iter=4, tol=None, random_state=7, n_jobs=2)
    base.update(kw)
    return SGDClassifier(**base)


# ---- n_jobs=2 is the reference algorithm ---------------------------------------------------------


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("kw", [
    dict(loss="hinge"),
    dict(loss="log_loss"),
    dict(loss="log_loss", penalty="l1"),
    dict(loss="modified_huber", penalty="elasticnet", l1_ratio=0.3),
    dict(loss="hinge", learning_rate="invscaling", eta0=0.05),
])
def test_two_parts_equal_the_reference_exactly(small_threshold, layout, kw):
    X, y = _dense() if layout == "dense" else _csr()
    est = _clf(**kw).fit(X, y)
    coef, intercept, t = _reference_fit(est, X, y, n_parts=2)
    np.testing.assert_array_equal(est.coef_.ravel(), coef)
    assert est.intercept_[0] == intercept
    assert est.t_ == t == 1 + est.max_iter * X.shape[0]


@pytest.mark.parametrize("average", [True, 1500, 5000])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_averaged_sgd_equals_the_reference(small_threshold, layout, average):
    """average=1500 starts inside the first epoch's parts, 5000 inside the third epoch."""
    X, y = _dense() if layout == "dense" else _csr()
    est = _clf(loss="log_loss", average=average).fit(X, y)
    coef, intercept, _ = _reference_fit(est, X, y, n_parts=2)
    np.testing.assert_allclose(est.coef_.ravel(), coef, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(est.intercept_[0], intercept, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("n_parts,sync_points", [(3, 1), (2, 3), (4, 2)])
def test_more_parts_and_sync_points_equal_the_reference(small_threshold, monkeypatch, n_parts,
                                                        sync_points):
    monkeypatch.setattr(parallel, "SYNC_POINTS", sync_points)
    X, y = _csr(n=2003)  # rows not divisible by the parts
    est = _clf(loss="hinge", penalty="l1", n_jobs=n_parts).fit(X, y)
    coef, intercept, _ = _reference_fit(est, X, y, n_parts=n_parts, sync_points=sync_points)
    np.testing.assert_array_equal(est.coef_.ravel(), coef)
    assert est.intercept_[0] == intercept


def test_float32_kept_and_equal_to_the_reference(small_threshold):
    X, y = _csr(dtype=np.float32)
    est = _clf(loss="log_loss").fit(X, y)
    assert est.coef_.dtype == np.float32 and est.intercept_.dtype == np.float32
    coef, intercept, _ = _reference_fit(est, X, y, n_parts=2)
    np.testing.assert_array_equal(est.coef_.ravel(), coef.astype(np.float32))
    X, y = _dense(dtype=np.float32)
    est = _clf(loss="hinge").fit(X, y)
    assert est.coef_.dtype == np.float32
    coef, _, _ = _reference_fit(est, X, y, n_parts=2)
    np.testing.assert_array_equal(est.coef_.ravel(), coef.astype(np.float32))


# ---- deterministic whatever the threads ----------------------------------------------------------


def test_same_seed_same_bits_twice(small_threshold):
    X, y = _csr()
    a = _clf(loss="log_loss", average=True).fit(X, y)
    b = _clf(loss="log_loss", average=True).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


def test_thread_limits_do_not_change_the_result(small_threshold):
    """n_jobs fixes the parts; threadpool_limits / limit_threads only how many run at once."""
    X, y = _dense()
    free = _clf(loss="hinge", n_jobs=3).fit(X, y).coef_
    with threadpool_limits(1):
        one = _clf(loss="hinge", n_jobs=3).fit(X, y).coef_
    with limit_threads(2):
        two = _clf(loss="hinge", n_jobs=3).fit(X, y).coef_
    np.testing.assert_array_equal(free, one)
    np.testing.assert_array_equal(free, two)


def _epoch_args(n=1500, d=40, seed=3):
    X, y = _dense(n, d, seed)
    Xk = np.ascontiguousarray(X)
    yy = np.where(y == 1, 1.0, -1.0)
    loss = LOSSES["log_loss"].code
    kw = dict(loss_code=loss, penalty_code=PENALTIES["elasticnet"],
              schedule_code=SCHEDULES["optimal"], alpha=1e-3, l1_ratio=0.2, eta0=0.0, power_t=0.5,
              epsilon=0.1, opt_init=_sgd.optimal_init(loss, 1e-3, 0.1), fit_intercept=True,
              average_start=200.0, want_loss=True)
    return Xk, yy, np.ones(n), kw


def _run_epochs(driver, n_epochs=3, seed=0):
    Xk, yy, sw, kw = _epoch_args()
    d = Xk.shape[1]
    w, avg, q, state = np.zeros(d), np.zeros(d), np.zeros(d), _sgd.new_state()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_epochs):
        out.append(driver(Xk, yy, sw, rng.permutation(yy.shape[0]), w, avg, q, state, **kw))
    return w, avg, q, state, out


def test_scheduling_order_does_not_change_the_result():
    """Parts that finish in any order (delays per part, threads 1..4) give the same bits."""

    def delayed(delays):
        calls = [0]
        lock = threading.Lock()

        def kernel(X, y, sw, order, *state, **kw):
            with lock:
                k = calls[0] % len(delays)
                calls[0] += 1
            time.sleep(delays[k])
            return _sgd.epoch(X, y, sw, order, *state, **kw)

        return kernel

    results = []
    for delays, n_threads in [((0.0,), 1), ((0.02, 0.0, 0.0), 3), ((0.0, 0.01, 0.03), 3),
                              ((0.0, 0.0, 0.02), 2), ((0.0,), 4)]:
        with parallel.ParallelEpoch(delayed(delays), 3, sync_points=2,
                                    n_threads=n_threads) as driver:
            results.append(_run_epochs(driver))
    for other in results[1:]:
        for a, b in zip(results[0][:4], other[:4]):
            np.testing.assert_array_equal(a, b)
        assert results[0][4] == other[4]


def test_driver_sums_the_parts_report():
    with parallel.ParallelEpoch(_sgd.epoch, 2, n_threads=2) as driver:
        _, _, _, state, out = _run_epochs(driver, n_epochs=1)
    sumloss, n_updates, n_clipped = out[0]
    assert state[_sgd.STATE_T] == 1 + 1500
    assert sumloss > 0 and 0 < n_updates <= 1500 and n_clipped == 0


def test_a_failing_part_waits_for_the_others_and_raises():
    def kernel(X, y, sw, order, *state, **kw):
        if order[0] == -1:
            raise RuntimeError("part failed")
        time.sleep(0.01)
        return _sgd.epoch(X, y, sw, order, *state, **kw)

    Xk, yy, sw, kw = _epoch_args()
    d = Xk.shape[1]
    order = np.arange(yy.shape[0])
    order[0] = -1
    with parallel.ParallelEpoch(kernel, 2, n_threads=2) as driver:
        with pytest.raises(RuntimeError, match="part failed"):
            driver(Xk, yy, sw, order, np.zeros(d), np.zeros(d), np.zeros(d), _sgd.new_state(),
                   **kw)


def test_helper_threads_end_with_the_driver():
    before = threading.active_count()
    driver = parallel.ParallelEpoch(_sgd.epoch, 2, n_threads=2)
    _run_epochs(driver, n_epochs=1)
    del driver
    for _ in range(100):
        if threading.active_count() <= before:
            break
        time.sleep(0.01)
    assert threading.active_count() <= before


# ---- n_jobs=1 is today's sequential algorithm; small problems stay sequential --------------------


def test_one_part_is_the_sequential_kernel_itself():
    assert parallel.epoch_function(_sgd.epoch, 1) is _sgd.epoch


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_n_jobs_one_is_the_plain_sequential_loop(small_threshold, layout):
    X, y = _dense() if layout == "dense" else _csr()
    for n_jobs in (None, 1):
        est = _clf(loss="log_loss", penalty="elasticnet", average=700, n_jobs=n_jobs).fit(X, y)
        coef, intercept, _ = _reference_fit(est, X, y, n_parts=1)
        np.testing.assert_array_equal(est.coef_.ravel(), coef)
        assert est.intercept_[0] == intercept


def test_small_problems_stay_sequential():
    """Below MIN_ROWS_PER_PART rows per part (or MIN_WORK_PER_PART values), n_jobs=2 is n_jobs=1."""
    X, y = _dense(n=2 * parallel.MIN_ROWS_PER_PART - 2, d=100)
    a = _clf(n_jobs=1).fit(X, y)
    b = _clf(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_n_parts_rules(monkeypatch):
    Xd = np.zeros((1, 100))
    Xs = (np.zeros(500), np.zeros(500, dtype=np.int32), np.array([0, 50, 500]))  # 250 per row
    big, d = 200_000, 100
    assert parallel.n_parts_for(None, 1, Xd, big, d) == 1
    assert parallel.n_parts_for(1, 1, Xd, big, d) == 1
    assert parallel.n_parts_for(2, 1, Xd, big, d) == 2
    assert parallel.n_parts_for(4, 1, Xd, big, d) == 4
    assert parallel.n_parts_for(2, 1, Xd, big, d, batch_size=32) == 1
    assert parallel.n_parts_for(2, 1, Xd, big, d, batch_size=None) == 1
    assert parallel.n_parts_for(4, 2, Xd, big, d) == 2  # two problems share the cores
    assert parallel.n_parts_for(2, 3, Xd, big, d) == 1  # one-vs-rest threads use them already
    assert parallel.n_parts_for(2, 1, Xd, 2 * parallel.MIN_ROWS_PER_PART - 2, d) == 1
    assert parallel.n_parts_for(2, 1, Xs, 2 * parallel.MIN_ROWS_PER_PART, d) == 2
    # the work per part, in values and per feature
    monkeypatch.setattr(parallel, "MIN_ROWS_PER_PART", 1)
    n_work = 2 * parallel.MIN_WORK_PER_PART // 100
    assert parallel.n_parts_for(2, 1, Xd, n_work, d) == 2
    assert parallel.n_parts_for(2, 1, Xd, n_work - 2, d) == 1
    wide = parallel.MIN_WORK_PER_PART // parallel.MIN_WORK_PER_FEATURE
    assert parallel.n_parts_for(2, 1, Xd, n_work, wide) == 2
    assert parallel.n_parts_for(2, 1, Xd, n_work, wide + 1) == 1


def test_one_vs_rest_keeps_its_threads(small_threshold):
    """3 classes, n_jobs=2: the problems take the cores, each problem stays sequential."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((900, 10))
    y = np.argmax(X[:, :3], axis=1)
    a = _clf(n_jobs=1).fit(X, y)
    b = _clf(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = _clf(n_jobs=6).fit(X, y)  # 2 parts per problem: deterministic, and a different model
    d = _clf(n_jobs=6).fit(X, y)
    np.testing.assert_array_equal(c.coef_, d.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


# ---- the estimators around it -------------------------------------------------------------------


def test_perceptron_and_partial_fit_and_early_stopping(small_threshold):
    X, y = _dense()
    p1 = Perceptron(max_iter=3, tol=None, random_state=0, n_jobs=2).fit(X, y)
    p2 = Perceptron(max_iter=3, tol=None, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(p1.coef_, p2.coef_)
    est = _clf(loss="log_loss", average=True)
    est.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert est.t_ == 1 + 2 * X.shape[0]
    es = _clf(early_stopping=True, max_iter=30, tol=1e-3).fit(X, y)
    assert 1 <= es.n_iter_ <= 30 and es.score(X, y) > 0.8


def test_regressor_has_no_n_jobs_and_stays_sequential(small_threshold):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    y = X @ rng.standard_normal(10)
    reg = SGDRegressor(max_iter=3, tol=None, random_state=0).fit(X, y)
    assert not hasattr(reg, "n_jobs") and np.all(np.isfinite(reg.coef_))


# ---- accuracy: the mixed model is as good as the sequential one ----------------------------------


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_held_out_accuracy_with_two_jobs(layout, loss):
    """Real thresholds (no monkeypatch): 40 000 training rows, 20 000 per part."""
    if layout == "dense":
        X, y = _dense(n=50_000, d=100, seed=1)
    else:
        X, y = _csr(n=50_000, d=2000, nnz=60, seed=1)
    Xtr, ytr, Xte, yte = X[:40_000], y[:40_000], X[40_000:], y[40_000:]
    ests = [SGDClassifier(loss=loss, max_iter=5, tol=None, random_state=0, n_jobs=j)
            for j in (1, 2)]
    for est in ests:
        est.fit(Xtr, ytr)
    Xk = kernel_X(Xtr.tocsr()) if sp.issparse(Xtr) else Xtr
    assert parallel.n_parts_for(2, 1, Xk, Xtr.shape[0], Xtr.shape[1]) == 2  # the parallel path ran
    assert not np.array_equal(ests[0].coef_, ests[1].coef_)
    acc = [est.score(Xte, yte) for est in ests]
    assert acc[0] > 0.75
    # no worse than 0.005 (on the dense problem mixing also averages out SGD noise and the mixed
    # model scores ~0.01 higher than the last sequential iterate)
    assert acc[1] >= acc[0] - 0.005, acc


# ---- the mixing weights --------------------------------------------------------------------------


def _numeric_shrink(a, b, prm):
    """The product of the kernel's own L2 shrink factors over the steps a <= t < b."""
    r = 1.0 - prm["l1_ratio"]
    total = 1.0
    for t in range(int(a), int(b)):
        eta = _sgd.step_size(prm["schedule_code"], prm["eta0"], prm["alpha"], prm["opt_init"],
                             prm["power_t"], float(t))
        total *= _sgd.l2_shrink_factor(eta, prm["alpha"], 1.0 - r)
    return total


@pytest.mark.parametrize("schedule,penalty,l1_ratio", [
    ("optimal", "l2", 0.0), ("optimal", "elasticnet", 0.4), ("constant", "l2", 0.0),
    ("invscaling", "elasticnet", 0.15), ("adaptive", "l2", 0.0)])
def test_shrink_closed_forms_match_the_kernel_product(schedule, penalty, l1_ratio):
    prm = dict(schedule_code=SCHEDULES[schedule], penalty_code=PENALTIES[penalty], alpha=1e-3,
               l1_ratio=l1_ratio, eta0=0.01, power_t=0.5, opt_init=0.0)
    prm["opt_init"] = _sgd.optimal_init(1, prm["alpha"], 0.1)
    for a, b in [(1, 500), (3000, 4200), (10_001, 10_002)]:
        np.testing.assert_allclose(parallel._shrink(a, b, prm), _numeric_shrink(a, b, prm),
                                   rtol=1e-9)
    assert parallel._shrink(5, 5, prm) == 1.0
    assert parallel._shrink(1, 100, dict(prm, penalty_code=PENALTIES["l1"])) == 1.0


def test_weights_average_in_the_correction_regime_and_sum_in_the_linear_one():
    prm = dict(schedule_code=SCHEDULES["optimal"], penalty_code=PENALTIES["l2"], alpha=1e-4,
               l1_ratio=0.0, eta0=0.0, power_t=0.5)
    prm["opt_init"] = _sgd.optimal_init(1, prm["alpha"], 0.1)
    sizes = np.array([100_000, 100_000])
    # dense-like load: averaged; the first round of the first epoch too
    np.testing.assert_array_equal(parallel.mixing_weights(sizes, 200_001.0, prm, 1.0), [0.5, 0.5])
    np.testing.assert_array_equal(parallel.mixing_weights(sizes, 1.0, prm, 4e-4), [0.5, 0.5])
    # wide CSR (the workload's load), later epochs: (tau0 + n_k) / (tau0 + n), towards 1
    tau0 = prm["opt_init"] + 200_001.0 - 2.0
    g2 = parallel.mixing_weights(sizes, 200_001.0, prm, 4e-4)
    np.testing.assert_allclose(g2, (tau0 + 1e5) / (tau0 + 2e5), rtol=1e-9)
    g5 = parallel.mixing_weights(sizes, 800_001.0, prm, 4e-4)
    assert 0.5 < g2[0] < g5[0] < 1.0
    # no L2 part: the changes are summed
    np.testing.assert_array_equal(
        parallel.mixing_weights(sizes, 800_001.0, dict(prm, penalty_code=0), 4e-4), [1.0, 1.0])


@pytest.mark.parametrize("kw", [dict(loss="log_loss"), dict(loss="hinge", penalty="elasticnet",
                                                            l1_ratio=0.5, average=3000)])
def test_the_summing_regime_equals_the_reference(small_threshold, kw):
    """alpha=0.01 on a wide CSR: later rounds weigh the parts' changes above 1/2."""
    X, y = _csr(n=2000, d=3000, nnz=10)
    est = _clf(alpha=0.01, **kw).fit(X, y)
    Xk = kernel_X(X)
    prm = est._check_params()
    prm.update(opt_init=_sgd.optimal_init(prm["loss_code"], prm["alpha"], prm["epsilon"]))
    gamma = parallel.mixing_weights([1000, 1000], 4001.0, prm, parallel.column_load(Xk, 3000))
    assert gamma[0] > 0.6
    coef, intercept, _ = _reference_fit(est, X, y, n_parts=2)
    if "average" in kw:
        np.testing.assert_allclose(est.coef_.ravel(), coef, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_array_equal(est.coef_.ravel(), coef)
        assert est.intercept_[0] == intercept


def test_column_load():
    X = np.ones((5000, 40))
    assert parallel.column_load(X, 40) == pytest.approx(1.0)
    Xs, _ = _csr(n=3000, d=500, nnz=10)
    est = parallel.column_load(kernel_X(Xs), 500)
    exact = Xs.multiply(Xs).sum() / 3000 / 500
    assert est == pytest.approx(exact, rel=0.15)


def test_non_finite_x_raises_and_divergence_warns(small_threshold):
    X, y = _dense()
    X[1500, 3] = np.nan  # a row of part 1 only (shuffle=False: contiguous row blocks)
    with pytest.raises(ValueError, match="NaN"):
        _clf(shuffle=False).fit(X, y)
    X, y = _dense()
    for n_jobs in (1, 2):  # the clipped derivatives of the parts are counted and reported
        with pytest.warns(ConvergenceWarning, match="diverging"):
            _clf(loss="squared_error", learning_rate="constant", eta0=1e3, penalty=None,
                 n_jobs=n_jobs).fit(X * 1e6, y)
