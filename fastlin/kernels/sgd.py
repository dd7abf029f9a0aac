"""Per-sample SGD: one epoch for every loss x penalty x schedule x averaging, dense and CSR.

One epoch kernel, :func:`sgd_epoch`, serves every variant (chosen by the integer codes of
:mod:`fastlin._registry`) and both layouts. The layout is decided by the *type* of ``X``:

* dense: a C-contiguous 2-D ``ndarray`` (float32 or float64), one row per sample;
* CSR: the tuple ``(data, indices, indptr)`` of a canonical ``scipy.sparse.csr_matrix``
  (``data`` float32/float64, ``indices``/``indptr`` int32 or int64, structure already validated by
  :func:`fastlin.data.check_sparse_structure`: the kernel does not bounds-check).

The epoch loop is written once; the few operations that touch a row (:func:`row_dot`,
:func:`row_axpy`, :func:`row_axpy2`, :func:`row_axpy_l1`) are ``numba.extending.overload`` stubs whose
implementation is chosen at compile time from the type of ``X``. Numba therefore compiles one
specialisation per dtype/layout (dense f64, dense f32, CSR f64, CSR f32), and the loss, penalty and
schedule are runtime integer switches inside it (one predictable branch per sample, none per feature).

State layout
------------
Everything that survives between two epochs (or two ``partial_fit`` calls) lives in arrays that the
caller owns; the kernel updates them in place. Between calls the state is *canonical*: the scale
factors described below have been folded into the arrays, so the caller reads plain weights.

``w`` : float64 array of shape (n_features,)
    The weights. Inside an epoch the true weights are ``ws * w`` with a kernel-local scale ``ws``
    so that the L2 shrink ``w <- (1 - eta alpha) w`` is one scalar multiply (Bottou's trick). When
    ``ws`` falls below :data:`WSCALE_MIN` (1e-9, so ``update / ws`` stays within 1e9 x update, far
    from overflow) the scale is folded into ``w``; it is folded at the end of every epoch too, so
    ``w`` holds the true weights between calls (an O(n_features) fold per epoch, nothing against
    O(nnz) per sample).
``avg_w`` : float64 array of shape (n_features,)
    The averaged weights (averaged SGD, ``average_start > 0``). Inside an epoch the average is
    ``(avg_w + avg_alpha * w) / avg_beta`` with two kernel-local scalars (lazy averaging, Xu 2011 /
    Bottou 2012): a sample changes only ``avg_w`` at its own non-zero features, never the whole
    vector. Folded between calls, so ``avg_w`` is the explicit average. Unused (but allocated) when
    not averaging. The kernel also keeps ``inv_ws = 1 / ws`` and ``inv_n0`` (1 / the number of
    iterates in the explicit average at the last fold, see :func:`average_step`); both are derived
    from ``ws``, ``t`` and ``average_start`` and need no storage.
``l1_q`` : float64 array of shape (n_features,)
    Cumulative L1 penalty actually applied to each weight so far (``q_j`` of Tsuruoka, Tsujii and
    Ananiadou 2009). Unused when the penalty has no L1 part.
``state`` : float64 array of shape (STATE_SIZE,)
    ``state[STATE_INTERCEPT]`` the intercept; ``state[STATE_AVG_INTERCEPT]`` the averaged intercept;
    ``state[STATE_U]`` the cumulative L1 penalty every weight could have received (Tsuruoka's ``u``);
    ``state[STATE_T]`` the 1-based count of samples seen (``t_`` in scikit-learn; ``t = 1`` before the
    first sample), which drives the ``optimal`` and ``invscaling`` schedules and averaging.

Per-sample update (in this order, scikit-learn's except where noted)
--------------------------------------------------------------------
For sample ``i`` with target ``y_i`` and weight ``s_i`` (sample weight x class weight):

1. ``eta = step_size(schedule, ...)`` from ``t``;
2. ``p = ws * (x_i . w) + b``;
3. ``update = -eta * clip(dloss(p, y_i)) * s_i`` (clip at +-1e12, as scikit-learn; the clips are
   counted and returned, and the estimators warn that the iterates are exploding);
4. L2 / elastic-net: ``ws *= max(0, 1 - (1 - l1_ratio) eta alpha)`` (fold if ``ws < 1e-9``, or
   ``ws < 1e-4`` while averaging: see :data:`WSCALE_MIN_AVERAGING`);
5. if ``update != 0``: ``w += (update / ws) x_i``, ``b += update`` (intercept not penalized, no
   sparse intercept decay: dense and CSR give the same model);
6. L1 / elastic-net: ``u += l1_ratio eta alpha``, then the cumulative clip of Tsuruoka et al. on the
   features with ``x_ij != 0`` (CSR: the stored entries; dense: the non-zero entries, so that dense
   and CSR agree). Clipped weights are exact zeros. Steps 5 and 6 run fused in one pass over the
   row (:func:`row_axpy_l1`);
7. averaging (``t >= average_start``): ``avg <- avg + (w - avg) / n`` with ``n = t - average_start + 1``,
   applied lazily. Unlike scikit-learn, the average is taken *after* the L1 clip, i.e. it is exactly
   the running mean of the iterates (scikit-learn averages before the clip and then lets the clip
   leak into the average; with L2 or no penalty the two agree);
8. ``t += 1``.

The perceptron of the lecture is this kernel with ``loss_code=PERCEPTRON`` (dloss ``-y`` when
``y p <= 0``, else 0), ``penalty_code=0``, ``schedule_code=CONSTANT`` and ``eta0=1``: on a mistake
``w <- w + y x``, ``b <- b + y``; otherwise nothing is written.

Reusing the helpers (mini-batch kernels)
----------------------------------------
:func:`step_size`, :func:`clip_dloss`, :func:`checked_dloss`, :func:`l2_shrink_factor`, :func:`fold_scale`,
:func:`average_step`, :func:`l1_clip_one` and the row accessors (:func:`row_dot`,
:func:`row_axpy`, :func:`row_axpy2`, :func:`row_axpy_l1`, :func:`row_prefetch`) are small jitted
functions (or overloads) callable from any other kernel; they follow the conventions above.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .._jit import FASTMATH, jit
from .losses import dloss as _dloss
from .losses import loss as _loss

__all__ = [
    "sgd_epoch",
    "epoch",
    "step_size",
    "clip_dloss",
    "checked_dloss",
    "l2_shrink_factor",
    "fold_scale",
    "average_step",
    "l1_clip_one",
    "row_dot",
    "row_axpy",
    "row_axpy2",
    "row_axpy_l1",
    "row_prefetch",
    "prefetch_ahead",
    "optimal_init",
    "STATE_INTERCEPT",
    "STATE_AVG_INTERCEPT",
    "STATE_U",
    "STATE_T",
    "STATE_SIZE",
    "new_state",
]

# Penalty codes, mirrored from fastlin._registry.PENALTIES (asserted equal in the tests).
PENALTY_NONE = 0
PENALTY_L2 = 1
PENALTY_L1 = 2
PENALTY_ELASTICNET = 3

# Schedule codes, mirrored from fastlin._registry.SCHEDULES (asserted equal in the tests).
CONSTANT = 0
OPTIMAL = 1
INVSCALING = 2
ADAPTIVE = 3

# Indices into the ``state`` array.
STATE_INTERCEPT = 0
STATE_AVG_INTERCEPT = 1
STATE_U = 2
STATE_T = 3
STATE_SIZE = 4

#: Fold the L2 scale into the weights below this value. 1e-9 (scikit-learn's float64 threshold):
#: ``update / ws`` then stays below 1e9 x update, far from overflow, and a fold costs O(n_features)
#: at most once per ~20 000 samples for eta alpha = 1e-3.
WSCALE_MIN = 1e-9

#: While averaging, fold already below this value. The lazy average ``(avg_w + avg_alpha w) / avg_beta``
#: cancels terms of size ``avg_alpha |w| / avg_beta ~ (mean past scale / current scale) |true w|``, so
#: its relative error is about 1e-16 x that ratio: folding at 1e-4 bounds it by ~1e-12 (at 1e-9 the
#: error measured 2.6e-9 with eta alpha = 0.5). Costs one O(n_features) fold per 1e4-fold decay of the
#: scale, e.g. once per ~9e6 samples for eta alpha = 1e-6.
WSCALE_MIN_AVERAGING = 1e-4

#: The epoch prefetches the dense row it will visit this many samples later (:func:`row_prefetch`).
#: Each sample's dot waits for the previous sample's axpy, so the out-of-order core cannot run far
#: enough ahead to have the next rows in flight, and the hardware prefetchers alone leave the dot
#: waiting on L2/memory. Measured on the dense bench (200 000 x 100 float64, 5 epochs, fit min of 7):
#: log+L2 114 -> 83 ms, log+L1 151 -> 101 ms, squared+L2 averaged 118 -> 79 ms, hinge+L2 78 -> 72 ms,
#: perceptron 76 -> 73 ms with 3 rows ahead; 2 and 4 rows measured the same, 1 row gave log+L2 92 ms
#: and averaged 94 ms, and 5, 6 or 8 rows were slower again (8: hinge 88 ms, log+L2 110 ms, worse
#: than no prefetch). With ``shuffle=True`` (rows in random order) hinge went 175 -> 136-162 ms and
#: log+L2 298 -> 159-186 ms.
PREFETCH_AHEAD = 3

#: The same for CSR rows (``data`` and ``indices``; 50 non-zeros are ~11 lines against 13 for a
#: dense row of 100 float64), which matters when the rows are visited in random order: with
#: ``shuffle=True`` on the CSR bench (200 000 x 131 072, 50 nnz/row, 5 epochs, fit min of 7) hinge
#: went 358-363 -> 240-255 ms and log_loss 460 -> 283-288 ms. In storage order (``shuffle=False``)
#: the gain is 2-3 %, inside the noise (three alternating runs: hinge 100-103 against 103-106 ms,
#: log_loss 129-134 against 132-135 ms); 3 rows ahead measured the same there, 16 rows worse.
PREFETCH_AHEAD_CSR = 8

#: |dloss| is clipped here (scikit-learn's MAX_DLOSS) so one outlier cannot produce an inf update.
MAX_DLOSS = 1e12

# Options for the overload implementations: the same floating-point contract as fastlin._jit.
# The dense accessors index ``X[i, j]`` rather than taking a row view ``X[i]``: a view is a new array
# struct whose reference count Numba maintains with an atomic NRT_incref/NRT_decref call pair, i.e.
# two calls and two locked instructions per accessor per sample on the hot path.
_OL_OPTIONS = dict(fastmath=set(FASTMATH), error_model="numpy", nogil=True)


# ------------------------------------------------------------------------------------------------
# Scalar helpers
# ------------------------------------------------------------------------------------------------


@jit
def step_size(schedule_code, eta0, alpha, opt_init, power_t, t):
    """Learning rate for the sample number ``t`` (1-based).

    ``constant`` / ``adaptive``: ``eta0`` (the caller divides it by 5 for ``adaptive`` when
    progress stalls); ``optimal``: ``1 / (alpha (opt_init + t - 1))`` (Bottou's heuristic, see
    :func:`optimal_init`); ``invscaling``: ``eta0 / t ** power_t``.
    """
    if schedule_code == OPTIMAL:
        return 1.0 / (alpha * (opt_init + t - 1.0))
    if schedule_code == INVSCALING:
        # pow() costs a libm call per sample (~8 ms per 2e5 samples measured here, half the read
        # of a 200 000 x 100 X); the two defaults (0.5: SGDClassifier, 0.25: SGDRegressor) are one
        # or two correctly rounded square roots instead.
        if power_t == 0.5:
            return eta0 / math.sqrt(t)
        if power_t == 0.25:
            return eta0 / math.sqrt(math.sqrt(t))
        return eta0 / t**power_t
    return eta0


@jit
def clip_dloss(d):
    """Clip a loss derivative to [-MAX_DLOSS, MAX_DLOSS]."""
    if d < -MAX_DLOSS:
        return -MAX_DLOSS
    if d > MAX_DLOSS:
        return MAX_DLOSS
    return d


@jit
def checked_dloss(loss_code, p, y, eps):
    """The loss derivative at ``p``, clipped, and whether the sample is a sign of divergence.

    Returns ``(g, bad)``: ``bad`` when the derivative reached +-MAX_DLOSS or is NaN, or when ``p`` is
    not finite (a NaN/inf in X shows up here even where the loss is flat, e.g. hinge beyond the
    margin). The one definition every epoch kernel uses, so that the estimators' divergence and
    deferred-finiteness checks mean the same for per-sample, mini-batch and full-batch epochs.
    """
    g = _dloss(loss_code, p, y, eps)
    if abs(g) < MAX_DLOSS and abs(p) < np.inf:
        return g, False
    return clip_dloss(g), True


@jit
def l2_shrink_factor(eta, alpha, l1_ratio):
    """Multiplicative L2 shrink of one step, ``max(0, 1 - (1 - l1_ratio) eta alpha)``.

    Clamped at 0 rather than going negative when ``eta alpha > 1`` (the weights are then zeroed).
    """
    f = 1.0 - (1.0 - l1_ratio) * eta * alpha
    return f if f > 0.0 else 0.0


@jit
def fold_scale(w, ws, avg_w, avg_alpha, avg_beta):
    """Fold the kernel-local scalars into the arrays (weights ``ws * w``, average lazy scalars).

    Makes the average explicit (``avg_w <- (avg_w + avg_alpha w) / avg_beta``) and then the weights
    (``w <- ws w``). Returns the reset ``(ws, avg_alpha, avg_beta) = (1, 0, 1)``.
    """
    if avg_alpha != 0.0 or avg_beta != 1.0:
        inv_beta = 1.0 / avg_beta
        for j in range(w.shape[0]):
            avg_w[j] = (avg_w[j] + avg_alpha * w[j]) * inv_beta
    if ws != 1.0:
        for j in range(w.shape[0]):
            w[j] *= ws
    return 1.0, 0.0, 1.0


@jit
def average_step(n_avg, ws, avg_w, avg_alpha, inv_n0):
    """Advance the lazy average by one iterate: ``avg <- avg + (ws w - avg) / n_avg``.

    The average is represented as ``(avg_w + avg_alpha w) / avg_beta``; every change ``dw`` made to
    ``w`` during a step is first compensated with ``avg_w -= avg_alpha dw`` (by the callers, at the
    touched features only). With ``mu = 1 / n`` the recurrences ``beta <- beta / (1 - mu)``,
    ``alpha <- alpha + mu ws beta`` telescope from the last fold (``alpha = 0, beta = 1`` when
    ``n0`` iterates had been averaged) to ``beta = n / n0`` and ``alpha += ws / n0``: one
    multiply-add per sample and no division on the sample-to-sample dependency chain. The first
    averaged iterate (``n_avg <= 1``) restarts the average at the current weights (O(n_features),
    once) with ``n0 = 1``.

    Returns
    -------
    avg_alpha, avg_beta, inv_n0 : float
    """
    if n_avg <= 1.0:
        for j in range(avg_w.shape[0]):
            avg_w[j] = 0.0
        return ws, 1.0, 1.0
    return avg_alpha + ws * inv_n0, n_avg * inv_n0, inv_n0


@jit
def l1_clip_one(w, l1_q, j, ws, inv_ws, u, avg_w, avg_alpha):
    """Cumulative L1 clip of weight ``j`` (Tsuruoka et al. 2009), in true-weight units.

    A positive weight moves down by at most ``u + q_j`` (never below 0), a negative one up by at most
    ``u - q_j`` (never above 0); ``q_j`` records what was applied (so ``q_j - u <= 0 <= q_j + u``).
    Both cases are one clamp: the applied amount is ``d = clamp(w_j, q_j - u, q_j + u)``, the new
    weight ``w_j - d`` (an exact 0 when the clamp does not bind) and ``q_j -= d``. The change is
    compensated in the lazy average (see :func:`average_step`). ``inv_ws = 1 / ws``.
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

    One pass over the row (the row and the weights are read and written once) and branch-free
    (min/max and selects only) so that LLVM vectorizes it; the same arithmetic, term for term, as
    :func:`row_axpy` / :func:`row_axpy2` followed by :func:`l1_clip_one`, so dense and CSR agree
    but for summation order. With ``c = 0`` it is the clip alone (adding ``0 * x`` changes nothing).
    Measured on 200 000 x 100 float64 (5 epochs): log+L1 took 1.7x the time of log+L2 with a
    branchy clip in its own pass, 1.3-1.4x fused, branch-free and with the single clamp.
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


