"""Mini-batch SGD and full-batch gradient descent: one epoch, every loss x penalty x schedule x
averaging.

The two kernels take the arguments of :func:`fastlin.kernels.sgd.sgd_epoch` and follow its state
layout (``w``, ``avg_w``, ``l1_q``, ``state = [intercept, avg_intercept, u, t]``, canonical between
calls), the row accessors of :mod:`fastlin.kernels.rows` (:func:`~fastlin.kernels.rows.row_dot`,
:func:`~fastlin.kernels.rows.row_axpy`: dense C-ordered 2-D array or CSR ``(data, indices,
indptr)`` tuple, chosen at compile time) and the scalar helpers of :mod:`fastlin.kernels.sgd`
(step size, dloss clip, L2 shrink with the ``ws`` scale trick, lazy averaging). The differences:

* **One step per batch.** For a batch ``B`` of ``m`` rows (the last batch of an epoch may be
  shorter), with ``s_i`` the sample weights and ``eta_B`` the batch's step (below)::

      g = 1/m sum_{i in B} s_i clip(dloss(p_i, y_i)) x_i     (p_i at the weights before the step)
      w <- prox_{eta_B alpha R}(w - eta_B g)
      b <- b - eta_B/m sum_{i in B} s_i clip(dloss(p_i, y_i))    (intercept not penalized)

  i.e. proximal gradient descent on ``mean_i s_i loss_i + alpha R(w)``, the objective convention of
  the per-sample kernel. The prox of the elastic net is the soft-threshold by
  ``eta_B alpha l1_ratio`` followed by the division by ``1 + eta_B alpha (1 - l1_ratio)``: the
  implicit L2 step, stable at any step size (the explicit ``1 - eta alpha`` of the per-sample
  kernel zeroes the weights once ``eta alpha >= 1``, which a batch's step reaches early). A batch
  of all rows is (proximal) gradient descent.
* **The clock ``t`` counts samples**, as in the per-sample kernel and scikit-learn's ``t_``: a
  batch of ``m`` rows advances it by ``m``, and ``average_start`` is in samples too.
* **The step.** With ``learning_rate`` ``constant`` or ``adaptive``, ``eta0`` is the step of
  every update, whatever the batch (the lecture's η: gradient descent with ``eta0 = 1 / L`` takes
  exactly that step, and one beyond ``2 / L`` diverges as the lecture shows). The schedules
  ``optimal`` and ``invscaling`` are rates *per sample*, so a batch takes the learning rate of the
  samples it replaces, capped by the curvature::

      eta_B = min(m eta(t + (m - 1) / 2),  2 / L_B)
      L_B   = sum_{i in B} s_i loss''(p_i, y_i) (||x_i||^2 + fit_intercept) / m

  ``eta(t)`` is the schedule of :func:`fastlin.kernels.sgd.step_size`; ``m eta(mid-batch)``
  is the summed rate of the ``m`` per-sample steps (to second order, the midpoint rule), so an
  epoch moves the weights as far with any batch size — with a step on the batch *mean* at the
  per-sample rate, a batch of 32 moved 32 times less per epoch, and huber (derivative bounded by
  epsilon) stopped at R^2 0.08 where per-sample SGD reaches 0.48. ``L_B`` is the trace of the
  Hessian of the batch's mean loss at the current predictions, at least its largest eigenvalue,
  so ``eta_B <= 2 / L_B`` keeps the step inside the stability limit of a gradient step (as
  ``eta ||x||^2 < 2`` does for a per-sample step on the squared loss): without the cap, ``m eta``
  of a large batch diverges on the squared losses. A cap of 1 / L_B (half) stopped log_loss with
  batches of 16 on breast cancer at accuracy 0.94 against 0.98 per sample (tol rule, 7 epochs).
  The losses with a kink (hinge, perceptron, absolute, epsilon-insensitive) have no curvature
  (``loss'' = 0``, no cap); for them full-batch GD counts its batch as
  :func:`noise_batch` per-sample steps instead of ``m`` (the gradient noise scale of McCandlish
  et al. 2018), since a single step cannot follow the sign changes an epoch of per-sample steps
  follows: with ``m`` steps' worth, epsilon-insensitive GD overshot and the tol rule stopped it at
  R^2 -0.02 (per sample 0.51).
* **Averaging is per sample**: a batch's iterate enters the running average with weight ``m``
  (the number of samples it stood for), so the average means the same for every batch size.
* **L1 is a proximal soft-threshold**, so zeros are exact and the iterates are those of proximal
  gradient descent. Without averaging it is applied lazily (exact, since soft-thresholds compose:
  ``S_a(S_b(v)) = S_{a+b}(v)``): ``state[u]`` is the threshold accumulated so far (in the units of
  the scaled vector ``w``) and ``l1_q[j]`` the value of ``u`` at which weight ``j`` was last brought
  up to date, so a step touches only the batch's features (what keeps CSR with 2**17 columns
  cheap).
  With averaging the average needs every true iterate, so the threshold is applied to all features
  at every step (O(n_features) per step, against O(m n_features) for a dense batch).
  Between calls nothing is pending: the epoch ends with every weight up to date and leaves
  ``u = 0``, ``l1_q = 0`` — the fresh state of the per-sample kernel too, so epochs of both kernels
  can be mixed on one state (a pending Tsuruoka credit of the per-sample kernel is dropped).

A mini-batch step reads its rows twice — predictions, then the update — and the second read hits
cache (256 rows x 100 float64 features = 200 kB, inside L2). Full-batch GD needs the predictions at
the *old* weights for every row, so :func:`gd_epoch` accumulates the gradient in a buffer during one
single pass and updates the weights once at the end of the epoch.

Both kernels are serial (no ``prange``): they are called from the one-vs-rest threads of the SGD
estimators, and the result is trivially independent of the thread count.
"""

