"""Trust-region Newton-CG (Lin, Weng & Keerthi 2008) on an objective given as callables.

The method of "Trust region Newton method for large-scale logistic regression" (JMLR 9, 2008),
the primal solver of liblinear: every outer iteration approximately minimises the quadratic model
``q(s) = g.s + s.H s / 2`` inside the trust region ``||s|| <= delta`` by conjugate gradient
(Steihaug's truncation: stop at the boundary, or when the residual is ``<= xi ||g||``), using
only Hessian-vector products; the step is accepted when the objective decreases by at least
``eta0`` times the model's prediction, and the radius follows the ratio of the two. One
departure: the first step is not bounded (the paper's initial radius ``||g(theta0)||``), the
radius is then set from its length (see :func:`minimize_trust_ncg`); ``xi`` shrinks with the
gradient (a forcing sequence, see :data:`XI`) instead of the paper's constant 0.1; and when CG
stops after one step, the step (a multiple of ``-g``) is lengthened or shortened by an exact line
search on ``f`` itself, which costs no pass over X for a linear model (the product has computed
``X d``, see :meth:`LogisticHessian.line_search`): see :data:`LINE_RTOL` for what it saves and
why only after one CG step.

A trial point ``theta + s`` needs no gather from X when the Hessian object can give ``f`` and
``g`` there itself (:meth:`LogisticHessian.trial`): CG reports every move of ``s`` along a product's
direction (``on_step``), the products have computed ``X d`` for each direction, so the logits at
``theta + s`` are those at ``theta`` plus their sum, and the pass only scatters the gradient.

Nothing here knows the model or the data: :func:`minimize_trust_ncg` takes
``fun(theta) -> (f, g)`` and ``hess_at(theta) -> hessp``, a callable of flat vectors.
:class:`LogisticHessian` builds ``hess_at`` for :class:`fastlin.solvers.lbfgs.LogisticObjective`
from map-reduce-style callables (per-row curvature at a point, product of the unscaled loss
sum, and optionally the loss's derivatives along the last product's direction), adding the
mean form's scale and the L2 term the way the objective does, so ``f``, ``g`` and ``H`` are of
one function.

Stopping rule: ``||g(theta)|| <= tol * ||g_ref||`` in the Euclidean norm, ``g_ref`` the gradient at
``theta = 0`` (liblinear's rule, with the start fixed at zero so that a warm start from a good
point stops sooner instead of being asked for the same relative decrease again).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["LogisticHessian", "NewtonResult", "minimize_trust_ncg"]

#: Trust-region constants of Lin, Weng & Keerthi 2008 (section 2.1): a step is accepted when the
#: actual decrease is > ETA0 x the predicted one; the ratio's thresholds ETA1, ETA2 and the
#: radius factors SIGMA1 <= SIGMA2 < 1 < SIGMA3 decide the next radius.
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
#: Inner CG stops when ``||r|| <= xi ||g||`` with ``xi = min(XI, sqrt(||g|| / ||g_ref||))``: the
#: forcing sequence of Nocedal & Wright (Newton-CG, Algorithm 7.1), which makes the outer
#: convergence superlinear, capped at XI instead of the paper's fixed xi = 0.1. Measured on the
#: binary CSR benchmark (200 000 x 2**17, C=1), products to 1e-6 of the optimum: fixed 0.1: 35
#: (5 iterations), fixed 0.3: 29 (7), cap 0.1: 36 (5), cap 0.2: 27 (5), cap 0.3: 28 (5); dense
#: 200 000 x 100: 9-10 products for all. Also measured on that CSR problem (a NumPy prototype
#: of this solver, which reproduces its 27 products and 6 f/g passes), none kept: passes over X
#: to 1e-6 of the optimum, 33 here: Eisenstat-Walker's forcing (choice 1) 38; the quadratic-
#: model stopping rule of Nash & Sofer that Galli & Lin (2022) recommend, nu = 0.1 / 0.5, 41 / 35.
#: Diagonal preconditioning (Hsia, Chiang & Lin 2018, M = (1 - a) I + a diag(H), CG and the
#: radius in the M-norm), products: a = 0.01 27 (the diagonal varies little here), a = 0.1 22
#: (but 43 instead of 35 after a line-searched first step), a = 1 31; plus its diagonal, a pass
#: of its own or a second scatter in the f/g pass. Dense 200 000 x 100: no change from any.
XI = 0.2
#: Exact line search along a one-CG-step step (a multiple of -g; see
#: :meth:`LogisticHessian.line_search`): stop when the slope is this fraction of the slope at
#: zero, or after this many 1-D Newton steps (each O(n), no pass over X). From zero the Hessian
#: is at its largest (p (1 - p) = 1/4 on every row), so the Newton step is short: on dense
#: 200 000 x 100 (C=1, tol 2e-4) the search takes alpha = 3.9 on the first step, and the fit
#: needs 3 outer iterations, 5 products and 4 f/g passes instead of 6, 10 and 7 (9 passes instead
#: of 17; 6 line evaluations, 5 ms). LINE_RTOL 1e-1: 4 iterations; 1e-3: 3, 7 evaluations.
#: Only after a single CG step, where ``X s`` is one product's ``X d``: on binary CSR 200 000 x
#: 2**17 (4-10 CG steps per iteration) searching every step, or the first one, took 37 and 35
#: products to 1e-6 of the optimum instead of 27 (a NumPy prototype of the same solver).
LINE_RTOL, LINE_MAX_ITER = 1e-2, 30
#: Below this many ulps of ``|f|`` the actual decrease is rounding noise: the step is then judged
#: by the gradient norm instead (see :func:`_judge`), which lets tight tolerances be reached.
NOISE_ULPS = 64


class NewtonResult(NamedTuple):
    """What :func:`minimize_trust_ncg` returns."""

    x: np.ndarray           #: final flat parameters
    fun: float              #: objective there
    nit: int                #: outer (trust-region) iterations run
    n_hessp: int            #: Hessian-vector products (inner CG steps)
    ratio: float            #: ``||g(x)|| / ||g_ref||``
    converged: bool         #: ``ratio <= tol``


class LogisticHessian:
    """Hessian-vector products of a :class:`~fastlin.solvers.lbfgs.LogisticObjective`.

    Parameters
    ----------
    objective : LogisticObjective
        Supplies the flat layout (``split``), the scale ``1 / S`` and the L2 strength.
    curvature : callable
        ``curvature(coef, intercept)``: the point where the Hessian is taken for the products
        that follow (the engine computes the per-row curvature there during the next product).
    product : callable
        ``product(V, c) -> hv_sum`` of shape (K, D + 1): the unscaled, unpenalised loss sum's
        Hessian at the last ``curvature`` point times the direction (coefficients, intercepts).
    line : callable, optional
        ``line(step) -> (d1, d2)`` or None: the first two derivatives in ``step`` of the
        unscaled loss sum at the ``curvature`` point plus ``step`` times the last product's
        direction (computed without X, see :meth:`line_search`); None when not known there.
    step_moved, step_scaled, trial_sums : callable, optional
        Trial points from known logits (all three, or none): ``step_moved(alpha)`` -- the
        solver's step gained ``alpha`` times the last product's direction (None: it restarts
        from zero); ``step_scaled(factor)`` -- it was multiplied by ``factor``;
        ``trial_sums(coef, intercept) -> (loss_sum, grad_sum)`` or None -- the sums of
        ``objective.evaluate`` at the ``curvature`` point plus that step, from the logits the
        products have summed along it (no gather from X), None when they are not known. See
        :meth:`on_step`, :meth:`scale_step`, :meth:`trial`.
    """

    def __init__(self, objective, curvature, product, line=None, step_moved=None,
                 step_scaled=None, trial_sums=None):
        self.objective, self.curvature, self.product = objective, curvature, product
        self.line = line
        self.step_moved, self.step_scaled, self.trial_sums = step_moved, step_scaled, trial_sums
        self.n_products = 0
        self._direction, self._since_point = None, 0

    def __call__(self, theta):
        """Set the point; returns ``hessp(s)`` (flat ``H s`` in the mean form)."""
        self.curvature(*self.objective.split(theta))
        self._since_point = 0
        return self._hessp

    def line_search(self, theta, s, gs):
        """``alpha`` minimising the objective along ``theta + alpha s``, or None.

        Available when ``s`` is a multiple of the only product's direction since the point
        ``theta`` was set (one CG step), whose per-row logit change the product kept: the
        objective along the line is then O(n) per evaluation, with no pass over X.

        Parameters
        ----------
        theta, s : ndarray of shape (n_params,)
        gs : float
            ``g(theta) . s`` (< 0), the slope at ``alpha = 0``.

        Returns
        -------
        float or None
        """
        d = self._direction
        if self.line is None or self._since_point != 1 or not gs < 0:
            return None
        tau = float(s @ d) / float(d @ d)
        obj = self.objective
        W, Sw = obj.split(theta)[0], obj.split(s)[0]
        ws, ss = float(np.sum(W * Sw)), float(np.sum(Sw * Sw))

        def slope(alpha):  # phi'(alpha), phi''(alpha) of phi(alpha) = f(theta + alpha s)
            sums = self.line(alpha * tau)
            if sums is None:
                return None
            return (obj.scale * tau * sums[0] + obj.l2 * (ws + alpha * ss),
                    obj.scale * tau * tau * sums[1] + obj.l2 * ss)

        return _line_minimum(slope, gs)

    def on_step(self, alpha):
        """The CG step gained ``alpha`` times the last product's direction (None: restarts)."""
        if self.step_moved is not None:
            self.step_moved(alpha)

    def scale_step(self, factor):
        """The step was multiplied by ``factor`` (the line search's length)."""
        if self.step_scaled is not None:
            self.step_scaled(factor)

    def trial(self, theta):
        """``(f, g)`` at ``theta`` = the point plus the reported step, or None (see the class)."""
        if self.trial_sums is None:
            return None
        coef, b = self.objective.split(theta)
        sums = self.trial_sums(coef, b)
        return None if sums is None else self.objective.assemble(coef, *sums)

    def _hessp(self, s):
        obj = self.objective
        V, c = obj.split(s)
        sums = self.product(V, c)
        self.n_products += 1
        self._direction, self._since_point = s, self._since_point + 1
        hv = (sums[:, : obj.D] * obj.scale + obj.l2 * V).ravel()
        if obj.fit_intercept:  # the intercept is not penalised: no l2 term
            hv = np.concatenate([hv, sums[:, obj.D] * obj.scale])
        return hv