# ------------------------------------------------------------------------------------------------
# Row accessors: dense 2-D array or CSR tuple, chosen at compile time
# ------------------------------------------------------------------------------------------------

# CSR positions and column indices are used as *unsigned* 64-bit integers. A signed index makes Numba
# emit its negative-index wrap-around (``k < 0 ? k + n : k``), after which LLVM can no longer see
# that ``data[k]`` and ``indices[k]`` are consecutive loads and vectorizes the row loops with AVX-512
# gathers of everything (data and indices too, not only w). Measured on the CSR bench (200 000 x
# 131 072, 50 nnz/row, 5 epochs): a stand-alone dot + axpy loop took 33 ms/epoch with signed and
# 21 ms with unsigned indices; the SGDClassifier fit (min of 7) went from 155 to 111 ms for hinge and
# from 165-207 to 140 ms for log_loss. With unsigned indices the dot's loads of w are still gathers,
# and that is the faster form here: a scalar four-accumulator dot compiled without ``reassoc`` (no
# gathers) made the hinge fit 133 ms against 100 ms. Prefetching the w entries of a later row
# (1, 3 or 8 rows ahead) was slower too (116-122 ms against 100 ms).
# Where a CSR epoch goes on that bench (hinge, ms per epoch, stand-alone loops): streaming data +
# indices alone 6.4, the gather dot alone 10.6, dot + update 16.5-18. Making the update independent of
# the dot saved only 1-2 ms, so the two passes are limited by throughput, not by the latency of
# dot -> dloss -> update. None of these sped it up:
# * an 8-wide AVX-512 gather + FMA + scatter update via llvm.masked.gather/scatter, with a scalar
#   fallback for any 8-block whose indices are not strictly increasing: hinge 19.0 -> 18.0 ms and
#   log 22.0 -> 25.0 ms, i.e. noise for hinge and slower for log;
# * an 8-wide masked-gather dot: 10.9 against 11.2 ms, no gain;
# * keeping the gathered w values in a buffer during the dot, so that the update is a contiguous FMA
#   plus scalar stores: hinge 17.0 -> 18.8 ms, log 21.9 -> 26.0 ms;
# * other prefetch localities, which also changed the dense path: for the real CSR hinge kernel over
#   5 epochs, NTA took 81 -> 165-170 ms and T1 took 81 -> 90 ms;
# * other prefetch distances for the real hinge kernel (ms per epoch): PREFETCH_AHEAD_CSR 0 gave 19,
#   8 gave 17, 24 gave 17.6-19.5 and 64 gave 18.3-19.5. Adding an L2 prefetch (T1/T2) 32-128 rows
#   ahead on top of the 8-row one gave 20-26.
# * prefetching the weights of the next row (``w[indices[k]]`` of ``order[k + 1]``) right after the
#   dot, before the update: fit A/B, three alternating processes, 5 epochs: log_loss 106-124 ->
#   107-114 ms and hinge 85-93 -> 88-96 ms in storage order, but with ``shuffle=True`` hinge
#   177-229 -> 242-270 ms and log_loss 228-249 -> 320-353 ms (why the random order suffers so much
#   was not investigated); not kept;
# * the weight vector in a 2 MiB transparent huge page (X's large arrays already get them from NumPy),
#   against a normal allocation, one process, three pairs, ms per epoch: hinge 18.1-19.0 against
#   18.0-18.5, log_loss 23.4-25.1 against 23.1-24.1: no gain;
# * a second thread streaming X a few hundred rows ahead of the kernel: in a stand-alone dot + update
#   loop without software prefetch 20.5 -> 17.5 ms per epoch, but the real log_loss epoch takes as
#   long with X cache-resident as streamed (20.5-22.7 ms, three runs of ``bench/bench_csr_floor.py``),
#   so there is nothing for it to hide; not built.
# ``bench/bench_csr_floor.py`` measures the floors (ms per epoch, streamed / X cache-resident, one run):
# reading data + indices 8.8 / 4.2, the dot alone (row_dot) 10.8 / 6.4, row_dot + row_axpy on every row
# with no loss or schedule 18.6 / 16.7, the same with the touched weights cut to 32 KiB (in L1)
# 15.4 / 8.7; the log_loss epoch 22.1 / 21.4; scikit-learn's log_loss epoch 31.8. The work on the
# 1 MiB weight vector (L2-resident) is what is left. A scalar 2-, 4- or 8-accumulator dot (no
# gathers) in that skeleton: streamed 19.0-20.4 against 20.0-21.0 ms with the gathers, rows in random
# order 75-76 (8 accumulators 94-98) against 74-75 ms: no consistent gain, not kept.
# The structure is validated up front (canonical CSR: 0 <= indices < n_features), so the cast is exact.
_U64 = np.uint64


