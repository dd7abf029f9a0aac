"""Row accessors shared by every kernel: one code path, dense or CSR chosen by the type of ``X``.

A kernel is written once against ``X`` and the few operations that touch one row; those are
``numba.extending.overload`` stubs whose implementation is picked at compile time from ``X``'s
type, so each kernel compiles one specialisation per layout and dtype and has no layout branch
at run time:

* dense: a C-contiguous 2-D ``ndarray`` (float32 or float64), one row per sample;
* CSR: the tuple ``(data, indices, indptr)`` returned by :func:`fastlin.data.kernel_X`
  (``data`` float32/float64, ``indices``/``indptr`` int32 or int64), whose structure has been
  validated by :func:`fastlin.data.check_sparse_structure`: the accessors do not bounds-check.

Accessors: :func:`n_rows`, :func:`row_dot`, :func:`row_sqnorm`, :func:`row_dot_sqnorm`,
:func:`row_axpy`, :func:`row_axpy2`, :func:`row_axpy_l1` (with its per-feature clip
:func:`l1_clip_one`), :func:`row_prefetch`, :func:`row_prefetch_weights` and
:func:`prefetch_ahead`. Dot products accumulate in float64
whatever the dtype of ``X``. A kernel may add its own accessor with :func:`is_dense_type`,
:func:`is_csr_type` and :data:`OVERLOAD_OPTIONS` (see ``row_prox`` in
:mod:`fastlin.kernels.minibatch`).

The reasons behind the choices below (unsigned CSR positions, element indexing instead of row
views, the prefetch distances) are summarised where they are made; the measurements, and the
variants that were tried and dropped, are in ``docs/performance.md``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .._jit import FASTMATH, jit

__all__ = [
    "n_rows",
    "row_dot",
    "row_sqnorm",
    "row_dot_sqnorm",
    "row_axpy",
    "row_axpy2",
    "row_axpy_l1",
    "l1_clip_one",
    "row_prefetch",
    "row_prefetch_weights",
    "prefetch_ahead",
    "is_dense_type",
    "is_csr_type",
    "OVERLOAD_OPTIONS",
    "PREFETCH_AHEAD",
    "PREFETCH_AHEAD_CSR",
    "GATHER_ROWS",
]

#: Options of the overload implementations: the floating-point contract of :mod:`fastlin._jit`.
#: The dense accessors index ``X[i, j]`` rather than taking a row view ``X[i]``: a view is a new
#: array struct whose reference count Numba maintains with an atomic incref/decref call pair, i.e.
#: two calls and two locked instructions per accessor per sample on the hot path.
OVERLOAD_OPTIONS = dict(fastmath=set(FASTMATH), error_model="numpy", nogil=True)

#: The per-sample epoch prefetches the dense row it will visit this many samples later. Each
#: sample's dot waits for the previous sample's update, so the core cannot run ahead far enough to
#: have the next rows in flight: 3 rows ahead took a dense log_loss + L2 fit from 114 to 83 ms
#: (200 000 x 100 float64, 5 epochs); 1 row gained less and 8 rows was worse than none.
PREFETCH_AHEAD = 3

#: The same for CSR rows (``data`` and ``indices``). It pays when rows are visited in random order
#: (``shuffle=True``: hinge 360 -> 250 ms on 200 000 x 131 072, 50 nnz/row, 5 epochs); in storage
#: order the gain is within the noise. 3 rows measured the same, 16 rows worse.
PREFETCH_AHEAD_CSR = 8

#: Rows whose dot products are computed before any of their updates (``row_axpy``): the gathers of
#: a few rows in a row, then their scatters, keep more cache misses in flight than alternating
#: one row's gather and scatter. Hessian-vector product, CSR 200 000 x 2**17, 50 entries a row,
#: 2 threads of a Xeon: 11.3-13.1 ms a product row by row, 10.1-11.1 ms with 4-16 rows (8: the
#: middle of that range); the fused loss + gradient pass 15.7 -> 12.2 ms (dense 200 000 x 100:
#: 10.1 -> 7.9 ms). The kernels that block rows so keep each row's operations and their order:
#: the same bits as row by row.
GATHER_ROWS = 8

# CSR positions and column indices are used as *unsigned* 64-bit integers. With a signed index
# Numba emits its negative-index wrap-around (``k < 0 ? k + n : k``), after which LLVM no longer
# sees that ``data[k]`` and ``indices[k]`` are consecutive loads and vectorizes the row loops with
# gathers of everything: a stand-alone CSR dot + update took 33 ms per epoch with signed and 21 ms
# with unsigned indices. The cast is exact because the structure was validated up front
# (0 <= indices < n_features, indptr non-decreasing from 0).
_U64 = np.uint64


def is_dense_type(X):
    """Whether the Numba type ``X`` is the dense layout (a 2-D array). For overload typing."""
    return isinstance(X, types.Array) and X.ndim == 2


def is_csr_type(X):
    """Whether the Numba type ``X`` is the CSR layout (a 3-tuple). For overload typing."""
    return isinstance(X, types.BaseTuple) and len(X) == 3


# ------------------------------------------------------------------------------------------------
# Prefetch intrinsics
# ------------------------------------------------------------------------------------------------


def _prefetch_codegen(context, builder, signature, args):
    """``llvm.prefetch`` (read, high locality, data cache) of the element ``args[0][args[1:]]``."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, list(args[1:]), wraparound=False,
                                   boundscheck=False)
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                      ir.Constant(i32, 1)])
    return context.get_dummy_value()