def _line_minimum(slope, slope0):
    """Minimiser of a convex ``phi`` on ``alpha > 0`` with ``phi'(0) = slope0 < 0``, or None.

    Newton's method in one dimension from ``alpha = 1`` (the Newton step), kept inside the
    bracket ``[lo, hi]`` of a negative and a positive slope (bisection, or doubling while no
    positive slope is known, when a step leaves it); stops at ``|phi'| <= LINE_RTOL |phi'(0)|``.

    Parameters
    ----------
    slope : callable
        ``slope(alpha) -> (phi'(alpha), phi''(alpha))``, or None if unavailable.
    slope0 : float

    Returns
    -------
    float or None
        None when ``slope`` is unavailable or no descent was found.
    """
    lo, hi, alpha = 0.0, np.inf, 1.0
    for _ in range(LINE_MAX_ITER):
        res = slope(alpha)
        if res is None or not np.isfinite(res[0]):
            return None if res is None else (lo if lo > 0 else None)
        d1, d2 = res
        if abs(d1) <= LINE_RTOL * abs(slope0):
            return alpha
        if d1 < 0:
            lo = alpha
        else:
            hi = alpha
        nxt = alpha - d1 / d2 if d2 > 0 else np.inf
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi) if np.isfinite(hi) else 2.0 * lo
        alpha = nxt
    return lo if lo > 0 else None


