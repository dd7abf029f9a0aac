"""The statistics of logistic regression: labels in one pass, then loss and gradient sums per piece.

* :func:`label_pass`: a piece's weighted label counts (and, for a regression-free check, nothing
  else: X is not read);
* :func:`logistic_piece`: the per-piece set-up every later pass reuses (class codes, weights
  ``sample_weight × class_weight``, the kernels' view of X, the kernel's scratch);
* :func:`logistic_sums`: Σ wᵢ lᵢ and Σ wᵢ ∂lᵢ of a prepared piece at (coef, intercept), from the fused
  kernel :func:`fastlin.kernels.logistic.logistic_loss_grad` (unscaled, unpenalised: the solver
  adds the mean form and the penalty, once, for every source); :func:`add_sums` combines them.
  Small pieces, and any piece under a one-thread limit (:mod:`fastlin._threads`), run the serial
  compilation of the same kernel (:func:`runs_parallel`): same bits, no parallel region;
* :func:`newton_state`, :func:`logistic_sums_curvature`, :func:`logistic_curvature_pass` and
  :func:`logistic_hessp_sums`: the sums of :func:`logistic_sums` that also keep the per-row
  curvature at the point, the choice of the point where the Hessian is taken, and the
  Hessian-vector products there, for the trust-region Newton solver
  (:mod:`fastlin.kernels.newton`), on the same prepared piece, with the same thread rule;
  :func:`logistic_step_moved`, :func:`logistic_step_scaled` and :func:`logistic_trial_sums`: the
  same sums at the solver's trial point from the logits its products have summed (no gather). The
  curvature is state kept between passes, so they serve in-memory pieces (one
  :class:`LogisticPiece` held by the estimator), not chunk or Dask sources.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .._threads import kernel_threads, numba_threads
from ..data.labels import encode_with, label_summary
from ..data.layout import kernel_X, l2_cache_bytes
from ..kernels.logistic import logistic_loss_grad, logistic_loss_grad_serial, n_chunks_for
from ..kernels.newton import (logistic_hessp, logistic_hessp_serial, logistic_line,
                              logistic_loss_grad_curv, logistic_loss_grad_curv_serial)

__all__ = ["LogisticPiece", "label_pass", "logistic_piece", "logistic_sums", "add_sums",
           "runs_parallel", "work_units", "PARALLEL_MIN_WORK", "NewtonState", "newton_state",
           "logistic_sums_curvature", "logistic_trial_sums", "logistic_step_moved",
           "logistic_step_scaled", "logistic_curvature_pass", "logistic_hessp_sums",
           "logistic_line_sums"]

#: Smallest piece, in units of work (:func:`work_units`), given to the parallel kernel. A parallel
#: region whose worker thread is descheduled waits for it: measured 8-27 ms per region on a 2-core
#: Xeon with other processes running, against a serial pass of about 1 ns per unit of work (1M
#: units: 0.7-1.1 ms). Full fits there, serial against parallel:
#: 8192 x 16 binary 12 ms vs 293 ms, 32768 x 64 x 5 classes 53 ms vs 192 ms, 131072 x 64 binary
#: 0.38 s vs 0.59 s. From 2**24 units (a ~17 ms serial pass) one stall costs at most about one
#: pass; below, it can cost ten passes or more. 200 000 x 100 binary (2e7) stays parallel.
PARALLEL_MIN_WORK = 1 << 24
#: Units of work of one stored CSR entry (dense: one entry is one unit): its column index, a gather
#: from the coefficients and a scatter into the gradient. Serial fused pass, 200 000 rows x 50
#: entries, 2-core Xeon: 1.2 ns an entry at 1 000 features and 1.4 at 16 384 (the coefficients in
#: L2), 2.7 at 2**17 and 6.6 at 2**20 (beyond it); dense 200 000 x 100 and 50 000 x 1 000: 0.7-0.8
#: ns. Before the weighting, CSR 200 000 x 2**17 x 50 (1e7 entries, a 27 ms serial pass) ran serial.
CSR_ENTRY_UNITS = 2
#: The same when the coefficients (8 bytes x features) exceed one core's L2 cache.
CSR_WIDE_ENTRY_UNITS = 4

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
    X = kernel_X(piece.X)
    work = np.empty((n_chunks_for(m, n_outputs, d, _entries(X)), n_outputs, d + 1))
    return LogisticPiece(X, codes.astype(np.float64),
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


class NewtonState:
    """What the passes of one Newton fit share (see :func:`newton_state`).

    The per-row curvature and logits at the point where the Hessian is taken (``curv``, ``z``,
    ``point``; ``fresh``: the curvature is still to be computed, by the next product in the same
    pass, and ``z`` is then unknown); the same at the last point where
    :func:`logistic_sums_curvature` ran (``trial_curv``, ``trial_z``, ``trial_point``); the last
    product's per-row logit change ``xv``; the per-row logit change ``xs`` of the solver's step
    from ``point``, summed from the products' ``xv`` (``tracking``: it is, see
    :func:`logistic_step_moved`). The passes' scratch is the piece's own ``work``.
    """

    def __init__(self, n, n_outputs):
        self.curv, self.trial_curv = np.empty((n, n_outputs)), np.empty((n, n_outputs))
        self.z, self.trial_z = np.empty((n, n_outputs)), np.empty((n, n_outputs))
        self.xv, self.xs = np.empty((n, n_outputs)), np.empty((n, n_outputs))
        self.point, self.fresh, self.trial_point, self.has_z = None, False, None, False
        self.tracking = False


def _entries(X):
    """Entries a pass reads: stored entries of CSR, n x d of dense."""
    return X[0].shape[0] if isinstance(X, tuple) else X.shape[0] * X.shape[1]


def work_units(X, n_outputs, n_features):
    """A pass's work: entries read x outputs, a CSR entry weighted by :data:`CSR_ENTRY_UNITS` (or
    :data:`CSR_WIDE_ENTRY_UNITS` when ``n_features`` coefficients do not fit in L2)."""
    if not isinstance(X, tuple):
        return _entries(X) * n_outputs
    wide = 8 * n_features > l2_cache_bytes()
    return _entries(X) * n_outputs * (CSR_WIDE_ENTRY_UNITS if wide else CSR_ENTRY_UNITS)


def _threads_for(prep, n_outputs):
    """Threads for a pass over ``prep``: 1 (the serial kernel) for a single chunk of its scratch
    or less than :data:`PARALLEL_MIN_WORK`, else :func:`fastlin._threads.kernel_threads`."""
    n_chunks, _, width = prep.work.shape
    if n_chunks < 2 or work_units(prep.X, n_outputs, width - 1) < PARALLEL_MIN_WORK:
        return 1
    return kernel_threads()


def newton_state(prep, n_outputs):
    """Per-row curvature storage for a prepared in-memory piece.

    Parameters
    ----------
    prep : LogisticPiece
    n_outputs : int
        K (1 for a binary problem).

    Returns
    -------
    NewtonState
        Six per-row arrays of shape (n_samples, K) (the passes use the piece's own scratch).
    """
    return NewtonState(prep.codes.shape[0], n_outputs)


def _run(parallel_kernel, serial_kernel, prep, n_outputs, args):
    """``serial_kernel(*args)``, or the parallel one under the lock (the rule of
    :func:`_threads_for`)."""
    threads = _threads_for(prep, n_outputs)
    if threads > 1:
        with _PARALLEL_KERNEL_LOCK, numba_threads(threads):
            return parallel_kernel(*args)
    return serial_kernel(*args)


def logistic_sums_curvature(prep, state, coef, intercept):
    """:func:`logistic_sums` by the Newton kernel, which also keeps the per-row curvature there.

    Same sums (to rounding: the chunks are the products', fewer than the fused pass's on wide
    X), same thread rule. The curvature and logits go to ``state.trial_curv`` and
    ``state.trial_z``; a following :func:`logistic_curvature_pass` at the same point adopts them
    instead of recomputing the curvature (CSR 200 000 x 2**17: the first product at a point
    took 50 ms computing it, 30 ms reading it).

    Parameters
    ----------
    prep : LogisticPiece
    state : NewtonState
    coef : ndarray of shape (K, n_features), float64, C order
    intercept : ndarray of shape (K,), float64

    Returns
    -------
    loss : float
    grad : ndarray of shape (K, n_features + 1)
    """
    return _sums_curvature(prep, state, coef, intercept, False)


def logistic_trial_sums(prep, state, coef, intercept):
    """:func:`logistic_sums_curvature` at the solver's trial point, from its known logits.

    ``(coef, intercept)`` must be the Hessian's point plus the solver's step, whose logit change
    ``state.xs`` the solver has reported move by move (:func:`logistic_step_moved`,
    :func:`logistic_step_scaled`). The logits there are then ``state.z + state.xs``, and the pass
    only scatters the gradient (CSR 200 000 x 2**17: 7.5 ms instead of 13.5 ms for a pass that
    also gathers ``X w``). Rounding in the logits accumulates from point to point, about one ulp
    per step of the solver's CG, far below the loss's own rounding.

    Returns
    -------
    (loss, grad) as :func:`logistic_sums_curvature`, or None
        None when the step's logits are not known (the Hessian's point has no known logits, or a
        move was not reported): the caller then runs :func:`logistic_sums_curvature`.
    """
    if not state.tracking:
        return None
    np.add(state.z, state.xs, out=state.trial_z)
    return _sums_curvature(prep, state, coef, intercept, True)


def _sums_curvature(prep, state, coef, intercept, known):
    """The two functions above (``known``: the logits are in ``state.trial_z``)."""
    K, D = coef.shape
    grad = np.zeros((K, D + 1))
    if prep.codes.shape[0] == 0:
        return 0.0, grad
    args = (prep.X, prep.codes, prep.weights, coef, intercept, known, prep.work, grad,
            state.trial_curv, state.trial_z)
    loss = _run(logistic_loss_grad_curv, logistic_loss_grad_curv_serial, prep, K, args)
    state.trial_point = (np.array(coef, dtype=np.float64), np.array(intercept, dtype=np.float64))
    return float(loss), grad


def logistic_step_moved(state, alpha):
    """The solver's step moved by ``alpha`` times the last product's direction (``state.xs +=
    alpha * state.xv``), or restarts from zero (``alpha`` None) at the Hessian's point.

    Tracking starts at a restart when the logits at the point are known (``state.has_z``).
    """
    if alpha is None:
        state.xs[:] = 0.0
        state.tracking = state.has_z
    elif state.tracking:
        state.xs += alpha * state.xv


def logistic_step_scaled(state, factor):
    """The solver's step was multiplied by ``factor`` (``state.xs *= factor``)."""
    if state.tracking:
        state.xs *= factor


