"""Slow NumPy twin of :mod:`fastlin.kernels.cd`, written from the algorithm, not the kernel.

Same contract as ``enet_gram_cd`` (in-place ``w``, ``Qw``, ``working``; returns gap, n_iter,
state), with whole-vector NumPy expressions where the kernel loops, and the primal/dual objectives
written out explicitly for the gap. Used by tests/test_coordinate.py to match the kernel to 1e-10.
"""

from __future__ import annotations

import numpy as np

MASK32 = 0xFFFFFFFF


def xorshift32(state):
    state ^= (state << 13) & MASK32
    state ^= state >> 17
    state ^= (state << 5) & MASK32
    return state


def gap(Q, q, yy, w, l1, l2, positive):
    """Duality gap from Q, q, yy (formulation A; ridge B; least-squares gradient norm)."""
    r2 = yy - 2 * q @ w + w @ Q @ w
    ry = yy - q @ w
    grad = q - Q @ w
    if l1 == 0:
        if l2 == 0:
            return float(grad @ grad)
        return float(r2 + 0.5 * l2 * w @ w - ry + grad @ grad / (2 * l2))
    xta = grad - l2 * w
    dual_norm = max(0.0, xta.max()) if positive else np.abs(xta).max()
    scale = min(1.0, l1 / dual_norm) if dual_norm > 0 else 1.0
    primal = 0.5 * (r2 + l2 * w @ w) + l1 * np.abs(w).sum()
    dual = -0.5 * scale**2 * (r2 + l2 * w @ w) + scale * ry
    return float(primal - dual)


def soft(tmp, l1, denom, positive):
    if positive and tmp < 0:
        return 0.0
    return float(np.sign(tmp) * max(abs(tmp) - l1, 0.0) / denom)


def enet_gram_cd(Q, q, yy, w, Qw, l1, l2, max_iter, tol, positive, random, state, working):
    d = Q.shape[0]
    diag = np.diag(Q)
    dead = diag <= 0
    w[dead] = 0.0
    working[dead] = 0
    working[(w != 0) & ~dead] = 1
    Qw[:] = Q @ w
    ws = [j for j in range(d) if working[j]]
    g = gap(Q, q, yy, w, l1, l2, positive)
    if 0 <= g <= tol * yy:
        return g, 0, state
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        w_max = dw_max = 0.0
        for f in range(len(ws)):
            if random:
                state = xorshift32(state)
                j = ws[state % len(ws)]
            else:
                j = ws[f]
            old = w[j]
            w[j] = soft(q[j] - Qw[j] + old * diag[j], l1, diag[j] + l2, positive)
            if w[j] != old:
                Qw += (w[j] - old) * Q[j]
                dw_max = max(dw_max, abs(w[j] - old))
            w_max = max(w_max, abs(w[j]))
        if w_max == 0 or dw_max <= tol * w_max or it == max_iter - 1:
            grad = q - Qw
            viol = (grad > l1) if positive else (np.abs(grad) > l1)
            new = [j for j in range(d) if not working[j] and not dead[j] and viol[j]]
            for j in new:
                working[j] = 1
            ws += new
            if new and it < max_iter - 1:
                continue
            g = gap(Q, q, yy, w, l1, l2, positive)
            if g <= tol * yy:
                break
    return g, n_iter, state