def _boundary_step(s, d, delta):
    """``tau >= 0`` with ``||s + tau d|| = delta`` (``||s|| <= delta``): the positive root."""
    sd, dd, ss = float(s @ d), float(d @ d), float(s @ s)
    rad = max(sd * sd + dd * (delta * delta - ss), 0.0)
    return (delta * delta - ss) / (sd + np.sqrt(rad)) if sd >= 0 else (np.sqrt(rad) - sd) / dd


def _steihaug_cg(g, hessp, delta, max_cg, xi, on_step=None):
    """Approximately minimise ``g.s + s.H s / 2`` over ``||s|| <= delta`` by CG from s = 0.

    ``on_step(alpha)``, when given, hears every move of ``s`` along the last product's direction
    (``on_step(None)`` first: ``s = 0``).

    Returns
    -------
    s : ndarray
        The step.
    r : ndarray
        The residual ``-g - H s`` (gives the model's value without another product).
    n : int
        Products used.
    """
    s = np.zeros_like(g)
    r = -g
    d = r.copy()
    rr = float(r @ r)
    stop = (xi * np.linalg.norm(g)) ** 2
    n = 0
    if on_step is not None:
        on_step(None)
    while n < max_cg and rr > stop:
        Hd = hessp(d)
        n += 1
        dHd = float(d @ Hd)
        # dHd <= 0: no curvature along d (C=inf on separable data); go to the boundary
        alpha = rr / dHd if dHd > 0 else np.inf
        if not np.isfinite(alpha) and not np.isfinite(delta):
            break  # no curvature and no radius yet (first iteration): keep the step so far
        if not np.isfinite(alpha) or np.linalg.norm(s + alpha * d) >= delta:
            tau = _boundary_step(s, d, delta)
            s += tau * d
            r -= tau * Hd
            if on_step is not None:
                on_step(tau)
            break
        s += alpha * d
        r -= alpha * Hd
        if on_step is not None:
            on_step(alpha)
        rr_new = float(r @ r)
        d *= rr_new / rr
        d += r
        rr = rr_new
    return s, r, n


