"""Fused loss + gradient of (multinomial) logistic regression, for the exact (L-BFGS) solver.

One call reads X once: for each row the logits, the loss and the row's contribution to the
gradient are computed while the row is in L1 cache. scikit-learn's ``LinearModelLoss`` reads X
twice per evaluation (``X @ w``, then ``X.T @ g``); on a 200 000 x 100 float64 array (160 MB) that
second pass is most of the cost, because both passes are memory-bound.

The objective is scikit-learn's (``LogisticRegression``, solver "lbfgs"), written in its "mean"
form so that the scale of the gradient does not grow with ``n_samples``::

    f(W, b) = scale * sum_i sw_i * l(y_i, W x_i + b) + l2 / 2 * ||W||_F^2

with ``scale = 1 / sum(sw)`` and ``l2 = 1 / (C * sum(sw))``; the intercept ``b`` is not penalized.
``l`` is the half-binomial loss ``log(1 + exp(z)) - y z`` (y in {0, 1}, one output) or the
multinomial loss ``logsumexp(z) - z_y`` (K >= 3 outputs).

Layouts: ``X`` is a dense C-ordered 2-D array or the CSR tuple ``(data, indices, indptr)`` of
:func:`fastlin.data.kernel_X`, the convention of every kernel; the row work goes through the
overloaded accessors of :mod:`fastlin.kernels.rows`, so dense and CSR compile to separate
specialisations with no layout branch inside. Against the former version (one specialisation for
both, a run-time layout flag, signed CSR indices) a CSR pass takes 0.57x the time and a dense one
0.98x (see ``docs/performance.md``).

Parallelism and determinism: rows are cut into ``n_chunks`` fixed contiguous chunks (a function of
the shapes only, see :func:`n_chunks_for`); each chunk accumulates its own partial gradient in
``work[c]`` and the partials are then summed in chunk order. The result is therefore bit-identical
whatever the number of threads, and between the two compilations of the pass:
:data:`logistic_loss_grad` (``parallel=True``) and :data:`logistic_loss_grad_serial` (the same
function, ``parallel=False``), which the engine runs for small problems or a one-thread limit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import jit, renamed
from .classes import class_at, class_axpys, class_block, class_dots, feature_major
from .rows import GATHER_ROWS, n_rows, row_axpy, row_dot

__all__ = ["logistic_loss_grad", "logistic_loss_grad_serial", "n_chunks_for", "MIN_CHUNK_ROWS",
           "MAX_CHUNKS", "ENTRIES_PER_PARTIAL"]

#: Smallest chunk: 2048 rows of 100 float64 features is 1.6 MB, so the fixed per-chunk cost (zeroing
#: and reducing a (K, D + 1) partial gradient) stays below 1 % of reading the chunk.
MIN_CHUNK_ROWS = 2048
#: At most 32 chunks: enough to balance 2-16 threads, few enough that the serial reduction
#: (32 x K x (D + 1) additions) is negligible beside one pass over X.
MAX_CHUNKS = 32
#: Cap on the scratch of partial gradients (n_chunks x K x (D + 1) float64): 32 MiB. With very wide
#: sparse X (D = 2**17) this limits a binary problem to 32 chunks and a 10-class one to 3.
WORK_BYTES = 32 * 1024 * 1024
#: The partials are zeroed and summed on every pass: for wide sparse X that cost as much as the
#: rows themselves (binary, 2**17 features, 1e7 stored entries, 2 cores: a Hessian-vector
#: product took 16.7 ms with 32 chunks, 13.6 ms with 8; fused loss + gradient pass 16.4 ms with 32,
#: 12.2 ms with 4). With the stored entries known, the chunks are capped so that the partials
#: hold at most one entry per this many entries read, then rounded down to a power of two (9
#: chunks on 2 threads left one thread 5 and the other 4). Whole newton-cg fits there, 5 rounds:
#: 8 chunks 0.57 s, 4 chunks (this value) 0.55 s, 2 chunks 0.55 s; 3 chunks 0.72 s. Dense X:
#: never binding (2048 rows a chunk come first).
ENTRIES_PER_PARTIAL = 16


def n_chunks_for(n_samples: int, n_outputs: int, n_features: int,
                 n_entries: int | None = None) -> int:
    """Number of row chunks for :func:`logistic_loss_grad` (depends on the shapes only).

    Parameters
    ----------
    n_samples, n_outputs, n_features : int
        ``n_outputs`` is 1 for a binary problem and K for a K-class softmax.
    n_entries : int, optional
        Entries a pass reads (stored entries of CSR X). When given, the partials hold at most one
        entry per :data:`ENTRIES_PER_PARTIAL` entry-class products a pass computes (each entry
        meets every class), the count then rounded down to a power of two.

    Returns
    -------
    n_chunks : int
        At least 1; the first dimension of the ``work`` scratch array.
    """
    by_rows = max(1, n_samples // MIN_CHUNK_ROWS)
    width = max(1, n_outputs) * (n_features + 1)
    by_mem = max(1, WORK_BYTES // (8 * width))
    n = int(min(MAX_CHUNKS, by_rows, by_mem))
    work = None if n_entries is None else n_entries * max(1, n_outputs)  # entries x classes
    if work is not None and work // (ENTRIES_PER_PARTIAL * width) < n:
        cap = max(1, work // (ENTRIES_PER_PARTIAL * width))
        n = 1 << (cap.bit_length() - 1)  # as many chunks on each of 2^k threads
    return n


@jit(inline="always")
def _half_binomial(z, y):
    """Loss ``log(1 + e^z) - y z`` and its derivative ``sigmoid(z) - y``, both without overflow.

    Exact to rounding for every z (no asymptotic cut-off): L-BFGS's line search compares objective
    values to ``64 * eps``, so loss and gradient must agree to machine precision.
    """
    if z > 0.0:
        e = math.exp(-z)
        return math.log1p(e) + (1.0 - y) * z, 1.0 / (1.0 + e) - y
    e = math.exp(z)
    return math.log1p(e) - y * z, e / (1.0 + e) - y


@jit
def _binary_chunk(X, y, sw, coef, intercept, lo, hi, part):
    """Rows ``lo:hi`` of a binary (sigmoid) model: returns ``sum sw_i l_i``, adds the gradient
    ``sum sw_i (sigmoid(z_i) - y_i) [x_i, 1]`` to ``part[0]`` (zeroed by the caller)."""
    w = coef[0]
    g = part[0]
    D = coef.shape[1]
    acc = 0.0
    z = np.empty(GATHER_ROWS)
    for glo in range(lo, hi, GATHER_ROWS):
        ghi = min(glo + GATHER_ROWS, hi)
        for i in range(glo, ghi):
            z[i - glo] = intercept[0] + row_dot(X, i, w)
        for i in range(glo, ghi):
            w_i = sw[i]
            li, gi = _half_binomial(z[i - glo], y[i])
            acc += w_i * li
            a = w_i * gi
            row_axpy(X, i, a, g)
            g[D] += a
    return acc


@jit(inline="always")
def _softmax_norm(zb, r):
    """``(max_k z_k, sum_k exp(z_k - max))`` of row ``r`` of a block of logits: the softmax is
    ``exp(z_k - max) / sum`` and ``logsumexp(z) = max + log(sum)``, and exp never overflows."""
    zmax = -np.inf
    for k in range(zb.shape[1]):
        if zb[r, k] > zmax:
            zmax = zb[r, k]
    s = 0.0
    for k in range(zb.shape[1]):
        s += math.exp(zb[r, k] - zmax)
    return zmax, s


@jit(inline="always")
def _softmax_weights(zb, r, yi, w_i, ab):
    """Row ``r`` of a block of logits: writes its gradient weights ``ab[r, k] = w_i (softmax(z)_k -
    [k = y])``, returns ``logsumexp(z) - z_y``."""
    zmax, s = _softmax_norm(zb, r)
    for k in range(zb.shape[1]):
        ab[r, k] = w_i * math.exp(zb[r, k] - zmax) / s
    ab[r, yi] -= w_i
    return zmax + math.log(s) - zb[r, yi]


@jit
def _softmax_chunk(X, y, sw, coef, intercept, lo, hi, part):
    """Rows ``lo:hi`` of a K-class softmax model: returns ``sum sw_i (logsumexp(z_i) - z_iy)``,
    adds the gradient ``sum sw_i (softmax(z_i) - e_y) [x_i, 1]`` to ``part`` (zeroed by the
    caller). Class-major: ``coef`` (K, D), ``part`` (K, D + 1)."""
    K = coef.shape[0]
    D = coef.shape[1]
    zb = np.empty((GATHER_ROWS, K))
    acc = 0.0
    for glo in range(lo, hi, GATHER_ROWS):
        ghi = min(glo + GATHER_ROWS, hi)
        for i in range(glo, ghi):
            for k in range(K):
                zb[i - glo, k] = intercept[k] + row_dot(X, i, coef[k])
        for i in range(glo, ghi):
            w_i = sw[i]
            yi = int(y[i])
            r = i - glo
            zmax, s = _softmax_norm(zb, r)
            acc += w_i * (zmax + math.log(s) - zb[r, yi])
            for k in range(K):
                a = w_i * math.exp(zb[r, k] - zmax) / s
                if k == yi:
                    a -= w_i
                row_axpy(X, i, a, part[k])
                part[k, D] += a
    return acc


@jit
def _softmax_chunk_fm(X, y, sw, W, intercept, lo, hi, P):
    """:func:`_softmax_chunk` on flat feature-major blocks (:mod:`fastlin.kernels.classes`):
    ``W`` (K x D) and ``P`` (K x (D + 1)). A chunk function of its own: with the layout chosen
    per row instead, the class-major passes ran ~10 % slower (dense 100 000 x 100, 5 classes)."""
    K = intercept.shape[0]
    width = P.shape[0] // K
    zb = np.empty((GATHER_ROWS, K))
    ab = np.empty((GATHER_ROWS, K))
    acc = 0.0
    for glo in range(lo, hi, GATHER_ROWS):
        ghi = min(glo + GATHER_ROWS, hi)
        for i in range(glo, ghi):
            class_dots(X, i, W, K, zb, i - glo)
            for k in range(K):
                zb[i - glo, k] += intercept[k]
        for i in range(glo, ghi):
            acc += sw[i] * _softmax_weights(zb, i - glo, int(y[i]), sw[i], ab)
            class_axpys(X, i, ab, i - glo, P, K, width)
            for k in range(K):
                P[class_at(X, K, width, k, width - 1)] += ab[i - glo, k]
    return acc


@jit
def _reduce_chunks(X, feature_major, chunk_loss, work, coef, l2, scale, grad):
    """Sum the chunk partials (class-major, or in ``X``'s layout when ``feature_major``) in chunk
    order (the same sum whatever thread ran which chunk), then scale and add the penalty.
    Returns the objective."""
    K = coef.shape[0]
    D = coef.shape[1]
    flat = work.reshape((work.shape[0], K * (D + 1)))
    grad[:, :] = 0.0
    total = 0.0
    for c in range(work.shape[0]):
        total += chunk_loss[c]
        for k in range(K):
            for j in range(D + 1):
                at = class_at(X, K, D + 1, k, j) if feature_major else k * (D + 1) + j
                grad[k, j] += flat[c, at]
    obj = total * scale
    pen = 0.0
    for k in range(K):
        for j in range(D):
            w = coef[k, j]
            pen += w * w
            grad[k, j] = grad[k, j] * scale + l2 * w
        grad[k, D] *= scale
    return obj + 0.5 * l2 * pen


def _fused_loss_grad(X, y, sw, coef, intercept, l2, scale, work, grad):
    """Objective and gradient of (multinomial) logistic regression in one pass over X.

    Compiled twice (see :data:`logistic_loss_grad` and :data:`logistic_loss_grad_serial`): the
    chunks are the same and are reduced in the same order, so both give the same bits.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or tuple ``(data, indices, indptr)``
        Dense: C-contiguous float32 or float64. CSR: the validated triple of
        :func:`fastlin.data.kernel_X` (``data`` float32/float64, int32 or int64 indices).
    y : ndarray of shape (n_samples,), float64
        Class codes: 0/1 when ``K == 1`` (binary), 0 .. K - 1 otherwise.
    sw : ndarray of shape (n_samples,), float64
        Sample weights (class weights already folded in).
    coef : ndarray of shape (K, n_features), float64, C order
        ``K == 1``: the binary model (sigmoid); ``K >= 2``: one row per class (softmax).
    intercept : ndarray of shape (K,), float64
        Zeros when the model has no intercept (its gradient is then ignored by the caller).
    l2 : float
        Penalty strength: the objective contains ``l2 / 2 * ||coef||^2`` (intercept excluded).
    scale : float
        Multiplies the weighted loss sum, normally ``1 / sum(sw)``.
    work : ndarray of shape (n_chunks, K, n_features + 1), float64
        Scratch for the per-chunk partial gradients; ``n_chunks`` from :func:`n_chunks_for`.
    grad : ndarray of shape (K, n_features + 1), float64
        Output: ``grad[:, :n_features]`` the gradient in ``coef``, ``grad[:, n_features]`` in
        ``intercept``.

    Returns
    -------
    objective : float
        ``scale * sum_i sw_i l_i + l2 / 2 * ||coef||^2``.
    """
    n = n_rows(X)
    n_chunks = work.shape[0]
    chunk_loss = np.zeros(n_chunks)
    K, D = coef.shape
    fm = K > 1 and feature_major(X, K, D)
    W = class_block(X, coef) if fm else coef.reshape(coef.size)  # fm: a feature-major copy
    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        part = work[c]
        part[:, :] = 0.0
        if K == 1:
            chunk_loss[c] = _binary_chunk(X, y, sw, coef, intercept, lo, hi, part)
        elif fm:
            chunk_loss[c] = _softmax_chunk_fm(X, y, sw, W, intercept, lo, hi,
                                              part.reshape(part.size))
        else:
            chunk_loss[c] = _softmax_chunk(X, y, sw, coef, intercept, lo, hi, part)
    return _reduce_chunks(X, fm, chunk_loss, work, coef, l2, scale, grad)


#: The fused pass with the chunks spread over Numba's threads (``prange``). Compiled on its first
#: call only, so a process that fits only small problems never pays its compile.
logistic_loss_grad = jit(parallel=True)(renamed(_fused_loss_grad, "logistic_loss_grad"))
#: The same pass, chunks one after another in the calling thread (``prange`` runs as ``range``):
#: no parallel region to open, so nothing waits for a busy core.
logistic_loss_grad_serial = jit(parallel=False)(
    renamed(_fused_loss_grad, "logistic_loss_grad_serial"))