from __future__ import annotations

import numpy as np
from numba.extending import overload

from .._jit import jit
from .losses import d2loss as _d2loss
from .losses import loss as _loss
from .rows import (
    OVERLOAD_OPTIONS,
    is_csr_type,
    is_dense_type,
    prefetch_ahead,
    row_axpy,
    row_dot_sqnorm,
    row_prefetch,
)
from .sgd import (
    INVSCALING,
    OPTIMAL,
    PENALTY_ELASTICNET,
    PENALTY_L1,
    PENALTY_L2,
    STATE_AVG_INTERCEPT,
    STATE_INTERCEPT,
    STATE_T,
    STATE_U,
    WSCALE_MIN,
    WSCALE_MIN_AVERAGING,
    checked_dloss,
    fold_scale,
    step_size,
)

__all__ = ["minibatch_epoch", "gd_epoch", "epoch", "batch_step", "row_prox", "soft_threshold"]


# ------------------------------------------------------------------------------------------------
# The step of a batch, the implicit L2 step, the sample-weighted average
# ------------------------------------------------------------------------------------------------


#: The stability limit of a gradient step ``eta < 2 / lambda_max``, applied with the trace ``L_B``.
CAP = 2.0


@jit
def batch_step(schedule_code, eta0, alpha, opt_init, power_t, t, m, worth, lipschitz):
    """The step of a batch of ``m`` rows whose first sample is at clock ``t`` (in samples).

    ``constant`` and ``adaptive``: ``eta0``, the user's step of an update. The per-sample
    schedules (``optimal``, ``invscaling``): ``min(worth eta(t + (m - 1) / 2), 2 / lipschitz)``
    (no cap when ``lipschitz <= 0``), ``worth`` the per-sample steps the batch stands for (``m``
    for a mini-batch, :func:`noise_batch` for a full batch with no curvature) and ``lipschitz``
    the curvature bound ``L_B`` of the module docstring.
    """
    if schedule_code != OPTIMAL and schedule_code != INVSCALING:
        return eta0
    eta = worth * step_size(schedule_code, eta0, alpha, opt_init, power_t, t + 0.5 * (m - 1.0))
    if lipschitz > 0.0 and eta * lipschitz > CAP:
        return CAP / lipschitz
    return eta


