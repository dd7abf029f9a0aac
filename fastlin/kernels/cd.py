"""Coordinate descent for the elastic net on the Gram matrix (covariance updates).

The problem, in the unnormalised form the solver layer hands down,

    min_w  ½ wᵀQw − qᵀw + ½ yy + l1 ‖w‖₁ + ½ l2 ‖w‖²        (Q = XᵀX, q = Xᵀy, yy = yᵀy)

is solved by cyclic (or random) coordinate descent keeping ``Qw = Q @ w`` up to date: the update of
coordinate j needs only ``q[j] − Qw[j] + w[j] Q[j, j]`` (O(1)), and a coefficient that changes costs
one pass over row j of Q (O(D)) — Friedman, Hastie & Tibshirani (2010)'s covariance updates. A
coordinate whose soft-threshold lands at zero stays exactly 0.0.

Convergence is decided as scikit-learn does: after an epoch whose largest coefficient change is at
most ``tol`` times the largest coefficient, the duality gap (formulation A, the dual point rescaled
to feasibility) is computed in O(D) from ``Qw``, and the fit stops once gap <= tol · yy.

Working set: the epochs sweep only the coordinates flagged in ``working`` (plus every non-zero
one). When the sweeps have settled, every other coordinate is checked against its KKT condition
(|q_j − Qw_j| <= l1 at w_j = 0) and the violators join; only a clean check lets the gap decide.
With ``working`` all ones this is the plain algorithm. The caller fills ``working`` from the
strong rules of Tibshirani et al. (2012).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

__all__ = ["enet_gram_cd", "enet_gram_gap", "xorshift32"]

_MASK32 = 0xFFFFFFFF


@jit
def xorshift32(state):
    """Marsaglia's xorshift32 step on a state in [1, 2³²): the next state (also the draw)."""
    state ^= (state << 13) & _MASK32
    state ^= state >> 17
    state ^= (state << 5) & _MASK32
    return state


@jit
def enet_gram_gap(Q, q, yy, w, Qw, l1, l2, positive):
    """Duality gap of the elastic net at ``w``, in the unnormalised scale of the module docstring.

    Parameters
    ----------
    Q : ndarray of shape (n_features, n_features)
    q : ndarray of shape (n_features,)
    yy : float
    w, Qw : ndarray of shape (n_features,)
        ``Qw`` must equal ``Q @ w``.
    l1, l2 : float
        The L1 and L2 penalties (>= 0).
    positive : bool

    Returns
    -------
    gap : float
        Formulation A when l1 > 0; with l1 = 0 and l2 > 0 the ridge gap (formulation B); with
        both zero the squared norm of the gradient Xᵀr (no dual gap exists for least squares).
    """
    d = w.shape[0]
    wl2 = 0.0
    qw = 0.0
    wqw = 0.0
    wl1 = 0.0
    for j in range(d):
        wl2 += w[j] * w[j]
        qw += q[j] * w[j]
        wqw += w[j] * Qw[j]
        wl1 += abs(w[j])
    r2 = yy + wqw - 2.0 * qw  # ‖y − Xw‖²
    ry = yy - qw  # (y − Xw)ᵀy
    if l1 == 0.0:
        g2 = 0.0
        for j in range(d):
            g = q[j] - Qw[j]
            g2 += g * g
        if l2 == 0.0:
            return g2
        return r2 + 0.5 * l2 * wl2 - ry + g2 / (2.0 * l2)
    dual_norm = 0.0
    for j in range(d):
        g = q[j] - Qw[j] - l2 * w[j]
        if not positive:
            g = abs(g)
        if g > dual_norm:
            dual_norm = g
    scale = l1 / dual_norm if dual_norm > l1 else 1.0
    primal = 0.5 * (r2 + l2 * wl2) + l1 * wl1
    dual = -0.5 * scale * scale * (r2 + l2 * wl2) + scale * ry
    return primal - dual