@intrinsic
def _prefetch_1d(typingctx, a, j):
    """Hint the CPU to bring the cache line of ``a[j]`` into L1. No bounds check (a hint to a bad
    address does not fault, but the callers pass valid indices anyway)."""
    return types.void(a, j), _prefetch_codegen


@intrinsic
def _prefetch_2d(typingctx, a, i, j):
    """:func:`_prefetch_1d` for the element ``a[i, j]`` of a 2-D array."""
    return types.void(a, i, j), _prefetch_codegen


# ------------------------------------------------------------------------------------------------
# Stubs (callable from jitted code only) and their overloads
# ------------------------------------------------------------------------------------------------


def n_rows(X):
    """Number of rows of ``X`` (dense: ``X.shape[0]``; CSR: ``len(indptr) - 1``)."""
    raise NotImplementedError("n_rows is only callable from jitted code")


def row_dot(X, i, w):
    """``x_i . w`` accumulated in float64."""
    raise NotImplementedError("row_dot is only callable from jitted code")


def row_sqnorm(X, i):
    """``||x_i||^2`` accumulated in float64 (the passive-aggressive step sizes)."""
    raise NotImplementedError("row_sqnorm is only callable from jitted code")


def row_dot_sqnorm(X, i, w):
    """``(x_i . w, ||x_i||^2)`` in one read of row ``i``: the mini-batch kernels need both for
    every row (the prediction and the batch's curvature bound)."""
    raise NotImplementedError("row_dot_sqnorm is only callable from jitted code")


def row_axpy(X, i, c, w):
    """``w += c x_i`` (touches only the stored entries of a CSR row)."""
    raise NotImplementedError("row_axpy is only callable from jitted code")


def row_axpy2(X, i, c1, w1, c2, w2):
    """``w1 += c1 x_i`` and ``w2 += c2 x_i`` in one pass over the row (weights and lazy average)."""
    raise NotImplementedError("row_axpy2 is only callable from jitted code")


def row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
    """``w += c x_i`` (true-weight step ``c ws``), then :func:`l1_clip_one` on every feature with
    ``x_ij != 0`` (CSR: every stored entry), compensating the lazy average when ``avg_alpha != 0``.
    ``c = 0`` applies the clip alone. The state conventions are those of
    :mod:`fastlin.kernels.sgd`."""
    raise NotImplementedError("row_axpy_l1 is only callable from jitted code")


def prefetch_ahead(X):
    """How many samples ahead an epoch prefetches: :data:`PREFETCH_AHEAD` (dense) or
    :data:`PREFETCH_AHEAD_CSR`."""
    raise NotImplementedError("prefetch_ahead is only callable from jitted code")


def row_prefetch(X, i):
    """Prefetch row ``i`` into L1: the row of a dense ``X``; ``data`` and ``indices`` of a CSR row
    (not the weights it will touch: that measured slower, see ``docs/performance.md``)."""
    raise NotImplementedError("row_prefetch is only callable from jitted code")