@jit
def noise_batch(m, mean_sq, mean_grad_sq):
    """The number of per-sample steps one full-batch step of ``m`` rows is worth.

    McCandlish et al. (2018), "An empirical model of large-batch training": with the gradient
    noise scale ``B = tr(Sigma) / |G|^2`` (per-sample gradient variance over the squared mean
    gradient), a batch of ``m`` is worth ``m (1 + B) / (m + B)`` per-sample steps: ``~m`` while
    the gradients are noisy (``B >> m``), ``~1 + B`` once the batch averages the noise away.
    ``mean_sq`` is the mean of ``|g_i|^2``, ``mean_grad_sq`` is ``|mean g_i|^2``.
    """
    if mean_grad_sq <= 0.0:
        return m
    b = max(mean_sq - mean_grad_sq, 0.0) / mean_grad_sq
    return m * (1.0 + b) / (m + b)


@jit
def l2_prox_factor(eta, alpha, l1_ratio):
    """The implicit L2 step ``1 / (1 + (1 - l1_ratio) eta alpha)``, in (0, 1] for any step."""
    return 1.0 / (1.0 + (1.0 - l1_ratio) * eta * alpha)


@jit
def averaged_share(t, m, average_start):
    """Share ``mu`` of the iterate after a batch of ``m`` samples from clock ``t`` in the average.

    The average is over samples from ``average_start`` on, each batch's iterate standing for the
    samples of the batch that are past the start: ``mu = min(m, n) / n`` with ``n`` the averaged
    samples so far. 0 before the start, 1 at the first averaged batch (the average restarts).
    """
    n = t + m - average_start
    if average_start <= 0.0 or n < 1.0:
        return 0.0
    return min(m, n) / n


@jit
def average_batch(mu, ws, avg_w, avg_alpha, avg_beta):
    """``avg <- (1 - mu) avg + mu ws w`` on the lazy average ``(avg_w + avg_alpha w) / avg_beta``.

    With ``beta' = beta / (1 - mu)`` and ``alpha' = alpha + mu ws beta'`` the update is O(1) (the
    callers compensate every change ``dw`` of ``w`` with ``avg_w -= avg_alpha dw``); ``mu = 1``
    restarts the average at the current weights (O(n_features)). Returns ``(avg_alpha, avg_beta)``.
    """
    if mu >= 1.0:
        for j in range(avg_w.shape[0]):
            avg_w[j] = 0.0
        return ws, 1.0
    avg_beta = avg_beta / (1.0 - mu)
    return avg_alpha + mu * ws * avg_beta, avg_beta


# ------------------------------------------------------------------------------------------------
# Proximal L1 helpers
# ------------------------------------------------------------------------------------------------


@jit
def soft_threshold(v, lam):
    """``sign(v) max(|v| - lam, 0)``; an exact 0.0 inside ``[-lam, lam]``."""
    if v > lam:
        return v - lam
    if v < -lam:
        return v + lam
    return 0.0


@jit
def prox_one(w, l1_q, j, u, avg_w, avg_alpha):
    """Bring weight ``j`` up to date: apply the threshold ``u - l1_q[j]`` accumulated since its
    last update, record ``l1_q[j] = u``, and compensate the change in the lazy average."""
    pend = u - l1_q[j]
    if pend > 0.0:
        z = w[j]
        nz = soft_threshold(z, pend)
        w[j] = nz
        if avg_alpha != 0.0 and nz != z:
            avg_w[j] -= avg_alpha * (nz - z)
    l1_q[j] = u


@jit
def prox_all(w, l1_q, u, avg_w, avg_alpha):
    """:func:`prox_one` on every feature (before a fold of the scale, and at the end of an
    epoch)."""
    for j in range(w.shape[0]):
        prox_one(w, l1_q, j, u, avg_w, avg_alpha)


@jit
def threshold_all(w, lam, avg_w, avg_alpha):
    """Eager soft-threshold of every weight by ``lam`` (scaled units), compensated in the
    average."""
    for j in range(w.shape[0]):
        z = w[j]
        nz = soft_threshold(z, lam)
        if nz != z:
            w[j] = nz
            if avg_alpha != 0.0:
                avg_w[j] -= avg_alpha * (nz - z)