def _is_dense(X):
    return isinstance(X, types.Array) and X.ndim == 2


def _is_csr(X):
    return isinstance(X, types.BaseTuple) and len(X) == 3


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


def prefetch_ahead(X):
    """How many samples ahead the epoch prefetches: :data:`PREFETCH_AHEAD` (dense) or
    :data:`PREFETCH_AHEAD_CSR`."""
    raise NotImplementedError("prefetch_ahead is only callable from jitted code")


@overload(prefetch_ahead, jit_options=_OL_OPTIONS)
def _ol_prefetch_ahead(X):
    if _is_dense(X):
        return lambda X: PREFETCH_AHEAD
    if _is_csr(X):
        return lambda X: PREFETCH_AHEAD_CSR
    return None


def row_prefetch(X, i):
    """Prefetch row ``i`` into L1: the row of a dense ``X``; ``data`` and ``indices`` of a CSR row
    (not the weights it will touch: prefetching those measured slower, see ``_U64``)."""
    raise NotImplementedError("row_prefetch is only callable from jitted code")


@overload(row_prefetch, jit_options=_OL_OPTIONS)
def _ol_row_prefetch(X, i):
    if _is_dense(X):
        step = max(1, 64 // (X.dtype.bitwidth // 8))

        def impl(X, i):
            n = X.shape[1]
            for j in range(0, n, step):
                _prefetch_2d(X, i, j)
            if n > 0:
                _prefetch_2d(X, i, n - 1)  # the row's last line when it straddles one more

        return impl
    if _is_csr(X):
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


def row_dot(X, i, w):
    """``x_i . w`` accumulated in float64. ``X`` is a dense 2-D array or ``(data, indices, indptr)``."""
    raise NotImplementedError("row_dot is only callable from jitted code")


def row_axpy(X, i, c, w):
    """``w += c x_i`` (touches only the stored entries of a CSR row)."""
    raise NotImplementedError("row_axpy is only callable from jitted code")


def row_axpy2(X, i, c1, w1, c2, w2):
    """``w1 += c1 x_i`` and ``w2 += c2 x_i`` in one pass over the row (weights and lazy average)."""
    raise NotImplementedError("row_axpy2 is only callable from jitted code")


def row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
    """``w += c x_i`` (true-weight step ``c ws``), then :func:`l1_clip_one` on every feature with
    ``x_ij != 0`` (CSR: every stored entry), compensating the lazy average when ``avg_alpha != 0``.
    ``c = 0`` applies the clip alone."""
    raise NotImplementedError("row_axpy_l1 is only callable from jitted code")


@overload(row_dot, jit_options=_OL_OPTIONS)
def _ol_row_dot(X, i, w):
    if _is_dense(X):

        def impl(X, i, w):
            acc = 0.0
            for j in range(X.shape[1]):
                acc += X[i, j] * w[j]
            return acc

        return impl
    if _is_csr(X):

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


@overload(row_axpy, jit_options=_OL_OPTIONS)
def _ol_row_axpy(X, i, c, w):
    if _is_dense(X):

        def impl(X, i, c, w):
            for j in range(X.shape[1]):
                w[j] += c * X[i, j]

        return impl
    if _is_csr(X):

        def impl(X, i, c, w):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            for k in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                w[_U64(indices[k])] += c * data[k]

        return impl
    return None


@overload(row_axpy2, jit_options=_OL_OPTIONS)
def _ol_row_axpy2(X, i, c1, w1, c2, w2):
    if _is_dense(X):

        def impl(X, i, c1, w1, c2, w2):
            for j in range(X.shape[1]):
                x = X[i, j]
                w1[j] += c1 * x
                w2[j] += c2 * x

        return impl
    if _is_csr(X):

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


@overload(row_axpy_l1, jit_options=_OL_OPTIONS)
def _ol_row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
    if _is_dense(X):

        def impl(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha):
            if avg_alpha != 0.0:
                _axpy_l1_dense(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha, True)
            else:
                _axpy_l1_dense(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha, False)

        return impl
    if _is_csr(X):

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


# ------------------------------------------------------------------------------------------------
# The epoch
# ------------------------------------------------------------------------------------------------


@jit
def sgd_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, loss_code, penalty_code,
              schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
              average_start, want_loss):
    """One epoch of per-sample SGD over the samples ``order``, updating the state in place.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float32/float64, or tuple
        ``(data, indices, indptr)`` of a validated CSR matrix.
    y : float64 ndarray of shape (n_samples,)
        Targets; in {-1, +1} for the classification losses.
    sample_weight : float64 ndarray of shape (n_samples,)
        Per-sample multiplier of the update (sample weight x class weight).
    order : int64 ndarray of shape (n_visit,)
        Indices of the samples to visit, in visiting order (a permutation when shuffling; only the
        training samples when a validation fraction is held out).
    w, avg_w, l1_q : float64 ndarrays of shape (n_features,)
        Weights, averaged weights, cumulative L1 penalty per weight (see the module docstring).
    state : float64 ndarray of shape (STATE_SIZE,)
        ``[intercept, avg_intercept, u, t]``.
    loss_code, penalty_code, schedule_code : int
        Codes of :data:`fastlin._registry.LOSSES`, ``PENALTIES``, ``SCHEDULES``.
    alpha : float
        Regularization strength (>= 0; > 0 for the ``optimal`` schedule).
    l1_ratio : float
        Share of L1 in the penalty: pass 0 for ``l2``, 1 for ``l1``, the user's value for
        ``elasticnet`` (ignored for ``none``).
    eta0 : float
        Step size for ``constant``/``adaptive`` (current value) and base for ``invscaling``.
    power_t : float
        Exponent of ``invscaling``.
    epsilon : float
        Epsilon of huber and the epsilon-insensitive losses.
    opt_init : float
        Offset of the ``optimal`` schedule (:func:`optimal_init`).
    fit_intercept : bool
    average_start : float
        0 for no averaging, else the value of ``t`` at which averaging starts (1 = from the start).
    want_loss : bool
        Whether to sum the loss (costs one ``loss`` call per sample, e.g. a log1p(exp) for log_loss).

    Returns
    -------
    sumloss : float
        Sum over the visited samples of ``sample_weight * loss`` at the prediction made before the
        sample's update (0 when ``want_loss`` is false).
    n_updates : int
        Number of samples whose update was non-zero (perceptron: the mistakes of the epoch).
    n_clipped : int
        Number of samples whose prediction was not finite or whose loss derivative reached
        +-MAX_DLOSS (|prediction - target| of 1e12 or more): a NaN/inf in X (the estimators' first
        epoch doubles as X's finiteness check) or iterates that diverged (the clip keeps them
        finite).
    """
    b = state[STATE_INTERCEPT]
    avg_b = state[STATE_AVG_INTERCEPT]
    u = state[STATE_U]
    t = state[STATE_T]
    use_l2 = penalty_code == PENALTY_L2 or penalty_code == PENALTY_ELASTICNET
    use_l1 = penalty_code == PENALTY_L1 or penalty_code == PENALTY_ELASTICNET
    averaging = average_start > 0.0
    ws = 1.0
    inv_ws = 1.0
    avg_alpha = 0.0
    avg_beta = 1.0
    # iterates already in the (explicit) average: 1 / n0 of average_step
    inv_n0 = 1.0 / (t - average_start) if averaging and t - average_start >= 1.0 else 1.0
    sumloss = 0.0
    n_updates = 0
    n_clipped = 0
    n_visit = order.shape[0]
    ahead = prefetch_ahead(X)
    for k in range(n_visit):
        i = order[k]
        if k + ahead < n_visit:
            row_prefetch(X, order[k + ahead])
        eta = step_size(schedule_code, eta0, alpha, opt_init, power_t, t)
        p = ws * row_dot(X, i, w) + b
        yi = y[i]
        si = sample_weight[i]
        if want_loss:
            sumloss += si * _loss(loss_code, p, yi, epsilon)
        g, bad = checked_dloss(loss_code, p, yi, epsilon)
        if bad:
            n_clipped += 1
        update = -eta * g * si
        if use_l2:
            # The scale only depends on the schedule, not on w: its multiply and the reciprocal
            # below stay off the sample-to-sample dependency chain (dot -> dloss -> axpy -> dot).
            ws *= l2_shrink_factor(eta, alpha, l1_ratio)
            if ws < (WSCALE_MIN_AVERAGING if avg_alpha != 0.0 else WSCALE_MIN):
                ws, avg_alpha, avg_beta = fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
                if averaging and t - average_start >= 1.0:
                    inv_n0 = 1.0 / (t - average_start)
            inv_ws = 1.0 / ws
        if use_l1:
            u += l1_ratio * eta * alpha
        if update != 0.0:
            c = update * inv_ws
            if use_l1:
                row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha)
            elif avg_alpha != 0.0:
                row_axpy2(X, i, c, w, -avg_alpha * c, avg_w)
            else:
                row_axpy(X, i, c, w)
            if fit_intercept:
                b += update
            n_updates += 1
        elif use_l1:
            row_axpy_l1(X, i, 0.0, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha)
        if averaging and t >= average_start:
            n_avg = t - average_start + 1.0
            avg_alpha, avg_beta, inv_n0 = average_step(n_avg, ws, avg_w, avg_alpha, inv_n0)
            avg_b += (b - avg_b) / n_avg
        t += 1.0
    fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
    state[STATE_INTERCEPT] = b
    state[STATE_AVG_INTERCEPT] = avg_b
    state[STATE_U] = u
    state[STATE_T] = t
    return sumloss, n_updates, n_clipped


