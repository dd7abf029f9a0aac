"""Slow, obvious twins of the closed-form path: explicit copies, explicit centring, np.linalg.solve."""

from __future__ import annotations

import numpy as np


def naive_stats(X, Y, w=None, center=True):
    """Centred weighted statistics by copying and centring X explicitly (float64)."""
    X = np.array(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64).reshape(X.shape[0], -1)
    w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    if center:
        xm = (w @ X) / w.sum()
        ym = (w @ Y) / w.sum()
    else:
        xm = np.zeros(X.shape[1])
        ym = np.zeros(Y.shape[1])
    Xc = X - xm
    Yc = Y - ym
    xtx = Xc.T @ (Xc * w[:, None])
    xty = Xc.T @ (Yc * w[:, None])
    yty = (Yc * Yc * w[:, None]).sum(axis=0)
    return xm, ym, xtx, xty, yty


def naive_ridge(X, y, alpha=0.0, w=None, fit_intercept=True):
    """(coef (T, D) or (D,), intercept) of weighted ridge by np.linalg.solve on the centred copy."""
    y = np.asarray(y, dtype=np.float64)
    Y = y.reshape(len(y), -1)
    xm, ym, xtx, xty, _ = naive_stats(X, Y, w, center=fit_intercept)
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (Y.shape[1],))
    W = np.column_stack([np.linalg.solve(xtx + a * np.eye(len(xtx)), xty[:, t]) for t, a in enumerate(alphas)])
    b = ym - xm @ W
    if y.ndim == 1:
        return W[:, 0], float(b[0])
    return W.T, b


def naive_min_norm_predictions(X, y, fit_intercept=True):
    """Predictions of the minimum-norm least-squares fit from np.linalg.lstsq on [X, 1]."""
    X = np.asarray(X, dtype=np.float64)
    A = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return A @ sol