def row_prox(X, i, w, l1_q, u, avg_w, avg_alpha):
    """:func:`prox_one` on the features of row ``i`` (dense: ``x_ij != 0``; CSR: stored entries)."""
    raise NotImplementedError("row_prox is only callable from jitted code")


@overload(row_prox, jit_options=OVERLOAD_OPTIONS)
def _ol_row_prox(X, i, w, l1_q, u, avg_w, avg_alpha):
    if is_dense_type(X):

        def impl(X, i, w, l1_q, u, avg_w, avg_alpha):
            xi = X[i]
            for j in range(xi.shape[0]):
                if xi[j] != 0.0:
                    prox_one(w, l1_q, j, u, avg_w, avg_alpha)

        return impl
    if is_csr_type(X):

        def impl(X, i, w, l1_q, u, avg_w, avg_alpha):
            indices = X[1]
            indptr = X[2]
            for k in range(indptr[i], indptr[i + 1]):
                prox_one(w, l1_q, indices[k], u, avg_w, avg_alpha)

        return impl
    return None


# ------------------------------------------------------------------------------------------------
# The epochs
# ------------------------------------------------------------------------------------------------


# One function (~120 lines with the docstring) for the reason of sgd.sgd_epoch: the step loop
# carries the same dozen scalars, and with batch_size=1 it is a per-sample loop. Splitting
# sgd_epoch's loop body into a helper made it 1.5-1.6x slower (docs/performance.md); the split was
# not measured on this kernel.
@jit
def minibatch_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, loss_code, penalty_code,
                    schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
                    average_start, want_loss, batch_size):
    """One epoch of mini-batch SGD over the samples ``order``, in batches of ``batch_size`` rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), C-contiguous float32/float64, or tuple
        ``(data, indices, indptr)`` of a validated CSR matrix.
    y, sample_weight : float64 ndarrays of shape (n_samples,)
    order : int64 ndarray of shape (n_visit,)
        Samples to visit; consecutive runs of ``batch_size`` entries form the batches.
    w, avg_w, l1_q : float64 ndarrays of shape (n_features,)
    state : float64 ndarray of shape (4,)
        ``[intercept, avg_intercept, u, t]`` (``t`` counts samples, 1-based).
    loss_code, penalty_code, schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init,
    fit_intercept, average_start, want_loss
        As :func:`fastlin.kernels.sgd.sgd_epoch` (``t`` and ``average_start`` in samples).
    batch_size : int
        Rows per step, >= 1.

    Returns
    -------
    sumloss : float
        Sum over the visited samples of ``s_i * loss`` at the weights before their batch's step.
    n_updates : int
        Number of visited samples with a non-zero loss derivative.
    n_clipped : int
        Number of visited samples whose loss derivative reached +-MAX_DLOSS (or was NaN): the
        sign of divergence, as in the per-sample kernel.
    """
    b = state[STATE_INTERCEPT]
    avg_b = state[STATE_AVG_INTERCEPT]
    t = state[STATE_T]
    use_l2 = penalty_code == PENALTY_L2 or penalty_code == PENALTY_ELASTICNET
    use_l1 = (penalty_code == PENALTY_L1 or penalty_code == PENALTY_ELASTICNET) and l1_ratio > 0.0
    averaging = average_start > 0.0
    lazy_l1 = use_l1 and not averaging
    ones = 1.0 if fit_intercept else 0.0
    ws = 1.0
    avg_alpha = 0.0
    avg_beta = 1.0
    u = 0.0
    if lazy_l1:
        l1_q[:] = 0.0
    coefs = np.empty(batch_size)
    sumloss = 0.0
    n_updates = 0
    n_clipped = 0
    n_visit = order.shape[0]
    # Rows come in shuffled order: the next rows' loads are started ahead, as in sgd.sgd_epoch
    # (without it the squared norms of the curvature bound made pass 1 latency-bound: +40 % on
    # 200 000 x 100 dense with batches of 32).
    ahead = prefetch_ahead(X)
    for start in range(0, n_visit, batch_size):
        stop = min(start + batch_size, n_visit)
        m = stop - start
        # Pass 1: predictions at the current weights (the batch's features brought up to date),
        # and the curvature bound L_B of the batch.
        if lazy_l1:
            for k in range(start, stop):
                row_prox(X, order[k], w, l1_q, u, avg_w, avg_alpha)
        curv = 0.0
        for k in range(start, stop):
            i = order[k]
            if k + ahead < n_visit:
                row_prefetch(X, order[k + ahead])
            dot, sqn = row_dot_sqnorm(X, i, w)
            p = ws * dot + b
            yi = y[i]
            si = sample_weight[i]
            if want_loss:
                sumloss += si * _loss(loss_code, p, yi, epsilon)
            g, bad = checked_dloss(loss_code, p, yi, epsilon)
            if bad:
                n_clipped += 1
            d = g * si
            coefs[k - start] = d
            if d != 0.0:
                n_updates += 1
            curv += si * _d2loss(loss_code, p, yi, epsilon, g) * (sqn + ones)
        eta = batch_step(schedule_code, eta0, alpha, opt_init, power_t, t, m, m, curv / m)
        scale = -eta / m
        # Pass 2: the gradient step, row by row (the rows are still in cache).
        db = 0.0
        for k in range(start, stop):
            c = scale * coefs[k - start]
            if c != 0.0:
                i = order[k]
                cs = c / ws
                row_axpy(X, i, cs, w)
                if avg_alpha != 0.0:
                    row_axpy(X, i, -avg_alpha * cs, avg_w)
                db += c
        if fit_intercept:
            b += db
        # Proximal L1 step, threshold eta alpha l1_ratio in true units = that / ws in scaled units.
        if use_l1:
            lam = l1_ratio * eta * alpha / ws
            if lazy_l1:
                u += lam
                for k in range(start, stop):
                    row_prox(X, order[k], w, l1_q, u, avg_w, avg_alpha)
            else:
                threshold_all(w, lam, avg_w, avg_alpha)
        # Implicit L2 step of the whole vector in O(1) through the scale.
        if use_l2:
            ws *= l2_prox_factor(eta, alpha, l1_ratio)
            if ws < (WSCALE_MIN_AVERAGING if avg_alpha != 0.0 else WSCALE_MIN):
                if lazy_l1:
                    prox_all(w, l1_q, u, avg_w, avg_alpha)
                    l1_q[:] = 0.0
                    u = 0.0
                ws, avg_alpha, avg_beta = fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
        mu = averaged_share(t, m, average_start)
        if mu > 0.0:
            avg_alpha, avg_beta = average_batch(mu, ws, avg_w, avg_alpha, avg_beta)
            avg_b = b if mu >= 1.0 else avg_b + mu * (b - avg_b)
        t += m
    if lazy_l1:
        prox_all(w, l1_q, u, avg_w, avg_alpha)
    if use_l1:
        l1_q[:] = 0.0
    fold_scale(w, ws, avg_w, avg_alpha, avg_beta)
    state[STATE_INTERCEPT] = b
    state[STATE_AVG_INTERCEPT] = avg_b
    state[STATE_U] = 0.0
    state[STATE_T] = t
    return sumloss, n_updates, n_clipped


