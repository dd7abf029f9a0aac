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

Parallelism and determinism: rows are cut into ``n_chunks`` fixed contiguous chunks (a function of
the shapes only, see :func:`n_chunks_for`); each chunk accumulates its own partial gradient in
``work[c]`` and the partials are then summed in chunk order. The result is therefore bit-identical
whatever the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import jit

__all__ = ["logistic_loss_grad", "n_chunks_for", "MIN_CHUNK_ROWS", "MAX_CHUNKS"]

#: Smallest chunk: 2048 rows of 100 float64 features is 1.6 MB, so the fixed per-chunk cost (zeroing
#: and reducing a (K, D + 1) partial gradient) stays below 1 % of reading the chunk.
MIN_CHUNK_ROWS = 2048
#: At most 32 chunks: enough to balance 2-16 threads, few enough that the serial reduction
#: (32 x K x (D + 1) additions) is negligible beside one pass over X.
MAX_CHUNKS = 32
#: Cap on the scratch of partial gradients (n_chunks x K x (D + 1) float64): 32 MiB. With very wide
#: sparse X (D = 2**17) this limits a binary problem to 32 chunks and a 10-class one to 3.
WORK_BYTES = 32 * 1024 * 1024


def n_chunks_for(n_samples: int, n_outputs: int, n_features: int) -> int:
    """Number of row chunks for :func:`logistic_loss_grad` (depends on the shapes only).

    Parameters
    ----------
    n_samples, n_outputs, n_features : int
        ``n_outputs`` is 1 for a binary problem and K for a K-class softmax.

    Returns
    -------
    n_chunks : int
        At least 1; the first dimension of the ``work`` scratch array.
    """
    by_rows = max(1, n_samples // MIN_CHUNK_ROWS)
    by_mem = max(1, WORK_BYTES // (8 * max(1, n_outputs) * (n_features + 1)))
    return int(min(MAX_CHUNKS, by_rows, by_mem))


@jit(inline="always")
def _row_dot(X, data, indices, indptr, sparse, i, w):
    """``x_i . w`` for row ``i`` of dense ``X`` or of the CSR triple (accumulated in float64)."""
    s = 0.0
    if sparse:
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * w[indices[p]]
    else:
        for j in range(X.shape[1]):
            s += X[i, j] * w[j]
    return s


@jit(inline="always")
def _row_axpy(X, data, indices, indptr, sparse, i, a, out):
    """``out += a * x_i`` for row ``i`` of dense ``X`` or of the CSR triple."""
    if sparse:
        for p in range(indptr[i], indptr[i + 1]):
            out[indices[p]] += a * data[p]
    else:
        for j in range(X.shape[1]):
            out[j] += a * X[i, j]


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


@jit(parallel=True)
def logistic_loss_grad(X, data, indices, indptr, y, sw, coef, intercept, l2, scale, work, grad):
    """Objective and gradient of (multinomial) logistic regression in one pass over X.

    Pass dense X with empty ``data``/``indices``/``indptr``, or CSR X as its three arrays with an
    empty ``X`` of shape (0, 0) and the same dtype as ``data`` (so dense and CSR share one compiled
    specialisation per dtype). ``len(indptr) > 0`` selects the CSR path.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (0, 0), float32 or float64, C order
    data : ndarray of shape (nnz,), same dtype as X
    indices : ndarray of shape (nnz,), int32 or int64
    indptr : ndarray of shape (n_samples + 1,) or (0,), same dtype as ``indices``
    y : ndarray of shape (n_samples,), float64
        Class codes: 0/1 when ``K == 1`` (binary), 0 .. K - 1 otherwise.
    sw : ndarray of shape (n_samples,), float64
        Sample weights (class weights already folded in).
    coef : ndarray of shape (K, n_features), float64
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
    sparse = indptr.shape[0] > 0
    n = indptr.shape[0] - 1 if sparse else X.shape[0]
    K = coef.shape[0]
    D = coef.shape[1]
    n_chunks = work.shape[0]
    chunk_loss = np.zeros(n_chunks)

    for c in prange(n_chunks):
        lo = c * n // n_chunks
        hi = (c + 1) * n // n_chunks
        part = work[c]
        part[:, :] = 0.0
        z = np.empty(K)
        acc = 0.0
        for i in range(lo, hi):
            w_i = sw[i]
            if K == 1:
                zi = intercept[0] + _row_dot(X, data, indices, indptr, sparse, i, coef[0])
                li, gi = _half_binomial(zi, y[i])
                acc += w_i * li
                a = w_i * gi
                _row_axpy(X, data, indices, indptr, sparse, i, a, part[0])
                part[0, D] += a
            else:
                yi = int(y[i])
                zmax = -np.inf
                for k in range(K):
                    zk = intercept[k] + _row_dot(X, data, indices, indptr, sparse, i, coef[k])
                    z[k] = zk
                    if zk > zmax:
                        zmax = zk
                s = 0.0
                for k in range(K):
                    s += math.exp(z[k] - zmax)
                # logsumexp(z) - z_y, with the max factored out so exp never overflows
                acc += w_i * (zmax + math.log(s) - z[yi])
                for k in range(K):
                    a = w_i * math.exp(z[k] - zmax) / s
                    if k == yi:
                        a -= w_i
                    _row_axpy(X, data, indices, indptr, sparse, i, a, part[k])
                    part[k, D] += a
        chunk_loss[c] = acc

    # Fixed-order reduction of the chunk partials: the same sum whatever thread ran which chunk.
    grad[:, :] = 0.0
    total = 0.0
    for c in range(n_chunks):
        total += chunk_loss[c]
        for k in range(K):
            for j in range(D + 1):
                grad[k, j] += work[c, k, j]
    obj = total * scale
    pen = 0.0
    for k in range(K):
        for j in range(D):
            w = coef[k, j]
            pen += w * w
            grad[k, j] = grad[k, j] * scale + l2 * w
        grad[k, D] *= scale
    return obj + 0.5 * l2 * pen
