"""The Gram statistic: one pass over X in row blocks gives the statistics of the normal equations.

For weights ``w`` (ones by default) the pass produces, in float64 whatever X's dtype,

* ``x_mean`` = Σ w x / W and ``y_mean`` = Σ w y / W, with W = Σ w,
* ``xtx`` = Σ w (x − x_mean)(x − x_mean)ᵀ (the centred scatter; the plain Σ w x xᵀ when
  ``center=False``),
* ``xty`` = Σ w (x − x_mean)(y − y_mean)ᵀ and ``yty`` = Σ w (y − y_mean)² per target.

Cost: one read of X, D²N/2 multiply-adds in BLAS ``syrk`` plus DTN in ``gemm``; memory: one block
buffer and the D×D result, never a copy of X.

Numerical safety of the centring. Subtracting the mean after accumulating Σ x xᵀ loses about
log10(mean²/var) digits (the test data with means 1e6 times their spread would keep none). Each
block is therefore shifted by ``s``, the weighted mean of the first block, before its products are
added: Σ w (x − s)(x − s)ᵀ is then corrected by the rank-one term b bᵀ / W with b = Σ w (x − s),
which is small (|b/W| ≈ spread / sqrt(block rows)), so the correction cancels nothing.

When X is float64 and C-contiguous, unweighted, and the first block shows every column mean
within 10 standard deviations of zero (at most 2 digits lost to the rank-one correction), the
shift is skipped and ``syrk`` reads the blocks of X in place — the copy into the block buffer
is then the only pass saved, and it is what lets the fit run at the speed of a bare ``X.T @ X``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from ..data.layout import block_rows_for, iter_row_blocks
from ..data.pieces import raise_non_finite_X
from .sources import fold

__all__ = ["GramStats", "gram", "gram_piece", "merge", "merge_all", "finalize_stats"]

# |mean| <= 10 sd on the first block: the rank-one correction then cancels at most 2 of float64's
# 16 digits, so reading X in place is as accurate as shifting it.
_IN_PLACE_MAX_MEAN_OVER_SD = 10.0


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


def _blas_add(Z, Rb, xtx, acc):
    """xtx (upper) += ZᵀZ by ``syrk`` and acc += ZᵀRb by ``gemm``, for a C-contiguous float64 block Z.

    Both through scipy's BLAS, never numpy's: the two ship separate OpenBLAS builds, and
    alternating calls between them leaves one library's idle threads spinning on the cores the
    other needs (measured: gram 4.9x a bare XᵀX on 200 000 x 512, against 1.06x with one library).
    ``Z.T`` is F-contiguous (d x m), so BLAS reads the block in place, no copy by f2py.
    """
    xtx = blas.dsyrk(1.0, Z.T, beta=1.0, c=xtx, trans=0, lower=0, overwrite_c=1)
    acc = blas.dgemm(1.0, Z.T, Rb, beta=1.0, c=acc, overwrite_c=1)
    return xtx, acc


def _first_block_plan(X, Xb, Yb, w, wb, weighted, center):
    """``(shift, yshift, in_place)`` from the first block (see the module docstring).

    The shift is the first block's weighted mean; ``in_place`` (read float64 C blocks of X
    directly, no shift) when X is float64 dense, unweighted, and every column mean of the first
    block is within 10 standard deviations of zero.
    """
    d, t = Xb.shape[1], Yb.shape[1]
    plain = not weighted and X.dtype == np.float64 and not sp.issparse(X)
    if not (center and wb > 0):
        return np.zeros(d), np.zeros(t), plain
    first = Xb.astype(np.float64, copy=False)
    shift = (w @ first) / wb
    yshift = (w @ Yb) / wb
    # E[x²] − mean² is imprecise only when mean² ≫ var, where the test below is clearly false
    # anyway; it needs no temporary copy of the block.
    var = np.einsum("i,ij,ij->j", w, first, first) / wb - shift * shift
    if plain and bool(np.all(shift * shift <= _IN_PLACE_MAX_MEAN_OVER_SD ** 2 * var)):
        return np.zeros(d), yshift, True
    return shift, yshift, False


def _shifted_block(Xb, shift, root_w, out):
    """``out = root_w * (Xb - shift)`` in float64, by the Numba kernel (one read of Xb)."""
    # Imported here: the in-place path needs no Numba, so a float64 fit does not pay numba's
    # import (about 0.1 s of a fresh process's first fit).
    from ..kernels.block import shift_scale_block

    shift_scale_block(Xb, shift, root_w, out)
    return out


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
        Rows per block; default gives blocks of about 2 MiB.

    Returns
    -------
    GramStats
    """
    n, d = X.shape
    Y = _as_2d_targets(Y, n)
    t = Y.shape[1]
    if n == 0:
        raise ValueError("Cannot accumulate statistics of an empty X (0 samples).")
    if block_rows is None:
        block_rows = block_rows_for(d, 8)
    weighted = sample_weight is not None
    root_w_all = np.sqrt(np.asarray(sample_weight, dtype=np.float64)) if weighted else None

    xtx = np.zeros((d, d), dtype=np.float64, order="F")
    # acc = [Σ w (x − shift) | Σ w (x − shift)(y − yshift)ᵀ]: one gemm pass over each block gives
    # the column sums and Xᵀy together (R's first column holds the root weights).
    acc = np.zeros((d, 1 + t), dtype=np.float64, order="F")
    R = np.empty((block_rows, 1 + t), dtype=np.float64, order="F")
    ysum = np.zeros(t, dtype=np.float64)  # Σ w (y - yshift)
    yty = np.zeros(t, dtype=np.float64)
    wsum = 0.0
    plan = None  # (shift, yshift, in_place), decided on the first block
    buf = None

    for start, stop, Xb in iter_row_blocks(X, block_rows):
        m = stop - start
        Rb = R[:m]
        rw = Rb[:, 0]
        if weighted:
            rw[:] = root_w_all[start:stop]
            w = rw * rw
        else:
            rw[:] = 1.0
            w = rw
        wb = float(w.sum()) if weighted else float(m)
        Yb = Y[start:stop]
        if sp.issparse(Xb):
            Xb = Xb.toarray()
        if plan is None:
            plan = _first_block_plan(X, Xb, Yb, w, wb, weighted, center)
        shift, yshift, in_place = plan
        if in_place and Xb.flags.c_contiguous:
            Z = Xb
        else:
            if buf is None:
                buf = np.empty((block_rows, d), dtype=np.float64)
            Z = _shifted_block(Xb, shift, rw, buf[:m])
        # Y block: shifted and scaled by sqrt(w) like the X block, so products carry w once.
        Yc = Rb[:, 1:]
        np.subtract(Yb, yshift, out=Yc)
        ysum += np.einsum("i,ij->j", w, Yc)  # einsum: no BLAS call (see _blas_add)
        if weighted:
            Yc *= rw[:, None]
        yty += np.einsum("ij,ij->j", Yc, Yc)
        xtx, acc = _blas_add(Z, Rb, xtx, acc)
        wsum += wb

    shift, yshift, _ = plan
    xsum, xty = acc[:, 0].copy(), np.ascontiguousarray(acc[:, 1:])
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
