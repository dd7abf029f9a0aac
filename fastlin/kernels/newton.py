"""Hessian-vector products of (multinomial) logistic regression, for the trust-region Newton solver.

The Newton-CG solver (:mod:`fastlin.solvers.newton`, Lin, Weng & Keerthi 2008) never forms the
Hessian: each conjugate-gradient step needs one product ``H v``. For the unscaled, unpenalised
loss sum ``sum_i sw_i l(y_i, W x_i + b)`` that product, for a direction ``(V, c)`` of the same
shape as ``(W, b)``, is::

    binary (K = 1):   sum_i d_i (x_i . v + c) [x_i, 1],          d_i = sw_i p_i (1 - p_i)
    softmax (K >= 3): sum_i sw_i (p_i * u_i - p_i (p_i . u_i)) [x_i, 1]^T,   u_i = V x_i + c

with ``p_i`` the model's probabilities at the point where the Hessian is taken (the sigmoid of
the logit, or the softmax of the K logits). Those depend on ``(W, b)`` only, not on the
direction, so they are computed once per Newton iteration, by the first product at that point
(``fresh=True``: block by block, just before the product reads the same rows, which saves a
separate ``X W`` pass per iteration), and reused by the products after it. Every product reads
each row once: the dot products ``u_i`` and the update ``+= r_i x_i`` are done while the row is
in L1 cache, as in the fused loss + gradient pass of :mod:`fastlin.kernels.logistic`.

The ``curv`` array holds, per row, ``d_i`` (binary: ``curv[i, 0]``, sample weight folded in) or
the K probabilities (softmax: ``curv[i, :]``, the sample weight applied in the product, since
``p (p . u)`` needs the unweighted ``p``).

Layouts, chunks and determinism are those of :mod:`fastlin.kernels.logistic`: ``X`` is dense
(C order) or the CSR triple of :func:`fastlin.data.kernel_X`, read through the accessors of
:mod:`fastlin.kernels.rows`; rows are cut into the ``work.shape[0]`` chunks that the fused pass
uses (a function of the shapes only), each chunk sums into its own ``work[c]`` and the partials
are added in chunk order, so the parallel and serial compilations give the same bits whatever
the number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import jit, renamed
from .rows import n_rows, row_axpy, row_dot

__all__ = ["logistic_hessp", "logistic_hessp_serial", "BLOCK_ROWS"]


@jit(inline="always")
def _sigmoid_curvature(z):
    """``p (1 - p)`` with ``p = sigmoid(z)``, as ``e / (1 + e)^2`` with ``e = exp(-|z|) <= 1``:
    no overflow, and no cancellation in ``1 - p`` for large ``|z|`` (where it is ~ e)."""
    e = math.exp(-abs(z))
    return e / ((1.0 + e) * (1.0 + e))


@jit
def _curvature_rows(X, sw, coef, intercept, lo, hi, curv):
    """Rows ``lo:hi``: ``curv[i, 0] = sw_i p_i (1 - p_i)`` (K = 1) or ``curv[i] = softmax(z_i)``."""
    K = coef.shape[0]
    for i in range(lo, hi):
        if K == 1:
            curv[i, 0] = sw[i] * _sigmoid_curvature(intercept[0] + row_dot(X, i, coef[0]))
            continue
        zmax = -np.inf
        for k in range(K):
            zk = intercept[k] + row_dot(X, i, coef[k])
            curv[i, k] = zk
            if zk > zmax:
                zmax = zk
        s = 0.0
        for k in range(K):
            e = math.exp(curv[i, k] - zmax)  # max-shifted: exp never overflows
            curv[i, k] = e
            s += e
        inv = 1.0 / s
        for k in range(K):
            curv[i, k] *= inv


@jit
def _hessp_binary_rows(X, curv, v, c, lo, hi, part):
    """Rows ``lo:hi`` of a binary model: ``part[0] += sum_i d_i (x_i . v + c) [x_i, 1]``."""
    g = part[0]
    D = v.shape[1]
    for i in range(lo, hi):
        r = curv[i, 0] * (c[0] + row_dot(X, i, v[0]))
        row_axpy(X, i, r, g)
        g[D] += r


@jit
def _hessp_softmax_rows(X, sw, curv, V, c, lo, hi, part):
    """Rows ``lo:hi`` of a softmax model: ``part[k] += sum_i sw_i p_ik (u_ik - p_i . u_i) [x_i, 1]``
    with ``u_i = V x_i + c``."""
    K = V.shape[0]
    D = V.shape[1]
    u = np.empty(K)
    for i in range(lo, hi):
        pu = 0.0
        for k in range(K):
            uk = c[k] + row_dot(X, i, V[k])
            u[k] = uk
            pu += curv[i, k] * uk
        w_i = sw[i]
        for k in range(K):
            r = w_i * curv[i, k] * (u[k] - pu)
            row_axpy(X, i, r, part[k])
            part[k, D] += r


#: Rows per block when the product also computes the curvature: a block's rows (256 x 100
#: float64 = 200 KB, or 256 CSR rows of 50 entries = 150 KB) are still in L2 when the product reads
#: them again right after the curvature did.
BLOCK_ROWS = 256


def _hessp(X, sw, coef, intercept, fresh, curv, V, c, work, out):
    """Hessian-vector product of the unscaled, unpenalised loss sum (see the module docstring).

    Compiled twice (:data:`logistic_hessp`, :data:`logistic_hessp_serial`), same bits.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or tuple ``(data, indices, indptr)``
    sw : ndarray of shape (n_samples,), float64
        Sample weights (class weights folded in).
    coef : ndarray of shape (K, n_features), float64, C order
        The point where the Hessian is taken (read only when ``fresh``).
    intercept : ndarray of shape (K,), float64
    fresh : bool
        Compute ``curv`` at ``(coef, intercept)`` in this pass, block by block just before the
        product reads the same rows (the first product at a new point); else reuse ``curv``.
    curv : ndarray of shape (n_samples, K), float64
        Per-row curvature: written when ``fresh``, read always.
    V : ndarray of shape (K, n_features), float64, C order
        Direction in the coefficients.
    c : ndarray of shape (K,), float64
        Direction in the intercepts (zeros without an intercept; then ``out[:, -1]`` is unused).
    work : ndarray of shape (n_chunks, K, n_features + 1), float64
        Scratch for the per-chunk partial products (the fused pass's ``work`` can be shared).
    out : ndarray of shape (K, n_features + 1), float64
        Output: the product in the coefficients, then (last column) in the intercepts.
    """
    n = n_rows(X)
    n_chunks = work.shape[0]
    for ch in prange(n_chunks):
        lo = ch * n // n_chunks
        hi = (ch + 1) * n // n_chunks
        part = work[ch]
        part[:, :] = 0.0
        for blo in range(lo, hi, BLOCK_ROWS):
            bhi = min(blo + BLOCK_ROWS, hi)
            if fresh:
                _curvature_rows(X, sw, coef, intercept, blo, bhi, curv)
            if V.shape[0] == 1:
                _hessp_binary_rows(X, curv, V, c, blo, bhi, part)
            else:
                _hessp_softmax_rows(X, sw, curv, V, c, blo, bhi, part)
    # the partials summed in chunk order, per entry: the columns are split over the threads
    # (33 MB of partials for a binary 2**17-feature CSR problem; a serial sum was ~1/4 of a product)
    K = out.shape[0]
    for j in prange(out.shape[1]):
        for k in range(K):
            acc = 0.0
            for ch in range(n_chunks):
                acc += work[ch, k, j]
            out[k, j] = acc


#: Hessian-vector product with the row chunks spread over Numba's threads.
logistic_hessp = jit(parallel=True)(renamed(_hessp, "logistic_hessp"))
#: The same product in the calling thread; bit-identical to :data:`logistic_hessp`.
logistic_hessp_serial = jit(parallel=False)(renamed(_hessp, "logistic_hessp_serial"))
