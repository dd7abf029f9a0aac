"""The statistics of logistic regression: labels in one pass, then loss and gradient sums per piece.

* :func:`label_pass`: a piece's weighted label counts (and, for a regression-free check, nothing
  else: X is not read);
* :func:`logistic_piece`: the per-piece set-up every later pass reuses (class codes, weights
  ``sample_weight × class_weight``, the kernels' view of X, the kernel's scratch);
* :func:`logistic_sums`: Σ wᵢ lᵢ and Σ wᵢ ∂lᵢ of a prepared piece at (coef, intercept), from the fused
  kernel :func:`fastlin.kernels.logistic.logistic_loss_grad` (unscaled, unpenalised: the solver
  adds the mean form and the penalty, once, for every source); :func:`add_sums` combines them.
  Small pieces, and any piece under a one-thread limit (:mod:`fastlin._threads`), run the serial
  compilation of the same kernel (:func:`runs_parallel`): same bits, no parallel region.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .._threads import kernel_threads, numba_threads
from ..data.labels import encode_with, label_summary
from ..data.layout import kernel_X
from ..kernels.logistic import logistic_loss_grad, logistic_loss_grad_serial, n_chunks_for

__all__ = ["LogisticPiece", "label_pass", "logistic_piece", "logistic_sums", "add_sums",
           "runs_parallel", "PARALLEL_MIN_WORK"]

#: Smallest piece (rows x outputs x features; stored entries x outputs for CSR) given to the
#: parallel kernel. A parallel region whose worker thread is descheduled waits for it: measured
#: 8-27 ms per region on a 2-core Xeon with other processes running, against a serial pass of
#: about 1 ns per unit of work (1M units: 0.7-1.1 ms). Full fits there, serial against parallel:
#: 8192 x 16 binary 12 ms vs 293 ms, 32768 x 64 x 5 classes 53 ms vs 192 ms, 131072 x 64 binary
#: 0.38 s vs 0.59 s. From 2**24 units (a ~17 ms serial pass) one stall costs at most about one
#: pass; below, it can cost ten passes or more. 200 000 x 100 binary (2e7) stays parallel.
PARALLEL_MIN_WORK = 1 << 24

#: Numba's "workqueue" threading layer aborts the process when two Python threads launch a
#: parallel kernel at once (e.g. a threaded grid search); the parallel fused kernel is therefore
#: entered by one thread at a time. It uses every core itself, so little is lost. The serial
#: variant needs no lock: it opens no parallel region.
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
    args = (prep.X, prep.codes, prep.weights, coef, intercept, 0.0, 1.0, prep.work, grad)
    threads = runs_parallel(prep, K)
    if threads:
        with _PARALLEL_KERNEL_LOCK, numba_threads(threads):
            loss = logistic_loss_grad(*args)
    else:
        loss = logistic_loss_grad_serial(*args)
    return float(loss), grad


def runs_parallel(prep, n_outputs):
    """The thread count for the parallel kernel on ``prep``, or 0 to run the serial one.

    Serial when the piece has a single chunk (nothing to share), when its work (rows x outputs x
    features; stored entries x outputs for CSR) is below :data:`PARALLEL_MIN_WORK`, or when
    :func:`fastlin._threads.kernel_threads` allows one thread. Either way the result is the same
    to the bit (fixed chunks, fixed-order reduction).
    """
    if prep.work.shape[0] < 2:
        return 0
    X = prep.X
    entries = X[0].shape[0] if isinstance(X, tuple) else X.shape[0] * X.shape[1]
    if entries * n_outputs < PARALLEL_MIN_WORK:
        return 0
    threads = kernel_threads()
    return threads if threads > 1 else 0


def add_sums(*parts):
    """Sum several :func:`logistic_sums` results."""
    loss = sum(p[0] for p in parts)
    grad = parts[0][1].copy()
    for p in parts[1:]:
        grad += p[1]
    return loss, grad
