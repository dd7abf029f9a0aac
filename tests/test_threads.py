"""fastlin's thread policy (fastlin/_threads.py) and the serial/parallel choice of the fused
logistic kernel: limits really change the thread count and are restored; the two compilations
of the kernel, and fits under any limit, agree to the bit."""

from __future__ import annotations

import threading

import numba
import numpy as np
import pytest
import scipy.sparse as sp
import threadpoolctl
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from fastlin import LogisticRegression
from fastlin import _threads
from fastlin._threads import kernel_threads, limit_threads
from fastlin.data import kernel_X
from fastlin.engine import logistic as engine
from fastlin.kernels.logistic import (MIN_CHUNK_ROWS, logistic_loss_grad,
                                      logistic_loss_grad_serial, n_chunks_for)

POOL = numba.config.NUMBA_NUM_THREADS
needs_two = pytest.mark.skipif(min(POOL, _threads.OMP_LIMIT or POOL) < 2,
                               reason="needs a Numba pool of 2 threads or more to see a limit")
needs_register = pytest.mark.skipif(not _threads.THREADPOOLCTL_REGISTERED,
                                    reason="threadpoolctl < 3.2 has no custom controllers")


# ------------------------------------------------------------------------------ limit_threads
@needs_two
def test_limit_threads_changes_and_restores():
    before = kernel_threads()
    assert before >= 2
    with limit_threads(1) as n:
        assert n == 1 and kernel_threads() == 1
        with limit_threads(-1):  # joblib's "all cores": an inner block replaces the outer one
            assert kernel_threads() == before
        assert kernel_threads() == 1
    assert kernel_threads() == before
    with limit_threads(None):
        assert kernel_threads() == before


@needs_two
def test_limit_threads_restores_after_an_exception():
    before = kernel_threads()
    with pytest.raises(RuntimeError), limit_threads(1):
        raise RuntimeError
    assert kernel_threads() == before


@needs_two
def test_limit_threads_is_thread_local():
    seen = []
    with limit_threads(1):
        t = threading.Thread(target=lambda: seen.append(kernel_threads()))
        t.start()
        t.join()
        assert kernel_threads() == 1
    assert seen == [min(POOL, _threads.OMP_LIMIT or POOL)]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (1.5, TypeError), (True, TypeError)])
def test_limit_threads_rejects(bad, error):
    with pytest.raises(error):
        with limit_threads(bad):
            pass


def test_omp_num_threads_parsing():
    assert _threads._omp_limit("3") == 3
    assert _threads._omp_limit("4,2") == 4
    assert _threads._omp_limit("") is None
    assert _threads._omp_limit("zero") is None
    assert _threads._omp_limit("0") is None


# ------------------------------------------------------------------------------ threadpoolctl
@needs_two
@needs_register
@pytest.mark.parametrize("kwargs", [{}, {"user_api": "openmp"}])
def test_threadpool_limits_reach_fastlin(kwargs):
    before = kernel_threads()
    with threadpoolctl.threadpool_limits(limits=1, **kwargs):
        assert kernel_threads() == 1
    assert kernel_threads() == before


@needs_two
@needs_register
def test_blas_limit_leaves_fastlin_alone():
    before = kernel_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert kernel_threads() == before


@needs_register
def test_controller_is_listed():
    info = [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "numba"]
    assert len(info) == 1
    assert info[0]["user_api"] == "openmp" and info[0]["num_threads"] == kernel_threads()


@needs_two
@needs_register
def test_threadpool_limits_and_limit_threads_nest():
    before = kernel_threads()
    with limit_threads(1):
        with threadpoolctl.threadpool_limits(limits=2):
            assert kernel_threads() == 1  # both are caps: the smaller wins
        assert kernel_threads() == 1
    with threadpoolctl.threadpool_limits(limits=1):
        with limit_threads(-1):
            assert kernel_threads() == 1
    assert kernel_threads() == before


# ------------------------------------------------------------------------------ the two kernels
def _problem(K, layout, n, D=7, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    if layout == "csr":
        X[rng.random((n, D)) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    elif layout == "dense32":
        X = X.astype(np.float32)
    y = rng.integers(0, 2 if K == 1 else K, n).astype(np.float64)
    sw = rng.uniform(0.0, 3.0, n)
    coef = rng.standard_normal((K, D))
    coef[:, 0] *= 8.0  # large logits: the overflow-safe branches run too
    return kernel_X(X), y, sw, coef, rng.standard_normal(K)


def _run(kernel, X, y, sw, coef, b):
    K, D = coef.shape
    work = np.empty((n_chunks_for(y.shape[0], K, D), K, D + 1))
    grad = np.empty((K, D + 1))
    f = kernel(X, y, sw, coef, b, 0.3, 1.0 / y.shape[0], work, grad)
    return f, grad, work.shape[0]


@pytest.mark.parametrize("K", [1, 4])
@pytest.mark.parametrize("layout", ["dense64", "dense32", "csr"])
@pytest.mark.parametrize("n", [50, 5 * MIN_CHUNK_ROWS + 13])
def test_serial_and_parallel_kernels_agree_to_the_bit(K, layout, n):
    args = _problem(K, layout, n)
    f_par, g_par, chunks = _run(logistic_loss_grad, *args)
    f_ser, g_ser, _ = _run(logistic_loss_grad_serial, *args)
    assert chunks == (1 if n == 50 else 5)
    assert f_par == f_ser
    assert np.array_equal(g_par, g_ser)
    assert np.isfinite(f_par) and np.abs(g_par).max() > 0  # a real problem, not zeros


def test_two_dispatchers_compile_separately():
    # one function, two compilations: the serial one must not be the parallel one loaded from
    # Numba's disk cache (its files are named after the qualified name)
    assert logistic_loss_grad.py_func.__qualname__ != logistic_loss_grad_serial.py_func.__qualname__
    assert logistic_loss_grad.targetoptions.get("parallel") is True
    assert not logistic_loss_grad_serial.targetoptions.get("parallel", False)


# ------------------------------------------------------------------------------ the engine's choice
def _prep(n, D, K):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, D))
    work = np.empty((n_chunks_for(n, K, D), K, D + 1))
    return engine.LogisticPiece(X, np.zeros(n), np.ones(n), work, None)


