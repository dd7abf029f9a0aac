"""Slow NumPy twin of :mod:`fastlin.kernels.newton`: the Hessian-vector product row by row.

Written from the formulas, not from the kernel: for each row the full K x K Hessian block of the
loss in the logits, ``sw_i (diag(p_i) - p_i p_i^T)`` (softmax) or ``sw_i p_i (1 - p_i)``
(sigmoid), times the direction's logit change ``V x_i + c``, then multiplied out by ``[x_i, 1]``.
It takes X as the user gives it (array or scipy sparse matrix).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hessp(X, sw, coef, intercept, V, c):
    """``sum_i sw_i (d^2 l_i / d(W, b)^2) [V, c]`` of the unscaled, unpenalised loss sum.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    sw : ndarray of shape (n_samples,)
    coef : ndarray of shape (K, n_features)
        K = 1: the binary (sigmoid) model; K >= 2: softmax.
    intercept : ndarray of shape (K,)
    V : ndarray of shape (K, n_features)
    c : ndarray of shape (K,)

    Returns
    -------
    hv : ndarray of shape (K, n_features + 1)
        In the coefficients, then (last column) in the intercepts.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    K, D = coef.shape
    out = np.zeros((K, D + 1))
    for i in range(X.shape[0]):
        x = np.append(X[i], 1.0)
        z = coef @ X[i] + intercept
        u = V @ X[i] + c
        if K == 1:
            p = 1.0 / (1.0 + np.exp(-z))
            block = np.diag(p * (1.0 - p))
        else:
            p = np.exp(z - z.max())
            p /= p.sum()
            block = np.diag(p) - np.outer(p, p)
        out += sw[i] * np.outer(block @ u, x)
    return out


def line(X, y, sw, coef, intercept, V, c, step):
    """The loss sum at ``(coef, intercept) + step (V, c)`` and its first two derivatives in step.

    From the formulas, by summing over rows the loss ``logsumexp(t) - t_y`` (K >= 2; K = 1: the
    binomial ``log(1 + e^t) - y t``) at the logits ``t = z + step u``, its slope ``(p - e_y) . u``
    and curvature ``u^T (diag p - p p^T) u``, with ``z = coef x + intercept``, ``u = V x + c``.

    Returns
    -------
    loss, d1, d2 : float
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    K = coef.shape[0]
    t = X @ coef.T + intercept + step * (X @ V.T + c)
    u = X @ V.T + c
    if K == 1:
        t, u = t[:, 0], u[:, 0]
        p = 1.0 / (1.0 + np.exp(-t))
        loss = np.logaddexp(0.0, t) - y * t
        return float(sw @ loss), float(sw @ ((p - y) * u)), float(sw @ (p * (1 - p) * u * u))
    yi = y.astype(int)
    p = np.exp(t - t.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    lse = np.log(np.exp(t - t.max(axis=1, keepdims=True)).sum(axis=1)) + t.max(axis=1)
    rows = np.arange(X.shape[0])
    pu = (p * u).sum(axis=1)
    return (float(sw @ (lse - t[rows, yi])), float(sw @ (pu - u[rows, yi])),
            float(sw @ ((p * u * u).sum(axis=1) - pu * pu)))