def row_prefetch_weights(X, i, w):
    """Prefetch into L1 the entries of ``w`` that row ``i`` touches (CSR: ``w[indices[k]]``, one
    hint per stored entry; dense: nothing, a dense row's weights are the whole, L1-resident ``w``).
    Reads row ``i``'s ``indices``, so it pays only when they are already in cache."""
    raise NotImplementedError("row_prefetch_weights is only callable from jitted code")


@overload(n_rows, jit_options=OVERLOAD_OPTIONS)
def _ol_n_rows(X):
    if is_dense_type(X):
        return lambda X: X.shape[0]
    if is_csr_type(X):
        return lambda X: X[2].shape[0] - 1
    return None


@overload(row_dot, jit_options=OVERLOAD_OPTIONS)
def _ol_row_dot(X, i, w):
    if is_dense_type(X):

        def impl(X, i, w):
            acc = 0.0
            for j in range(X.shape[1]):
                acc += X[i, j] * w[j]
            return acc

        return impl
    if is_csr_type(X):

        def impl(X, i, w):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            acc = 0.0
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                acc += data[k] * w[_U64(indices[k])]
            return acc

        return impl
    return None


@overload(row_sqnorm, jit_options=OVERLOAD_OPTIONS)
def _ol_row_sqnorm(X, i):
    if is_dense_type(X):

        def impl(X, i):
            acc = 0.0
            for j in range(X.shape[1]):
                x = np.float64(X[i, j])
                acc += x * x
            return acc

        return impl
    if is_csr_type(X):

        def impl(X, i):
            data = X[0]
            indptr = X[2]
            acc = 0.0
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                x = np.float64(data[k])
                acc += x * x
            return acc

        return impl
    return None


@overload(row_dot_sqnorm, jit_options=OVERLOAD_OPTIONS)
def _ol_row_dot_sqnorm(X, i, w):
    if is_dense_type(X):

        def impl(X, i, w):
            dot = 0.0
            sq = 0.0
            for j in range(X.shape[1]):
                x = np.float64(X[i, j])
                dot += x * w[j]
                sq += x * x
            return dot, sq

        return impl
    if is_csr_type(X):

        def impl(X, i, w):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            dot = 0.0
            sq = 0.0
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                x = np.float64(data[k])
                dot += x * w[_U64(indices[k])]
                sq += x * x
            return dot, sq

        return impl
    return None


@overload(row_axpy, jit_options=OVERLOAD_OPTIONS)
def _ol_row_axpy(X, i, c, w):
    if is_dense_type(X):

        def impl(X, i, c, w):
            for j in range(X.shape[1]):
                w[j] += c * X[i, j]

        return impl
    if is_csr_type(X):

        def impl(X, i, c, w):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                w[_U64(indices[k])] += c * data[k]

        return impl
    return None


@overload(row_axpy2, jit_options=OVERLOAD_OPTIONS)
def _ol_row_axpy2(X, i, c1, w1, c2, w2):
    if is_dense_type(X):

        def impl(X, i, c1, w1, c2, w2):
            for j in range(X.shape[1]):
                x = X[i, j]
                w1[j] += c1 * x
                w2[j] += c2 * x

        return impl
    if is_csr_type(X):

        def impl(X, i, c1, w1, c2, w2):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                j = _U64(indices[k])
                x = data[k]
                w1[j] += c1 * x
                w2[j] += c2 * x

        return impl
    return None


@jit
def l1_clip_one(w, l1_q, j, ws, inv_ws, u, avg_w, avg_alpha):
    """Cumulative L1 clip of weight ``j`` (Tsuruoka et al. 2009), in true-weight units.

    A positive weight moves down by at most ``u + q_j`` (never below 0), a negative one up by at
    most ``u - q_j`` (never above 0); ``q_j`` records what was applied (so
    ``q_j - u <= 0 <= q_j + u``). Both cases are one clamp: the applied amount is
    ``d = clamp(w_j, q_j - u, q_j + u)``, the new weight ``w_j - d`` (an exact 0 when the clamp does
    not bind) and ``q_j -= d``. The change is compensated in the lazy average (see
    :func:`fastlin.kernels.sgd.average_step`). ``inv_ws = 1 / ws``.
    """
    z = w[j]
    wj = ws * z
    qj = l1_q[j]
    d = min(max(wj, qj - u), qj + u)
    l1_q[j] = qj - d
    nz = (wj - d) * inv_ws
    w[j] = nz
    if avg_alpha != 0.0:
        avg_w[j] -= avg_alpha * (nz - z)


