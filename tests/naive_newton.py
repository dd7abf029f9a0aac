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