def logistic_curvature_pass(prep, state, coef, intercept):
    """Take the Hessian at ``(coef, intercept)`` from now on.

    When :func:`logistic_sums_curvature` ran last at this very point (the solver's accepted
    trial point), its curvature is adopted (the buffers are swapped); otherwise the curvature is
    computed by the next :func:`logistic_hessp_sums`, in the same pass over X as its product.

    Parameters
    ----------
    prep : LogisticPiece
    state : NewtonState
    coef : ndarray of shape (K, n_features), float64, C order
    intercept : ndarray of shape (K,), float64
    """
    point = (np.array(coef, dtype=np.float64), np.array(intercept, dtype=np.float64))
    trial = state.trial_point
    if trial is not None and all(np.array_equal(a, b) for a, b in zip(trial, point)):
        state.curv, state.trial_curv = state.trial_curv, state.curv
        state.z, state.trial_z = state.trial_z, state.z
        state.trial_point, state.fresh, state.has_z = None, False, True
    else:
        state.fresh, state.has_z = True, False
    state.point, state.tracking = point, False


def logistic_hessp_sums(prep, state, V, c):
    """``sum_i sw_i (d^2 l_i) [V, c]`` of one prepared piece: the Hessian of the unscaled,
    unpenalised loss sum at the point of the last :func:`logistic_curvature_pass`, times the
    direction ``(V, c)`` (the first product at a point also computes the curvature there).

    Parameters
    ----------
    prep : LogisticPiece
    state : NewtonState
    V : ndarray of shape (K, n_features), float64, C order
    c : ndarray of shape (K,), float64

    Returns
    -------
    hv : ndarray of shape (K, n_features + 1)
        In the coefficients, then (last column) in the intercepts.
    """
    K, D = V.shape
    out = np.zeros((K, D + 1))
    if prep.codes.shape[0] == 0:
        return out
    coef, b = state.point
    args = (prep.X, prep.weights, coef, b, state.fresh, state.curv, V, c, prep.work, state.xv,
            out)
    _run(logistic_hessp, logistic_hessp_serial, prep, K, args)
    state.fresh = False
    return out


