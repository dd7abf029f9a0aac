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


def _rate(schedule, eta0, alpha, opt_init, power_t, t):
    if schedule == "optimal":
        return 1.0 / (alpha * (opt_init + t - 1.0))
    if schedule == "invscaling":
        return eta0 / t**power_t
    return eta0


def naive_d2loss(loss, p, y, epsilon):
    """Second derivative of the loss in ``p``, textbook formulas (0 for the piecewise-linear)."""
    r, z = p - y, p * y
    if loss == "squared_error":
        return 1.0
    if loss == "huber":
        return float(abs(r) <= epsilon)
    if loss == "squared_epsilon_insensitive":
        return 2.0 * (abs(r) > epsilon)
    if loss == "log_loss":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if loss == "squared_hinge":
        return 2.0 * (z < 1.0)
    if loss == "modified_huber":
        return 2.0 * (-1.0 <= z < 1.0)
    return 0.0


def naive_minibatch_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss, penalty,
                          schedule, alpha, l1_ratio, eta0, power_t, epsilon, fit_intercept,
                          average_start, batch_size, opt_init=0.0):
    """One epoch of proximal mini-batch SGD (``batch_size=None``: one full-batch GD step).

    ``state = [b, avg_b, u, t]`` with ``t`` counting samples. The step is ``eta0`` with a constant
    schedule; otherwise that of a batch of ``m`` rows is ``m`` times the rate at its middle sample (full batch: the gradient-noise-scale worth when the
    loss has no curvature on it), capped at 2 / (trace of the batch's Hessian); the prox is the
    soft-threshold then the division by ``1 + eta alpha (1 - l1_ratio)``; the average is over
    samples. Returns ``(sumloss, n_updates, n_clipped)``.
    """
    Xd = _dense(X)
    b, avg_b, _, t = (float(v) for v in state)
    order = np.asarray(order)
    bs = len(order) if batch_size is None else batch_size
    ones = 1.0 if fit_intercept else 0.0
    sumloss, n_updates, n_clipped = 0.0, 0, 0
    for start in range(0, len(order), bs):
        batch = order[start:start + bs]
        m = len(batch)
        grad = np.zeros_like(w)
        grad_b, curv, gsq = 0.0, 0.0, 0.0
        for i in batch:
            p = float(Xd[i] @ w) + b
            sumloss += sample_weight[i] * naive_loss(loss, p, y[i], epsilon)
            g = naive_dloss(loss, p, y[i], epsilon)
            n_clipped += not abs(g) < 1e12
            d = min(max(g, -1e12), 1e12) * sample_weight[i]
            grad += d * Xd[i]
            grad_b += d
            n_updates += d != 0.0
            sqn = float(Xd[i] @ Xd[i]) + ones
            curv += sample_weight[i] * naive_d2loss(loss, p, y[i], epsilon) * sqn
            gsq += d * d * sqn
        worth = float(m)
        mean_grad_sq = (float(grad @ grad) + ones * grad_b**2) / m**2
        if batch_size is None and curv == 0.0 and mean_grad_sq > 0.0:
            noise = max(gsq / m - mean_grad_sq, 0.0) / mean_grad_sq  # McCandlish et al. 2018
            worth = m * (1.0 + noise) / (m + noise)
        if schedule in ("constant", "adaptive"):
            eta = eta0  # the user's step of an update
        else:
            eta = worth * _rate(schedule, eta0, alpha, opt_init, power_t, t + (m - 1) / 2)
            if curv > 0.0:
                eta = min(eta, 2.0 * m / curv)
        w -= eta * grad / m
        if fit_intercept:
            b -= eta * grad_b / m
        if penalty in ("l1", "elasticnet"):
            lam = l1_ratio * eta * alpha
            w[:] = np.sign(w) * np.maximum(np.abs(w) - lam, 0.0)
        if penalty in ("l2", "elasticnet"):
            w /= 1.0 + (1.0 - l1_ratio) * eta * alpha
        n_avg = t + m - average_start
        if average_start > 0 and n_avg >= 1.0:
            mu = min(m, n_avg) / n_avg
            avg_w[:] = w if mu >= 1.0 else avg_w + mu * (w - avg_w)
            avg_b = b if mu >= 1.0 else avg_b + mu * (b - avg_b)
        t += m
    l1_q[:] = 0.0
    state[:] = (b, avg_b, 0.0, t)
    return sumloss, n_updates, n_clipped