@needs_two
def test_engine_runs_small_or_limited_pieces_serially(monkeypatch):
    assert engine.runs_parallel(_prep(MIN_CHUNK_ROWS, 4, 1), 1) == 0  # one chunk
    big = _prep(4 * MIN_CHUNK_ROWS, 4, 1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", 4 * MIN_CHUNK_ROWS * 4 + 1)
    assert engine.runs_parallel(big, 1) == 0  # below the size
    monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", 0)
    assert engine.runs_parallel(big, 1) == kernel_threads() >= 2
    with limit_threads(1):
        assert engine.runs_parallel(big, 1) == 0


def _csr_prep(n, D, nnz_per_row):
    indptr = np.arange(0, n * nnz_per_row + 1, nnz_per_row, dtype=np.int32)
    indices = np.tile(np.arange(nnz_per_row, dtype=np.int32), n)
    X = (np.ones(n * nnz_per_row), indices, indptr)
    work = np.empty((n_chunks_for(n, 1, D), 1, D + 1))
    return engine.LogisticPiece(X, np.zeros(n), np.ones(n), work, None)


@needs_two
def test_engine_weighs_a_stored_csr_entry_above_a_dense_one(monkeypatch):
    """A CSR entry costs a gather and a scatter (2-7x a dense entry, measured): the threshold
    counts it as CSR_ENTRY_UNITS, or CSR_WIDE_ENTRY_UNITS when the coefficients leave L2 (before,
    a 1e7-entry CSR pass of 27 ms ran serial)."""
    n, nnz = 4 * MIN_CHUNK_ROWS, 8
    entries = n * nnz
    monkeypatch.setattr(engine, "l2_cache_bytes", lambda: 8 * 1000)
    narrow, wide = _csr_prep(n, 1000, nnz), _csr_prep(n, 1001, nnz)
    assert engine.work_units(narrow.X, 1, 1000) == entries * engine.CSR_ENTRY_UNITS
    assert engine.work_units(wide.X, 3, 1001) == 3 * entries * engine.CSR_WIDE_ENTRY_UNITS
    assert engine.CSR_WIDE_ENTRY_UNITS > engine.CSR_ENTRY_UNITS > 1
    monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", entries + 1)  # serial if counted as dense
    assert engine.runs_parallel(narrow, 1) == kernel_threads() >= 2
    monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", entries * engine.CSR_ENTRY_UNITS + 1)
    assert engine.runs_parallel(narrow, 1) == 0
    assert engine.runs_parallel(wide, 1) == kernel_threads()


def _digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@needs_two
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_under_threadpool_limits_is_bit_identical(monkeypatch):
    X, y = _digits()
    X = np.vstack([X] * 3)  # 5391 rows: two chunks, so the parallel kernel can run at all
    y = np.concatenate([y] * 3)
    # every multi-chunk piece goes to the parallel kernel unless a limit says one thread
    monkeypatch.setattr(engine, "PARALLEL_MIN_WORK", 0)
    calls = {"parallel": 0, "serial": 0}
    for name, key in [("logistic_loss_grad", "parallel"), ("logistic_loss_grad_serial", "serial")]:
        kernel = getattr(engine, name)

        def counted(*a, _k=kernel, _key=key):
            calls[_key] += 1
            return _k(*a)
        monkeypatch.setattr(engine, name, counted)
    free = LogisticRegression(max_iter=30).fit(X, y)
    assert calls["parallel"] > 0 and calls["serial"] == 0
    calls.update(parallel=0, serial=0)
    if _threads.THREADPOOLCTL_REGISTERED:
        with threadpoolctl.threadpool_limits(1):
            limited = LogisticRegression(max_iter=30).fit(X, y)
    else:  # pragma: no cover
        with limit_threads(1):
            limited = LogisticRegression(max_iter=30).fit(X, y)
    assert calls["serial"] > 0 and calls["parallel"] == 0
    assert np.array_equal(free.coef_, limited.coef_)
    assert np.array_equal(free.intercept_, limited.intercept_)
    assert free.n_iter_ == limited.n_iter_