# ------------------------------------------------------------------------------------------------
# Python-side helpers (argument normalisation; no per-sample work)
# ------------------------------------------------------------------------------------------------


def new_state(t=1.0, intercept=0.0):
    """A fresh ``state`` array: ``[intercept, avg_intercept=0, u=0, t]``."""
    state = np.zeros(STATE_SIZE, dtype=np.float64)
    state[STATE_INTERCEPT] = intercept
    state[STATE_T] = t
    return state



def optimal_init(loss_code, alpha, epsilon):
    """Offset ``t0`` of the ``optimal`` schedule, so the first step is ``eta = 1 / (alpha t0)``.

    Bottou's heuristic (as in scikit-learn): a typical weight ``typw = sqrt(1 / sqrt(alpha))`` and a
    first step ``typw / max(1, dloss(-typw, 1))``.
    """
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    eta_first = typw / max(1.0, float(_dloss(int(loss_code), -typw, 1.0, float(epsilon))))
    return 1.0 / (eta_first * alpha)


def epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss_code, penalty_code,
          schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
          average_start, want_loss):
    """Call :func:`sgd_epoch` with every scalar coerced to the one type the kernel is compiled for.

    ``X`` is a C-contiguous 2-D array or the CSR tuple of :func:`fastlin.data.kernel_X`. Returns
    ``(sumloss, n_updates, n_clipped)``.
    """
    return sgd_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, int(loss_code),
                     int(penalty_code), int(schedule_code), float(alpha), float(l1_ratio),
                     float(eta0), float(power_t), float(epsilon), float(opt_init),
                     bool(fit_intercept), float(average_start), bool(want_loss))