@jit
def gd_epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, loss_code, penalty_code,
             schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
             average_start, want_loss):
    """One step of full-batch (proximal) gradient descent over the samples ``order``.

    Same arguments, state and return values as :func:`minibatch_epoch` with one batch of all
    ``order`` (no ``batch_size``); X is read once: the gradient is accumulated in an
    (n_features,) buffer at the old weights and applied at the end. ``sumloss`` is then the exact
    loss at the weights the epoch started from.
    """
    b = state[STATE_INTERCEPT]
    avg_b = state[STATE_AVG_INTERCEPT]
    t = state[STATE_T]
    use_l2 = penalty_code == PENALTY_L2 or penalty_code == PENALTY_ELASTICNET
    use_l1 = (penalty_code == PENALTY_L1 or penalty_code == PENALTY_ELASTICNET) and l1_ratio > 0.0
    ones = 1.0 if fit_intercept else 0.0
    D = w.shape[0]
    g = np.zeros(D)
    gb = 0.0
    curv = 0.0
    gsq = 0.0
    sumloss = 0.0
    n_updates = 0
    n_clipped = 0
    m = order.shape[0]
    ahead = prefetch_ahead(X)
    for k in range(m):
        i = order[k]
        if k + ahead < m:
            row_prefetch(X, order[k + ahead])
        dot, sqn = row_dot_sqnorm(X, i, w)
        p = dot + b
        yi = y[i]
        si = sample_weight[i]
        if want_loss:
            sumloss += si * _loss(loss_code, p, yi, epsilon)
        gi, bad = checked_dloss(loss_code, p, yi, epsilon)
        if bad:
            n_clipped += 1
        d = gi * si
        if d != 0.0:
            row_axpy(X, i, d, g)
            gb += d
            n_updates += 1
        sqn += ones
        curv += si * _d2loss(loss_code, p, yi, epsilon, gi) * sqn
        gsq += d * d * sqn
    if m > 0:
        gnorm2 = gb * gb * ones
        for j in range(D):
            gnorm2 += g[j] * g[j]
        # No curvature to cap the step (a loss with a kink): the gradient noise bounds it instead.
        worth = m if curv > 0.0 else noise_batch(m, gsq / m, gnorm2 / (m * m))
        eta = batch_step(schedule_code, eta0, alpha, opt_init, power_t, t, m, worth, curv / m)
        shrink = l2_prox_factor(eta, alpha, l1_ratio) if use_l2 else 1.0
        lam = l1_ratio * eta * alpha
        step = eta / m
        for j in range(D):
            v = w[j] - step * g[j]
            if use_l1:
                v = soft_threshold(v, lam)
            w[j] = shrink * v
        if fit_intercept:
            b -= step * gb
        mu = averaged_share(t, m, average_start)
        if mu > 0.0:
            # A loop, not ``avg_w[:] = ...``: the slice assignment instantiates Numba's
            # broadcast-shape error path (string formatting), 1.9 of gd_epoch's 3.4 s cold
            # compile on this machine.
            for j in range(D):
                avg_w[j] += mu * (w[j] - avg_w[j])
            avg_b += mu * (b - avg_b)
        t += m
    if use_l1:
        l1_q[:] = 0.0
    state[STATE_INTERCEPT] = b
    state[STATE_AVG_INTERCEPT] = avg_b
    state[STATE_U] = 0.0
    state[STATE_T] = t
    return sumloss, n_updates, n_clipped


