"""Slow NumPy twin of :mod:`fastlin.kernels.saga`: SAGA written from its formulas, step by step.

Every step updates every weight (no deferred steps), the proximal map of
``mu/2 ||W||^2 + lam ||W||_1`` is applied to the whole of W, and the loss gradients come from
``np.logaddexp`` / a max-shifted softmax, so a parity test checks the kernel's just-in-time
updates (closed forms, phases of the L1 map) and its CSR/dense accessors against plain algebra.
It takes X as the user gives it (array or scipy sparse matrix).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _scalars(z, y, u):
    """``u (p - e_y)`` and ``u l`` for one row's logits ``z`` (shape (K,))."""
    if z.shape[0] == 1:
        p = 1.0 / (1.0 + np.exp(-z[0]))
        return u * (np.array([p]) - y), u * (np.logaddexp(0.0, z[0]) - y * z[0])
    e = np.exp(z - z.max())
    p = e / e.sum()
    onehot = np.zeros_like(z)
    onehot[int(y)] = 1.0
    return u * (p - onehot), u * (z.max() + np.log(e.sum()) - z[int(y)])


def saga_init(X, codes, u, W, b):
    """``(memory, gbar, mean loss)`` at ``(W, b)``: the table of per-row gradient scalars."""
    X = _dense(X)
    n, D = X.shape
    memory = np.zeros((n, W.shape[0]))
    gbar = np.zeros((W.shape[0], D + 1))
    loss = 0.0
    for i in range(n):
        a, li = _scalars(W @ X[i] + b, codes[i], u[i])
        memory[i] = a
        gbar += np.outer(a, np.append(X[i], 1.0)) / n
        loss += li
    return memory, gbar, loss / n


def prox(W, gamma, mu, lam):
    """Proximal map of ``gamma (mu/2 |W|^2 + lam |W|_1)``: soft-threshold, then shrink."""
    return np.sign(W) * np.maximum(np.abs(W) - gamma * lam, 0.0) / (1.0 + gamma * mu)


def saga_epoch(X, codes, u, order, batch, W, b, memory, gbar, gamma, mu, lam, fit_intercept,
               rscale, gamma_b=None):
    """One epoch, in place on ``W, b, memory, gbar`` (the kernel's conventions; the intercepts
    step by ``gamma_b``, default ``gamma``)."""
    gamma_b = gamma if gamma_b is None else gamma_b
    X = _dense(X)
    n, D = X.shape
    for lo in range(0, n, batch):
        rows = order[lo:lo + batch]
        diffs = []
        for i in rows:  # every gradient of the step at the same (W, b)
            a, _ = _scalars(W @ X[i] + b, codes[i], u[i])
            diffs.append((i, a - memory[i]))
            memory[i] = a
        v = sum(np.outer(d * rscale[i], np.append(X[i], 1.0)) for i, d in diffs) / len(rows)
        v = v + gbar
        W[:] = prox(W - gamma * v[:, :D], gamma, mu, lam)
        if fit_intercept:
            b -= gamma_b * v[:, D]
        for i, d in diffs:
            gbar += np.outer(d, np.append(X[i], 1.0)) / n
    return (n + batch - 1) // batch


def lagged(w, c, t, a, m):
    """``m`` applications of ``w <- a * soft(w - c, t)``, one by one."""
    for _ in range(m):
        z = w - c
        w = a * np.sign(z) * max(abs(z) - t, 0.0)
    return w
