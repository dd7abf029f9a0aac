"""Per-sample SGD: one epoch for every loss x penalty x schedule x averaging, dense and CSR.

One epoch kernel, :func:`sgd_epoch`, serves every variant (chosen by the integer codes of
:mod:`fastlin._registry`) and both layouts. The layout is decided by the *type* of ``X``:

* dense: a C-contiguous 2-D ``ndarray`` (float32 or float64), one row per sample;
* CSR: the tuple ``(data, indices, indptr)`` of :func:`fastlin.data.kernel_X` (structure already
  validated by :func:`fastlin.data.check_sparse_structure`: the kernel does not bounds-check).

The epoch loop is written once; the few operations that touch a row are the overloaded accessors
of :mod:`fastlin.kernels.rows`, whose implementation is chosen at compile time from the type of
``X``. Numba therefore compiles one specialisation per dtype/layout (dense f64, dense f32, CSR
f64, CSR f32), and the loss, penalty and schedule are runtime integer switches inside it (one
predictable branch per sample, none per feature).

State layout
------------
Everything that survives between two epochs (or two ``partial_fit`` calls) lives in arrays that the
caller owns; the kernel updates them in place. Between calls the state is *canonical*: the scale
factors described below have been folded into the arrays, so the caller reads plain weights.

``w`` : float64 array of shape (n_features,)
    The weights. Inside an epoch the true weights are ``ws * w`` with a kernel-local scale ``ws``
    so that the L2 shrink ``w <- (1 - eta alpha) w`` is one scalar multiply (Bottou's trick). When
    ``ws`` falls below :data:`WSCALE_MIN` (1e-9, so ``update / ws`` stays within 1e9 x update, far
    from overflow) the scale is folded into ``w``; it is folded at the end of every epoch too, so
    ``w`` holds the true weights between calls (an O(n_features) fold per epoch, nothing against
    O(nnz) per sample).
``avg_w`` : float64 array of shape (n_features,)
    The averaged weights (averaged SGD, ``average_start > 0``). Inside an epoch the average is
    ``(avg_w + avg_alpha * w) / avg_beta`` with two kernel-local scalars (lazy averaging, Xu 2011 /
    Bottou 2012): a sample changes only ``avg_w`` at its own non-zero features, never the whole
    vector. Folded between calls, so ``avg_w`` is the explicit average. Unused (but allocated) when
    not averaging. The kernel also keeps ``inv_ws = 1 / ws`` and ``inv_n0`` (1 / the number of
    iterates in the explicit average at the last fold, see :func:`average_step`); both are derived
    from ``ws``, ``t`` and ``average_start`` and need no storage.
``l1_q`` : float64 array of shape (n_features,)
    Cumulative L1 penalty actually applied to each weight so far (``q_j`` of Tsuruoka, Tsujii and
    Ananiadou 2009). Unused when the penalty has no L1 part.
``state`` : float64 array of shape (STATE_SIZE,)
    ``state[STATE_INTERCEPT]`` the intercept; ``state[STATE_AVG_INTERCEPT]`` the averaged
    intercept; ``state[STATE_U]`` the cumulative L1 penalty every weight could have received
    (Tsuruoka's ``u``); ``state[STATE_T]`` the 1-based count of samples seen (``t_`` in
    scikit-learn; ``t = 1`` before the first sample), which drives the ``optimal`` and
    ``invscaling`` schedules and averaging.

Per-sample update (in this order, scikit-learn's except where noted)
--------------------------------------------------------------------
For sample ``i`` with target ``y_i`` and weight ``s_i`` (sample weight x class weight):

1. ``eta = step_size(schedule, ...)`` from ``t``;
2. ``p = ws * (x_i . w) + b``;
3. ``update = -eta * clip(dloss(p, y_i)) * s_i`` (clip at +-1e12, as scikit-learn; the clips are
   counted and returned, and the estimators warn that the iterates are exploding); with the
   ``pa1``/``pa2`` schedules ``update = pa_update(...) * s_i`` instead (:func:`pa_update`, from the
   loss and ``||x_i||^2``; ``eta = eta0`` still drives the penalty's steps, as in scikit-learn);
4. L2 / elastic-net: ``ws *= max(0, 1 - (1 - l1_ratio) eta alpha)`` (fold if ``ws < 1e-9``, or
   ``ws < 1e-4`` while averaging: see :data:`WSCALE_MIN_AVERAGING`);
5. if ``update != 0``: ``w += (update / ws) x_i``, ``b += update`` (intercept not penalized, no
   sparse intercept decay: dense and CSR give the same model);
6. L1 / elastic-net: ``u += l1_ratio eta alpha``, then the cumulative clip of Tsuruoka et al. on the
   features with ``x_ij != 0`` (CSR: the stored entries; dense: the non-zero entries, so that dense
   and CSR agree). Clipped weights are exact zeros. Steps 5 and 6 run fused in one pass over the
   row (:func:`row_axpy_l1`);
7. averaging (``t >= average_start``): ``avg <- avg + (w - avg) / n`` with
   ``n = t - average_start + 1``, applied lazily. Unlike scikit-learn, the average is taken
   *after* the L1 clip, i.e. it is exactly the running mean of the iterates (scikit-learn
   averages before the clip and then lets the clip leak into the average; with L2 or no penalty
   the two agree);
8. ``t += 1``.

The perceptron of the lecture is this kernel with ``loss_code=PERCEPTRON`` (dloss ``-y`` when
``y p <= 0``, else 0), ``penalty_code=0``, ``schedule_code=CONSTANT`` and ``eta0=1``: on a mistake
``w <- w + y x``, ``b <- b + y``; otherwise nothing is written.

Reusing the helpers (mini-batch kernels)
----------------------------------------
:func:`step_size`, :func:`clip_dloss`, :func:`checked_dloss`, :func:`l2_shrink_factor`,
:func:`fold_scale` and :func:`average_step` are small jitted functions callable from any other
kernel; they follow the conventions above. The row accessors (:func:`~fastlin.kernels.rows.row_dot`,
:func:`~fastlin.kernels.rows.row_axpy`, :func:`~fastlin.kernels.rows.row_axpy2`,
:func:`~fastlin.kernels.rows.row_axpy_l1`, :func:`~fastlin.kernels.rows.l1_clip_one`,
:func:`~fastlin.kernels.rows.row_prefetch`, :func:`~fastlin.kernels.rows.row_prefetch_weights`)
live in :mod:`fastlin.kernels.rows` and are re-exported here. Measurements behind the choices:
``docs/performance.md``.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from .._registry import PENALTIES, SCHEDULES
from .losses import HINGE, LOG_LOSS
from .losses import dloss as _dloss
from .losses import loss as _loss
from .rows import (
    PREFETCH_AHEAD,
    PREFETCH_AHEAD_CSR,
    l1_clip_one,
    prefetch_ahead,
    row_axpy,
    row_axpy2,
    row_axpy_l1,
    row_dot,
    row_prefetch,
    row_prefetch_weights,
    row_sqnorm,
)

__all__ = [
    "sgd_epoch",
    "epoch",
    "step_size",
    "pa_update",
    "clip_dloss",
    "checked_dloss",
    "l2_shrink_factor",
    "fold_scale",
    "average_step",
    "l1_clip_one",
    "row_dot",
    "row_axpy",
    "row_axpy2",
    "row_axpy_l1",
    "row_prefetch",
    "row_prefetch_weights",
    "prefetch_ahead",
    "optimal_init",
    "STATE_INTERCEPT",
    "STATE_AVG_INTERCEPT",
    "STATE_U",
    "STATE_T",
    "STATE_SIZE",
    "new_state",
]

# Penalty and schedule codes, read from the registry (Numba freezes them as compile-time constants).
PENALTY_NONE = PENALTIES["none"]
PENALTY_L2 = PENALTIES["l2"]
PENALTY_L1 = PENALTIES["l1"]
PENALTY_ELASTICNET = PENALTIES["elasticnet"]
CONSTANT = SCHEDULES["constant"]
OPTIMAL = SCHEDULES["optimal"]
INVSCALING = SCHEDULES["invscaling"]
ADAPTIVE = SCHEDULES["adaptive"]
PA1 = SCHEDULES["pa1"]
PA2 = SCHEDULES["pa2"]

# Indices into the ``state`` array.
STATE_INTERCEPT = 0
STATE_AVG_INTERCEPT = 1
STATE_U = 2
STATE_T = 3
STATE_SIZE = 4

#: Fold the L2 scale into the weights below this value. 1e-9 (scikit-learn's float64 threshold):
#: ``update / ws`` then stays below 1e9 x update, far from overflow, and a fold costs O(n_features)
#: at most once per ~20 000 samples for eta alpha = 1e-3.
WSCALE_MIN = 1e-9

#: While averaging, fold already below this value. The lazy average
#: ``(avg_w + avg_alpha w) / avg_beta`` cancels terms of size
#: ``avg_alpha |w| / avg_beta ~ (mean past scale / current scale) |true w|``, so its relative error
#: is about 1e-16 x that ratio: folding at 1e-4 bounds it by ~1e-12 (at 1e-9 the error measured
#: 2.6e-9 with eta alpha = 0.5). Costs one O(n_features) fold per 1e4-fold decay of the scale,
#: e.g. once per ~9e6 samples for eta alpha = 1e-6.
WSCALE_MIN_AVERAGING = 1e-4

#: |dloss| is clipped here (scikit-learn's MAX_DLOSS) so one outlier cannot produce an inf update.
MAX_DLOSS = 1e12

# ------------------------------------------------------------------------------------------------
# Scalar helpers
# ------------------------------------------------------------------------------------------------


@jit
def step_size(schedule_code, eta0, alpha, opt_init, power_t, t):
    """Learning rate for the sample number ``t`` (1-based).

    ``constant`` / ``adaptive``: ``eta0`` (the caller divides it by 5 for ``adaptive`` when
    progress stalls); ``optimal``: ``1 / (alpha (opt_init + t - 1))`` (Bottou's heuristic, see
    :func:`optimal_init`); ``invscaling``: ``eta0 / t ** power_t``.
    """
    if schedule_code == OPTIMAL:
        return 1.0 / (alpha * (opt_init + t - 1.0))
    if schedule_code == INVSCALING:
        # pow() costs a libm call per sample (~8 ms per 2e5 samples measured here, half the read
        # of a 200 000 x 100 X); the two defaults (0.5: SGDClassifier, 0.25: SGDRegressor) are one
        # or two correctly rounded square roots instead.
        if power_t == 0.5:
            return eta0 / math.sqrt(t)
        if power_t == 0.25:
            return eta0 / math.sqrt(math.sqrt(t))
        return eta0 / t**power_t
    return eta0


@jit
def pa_update(schedule_code, loss_code, lv, p, y, aggressiveness, sqnorm):
    """The passive-aggressive update of one sample (before its sample weight), scikit-learn's.

    ``lv`` is the loss at ``p`` (the caller has it already: computing it here too would inline
    the loss switch a second time into the epoch and lengthen its compile);
    ``tau = min(C, loss / ||x||^2)`` (``pa1``; 0 when ``x = 0``) or
    ``loss / (||x||^2 + 1 / (2 C))`` (``pa2``), ``C = aggressiveness`` (the user's ``eta0``); the
    update is ``tau y`` for hinge and ``tau sign(y - p)`` (+ at 0) for a regression loss, the sign
    that moves ``p`` towards ``y``. No derivative clip: tau is bounded by C (pa1) or 2 C loss.
    """
    if schedule_code == PA1:
        if sqnorm == 0.0:
            return 0.0
        tau = min(aggressiveness, lv / sqnorm)
    else:
        tau = lv / (sqnorm + 0.5 / aggressiveness)
    if loss_code == HINGE:
        return tau * y
    return -tau if y - p < 0.0 else tau


@jit
def clip_dloss(d):
    """Clip a loss derivative to [-MAX_DLOSS, MAX_DLOSS]."""
    if d < -MAX_DLOSS:
        return -MAX_DLOSS
    if d > MAX_DLOSS:
        return MAX_DLOSS
    return d


@jit
def checked_dloss(loss_code, p, y, eps):
    """The loss derivative at ``p``, clipped, and whether the sample is a sign of divergence.

    Returns ``(g, bad)``: ``bad`` when the derivative reached +-MAX_DLOSS or is NaN, or when ``p``
    is not finite (a NaN/inf in X shows up here even where the loss is flat, e.g. hinge beyond the
    margin). The one definition every epoch kernel uses, so that the estimators' divergence and
    deferred-finiteness checks mean the same for per-sample, mini-batch and full-batch epochs.
    """
    g = _dloss(loss_code, p, y, eps)
    if abs(g) < MAX_DLOSS and abs(p) < np.inf:
        return g, False
    return clip_dloss(g), True


@jit
def l2_shrink_factor(eta, alpha, l1_ratio):
    """Multiplicative L2 shrink of one step, ``max(0, 1 - (1 - l1_ratio) eta alpha)``.

    Clamped at 0 rather than going negative when ``eta alpha > 1`` (the weights are then zeroed).
    """
    f = 1.0 - (1.0 - l1_ratio) * eta * alpha
    return f if f > 0.0 else 0.0


@jit
def fold_scale(w, ws, avg_w, avg_alpha, avg_beta):
    """Fold the kernel-local scalars into the arrays (weights ``ws * w``, average lazy scalars).

    Makes the average explicit (``avg_w <- (avg_w + avg_alpha w) / avg_beta``) and then the weights
    (``w <- ws w``). Returns the reset ``(ws, avg_alpha, avg_beta) = (1, 0, 1)``.
    """
    if avg_alpha != 0.0 or avg_beta != 1.0:
        inv_beta = 1.0 / avg_beta
        for j in range(w.shape[0]):
            avg_w[j] = (avg_w[j] + avg_alpha * w[j]) * inv_beta
    if ws != 1.0:
        for j in range(w.shape[0]):
            w[j] *= ws
    return 1.0, 0.0, 1.0


@jit
def average_step(n_avg, ws, avg_w, avg_alpha, inv_n0):
    """Advance the lazy average by one iterate: ``avg <- avg + (ws w - avg) / n_avg``.

    The average is represented as ``(avg_w + avg_alpha w) / avg_beta``; every change ``dw`` made to
    ``w`` during a step is first compensated with ``avg_w -= avg_alpha dw`` (by the callers, at the
    touched features only). With ``mu = 1 / n`` the recurrences ``beta <- beta / (1 - mu)``,
    ``alpha <- alpha + mu ws beta`` telescope from the last fold (``alpha = 0, beta = 1`` when
    ``n0`` iterates had been averaged) to ``beta = n / n0`` and ``alpha += ws / n0``: one
    multiply-add per sample and no division on the sample-to-sample dependency chain. The first
    averaged iterate (``n_avg <= 1``) restarts the average at the current weights (O(n_features),
    once) with ``n0 = 1``.

    Returns
    -------
    avg_alpha, avg_beta, inv_n0 : float
    """
    if n_avg <= 1.0:
        for j in range(avg_w.shape[0]):
            avg_w[j] = 0.0
        return ws, 1.0, 1.0
    return avg_alpha + ws * inv_n0, n_avg * inv_n0, inv_n0


# ------------------------------------------------------------------------------------------------
# The epoch
# ------------------------------------------------------------------------------------------------


# One function on purpose (~120 lines with the docstring): the per-sample loop carries a dozen
# scalars (ws, inv_ws, the lazy-average scalars, b, u, t, the counters) in registers. The same
# loop with its body in a jitted helper taking and returning them made the epoch 1.5-1.6x slower
# (dense 200 000 x 100 float64; hinge, log_loss, L1 and averaged alike). See docs/performance.md.
@jit
def sgd_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, loss_code, penalty_code,
              schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
              average_start, want_loss):
    """One epoch of per-sample SGD over the samples ``order``, updating the state in place.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float32/float64, or tuple
        ``(data, indices, indptr)`` of a validated CSR matrix.
    y : float64 ndarray of shape (n_samples,)
        Targets; in {-1, +1} for the classification losses.
    sample_weight : float64 ndarray of shape (n_samples,)
        Per-sample multiplier of the update (sample weight x class weight).
    order : int64 ndarray of shape (n_visit,)
        Indices of the samples to visit, in visiting order (a permutation when shuffling; only the
        training samples when a validation fraction is held out).
    w, avg_w, l1_q : float64 ndarrays of shape (n_features,)
        Weights, averaged weights, cumulative L1 penalty per weight (see the module docstring).
    state : float64 ndarray of shape (STATE_SIZE,)
        ``[intercept, avg_intercept, u, t]``.
    loss_code, penalty_code, schedule_code : int
        Codes of :data:`fastlin._registry.LOSSES`, ``PENALTIES``, ``SCHEDULES``.
    alpha : float
        Regularization strength (>= 0; > 0 for the ``optimal`` schedule).
    l1_ratio : float
        Share of L1 in the penalty: pass 0 for ``l2``, 1 for ``l1``, the user's value for
        ``elasticnet`` (ignored for ``none``).
    eta0 : float
        Step size for ``constant``/``adaptive`` (current value) and base for ``invscaling``; the
        aggressiveness C of ``pa1``/``pa2``.
    power_t : float
        Exponent of ``invscaling``.
    epsilon : float
        Epsilon of huber and the epsilon-insensitive losses.
    opt_init : float
        Offset of the ``optimal`` schedule (:func:`optimal_init`).
    fit_intercept : bool
    average_start : float
        0 for no averaging, else the value of ``t`` at which averaging starts (1 = from the start).
    want_loss : bool
        Whether to sum the loss (costs one ``loss`` call per sample, e.g. a log1p(exp) for
        log_loss).

    Returns
    -------
    sumloss : float
        Sum over the visited samples of ``sample_weight * loss`` at the prediction made before the
        sample's update (0 when ``want_loss`` is false).
    n_updates : int
        Number of samples whose update was non-zero (perceptron: the mistakes of the epoch).
    n_clipped : int
        Number of samples whose prediction was not finite or whose loss derivative reached
        +-MAX_DLOSS (|prediction - target| of 1e12 or more): a NaN/inf in X (the estimators' first
        epoch doubles as X's finiteness check) or iterates that diverged (the clip keeps them
        finite).
    """
    b = state[STATE_INTERCEPT]
    avg_b = state[STATE_AVG_INTERCEPT]
    u = state[STATE_U]
    t = state[STATE_T]
    use_l2 = penalty_code == PENALTY_L2 or penalty_code == PENALTY_ELASTICNET
    use_l1 = penalty_code == PENALTY_L1 or penalty_code == PENALTY_ELASTICNET
    averaging = average_start > 0.0
    passive_aggressive = schedule_code == PA1 or schedule_code == PA2
    ws = 1.0
    inv_ws = 1.0
    avg_alpha = 0.0
    avg_beta = 1.0
    # iterates already in the (explicit) average: 1 / n0 of average_step
    inv_n0 = 1.0 / (t - average_start) if averaging and t - average_start >= 1.0 else 1.0
    sumloss = 0.0
    n_updates = 0
    n_clipped = 0
    n_visit = order.shape[0]
    ahead = prefetch_ahead(X)
    for k in range(n_visit):
        i = order[k]
        if k + ahead < n_visit:
            row_prefetch(X, order[k + ahead])
        eta = step_size(schedule_code, eta0, alpha, opt_init, power_t, t)
        p = ws * row_dot(X, i, w) + b
        yi = y[i]
        si = sample_weight[i]
        lv = 0.0
        if want_loss or passive_aggressive:
            lv = _loss(loss_code, p, yi, epsilon)
            if want_loss:
                sumloss += si * lv
        g, bad = checked_dloss(loss_code, p, yi, epsilon)
        if bad:
            n_clipped += 1
        if passive_aggressive:
            update = pa_update(schedule_code, loss_code, lv, p, yi, eta0, row_sqnorm(X, i)) * si
        else:
            update = -eta * g * si
        if use_l2:
            # The scale only depends on the schedule, not on w: its multiply and the reciprocal
            # below stay off the sample-to-sample dependency chain (dot -> dloss -> axpy -> dot).
            ws *= l2_shrink_factor(eta, alpha, l1_ratio)
            if ws < (WSCALE_MIN_AVERAGING if avg_alpha != 0.0 else WSCALE_MIN):
                ws, avg_alpha, avg_beta = fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
                if averaging and t - average_start >= 1.0:
                    inv_n0 = 1.0 / (t - average_start)
            inv_ws = 1.0 / ws
        if use_l1:
            u += l1_ratio * eta * alpha
        if update != 0.0:
            # log_loss, rows in storage order: hint the next row's weights into L1 now, so that
            # their L2 -> L1 fills overlap this sample's exp + division -> update chain instead
            # of stalling the next dot. CSR bench, 5 epochs, kernel alone, paired medians of 9:
            # log_loss 0.85-0.90x (five runs), log_loss + L1 0.97-0.98x. Not for hinge or
            # modified_huber (a compare between dot and update, nothing to hide behind:
            # 1.00-1.02x for every row that updates) nor for rows visited out of order (log_loss
            # 1.29x with shuffle=True, presumably the hints waiting on the next row's indices).
            # Dense: a no-op. See docs/performance.md.
            if loss_code == LOG_LOSS and k + 1 < n_visit and order[k + 1] == i + 1:
                row_prefetch_weights(X, i + 1, w)
            c = update * inv_ws
            if use_l1:
                row_axpy_l1(X, i, c, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha)
            elif avg_alpha != 0.0:
                row_axpy2(X, i, c, w, -avg_alpha * c, avg_w)
            else:
                row_axpy(X, i, c, w)
            if fit_intercept:
                b += update
            n_updates += 1
        elif use_l1:
            row_axpy_l1(X, i, 0.0, w, l1_q, ws, inv_ws, u, avg_w, avg_alpha)
        if averaging and t >= average_start:
            n_avg = t - average_start + 1.0
            avg_alpha, avg_beta, inv_n0 = average_step(n_avg, ws, avg_w, avg_alpha, inv_n0)
            avg_b += (b - avg_b) / n_avg
        t += 1.0
    fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
    state[STATE_INTERCEPT] = b
    state[STATE_AVG_INTERCEPT] = avg_b
    state[STATE_U] = u
    state[STATE_T] = t
    return sumloss, n_updates, n_clipped


# ------------------------------------------------------------------------------------------------
# Python-side helpers (argument normalisation; no per-sample work)
# ------------------------------------------------------------------------------------------------


def new_state(t=1.0, intercept=0.0):
    """A fresh ``state`` array: ``[intercept, avg_intercept=0, u=0, t]``."""
    state = np.zeros(STATE_SIZE, dtype=np.float64)
    state[STATE_INTERCEPT] = intercept
    state[STATE_T] = t
    return state



def optimal_init(loss_code, alpha, epsilon):
    """Offset ``t0`` of the ``optimal`` schedule, so the first step is ``eta = 1 / (alpha t0)``.

    Bottou's heuristic (as in scikit-learn): a typical weight ``typw = sqrt(1 / sqrt(alpha))`` and a
    first step ``typw / max(1, dloss(-typw, 1))``.
    """
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    eta_first = typw / max(1.0, float(_dloss(int(loss_code), -typw, 1.0, float(epsilon))))
    return 1.0 / (eta_first * alpha)


def epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss_code, penalty_code,
          schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
          average_start, want_loss):
    """Call :func:`sgd_epoch` with every scalar coerced to the one type the kernel is compiled for.

    ``X`` is a C-contiguous 2-D array or the CSR tuple of :func:`fastlin.data.kernel_X`. Returns
    ``(sumloss, n_updates, n_clipped)``.
    """
    return sgd_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, int(loss_code),
                     int(penalty_code), int(schedule_code), float(alpha), float(l1_ratio),
                     float(eta0), float(power_t), float(epsilon), float(opt_init),
                     bool(fit_intercept), float(average_start), bool(want_loss))
