"""Numba kernel of the Gram pass: the augmented row block [√w (x − s) | √w | √w (y − ys)]."""

from __future__ import annotations

from .._jit import jit

__all__ = ["shift_scale_block"]


@jit
def shift_scale_block(Xb, shift, root_w, Yb, yshift, out, yout):
    """Write one augmented row block in float64, reading Xb and Yb once.

    Parameters
    ----------
    Xb : ndarray of shape (m, d)
        float32 or float64, C- or F-ordered (a row block of X, or a densified sparse block).
    shift : ndarray of shape (d,)
        Subtracted from every row of Xb (the first block's mean; zeros when not centring).
    root_w : ndarray of shape (m,)
        Square roots of the sample weights (ones when unweighted), so that a product of two
        columns carries the weight once.
    Yb : ndarray of shape (m, t)
        float64, C-ordered.
    yshift : ndarray of shape (t,)
    out : ndarray of shape (m, k), k >= d + 1
        float64, C-ordered rows. Columns ``:d`` receive ``root_w * (Xb - shift)`` and column ``d``
        receives ``root_w``, so one ``syrk`` of ``out`` gives the column sums beside XᵀX.
    yout : ndarray of shape (m, t)
        Receives ``root_w * (Yb - yshift)``: the view ``out[:, d + 1:]`` when y is folded into the
        same ``syrk``, a buffer of its own otherwise.
    """
    m, d = Xb.shape
    t = Yb.shape[1]
    for i in range(m):
        r = root_w[i]
        for j in range(d):
            out[i, j] = r * (Xb[i, j] - shift[j])
        out[i, d] = r
        for j in range(t):
            yout[i, j] = r * (Yb[i, j] - yshift[j])