# ------------------------------------------------------------------------------------------------
# Python entry point (mirrors fastlin.kernels.sgd.epoch, plus batch_size)
# ------------------------------------------------------------------------------------------------


def epoch(X, y, sample_weight, order, w, avg_w, l1_q, state, *, loss_code, penalty_code,
          schedule_code, alpha, l1_ratio, eta0, power_t, epsilon, opt_init, fit_intercept,
          average_start, want_loss, batch_size):
    """One mini-batch (``batch_size = k``) or full-batch (``batch_size = None``) epoch.

    The arguments and return value are those of :func:`fastlin.kernels.sgd.epoch` plus
    ``batch_size``; every scalar is coerced to the one type the kernels are compiled for. ``X`` is a
    C-contiguous 2-D array or the tuple of :func:`fastlin.data.kernel_X`.

    Returns
    -------
    sumloss : float
    n_updates : int
    n_clipped : int
    """
    args = (X, y, sample_weight, order, w, avg_w, l1_q, state, int(loss_code), int(penalty_code),
            int(schedule_code), float(alpha), float(l1_ratio), float(eta0), float(power_t),
            float(epsilon), float(opt_init), bool(fit_intercept), float(average_start),
            bool(want_loss))
    if batch_size is None:
        return gd_epoch(*args)
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}.")
    return minibatch_epoch(*args, batch_size)
