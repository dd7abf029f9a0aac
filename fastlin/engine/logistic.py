"""The statistics of logistic regression: labels in one pass, then loss and gradient sums per piece.

* :func:`label_pass`: a piece's weighted label counts (and, for a regression-free check, nothing
  else: X is not read);
* :func:`logistic_piece`: the per-piece set-up every later pass reuses (class codes, weights
  ``sample_weight × class_weight``, the kernels' view of X, the kernel's scratch);
* :func:`logistic_sums`: Σ wᵢ lᵢ and Σ wᵢ ∂lᵢ of a prepared piece at (coef, intercept), from the fused
  kernel :func:`fastlin.kernels.logistic.logistic_loss_grad` (unscaled, unpenalised: the solver
  adds the mean form and the penalty, once, for every source); :func:`add_sums` combines them.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from ..data.labels import encode_with, label_summary
from ..data.layout import kernel_X
from ..kernels.logistic import logistic_loss_grad, n_chunks_for

__all__ = ["LogisticPiece", "label_pass", "logistic_piece", "logistic_sums", "add_sums"]

#: Numba's default "workqueue" threading layer aborts the process when two Python threads launch a
#: parallel kernel at once (e.g. a threaded grid search); the fused kernel is therefore entered by
#: one thread at a time. It uses every core itself, so little is lost.
_PARALLEL_KERNEL_LOCK = threading.Lock()


class LogisticPiece(NamedTuple):
    """A piece ready for the fused kernel (see :func:`logistic_piece`)."""

    X: object
    codes: np.ndarray
    weights: np.ndarray
    work: np.ndarray
    piece: object


def label_pass(piece):
    """``{label: weighted count}`` of one piece (None for an empty piece)."""
    if piece.y.shape[0] == 0:
        return None
    return label_summary(piece.y, piece.sample_weight)


def logistic_piece(piece, classes, class_weight, n_outputs):
    """Class codes (float64), weights ``sample_weight × class_weight[code]`` and the kernel's view."""
    codes = encode_with(piece.y, classes)
    w = class_weight[codes]
    if piece.sample_weight is not None:
        w = piece.sample_weight * w
    m, d = piece.X.shape
    work = np.empty((n_chunks_for(m, n_outputs, d), n_outputs, d + 1))
    return LogisticPiece(kernel_X(piece.X), codes.astype(np.float64),
                         np.ascontiguousarray(w, dtype=np.float64), work, piece)


def logistic_sums(prep, coef, intercept):
    """``(Σ wᵢ lᵢ, Σ wᵢ ∂lᵢ)`` of one prepared piece; the gradient's last column is the intercepts'.

    Parameters
    ----------
    prep : LogisticPiece
    coef : ndarray of shape (K, n_features), float64, C order
    intercept : ndarray of shape (K,), float64

    Returns
    -------
    loss : float
    grad : ndarray of shape (K, n_features + 1)
    """
    K, D = coef.shape
    grad = np.empty((K, D + 1))
    if prep.codes.shape[0] == 0:
        grad[:] = 0.0
        return 0.0, grad
    with _PARALLEL_KERNEL_LOCK:
        loss = logistic_loss_grad(prep.X, prep.codes, prep.weights, coef, intercept, 0.0, 1.0,
                                  prep.work, grad)
    return float(loss), grad


def add_sums(*parts):
    """Sum several :func:`logistic_sums` results."""
    loss = sum(p[0] for p in parts)
    grad = parts[0][1].copy()
    for p in parts[1:]:
        grad += p[1]
    return loss, grad
