"""Numba kernel of the Gram pass: shift, weight and cast one row block into a float64 buffer."""

from __future__ import annotations

from .._jit import jit

__all__ = ["shift_scale_block"]


@jit
def shift_scale_block(Xb, shift, root_w, out):
    """``out[i] = root_w[i] * (Xb[i] - shift)``: one read of Xb, one write of the float64 buffer.

    ``out`` is float64 C-ordered; Xb may be float32/float64, C- or F-ordered (a row block view).
    """
    m, d = Xb.shape
    for i in range(m):
        r = root_w[i]
        for j in range(d):
            v = r * (Xb[i, j] - shift[j])
            out[i, j] = v