@jit
def _sweep(Q, q, w, Qw, l1, l2, positive, idx, n_ws, random, state):
    """One epoch over the working list ``idx[:n_ws]`` (n_ws draws when random).

    Returns ``(w_max, dw_max, state)``. The O(D) update of ``Qw`` runs only for a coordinate that
    moved; the inner loop over a row of Q is what vectorises (contiguous, fast-math).
    """
    d = Q.shape[0]
    w_max = 0.0
    dw_max = 0.0
    for f in range(n_ws):
        if random:
            state = xorshift32(state)
            j = idx[state % n_ws]
        else:
            j = idx[f]
        qjj = Q[j, j]
        wj = w[j]
        tmp = q[j] - Qw[j] + wj * qjj
        if positive and tmp < 0.0:
            new = 0.0
        elif tmp > l1:
            new = (tmp - l1) / (qjj + l2)
        elif tmp < -l1:
            new = (tmp + l1) / (qjj + l2)
        else:
            new = 0.0
        if new != wj:
            delta = new - wj
            w[j] = new
            for k in range(d):
                Qw[k] += delta * Q[j, k]
            if abs(delta) > dw_max:
                dw_max = abs(delta)
        if abs(new) > w_max:
            w_max = abs(new)
    return w_max, dw_max, state


@jit
def _kkt_add(Q, q, Qw, l1, positive, working, idx, n_ws):
    """Add to the working list every zero coordinate outside it that violates its KKT condition.

    Returns the new list length.
    """
    d = Q.shape[0]
    for j in range(d):
        if working[j] or Q[j, j] <= 0.0:
            continue
        g = q[j] - Qw[j]  # w_j = 0 outside the working set
        if g > l1 or (not positive and -g > l1):
            working[j] = 1
            idx[n_ws] = j
            n_ws += 1
    return n_ws


@jit
def enet_gram_cd(Q, q, yy, w, Qw, l1, l2, max_iter, tol, positive, random, state, working):
    """Minimise the elastic net of the module docstring by coordinate descent, in place.

    Parameters
    ----------
    Q : ndarray of shape (n_features, n_features)
        Symmetric positive semi-definite, C-contiguous float64.
    q : ndarray of shape (n_features,)
    yy : float
    w : ndarray of shape (n_features,)
        Start (warm start), overwritten with the solution.
    Qw : ndarray of shape (n_features,)
        ``Q @ w`` on entry, kept equal to it.
    l1, l2 : float
        L1 and L2 penalties in the unnormalised scale (alpha · l1_ratio · n_w, ...).
    max_iter : int
        Maximum number of epochs.
    tol : float
        Relative: epochs stop at gap <= tol · yy (scikit-learn's rule).
    positive, random : bool
        Non-negative coefficients; random coordinate order (n_ws draws per epoch).
    state : int
        xorshift32 state in [1, 2³²) for ``random``.
    working : ndarray of uint8, shape (n_features,)
        Initial working set (1 = swept); updated in place with the coordinates that joined.

    Returns
    -------
    gap : float
        Final duality gap (unnormalised).
    n_iter : int
        Epochs run (0 when the start already satisfies the tolerance).
    state : int
        The random state after the fit (continue a path with it).
    """
    d = Q.shape[0]
    tol_abs = tol * yy
    idx = np.empty(d, dtype=np.int64)
    n_ws = 0
    for j in range(d):
        if Q[j, j] <= 0.0:  # a constant column: its coefficient is 0
            if w[j] != 0.0:
                for k in range(d):
                    Qw[k] -= w[j] * Q[j, k]
                w[j] = 0.0
            working[j] = 0
            continue
        if working[j] or w[j] != 0.0:
            working[j] = 1
            idx[n_ws] = j
            n_ws += 1
    gap = enet_gram_gap(Q, q, yy, w, Qw, l1, l2, positive)
    if 0.0 <= gap <= tol_abs:
        return gap, 0, state
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        w_max, dw_max, state = _sweep(Q, q, w, Qw, l1, l2, positive, idx, n_ws, random, state)
        if w_max == 0.0 or dw_max <= tol * w_max or it == max_iter - 1:
            grown = _kkt_add(Q, q, Qw, l1, positive, working, idx, n_ws)
            if grown > n_ws and it < max_iter - 1:
                n_ws = grown
                continue
            n_ws = grown
            gap = enet_gram_gap(Q, q, yy, w, Qw, l1, l2, positive)
            if gap <= tol_abs:
                break
    return gap, n_iter, state