def _next_radius(delta, snorm, gs, actred, prered):
    """The radius update of Lin, Weng & Keerthi 2008 (section 2.1), with ``alpha`` the minimiser
    of the quadratic interpolating ``f`` along the step (``SIGMA3`` when that is not convex)."""
    denom = -actred - gs  # f(x + s) - f(x) - g.s
    alpha = SIGMA3 if denom <= 0 else max(SIGMA1, -0.5 * gs / denom)
    if actred < ETA0 * prered:
        return min(max(alpha, SIGMA1) * snorm, SIGMA2 * delta)
    if actred < ETA1 * prered:
        return max(SIGMA1 * delta, min(alpha * snorm, SIGMA2 * delta))
    if actred < ETA2 * prered:
        return max(SIGMA1 * delta, min(alpha * snorm, SIGMA3 * delta))
    return max(delta, min(alpha * snorm, SIGMA3 * delta))


def _judge(f, f_new, prered, gnorm, gnorm_new):
    """``(actred, prered)`` used for the acceptance test and the radius.

    When both the predicted and the actual decrease are below ``NOISE_ULPS`` ulps of ``|f|``,
    their ratio is rounding noise (this happens near the optimum, where the quadratic model is
    accurate): the step counts as very successful if it lowers the gradient norm, rejected
    otherwise. Without this, tolerances below ~1e-8 stall with ever smaller radii.
    """
    if not np.isfinite(f_new):  # overflow at the trial point: reject, shrink the radius
        return -np.inf, prered
    actred = f - f_new
    noise = NOISE_ULPS * np.finfo(float).eps * max(abs(f), abs(f_new))
    if prered <= noise and abs(actred) <= noise:
        # a rejection must read as an increase whatever the sign of the tiny prered
        return (prered, prered) if gnorm_new < gnorm else (-abs(prered) - noise, prered)
    return actred, prered


