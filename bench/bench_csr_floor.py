"""Where a per-sample CSR epoch goes: the floors under issue 3's CSR goal, measured in one run.

Timed (for people)::

    pytest bench/bench_csr_floor.py --benchmark-only --benchmark-group-by=group

Untimed (CI, seconds)::

    FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_csr_floor.py --benchmark-disable

On the CSR matrix of ``bench_sgd.py`` (200 000 x 131 072, 50 non-zeros per row, float64 data and
int32 indices: 120 MB of X, 1 MiB of weights), each benchmark times one epoch, rows in storage
order, of:

* ``read``: ``data`` and ``indices`` streamed once (``sum data[k] * indices[k]``), the memory
  floor of any epoch;
* ``dot``: ``x_i . w`` for every row (the loads of ``w`` are gathers), which every SGD epoch
  computes;
* ``dot_update``: the dot, then ``w += c x_i`` with ``c = +-1e-9`` from the dot's sign: the skeleton
  of an epoch in which every sample updates (as log_loss does);
* ``dot_update_32KiB_w``: the same with every column index taken modulo 4096, so that the weights
  touched fit in the 48 KiB L1 data cache instead of the 2 MiB L2: what the same instructions cost
  when ``w`` is small;
* ``dot_update_fixed_c``: the dot, then ``w += 1e-9 x_i`` whatever the dot gave, so that no
  update waits on its row's dot: against ``dot_update``, what the dot -> update latency costs;
* ``update``: ``w += 1e-9 x_i`` on every row and no dot: what the read-modify-write of the weights
  costs on its own (each touched cache line of ``w`` comes from L2 and goes back dirty);
* ``hinge`` and ``log_loss``: the real kernel, :func:`fastlin.kernels.sgd.sgd_epoch`, with
  SGDClassifier's defaults (L2, alpha 1e-4, ``optimal`` schedule), from zero weights;
* ``test_sklearn_epoch`` (hinge, log_loss; ``stream`` only): scikit-learn's
  ``SGDClassifier(max_iter=5, tol=None, shuffle=False).fit`` divided by 5, the reference the
  floors above are compared with (its validation included, as in the goal's ratio);

each once over all rows (``stream``: X comes from memory) and once over the first tenth of the rows
visited ten times (``resident``: X stays in cache, so what is left is the work on ``w``).
``extra_info`` holds ``ms_per_epoch`` and, for the real kernel, ``n_updates``. ``dot`` and
``dot_update`` call the kernels' own CSR row accessors (:func:`fastlin.kernels.rows.row_dot`,
:func:`~fastlin.kernels.rows.row_axpy`), without the epoch's prefetch of the rows ahead. The
figures of past runs, and what was tried against them, are in ``docs/performance.md``.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import make_csr_classification_data, scaled

from fastlin._jit import jit
from fastlin._registry import LOSSES
from fastlin.data import kernel_X
from fastlin.kernels import sgd as _sgd
from fastlin.kernels.rows import row_axpy, row_dot

N = scaled(200_000, minimum=1000)
D = 131_072
NNZ_PER_ROW = 50
ALPHA = 1e-4
_U64 = np.uint64


@jit
def _read(X, order, w):
    data, indices, indptr = X
    s = 0.0
    for i in order:
        for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
            s += data[k] * indices[k]
    return s


@jit
def _dot(X, order, w):
    s = 0.0
    for i in order:
        s += row_dot(X, i, w)
    return s


@jit
def _dot_update(X, order, w):
    s = 0.0
    for i in order:
        acc = row_dot(X, i, w)
        row_axpy(X, i, 1e-9 if acc > 0.0 else -1e-9, w)
        s += acc
    return s


@jit
def _dot_update_fixed_c(X, order, w):
    s = 0.0
    for i in order:
        s += row_dot(X, i, w)
        row_axpy(X, i, 1e-9, w)
    return s


@jit
def _update(X, order, w):
    for i in order:
        row_axpy(X, i, 1e-9, w)
    return 0.0


# name -> (kernel, mask applied to the column indices: 4095 keeps w's touched part at 32 KiB, in L1)
MICRO = {"read": (_read, None), "dot": (_dot, None), "dot_update": (_dot_update, None),
         "dot_update_32KiB_w": (_dot_update, 4095),
         "dot_update_fixed_c": (_dot_update_fixed_c, None), "update": (_update, None)}


@pytest.fixture(scope="module")
def csr():
    X, y = make_csr_classification_data(N, D, NNZ_PER_ROW)
    return X, np.where(y == 1, 1.0, -1.0)


def _orders(n):
    tenth = max(n // 10, 1)
    return {"stream": np.arange(n, dtype=np.int64),
            "resident": np.tile(np.arange(tenth, dtype=np.int64), 10)}


def _naive(name, X, order, w):
    """The micro-kernels in NumPy, row by row (``w`` is updated in place like the kernel's)."""
    s = 0.0
    for i in order:
        lo, hi = X.indptr[i], X.indptr[i + 1]
        idx, val = X.indices[lo:hi], X.data[lo:hi]
        if name.startswith("read"):
            s += float(val @ idx)
            continue
        if name == "update":
            np.add.at(w, idx, 1e-9 * val)
            continue
        acc = float(val @ w[idx])
        if name == "dot_update_fixed_c":
            np.add.at(w, idx, 1e-9 * val)
        elif name.startswith("dot_update"):
            np.add.at(w, idx, (1e-9 if acc > 0.0 else -1e-9) * val)  # a masked row may repeat idx
        s += acc
    return s


def _record(benchmark, n_rows):
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["ms_per_epoch"] = round(1e3 * stats.stats.min * N / n_rows, 2)


@pytest.mark.parametrize("where", ["stream", "resident"])
@pytest.mark.parametrize("name", list(MICRO))
def test_micro(benchmark, csr, name, where):
    X, _ = csr
    kernel, mask = MICRO[name]
    if mask is not None:
        X = X.copy()
        X.indices &= mask  # no longer canonical (a row may repeat a column): fine for these loops
    Xk = kernel_X(X)
    order = _orders(X.shape[0])[where]
    w0 = np.random.default_rng(1).standard_normal(D)
    kernel(Xk, order[:10], w0.copy())  # compile (or load from the disk cache) before timing
    benchmark.group = f"csr floor {N}x{D} nnz/row={NNZ_PER_ROW}: {where}"
    out = benchmark.pedantic(lambda w: kernel(Xk, order, w), setup=lambda: ((w0.copy(),), {}),
                             rounds=5, iterations=1)
    _record(benchmark, order.shape[0])
    if out is not None and where == "stream" and N <= 20_000:  # the CI scale: check the result
        w_k, w_n = w0.copy(), w0.copy()
        np.testing.assert_allclose(kernel(Xk, order, w_k), _naive(name, X, order, w_n), rtol=1e-9)
        np.testing.assert_allclose(w_k, w_n, rtol=0, atol=1e-12)


@pytest.mark.parametrize("where", ["stream", "resident"])
@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_epoch(benchmark, csr, loss, where):
    X, y = csr
    Xk = kernel_X(X)
    order = _orders(X.shape[0])[where]
    code = LOSSES[loss].code
    sw = np.ones(X.shape[0])
    opt_init = _sgd.optimal_init(code, ALPHA, 0.1)

    def setup():
        arrays = (np.zeros(D), np.zeros(D), np.zeros(D), _sgd.new_state())
        return arrays, {}

    def epoch(w, avg_w, l1_q, state):
        return _sgd.epoch(Xk, y, sw, order, w, avg_w, l1_q, state, loss_code=code, penalty_code=1,
                          schedule_code=1, alpha=ALPHA, l1_ratio=0.0, eta0=0.0, power_t=0.5,
                          epsilon=0.1, opt_init=opt_init, fit_intercept=True, average_start=0.0,
                          want_loss=False)

    epoch(*setup()[0])  # warm
    benchmark.group = f"csr floor {N}x{D} nnz/row={NNZ_PER_ROW}: {where}"
    out = benchmark.pedantic(epoch, setup=setup, rounds=5, iterations=1)
    _record(benchmark, order.shape[0])
    if out is not None:
        _, n_updates, n_clipped = out
        benchmark.extra_info["n_updates"] = int(n_updates)
        assert n_clipped == 0
        assert 0 < n_updates <= order.shape[0]
        if loss == "log_loss":  # its derivative is never exactly 0: every sample updates
            assert n_updates == order.shape[0]


@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_sklearn_epoch(benchmark, csr, loss):
    """scikit-learn's 5-epoch fit / 5 on the same matrix: the reference of the goal's ratio."""
    import warnings

    from sklearn.linear_model import SGDClassifier

    X, y = csr
    benchmark.group = f"csr floor {N}x{D} nnz/row={NNZ_PER_ROW}: stream"

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SGDClassifier(loss=loss, max_iter=5, tol=None, shuffle=False).fit(X, y)

    est = benchmark.pedantic(fit, rounds=3, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["ms_per_epoch"] = round(1e3 * stats.stats.min / 5, 2)
    if est is not None:
        assert np.isfinite(est.coef_).all()