def logistic_line_sums(prep, state, step):
    """Derivatives in ``step`` of the loss sum at ``point + step * (V, c)``, without X.

    ``(V, c)`` is the direction of the last :func:`logistic_hessp_sums` (whose per-row logit
    change it kept) and ``point`` the Hessian's, where the logits are known when its curvature
    came from :func:`logistic_sums_curvature` (the solver's accepted points); else None.

    Parameters
    ----------
    prep : LogisticPiece
    state : NewtonState
    step : float

    Returns
    -------
    (d1, d2) : tuple of float, or None
        First and second derivatives of ``sum_i sw_i l_i`` in ``step``; None when the logits at
        the point are not known.
    """
    if not state.has_z:
        return None
    if prep.codes.shape[0] == 0:
        return 0.0, 0.0
    d1, d2 = logistic_line(state.z, state.xv, prep.codes, prep.weights, float(step))
    return float(d1), float(d2)


def runs_parallel(prep, n_outputs):
    """The thread count for the parallel kernel on ``prep``, or 0 to run the serial one.

    Serial when the piece has a single chunk (nothing to share), when its work
    (:func:`work_units`) is below :data:`PARALLEL_MIN_WORK`, or when
    :func:`fastlin._threads.kernel_threads` allows one thread. Either way the result is the same
    to the bit (fixed chunks, fixed-order reduction).
    """
    threads = _threads_for(prep, n_outputs)
    return threads if threads > 1 else 0


def add_sums(*parts):
    """Sum several :func:`logistic_sums` results."""
    loss = sum(p[0] for p in parts)
    grad = parts[0][1].copy()
    for p in parts[1:]:
        grad += p[1]
    return loss, grad