def minimize_trust_ncg(fun, hess_at, theta0, *, max_iter, tol, grad_ref=None, max_cg=None,
                       callback=None):
    """Minimise a smooth convex ``fun`` by trust-region Newton-CG.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (f, g)``, ``theta`` and ``g`` of shape (n_params,).
    hess_at : callable
        ``hess_at(theta) -> hessp``, ``hessp(s)`` the Hessian at ``theta`` times ``s``, both of
        shape (n_params,). Called once per accepted point.
    theta0 : ndarray of shape (n_params,)
        Start.
    max_iter : int
        Outer iterations at most (accepted and rejected steps both count).
    tol : float
        Stop when ``||g|| <= tol * grad_ref``.
    grad_ref : float, optional
        ``||g||`` at the reference point (zero); default: at ``theta0``.
    max_cg : int, optional
        CG steps per outer iteration at most; default ``n_params`` (CG's exact termination).
    callback : callable, optional
        ``callback(it, f, ratio, n_cg)`` after every outer iteration.

    Returns
    -------
    NewtonResult
    """
    # the CG's vector work is O(n_params) per step; BLAS threads idling on the cores that the
    # parallel kernels need cost more than they save (the contention minimize_lbfgs avoids too)
    with threadpool_limits(1, user_api="blas"):
        return _trust_ncg(fun, hess_at, theta0, max_iter, tol, grad_ref, max_cg, callback)


def _trust_ncg(fun, hess_at, theta0, max_iter, tol, grad_ref, max_cg, callback):
    """The outer loop of :func:`minimize_trust_ncg` (same parameters)."""
    x = np.array(theta0, dtype=np.float64)
    f, g = fun(x)
    gnorm = float(np.linalg.norm(g))
    ref = gnorm if grad_ref is None else float(grad_ref)
    ref = ref if ref > 0 else 1.0  # zero gradient at zero: any point with g = 0 is optimal
    max_cg = x.size if max_cg is None else int(max_cg)
    line_search = getattr(hess_at, "line_search", None)
    # trial points from the logits the products summed (LogisticHessian.trial): no gather pass
    on_step, trial = getattr(hess_at, "on_step", None), getattr(hess_at, "trial", None)
    scale_step = getattr(hess_at, "scale_step", None)
    # The paper starts from delta = ||g(theta0)||. In the mean form that is tiny on weakly
    # regularised problems (binary CSR 200 000 x 2**17, C=1: five iterations of one CG step each,
    # the radius growing 4x a time, 0.6 s of a 2.1 s fit). The first step is instead the inexact
    # Newton step itself, and the paper's first-iteration rule (delta = min(delta, ||s||)) then
    # sets the radius from it. From zero coefficients the binary model's Hessian is at its
    # largest (p (1 - p) <= 1/4, equality at z = 0), so that step cannot overshoot there.
    delta = np.inf
    it = n_hessp = 0
    hessp = None
    while gnorm > tol * ref and it < max_iter:
        if hessp is None:
            hessp = hess_at(x)
        s, r, n = _steihaug_cg(g, hessp, delta, max_cg, min(XI, np.sqrt(gnorm / ref)), on_step)
        n_hessp += n
        it += 1
        gs = float(g @ s)
        sHs = -gs - float(s @ r)  # s.H s from the CG residual r = -g - H s
        alpha = line_search(x, s, gs) if n == 1 and line_search is not None else None
        if alpha is not None:
            s, gs, sHs = alpha * s, alpha * gs, alpha * alpha * sHs
            if scale_step is not None:
                scale_step(alpha)
        prered = -(gs + 0.5 * sHs)  # -q(s)
        snorm = float(np.linalg.norm(s))
        known = trial(x + s) if trial is not None else None
        f_new, g_new = known if known is not None else fun(x + s)
        gnorm_new = float(np.linalg.norm(g_new))
        actred, prered = _judge(f, f_new, prered, gnorm, gnorm_new)
        if alpha is not None and actred > 0:
            # a line-search step's length came from f itself, not from the model (which, beyond
            # twice the Newton length, even predicts an increase): a decrease is a full success
            prered = actred
        if it == 1:
            delta = min(delta, snorm)  # the paper: do not start larger than the first step
        delta = _next_radius(delta, snorm, gs, actred, prered)
        if actred > ETA0 * prered:
            x += s
            f, g, gnorm = f_new, g_new, gnorm_new
            hessp = None
        if callback is not None:
            callback(it, f, gnorm / ref, n)
        if snorm == 0.0 and hessp is not None:
            break  # CG made no step (zero curvature budget): nothing more can be done
    return NewtonResult(x, float(f), it, n_hessp, gnorm / ref, bool(gnorm <= tol * ref))
