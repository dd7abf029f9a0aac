"""Slow NumPy twin of the mini-batch / full-batch epochs (``fastlin.kernels.minibatch``).

No tricks: one explicit weight vector (no scale factor), the gradient of a batch formed as an
explicit vector, the L1 proximal step applied to every weight at every step, and the average updated
explicitly. Losses come from the textbook twins of ``naive_sgd``. Fed the same visiting order, twin
and kernel agree to 1e-10.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from naive_sgd import naive_dloss, naive_loss


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def naive_minibatch_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss, penalty,
                          schedule, alpha, l1_ratio, eta0, power_t, epsilon, fit_intercept,
                          average_start, batch_size, opt_init=0.0):
    """One epoch of proximal mini-batch SGD (``batch_size=None``: one full-batch GD step).

    ``state = [b, avg_b, u, t]`` with ``t`` counting steps. Returns ``(sumloss, n_updates, n_clipped)``.
    """
    Xd = _dense(X)
    b, avg_b, _, t = (float(v) for v in state)
    order = np.asarray(order)
    bs = len(order) if batch_size is None else batch_size
    sumloss, n_updates, n_clipped = 0.0, 0, 0
    for start in range(0, len(order), bs):
        batch = order[start:start + bs]
        if schedule == "optimal":
            eta = 1.0 / (alpha * (opt_init + t - 1.0))
        elif schedule == "invscaling":
            eta = eta0 / t**power_t
        else:
            eta = eta0
        grad = np.zeros_like(w)
        grad_b = 0.0
        for i in batch:
            p = float(Xd[i] @ w) + b
            sumloss += sample_weight[i] * naive_loss(loss, p, y[i], epsilon)
            g = naive_dloss(loss, p, y[i], epsilon)
            n_clipped += not abs(g) < 1e12
            d = min(max(g, -1e12), 1e12) * sample_weight[i]
            grad += d * Xd[i]
            grad_b += d
            n_updates += d != 0.0
        m = len(batch)
        if penalty in ("l2", "elasticnet"):
            w *= max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        w -= eta * grad / m
        if fit_intercept:
            b -= eta * grad_b / m
        if penalty in ("l1", "elasticnet"):
            lam = l1_ratio * eta * alpha
            w[:] = np.sign(w) * np.maximum(np.abs(w) - lam, 0.0)
        if average_start > 0 and t >= average_start:
            n = t - average_start + 1.0
            if n <= 1.0:
                avg_w[:] = w
                avg_b = b
            else:
                avg_w += (w - avg_w) / n
                avg_b += (b - avg_b) / n
        t += 1.0
    l1_q[:] = 0.0
    state[:] = (b, avg_b, 0.0, t)
    return sumloss, n_updates, n_clipped
