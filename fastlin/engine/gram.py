"""The Gram statistic: one pass over X in row blocks gives the statistics of the normal equations.

For weights ``w`` (ones by default) the pass produces, in float64 whatever X's dtype,

* ``x_mean`` = Σ w x / W and ``y_mean`` = Σ w y / W, with W = Σ w,
* ``xtx`` = Σ w (x − x_mean)(x − x_mean)ᵀ (the centred scatter; the plain Σ w x xᵀ when
  ``center=False``),
* ``xty`` = Σ w (x − x_mean)(y − y_mean)ᵀ and ``yty`` = Σ w (y − y_mean)² per target.

Cost: one read of X; D²N/2 multiply-adds in BLAS ``syrk`` plus (1 + T)DN for the column sums and
Xᵀy; memory: one block buffer and a (D + 1 + T)² accumulator per thread, never a copy of X.

Numerical safety of the centring. Subtracting the mean after accumulating Σ x xᵀ loses about
log10(mean²/var) digits (the test data with means 1e6 times their spread would keep none). Each
block is therefore shifted by ``s``, the weighted mean of the first block, before its products are
added: Σ w (x − s)(x − s)ᵀ is then corrected by the rank-one term b bᵀ / W with b = Σ w (x − s),
which is small (|b/W| ≈ spread / sqrt(block rows)), so the correction cancels nothing.

Two ways through a block:

* **in place** -- X float64 with contiguous rows, unweighted, and every column mean of the first
  block within 10 standard deviations of zero (at most 2 digits lost to the rank-one correction):
  ``syrk`` reads the block of X where it is, then one ``gemm`` with [1 | y − ys] gives the column
  sums and Xᵀy while the block is still in the level-2 cache. No Numba.
* **copied** -- anything else (float32, F-ordered, weighted, far-off means, sparse): one Numba pass
  writes the augmented block A = [√w (x − s) | √w | √w (y − ys)] into a float64 buffer sized to the
  level-2 cache, and one ``syrk`` of A gives XᵀX, the column sums, Xᵀy, Σ w, Σ w (y − ys) and yᵀy at
  once. Many targets (1 + T > max(8, D/4)) leave y out of A and take a ``gemm`` instead, whose
  cost is linear in T where the folded one is quadratic.

Both cores. OpenBLAS threads one ``syrk`` of D ≤ ~1000 columns poorly (it splits the D x D result,
which is small), so when BLAS may use p > 1 threads the rows are cut into p contiguous ranges, each
accumulated by its own thread with single-threaded BLAS, and the p partial sums are added in range
order (so the result depends on p, never on timing). The BLAS calls go through scipy's Cython BLAS
by ctypes, which releases the GIL (scipy.linalg.blas holds it). Measured on a 2-core KVM guest
(``lscpu``: "Intel(R) Xeon(R) Processor", AVX-512, 2 MiB L2 per core), 1 000 000 x 100 float64:
``syrk`` alone with 2 OpenBLAS threads 0.224 s, 2 row ranges x 1 thread 0.137 s; the whole Ridge
fit 0.61x a bare ``X.T @ X`` on both cores (0.97x on one), against 1.39x (1.11x) with one
multi-threaded ``syrk`` + ``gemm`` per block; 200 000 x 512: 1.02x (1.10x) against 1.38x (1.12x).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from ..data.layout import l2_cache_bytes
from ..data.pieces import raise_non_finite_X
from .sources import fold

__all__ = ["GramStats", "gram", "gram_piece", "merge", "merge_all", "finalize_stats",
           "default_block_rows", "pass_threads"]

# |mean| <= 10 sd on the first block: the rank-one correction then cancels at most 2 of float64's
# 16 digits, so reading X in place is as accurate as shifting it.
_IN_PLACE_MAX_MEAN_OVER_SD = 10.0

#: Block size as a fraction of the level-2 cache of one core. The block is read twice in a row
#: (``syrk``, then the ``gemm`` of the sums; or the Numba copy, then ``syrk``), the second time
#: from L2 if it is still there beside BLAS's packed panels.
_L2_FRACTION = 0.25

#: Fewest rows per block: each block is one rank-m update of ``syrk``, which runs short of its
#: peak below a few hundred rows (see :func:`default_block_rows`).
_MIN_BLOCK_ROWS = 256

#: Blocks whose y part ([1 | y − ys]) is prepared by one numpy call on the in-place path.
_GROUP_BLOCKS = 16

#: Fewest blocks per thread before the rows are split between threads: below it the thread start
#: (about 0.1 ms) and the extra accumulators are not paid back.
_MIN_BLOCKS_PER_THREAD = 8

#: Largest accumulator (D + 1 + T)² x 8 bytes for which each thread keeps its own copy. Beyond
#: (D + 1 + T > 2 896) one ``syrk`` is wide enough for OpenBLAS's threads, and p copies of the
#: result would cost more memory than they save time.
_MAX_PRIVATE_ACCUMULATOR_BYTES = 64 * 1024 * 1024


class GramStats(NamedTuple):
    """Sufficient statistics of weighted least squares (see the module docstring).

    Attributes
    ----------
    n_samples : int
    weight_sum : float
    x_mean : ndarray of shape (n_features,)
        Zeros when computed with ``center=False``.
    y_mean : ndarray of shape (n_targets,)
    xtx : ndarray of shape (n_features, n_features)
        Symmetric, float64.
    xty : ndarray of shape (n_features, n_targets)
    yty : ndarray of shape (n_targets,)
    """

    n_samples: int
    weight_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    xtx: np.ndarray
    xty: np.ndarray
    yty: np.ndarray


def _as_2d_targets(Y, n):
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"Y must have shape ({n},) or ({n}, n_targets), got {Y.shape}.")
    return Y


def default_block_rows(k):
    """Rows per block of ``k`` float64 columns, from this machine's per-core L2 cache.

    A quarter of the L2 cache (the block is read twice in a row, the second time from L2 if it
    is still there beside BLAS's packed panels), but at least ``k`` rows (each ``syrk`` call reads
    and writes the k x k accumulator, which should not outweigh the block) and at least 256.
    Measured on the 2-core Xeon of the module docstring (2 MiB L2 per core), ratio of the Gram pass
    to a bare XᵀX: 1 000 000 x 100, 2 threads: blocks of L2/8 0.90x, L2/4 0.63x, L2/2 0.63x,
    L2 0.66x (1 thread: 1.09x, 1.05x, 1.07x, 1.13x); 200 000 x 512, 2 threads: 256 rows 1.00x,
    512 rows 0.89x, 1 024 rows 0.95x, 2 048 rows 0.99x.

    Parameters
    ----------
    k : int
        Columns of the block as BLAS reads it (D, or D + 1 + T for the augmented block).

    Returns
    -------
    int
    """
    k = max(int(k), 1)
    return max(_MIN_BLOCK_ROWS, k, int(l2_cache_bytes() * _L2_FRACTION) // (8 * k))


# ----------------------------------------------------------------------------- BLAS, GIL released


@functools.lru_cache(maxsize=1)
def _cython_blas():
    """``(dsyrk, dgemm)`` of scipy.linalg.cython_blas as ctypes functions, or None.

    ctypes releases the GIL for the duration of a foreign call, so two threads run BLAS at once;
    the functions are scipy's own (the same OpenBLAS as scipy.linalg.blas), never numpy's: the two
    ship separate OpenBLAS builds, and alternating calls between them leaves one library's idle
    threads spinning on the cores the other needs (measured: gram 4.9x a bare XᵀX on
    200 000 x 512, against 1.06x with one library).
    """
    try:
        from scipy.linalg import cython_blas

        api = ctypes.pythonapi
        api.PyCapsule_GetName.restype = ctypes.c_char_p
        api.PyCapsule_GetName.argtypes = [ctypes.py_object]
        api.PyCapsule_GetPointer.restype = ctypes.c_void_p
        api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

        def load(name, n_args):
            capsule = cython_blas.__pyx_capi__[name]
            address = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
            return ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n_args))(address)

        return load("dsyrk", 10), load("dgemm", 13)
    except Exception:  # noqa: BLE001 - no Cython BLAS (or no ctypes.pythonapi): scipy's f2py BLAS
        return None


class _Products:
    """One thread's accumulators of block products: ``c`` (upper) += AᵀA and ``cy`` += AᵀB.

    A block is given by address: ``m`` rows of ``k`` float64 at ``a``, ``lda`` elements apart (a
    row block of a C-ordered array, read where it is); B by the address of an ``m`` x ``t``
    column-major block with leading dimension ``ldb``. The calls go through ctypes to scipy's Cython
    BLAS with this object's own argument storage (no GIL, nothing allocated per call: about 2 µs a
    call), or, without it, through scipy.linalg.blas on arrays rebuilt from the addresses.
    """

    def __init__(self, k, t):
        self.k, self.t = k, t
        self.c = np.zeros((k, k), dtype=np.float64, order="F")
        self.cy = np.zeros((k, t), dtype=np.float64, order="F") if t else None
        self._fns = _cython_blas()
        self._ints = (ctypes.c_int * 6)()
        self._chars = ctypes.create_string_buffer(b"UN")
        self._one = ctypes.c_double(1.0)
        base = ctypes.addressof(self._ints)
        self._p = [base + 4 * i for i in range(6)]
        self._pu = ctypes.addressof(self._chars)
        self._pn = self._pu + 1
        self._p1 = ctypes.addressof(self._one)
        self._pc = self.c.ctypes.data
        self._pcy = self.cy.ctypes.data if t else None

    def syrk(self, a, lda, m):
        """c (upper) += AᵀA."""
        if self._fns is None:
            A = _array_at(a, (m, lda))[:, :self.k]
            self.c = blas.dsyrk(1.0, A.T, beta=1.0, c=self.c, trans=0, lower=0, overwrite_c=1)
            return
        v, p = self._ints, self._p
        v[0], v[1], v[2] = self.k, m, lda
        # Fortran's view of the C-ordered block is the k x m column-major Aᵀ: C = Aᵀ (Aᵀ)ᵀ
        self._fns[0](self._pu, self._pn, p[0], p[1], self._p1, a, p[2], self._p1, self._pc, p[0])

    def gemm(self, a, lda, m, b, ldb):
        """cy += AᵀB."""
        if self._fns is None:
            A = _array_at(a, (m, lda))[:, :self.k]
            B = _array_at(b, (self.t, ldb))[:, :m].T
            self.cy = blas.dgemm(1.0, A.T, B, beta=1.0, c=self.cy, overwrite_c=1)
            return
        v, p = self._ints, self._p
        v[0], v[1], v[2], v[3], v[4] = self.k, self.t, m, lda, ldb
        self._fns[1](self._pn, self._pn, p[0], p[1], p[2], self._p1, a, p[3], b, p[4],
                     self._p1, self._pcy, p[0])


def _array_at(address, shape):
    """A C-ordered float64 array view of memory at ``address`` (the no-Cython-BLAS fallback)."""
    ptr = ctypes.cast(address, ctypes.POINTER(ctypes.c_double))
    return np.ctypeslib.as_array(ptr, shape=shape)


# ----------------------------------------------------------------------------- threads


_limit_lock = threading.Lock()
_limit_state = {"depth": 0, "limiter": None}


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's controller of the BLAS libraries loaded now (built once: ~6 ms), or None."""
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().select(user_api="blas")
    except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to inspect this process
        return None


