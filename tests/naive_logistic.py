"""Slow NumPy twin of :mod:`fastlin.kernels.logistic`: one Python loop over the rows.

Written from the formulas, not from the kernel: the logits row by row, ``np.logaddexp`` for the
binary loss, a max-shifted logsumexp for the softmax, and the gradient as
``sum_i sw_i (p_i - e_yi) x_i``. It takes X as the user gives it (array or scipy sparse matrix); the
kernel takes :func:`fastlin.data.kernel_X` of it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def logistic_objective(X, y_code, sw, coef, intercept, l2, scale):
    """Objective ``scale * sum_i sw_i l_i + l2/2 ||coef||^2`` and its gradient.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y_code : ndarray of shape (n_samples,)
        0/1 when ``coef`` has one row (binary), 0..K-1 otherwise.
    sw : ndarray of shape (n_samples,)
    coef : ndarray of shape (K, n_features)
    intercept : ndarray of shape (K,)
    l2, scale : float

    Returns
    -------
    f : float
    grad_coef : ndarray of shape (K, n_features)
    grad_intercept : ndarray of shape (K,)
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    K, D = coef.shape
    total = 0.0
    g_coef = np.zeros((K, D))
    g_b = np.zeros(K)
    for i in range(X.shape[0]):
        x = X[i].astype(np.float64)
        z = coef @ x + intercept
        yi = int(y_code[i])
        if K == 1:
            li = np.logaddexp(0.0, z[0]) - yi * z[0]
            r = np.array([1.0 / (1.0 + np.exp(-z[0])) - yi])
        else:
            m = z.max()
            lse = m + np.log(np.sum(np.exp(z - m)))
            li = lse - z[yi]
            r = np.exp(z - lse)
            r[yi] -= 1.0
        total += sw[i] * li
        g_coef += sw[i] * np.outer(r, x)
        g_b += sw[i] * r
    f = scale * total + 0.5 * l2 * np.sum(coef * coef)
    return f, scale * g_coef + l2 * coef, scale * g_b


def sklearn_objective(X, y_code, sw, coef, intercept, C, penalty="l2"):
    """scikit-learn's LogisticRegression objective in mean form, ``1/S [sum sw l + R(W)/C]``."""
    S = float(np.sum(sw))
    f, _, _ = logistic_objective(X, y_code, sw, coef, intercept, 0.0, 1.0 / S)
    if penalty == "l2":
        f += 0.5 * np.sum(np.asarray(coef) ** 2) / (C * S)
    elif penalty == "l1":
        f += np.sum(np.abs(coef)) / (C * S)
    return f