@jit
def _axpy_l1_dense(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha, compensate):
    """Fused ``w += c x_i`` and cumulative L1 clip of every ``j`` with ``X[i, j] != 0``, dense row.

    One pass over the row, branch-free (min/max and selects only) so that LLVM vectorizes it; the
    same arithmetic, term for term, as :func:`row_axpy` / :func:`row_axpy2` followed by
    :func:`l1_clip_one`, so dense and CSR agree but for summation order. With ``c = 0`` it is the
    clip alone. A branchy clip in its own pass made log+L1 1.7x the time of log+L2; fused and
    branch-free, 1.3-1.4x.
    """
    c2 = -avg_alpha * c
    for j in range(X.shape[1]):
        x = X[i, j]
        z = w[j] + c * x
        wj = ws * z
        qj = l1_q[j]
        d = min(max(wj, qj - u), qj + u)
        touched = x != 0.0
        d = d if touched else 0.0
        l1_q[j] = qj - d
        nz = (wj - d) * inv_ws
        nz = nz if touched else z
        w[j] = nz
        if compensate:
            avg_w[j] += c2 * x
            avg_w[j] -= avg_alpha * (nz - z)


@overload(row_axpy_l1, jit_options=OVERLOAD_OPTIONS)
def _ol_row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
    if is_dense_type(X):

        def impl(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
            if avg_alpha != 0.0:
                _axpy_l1_dense(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha, True)
            else:
                _axpy_l1_dense(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha, False)

        return impl
    if is_csr_type(X):

        def impl(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            c2 = -avg_alpha * c
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                j = _U64(indices[k])
                x = data[k]
                w[j] += c * x
                if avg_alpha != 0.0:
                    avg_w[j] += c2 * x
                l1_clip_one(w, l1_q, j, ws, inv_ws, u, avg_w, avg_alpha)

        return impl
    return None


@overload(prefetch_ahead, jit_options=OVERLOAD_OPTIONS)
def _ol_prefetch_ahead(X):
    if is_dense_type(X):
        return lambda X: PREFETCH_AHEAD
    if is_csr_type(X):
        return lambda X: PREFETCH_AHEAD_CSR
    return None


@overload(row_prefetch, jit_options=OVERLOAD_OPTIONS)
def _ol_row_prefetch(X, i):
    if is_dense_type(X):
        step = max(1, 64 // (X.dtype.bitwidth // 8))

        def impl(X, i):
            n = X.shape[1]
            for j in range(0, n, step):
                _prefetch_2d(X, i, j)
            if n > 0:
                _prefetch_2d(X, i, n - 1)  # the row's last line when it straddles one more

        return impl
    if is_csr_type(X):
        dstep = _U64(max(1, 64 // (X[0].dtype.bitwidth // 8)))
        istep = _U64(max(1, 64 // (X[1].dtype.bitwidth // 8)))

        def impl(X, i):
            data = X[0]
            indices = X[1]
            start = _U64(X[2][i])
            end = _U64(X[2][i + 1])
            if end > start:
                for k in range(start, end, dstep):
                    _prefetch_1d(data, k)
                for k in range(start, end, istep):
                    _prefetch_1d(indices, k)
                _prefetch_1d(data, end - _U64(1))
                _prefetch_1d(indices, end - _U64(1))

        return impl
    return None


@overload(row_prefetch_weights, jit_options=OVERLOAD_OPTIONS)
def _ol_row_prefetch_weights(X, i, w):
    if is_dense_type(X):
        return lambda X, i, w: None
    if is_csr_type(X):

        def impl(X, i, w):
            indices = X[1]
            indptr = X[2]
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                _prefetch_1d(w, _U64(indices[k]))

        return impl
    return None