def _blas_threads():
    """The threads BLAS may use now (the smallest over the loaded BLAS libraries), or 1."""
    ctl = _blas_controller()
    if ctl is None or not ctl.lib_controllers:
        return 1
    try:
        return max(1, min(int(lib.get_num_threads() or 1) for lib in ctl.lib_controllers))
    except Exception:  # noqa: BLE001 - a library that cannot report: do not split
        return 1


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def pass_threads(n_blocks, k):
    """Threads the Gram pass uses for ``n_blocks`` row blocks and a k x k accumulator.

    As many as BLAS may use now (so ``threadpool_limits(1)``, ``OPENBLAS_NUM_THREADS=1`` and
    ``OMP_NUM_THREADS=1`` give one), at most the CPUs of this process, at least 8 blocks each, and
    one when the accumulator is too large to copy per thread or scipy's Cython BLAS is unavailable.
    """
    if n_blocks < 2 * _MIN_BLOCKS_PER_THREAD or 8 * k * k > _MAX_PRIVATE_ACCUMULATOR_BYTES:
        return 1
    if _cython_blas() is None:
        return 1
    with _limit_lock:  # a pass running in another thread has already set BLAS to one thread
        if _limit_state["depth"]:
            return 1
    return max(1, min(_blas_threads(), _cpus(), n_blocks // _MIN_BLOCKS_PER_THREAD))


@contextlib.contextmanager
def _single_threaded_blas():
    """BLAS limited to one thread per call inside the block (process-wide; nested passes share it)."""
    ctl = _blas_controller()
    with _limit_lock:
        if _limit_state["depth"] == 0 and ctl is not None:
            _limit_state["limiter"] = ctl.limit(limits=1)
        _limit_state["depth"] += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_state["depth"] -= 1
            if _limit_state["depth"] == 0 and _limit_state["limiter"] is not None:
                _limit_state["limiter"].restore_original_limits()
                _limit_state["limiter"] = None


def _run_ranges(work, ranges):
    """``[work(lo, hi) for lo, hi in ranges]``, the first range in this thread, the others in one
    thread each; the first exception is raised here."""
    if len(ranges) == 1:
        return [work(*ranges[0])]
    results = [None] * len(ranges)
    errors = []

    def run(i):
        try:
            results[i] = work(*ranges[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(1, len(ranges))]
    with _single_threaded_blas():
        for th in threads:
            th.start()
        run(0)
        for th in threads:
            th.join()
    if errors:
        raise errors[0]
    return results


# ----------------------------------------------------------------------------- the pass


def _first_block_plan(X, Xb, Yb, w, wb, weighted, center):
    """``(shift, yshift, in_place)`` from the first block (see the module docstring)."""
    d, t = Xb.shape[1], Yb.shape[1]
    in_place_ok = (not weighted and not sp.issparse(X) and X.dtype == np.float64 and d > 0
                   and X.strides[1] == 8 and X.strides[0] % 8 == 0 and X.strides[0] >= 8 * d)
    if not (center and wb > 0):
        return np.zeros(d), np.zeros(t), in_place_ok
    first = Xb.astype(np.float64, copy=False)
    shift = (w @ first) / wb
    yshift = (w @ Yb) / wb
    # E[x²] − mean² is imprecise only when mean² ≫ var, where the test below is clearly false
    # anyway; it needs no temporary copy of the block.
    var = np.einsum("i,ij,ij->j", w, first, first) / wb - shift * shift
    if in_place_ok and bool(np.all(shift * shift <= _IN_PLACE_MAX_MEAN_OVER_SD ** 2 * var)):
        return np.zeros(d), yshift, True
    return shift, yshift, False


def _fold_targets(d, t):
    """Whether y joins the augmented block (its ``syrk``) instead of a ``gemm`` of its own.

    Folding adds (1 + t)²/2 multiply-adds per row to the d²/2 of XᵀX (the d (1 + t) of Xᵀy and the
    sums are paid either way); with 1 + t <= max(8, d / 4) that is at most 1/16 of the ``syrk`` for
    d >= 32, less than the second BLAS call it saves.
    """
    return 1 + t <= max(8, d // 4)


def _range_in_place(X, Y, yshift, lo, hi, block_rows):
    """Sums over rows [lo, hi) of float64 X read in place: ``(xtx, xsum, xty, ysum, yty)``.

    ``syrk`` reads each block of X where it is; one ``gemm`` with R = [1 | y − ys] follows while the
    block is still in cache. R is filled for a group of blocks at a time, so that the loop over
    blocks makes two BLAS calls and no numpy call (with two threads the per-block Python work is
    serialised by the GIL).
    """
    d, t = X.shape[1], Y.shape[1]
    prod = _Products(d, 1 + t)
    group = _GROUP_BLOCKS * block_rows
    R = np.empty((min(group, hi - lo), 1 + t), dtype=np.float64, order="F")
    R[:, 0] = 1.0
    ldr = R.shape[0]
    ysum = np.zeros(t)
    yty = np.zeros(t)
    xa, xs = X.ctypes.data, X.strides[0]
    lda = xs // 8
    for g0 in range(lo, hi, group):
        g1 = min(g0 + group, hi)
        Yc = R[:g1 - g0, 1:]
        np.subtract(Y[g0:g1], yshift, out=Yc)
        ysum += Yc.sum(axis=0)
        yty += np.einsum("ij,ij->j", Yc, Yc)  # einsum: no numpy BLAS call (see _cython_blas)
        ra = R.ctypes.data - 8 * g0
        for start in range(g0, g1, block_rows):
            m = min(block_rows, g1 - start)
            prod.syrk(xa + xs * start, lda, m)
            prod.gemm(xa + xs * start, lda, m, ra + 8 * start, ldr)
    return prod.c, prod.cy[:, 0].copy(), prod.cy[:, 1:], ysum, yty


def _range_copied(X, Y, root_w, shift, yshift, lo, hi, block_rows):
    """Sums over rows [lo, hi) through the augmented block: ``(xtx, xsum, xty, ysum, yty)``."""
    from ..kernels.block import shift_scale_block  # imported by gram() already (see there)

    d, t = X.shape[1], Y.shape[1]
    folded = _fold_targets(d, t)
    k = d + 1 + (t if folded else 0)
    prod = _Products(k, 0 if folded else t)
    A = np.empty((block_rows, k), dtype=np.float64)
    pa = A.ctypes.data
    # F-ordered for gemm, one spare row so that every block view is non-contiguous: the kernel then
    # sees the same array layout as the folded view A[:, d + 1:] (one Numba specialisation)
    Ybuf = None if folded else np.empty((block_rows + 1, t), dtype=np.float64, order="F")
    ones = np.ones(block_rows) if root_w is None else None
    yty = None if folded else np.zeros(t)
    for start in range(lo, hi, block_rows):
        stop = min(start + block_rows, hi)
        m = stop - start
        Xb = X[start:stop]  # a view; a CSR block is copied block by block, never the whole range
        if sp.issparse(Xb):
            Xb = Xb.toarray()
        rw = ones[:m] if root_w is None else root_w[start:stop]
        Ab = A[:m]
        Yc = Ab[:, d + 1:] if folded else Ybuf[:m]
        shift_scale_block(Xb, shift, rw, Y[start:stop], yshift, Ab, Yc)
        prod.syrk(pa, k, m)
        if not folded:
            prod.gemm(pa, k, m, Ybuf.ctypes.data, block_rows + 1)
            yty += np.einsum("ij,ij->j", Yc, Yc)
    C = prod.c
    if folded:  # y's rows and columns follow the √w column
        return C[:d, :d], C[:d, d].copy(), C[:d, d + 1:], C[d, d + 1:].copy(), \
            np.diagonal(C)[d + 1:].copy()
    return C[:d, :d], C[:d, d].copy(), prod.cy[:d], prod.cy[d].copy(), yty


def gram(X, Y, sample_weight=None, *, center=True, block_rows=None):
    """Accumulate the normal-equation statistics of (X, Y) in one pass over row blocks.

    Parameters
    ----------
    X : ndarray, np.memmap or scipy.sparse matrix of shape (n_samples, n_features)
        float32 or float64; never copied whole (dense blocks are read in place or through a
        buffer of ``block_rows`` rows; sparse blocks are densified one at a time).
    Y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,), optional
        Non-negative (validated by the caller).
    center : bool, default=True
        Centre X and Y on their weighted means (needed for an unpenalised intercept).
    block_rows : int, optional
        Rows per block; default from this machine's L2 cache (:func:`default_block_rows`).

    Returns
    -------
    GramStats

    Notes
    -----
    With p BLAS threads allowed (:func:`pass_threads`) the rows are cut into p ranges whose sums
    are added in range order: results are reproducible for a given p and differ between values
    of p only by rounding.
    """
    n, d = X.shape
    if sp.issparse(X) and X.format != "csr":  # rows sliced block by block: CSR, converted once
        X = X.tocsr()
    Y = _as_2d_targets(Y, n)
    if Y.dtype != np.float64 or not Y.flags.c_contiguous:  # one Numba specialisation for y
        Y = np.ascontiguousarray(Y, dtype=np.float64)
    t = Y.shape[1]
    if n == 0:
        raise ValueError("Cannot accumulate statistics of an empty X (0 samples).")
    weighted = sample_weight is not None
    if weighted:
        sw = np.asarray(sample_weight, dtype=np.float64)
        root_w = np.sqrt(sw)
        wsum = float(sw.sum())
    else:
        root_w, wsum = None, float(n)

    probe_rows = int(block_rows) if block_rows is not None else default_block_rows(d + 1 + t)
    first = X[:probe_rows]
    first = first.toarray() if sp.issparse(first) else first
    w_first = root_w[:probe_rows] ** 2 if weighted else np.ones(first.shape[0])
    shift, yshift, in_place = _first_block_plan(X, first, Y[:probe_rows], w_first,
                                                float(w_first.sum()), weighted, center)
    k = d if in_place else d + 1 + (t if _fold_targets(d, t) else 0)
    rows = int(block_rows) if block_rows is not None else default_block_rows(k)
    n_blocks = -(-n // rows)
    p = pass_threads(n_blocks, k)
    per = -(-n_blocks // p) * rows
    ranges = [(lo, min(lo + per, n)) for lo in range(0, n, per)]

    if in_place:  # no Numba: a float64 fit does not pay its import (about 0.1 s of a first fit)
        def work(lo, hi):
            return _range_in_place(X, Y, yshift, lo, hi, rows)
    else:
        from ..kernels.block import shift_scale_block  # noqa: F401 - imported before the threads

        def work(lo, hi):
            return _range_copied(X, Y, root_w, shift, yshift, lo, hi, rows)

    parts = _run_ranges(work, ranges)
    xtx, xsum, xty, ysum, yty = (np.array(a, dtype=np.float64) for a in parts[0])
    for part in parts[1:]:
        for acc, add in zip((xtx, xsum, xty, ysum, yty), part):
            acc += add
    return finalize_stats(n, wsum, shift, yshift, xtx, xty, xsum, ysum, yty, center=center)


def finalize_stats(n, wsum, shift, yshift, xtx, xty, xsum, ysum, yty, *, center=True):
    """Turn shifted sums into centred statistics (the rank-one correction of the module docstring).

    ``xtx`` holds Σ w (x − s)(x − s)ᵀ in its upper triangle, ``xsum`` = Σ w (x − s), and likewise for y.
    """
    xtx = np.triu(xtx)
    xtx = xtx + np.triu(xtx, 1).T
    if center and wsum > 0:
        bx = xsum / wsum
        by = ysum / wsum
        xtx -= wsum * np.outer(bx, bx)
        xty = xty - wsum * np.outer(bx, by)
        yty = yty - wsum * by * by
        x_mean = shift + bx
        y_mean = yshift + by
    else:
        x_mean = np.zeros_like(shift)
        y_mean = np.zeros_like(yshift)
    return GramStats(int(n), float(wsum), x_mean, y_mean, np.ascontiguousarray(xtx), xty, yty)


def merge(a: GramStats, b: GramStats) -> GramStats:
    """Combine the statistics of two disjoint row sets (Chan, Golub & LeVeque's pairwise update).

    Both must be centred (or both uncentred with zero means). Exact in exact arithmetic; in floating
    point as accurate as one pass, because only the difference of the two means enters.
    """
    w = a.weight_sum + b.weight_sum
    if w == 0:
        return a
    dx = b.x_mean - a.x_mean
    dy = b.y_mean - a.y_mean
    f = a.weight_sum * b.weight_sum / w
    return GramStats(
        a.n_samples + b.n_samples,
        w,
        a.x_mean + dx * (b.weight_sum / w),
        a.y_mean + dy * (b.weight_sum / w),
        a.xtx + b.xtx + f * np.outer(dx, dx),
        a.xty + b.xty + f * np.outer(dx, dy),
        a.yty + b.yty + f * dy * dy,
    )


def gram_piece(piece, center):
    """The statistics of one piece (None when it has no rows), its X checked through them.

    X's finiteness is checked on the statistics instead of by a separate pass over X: any NaN or
    inf in X makes a diagonal entry of XᵀX (or a column sum) non-finite, so nothing is missed, and
    the 800 MB validation pass that cost 20 % of a (200 000 x 512) fit is saved.
    """
    if piece.X.shape[0] == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite input is reported below
        stats = gram(piece.X, piece.y, piece.sample_weight, center=center)
    if not (np.all(np.isfinite(np.diagonal(stats.xtx))) and np.all(np.isfinite(stats.x_mean))):
        raise_non_finite_X(piece)
    return stats


def merge_all(*parts):
    """:func:`merge` of any number of statistics (None parts skipped), left to right."""
    return fold(parts, merge)
