"""Slow, plain NumPy twins of the per-sample SGD epoch (``fastlin.kernels.sgd.sgd_epoch``).

Written for clarity, not speed, and without the kernel's tricks: the weights are one explicit
vector (no scale factor), the average is updated explicitly over all features after every sample,
and the losses are re-derived here from their textbook definitions. Fed the same visiting order,
the twin and the kernel must agree to 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from fastlin._registry import LOSSES, PENALTIES, SCHEDULES


def naive_loss(name, p, y, eps):
    """Loss ``name`` at prediction ``p``, target ``y`` (textbook definitions)."""
    r = p - y
    z = p * y
    if name == "squared_error":
        return 0.5 * r * r
    if name == "absolute_error":
        return abs(r)
    if name == "huber":
        return 0.5 * r * r if abs(r) <= eps else eps * abs(r) - 0.5 * eps * eps
    if name == "epsilon_insensitive":
        return max(0.0, abs(r) - eps)
    if name == "squared_epsilon_insensitive":
        return max(0.0, abs(r) - eps) ** 2
    if name == "hinge":
        return max(0.0, 1.0 - z)
    if name == "log_loss":
        # log(1 + e^-z), computed stably on both sides
        return math.log1p(math.exp(-z)) if z > 0 else -z + math.log1p(math.exp(z))
    if name == "squared_hinge":
        return max(0.0, 1.0 - z) ** 2
    if name == "modified_huber":
        if z >= 1.0:
            return 0.0
        return (1.0 - z) ** 2 if z >= -1.0 else -4.0 * z
    if name == "perceptron":
        return max(0.0, -z)
    raise KeyError(name)


def naive_dloss(name, p, y, eps):
    """Derivative of ``naive_loss`` with respect to ``p`` (the subgradient the kernels use at kinks)."""
    r = p - y
    z = p * y
    if name == "squared_error":
        return r
    if name == "absolute_error":
        return float(np.sign(r))
    if name == "huber":
        return r if abs(r) <= eps else eps * float(np.sign(r))
    if name == "epsilon_insensitive":
        if r > eps:
            return 1.0
        return -1.0 if r < -eps else 0.0
    if name == "squared_epsilon_insensitive":
        if r > eps:
            return 2.0 * (r - eps)
        return 2.0 * (r + eps) if r < -eps else 0.0
    if name == "hinge":
        return -y if z <= 1.0 else 0.0
    if name == "log_loss":
        # d/dp log(1 + e^{-yp}) = -y sigmoid(-yp)
        s = 1.0 / (1.0 + math.exp(z)) if z > -700 else 1.0
        return -y * s
    if name == "squared_hinge":
        return -2.0 * y * (1.0 - z) if z < 1.0 else 0.0
    if name == "modified_huber":
        if z >= 1.0:
            return 0.0
        return -2.0 * y * (1.0 - z) if z >= -1.0 else -4.0 * y
    if name == "perceptron":
        return -y if z <= 0.0 else 0.0
    raise KeyError(name)


def _rows(X):
    """Yield function i -> (feature indices, values) for dense or CSR X."""
    if sp.issparse(X):
        X = X.tocsr()

        def row(i):
            s, e = X.indptr[i], X.indptr[i + 1]
            return X.indices[s:e], np.asarray(X.data[s:e], dtype=np.float64)

        return row
    Xd = np.asarray(X, dtype=np.float64)

    def row(i):
        nz = np.flatnonzero(Xd[i] != 0.0)
        return nz, Xd[i, nz]

    return row


def naive_pa_update(schedule, loss, p, y, eps, C, vals):
    """Passive-aggressive update (Crammer et al. 2006, scikit-learn's form): tau along x.

    PA-I ``tau = min(C, loss / ||x||^2)`` (no step when x = 0), PA-II
    ``tau = loss / (||x||^2 + 1 / (2 C))``; signed by y for hinge, else by y - p.
    """
    sq = float(np.sum(vals * vals))
    lv = naive_loss(loss, p, y, eps)
    if schedule == "pa1":
        tau = 0.0 if sq == 0.0 else min(C, lv / sq)
    else:
        tau = lv / (sq + 1.0 / (2.0 * C))
    if loss == "hinge":
        return tau * y
    return tau if y - p >= 0.0 else -tau


def naive_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss, penalty, schedule,
                alpha, l1_ratio, eta0, power_t, epsilon, fit_intercept, average_start,
                opt_init=0.0):
    """One epoch of per-sample SGD, updating ``w, avg_w, l1_q, state`` in place.

    Same conventions as :func:`fastlin.kernels.sgd.sgd_epoch` (``state = [b, avg_b, u, t]``, names
    instead of codes, ``l1_ratio`` as the kernel receives it). Returns ``(sumloss, n_updates)``.
    """
    assert loss in LOSSES and penalty in PENALTIES and schedule in SCHEDULES
    row = _rows(X)
    b, avg_b, u, t = (float(v) for v in state)
    sumloss, n_updates = 0.0, 0
    for i in order:
        if schedule == "optimal":
            eta = 1.0 / (alpha * (opt_init + t - 1.0))
        elif schedule == "invscaling":
            eta = eta0 / t**power_t
        else:
            eta = eta0
        idx, vals = row(i)
        p = float(np.dot(w[idx], vals)) + b
        sumloss += sample_weight[i] * naive_loss(loss, p, y[i], epsilon)
        g = min(max(naive_dloss(loss, p, y[i], epsilon), -1e12), 1e12)
        update = -eta * g * sample_weight[i]
        if schedule in ("pa1", "pa2"):
            tau = naive_pa_update(schedule, loss, p, y[i], epsilon, eta0, vals)
            update = tau * sample_weight[i]
        if penalty in ("l2", "elasticnet"):
            w *= max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
        if update != 0.0:
            w[idx] += update * vals
            if fit_intercept:
                b += update
            n_updates += 1
        if penalty in ("l1", "elasticnet"):
            # Tsuruoka et al. (2009), on the sample's non-zero features only
            u += l1_ratio * eta * alpha
            for j in idx:
                before = w[j]
                if before > 0:
                    w[j] = max(0.0, before - (u + l1_q[j]))
                elif before < 0:
                    w[j] = min(0.0, before + (u - l1_q[j]))
                l1_q[j] += w[j] - before
        if average_start > 0 and t >= average_start:
            n = t - average_start + 1.0
            if n <= 1.0:
                avg_w[:] = w
                avg_b = b
            else:
                avg_w += (w - avg_w) / n
                avg_b += (b - avg_b) / n
        t += 1.0
    state[:] = (b, avg_b, u, t)
    return sumloss, n_updates


def naive_perceptron_epoch(X, y, w, b, fit_intercept=True):
    """The lecture's perceptron: on a mistake (y a <= 0) ``w += y x, b += y``. Returns ``(w, b, mistakes)``."""
    X = np.asarray(X, dtype=np.float64)
    w = np.array(w, dtype=np.float64)
    mistakes = 0
    for xi, yi in zip(X, y):
        a = float(w @ xi) + b
        if yi * a <= 0:
            w += yi * xi
            if fit_intercept:
                b += yi
            mistakes += 1
    return w, b, mistakes
