"""Accelerated proximal gradient (FISTA) for ``f(theta) + sum_j w_j |theta_j|``, f smooth.

The smooth part is a callable ``fun(theta) -> (f, gradient)`` (for logistic regression, the
map-reduce objective :class:`fastlin.solvers.lbfgs.LogisticObjective`, so an in-memory array, chunks
and Dask blocks all get L1 and elastic-net through the same solver); the non-smooth part is a
weighted L1 norm with per-entry weights ``w_j >= 0`` (0 for an intercept). The algorithm:

* FISTA (Beck & Teboulle 2009): a proximal gradient step (soft-thresholding, which sets entries to
  exact zeros) from an extrapolated point ``y``, with momentum ``(t_k - 1) / t_{k+1}``;
* backtracking on the curvature estimate ``L`` with the local estimate of TFOCS (Becker, Candès &
  Grant 2011): ``2 (f(x+) - f(y) - g(y).d) / |d|^2``, or ``|d.(g(x+) - g(y))| / |d|^2`` once the
  objective difference is below rounding (the function test alone fails near the optimum at
  tol=1e-8 and would drive ``L`` up forever); ``L`` is lowered by 10 % per iteration so the
  step can grow again where the loss flattens (a heuristic: at worst one failed trial step, i.e.
  one extra pass, per log(2)/log(1/0.9) ~ 7 iterations; its gain is not yet measured);
* adaptive restart, gradient scheme (O'Donoghue & Candès 2015): the momentum is reset when it
  points uphill, ``(y - x+).(x+ - x) > 0``, which gives linear convergence on the locally strongly
  convex logistic objective instead of FISTA's O(1/k^2) ripples.

Stopping: the largest entry of the minimum-norm subgradient of the whole objective at the current
iterate (the KKT violation) ``<= tol``; without L1 weights this is exactly L-BFGS-B's ``gtol`` test,
so ``tol`` means the same for both solvers. Each accepted step costs one evaluation at ``x+`` (which
gives the gradient for the test for free) plus one at the extrapolated point, none after a restart.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["ProximalResult", "minimize_fista", "soft_threshold", "subgradient_norm"]

#: Per-iteration decrease of the curvature estimate (see the module docstring for the measurement).
_L_DECREASE = 0.9
#: Relative size under which ``f(x+) - f(y)`` is rounding noise and the gradient test is used.
_FUNCTION_TEST_CUTOFF = 1e-8


class ProximalResult(NamedTuple):
    """Outcome of :func:`minimize_fista`."""

    x: np.ndarray
    fun: float          # f(x) + sum_j w_j |x_j|
    nit: int            # accepted proximal steps
    optimality: float   # largest entry of the minimum-norm subgradient at x
    converged: bool     # optimality <= tol, or a step below float resolution
    n_evaluations: int


def soft_threshold(v, threshold):
    """``sign(v) * max(|v| - threshold, 0)``: the proximal map of ``threshold * |.|`` (exact 0s)."""
    # + 0.0 turns the -0.0 of a thresholded negative entry into +0.0
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0) + 0.0


def subgradient_norm(x, g, l1_weights):
    """Largest entry of the minimum-norm subgradient of ``f + sum_j w_j |x_j|`` at x (0: optimal).

    ``|g_j + w_j sign(x_j)|`` where ``x_j != 0``, ``max(|g_j| - w_j, 0)`` where ``x_j == 0``.
    """
    if x.size == 0:
        return 0.0
    viol = np.where(x != 0.0, np.abs(g + l1_weights * np.sign(x)),
                    np.maximum(np.abs(g) - l1_weights, 0.0))
    return float(np.max(viol))


def _initial_curvature(fun, x, g):
    """A secant estimate of the curvature along -g, floored at a tiny positive value."""
    gmax = float(np.max(np.abs(g)))
    dx = -g * (1e-3 / gmax) * max(1.0, float(np.max(np.abs(x))))
    _, g1 = fun(x + dx)
    return max(abs(float(dx @ (g1 - g))) / float(dx @ dx), 1e-12)


def _local_curvature(fy, gy, fn, gn, d, dd):
    """TFOCS's local estimate of the curvature between y and x+ = y + d (see the docstring)."""
    q = fn - fy - float(gy @ d)
    if abs(fy - fn) >= _FUNCTION_TEST_CUTOFF * max(abs(fn), abs(fy)):
        return 2.0 * q / dd
    return abs(float(d @ (gn - gy))) / dd


def _prox_step(fun, y, fy, gy, L, l1_weights):
    """Backtracking from y: returns ``(x+, f(x+), g(x+), L, n_evaluations)``; x+ is None when
    ``x+ == y`` (y is a fixed point of the proximal gradient map, i.e. optimal)."""
    n_eval = 0
    while True:
        step = 1.0 / L
        xn = soft_threshold(y - step * gy, step * l1_weights)
        d = xn - y
        dd = float(d @ d)
        if dd == 0.0:
            return None, fy, gy, L, n_eval
        fn, gn = fun(xn)
        n_eval += 1
        L_local = _local_curvature(fy, gy, fn, gn, d, dd)
        if L_local <= L * (1.0 + 1e-10) or not math.isfinite(L):
            return xn, fn, gn, L, n_eval
        if not math.isfinite(fn):
            L *= 10.0
        else:
            L = max(2.0 * L, L_local)


def minimize_fista(fun, theta0, l1_weights, *, max_iter, tol, callback=None):
    """Minimize ``fun(theta)[0] + sum_j l1_weights[j] |theta_j|`` from ``theta0``.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (f, gradient)`` of the smooth part (float, ndarray like theta).
    theta0 : ndarray of shape (n,)
    l1_weights : ndarray of shape (n,)
        Non-negative L1 weight of each entry (0 for an unpenalised entry).
    max_iter : int
        Accepted proximal steps at most (0: only the optimality of theta0 is measured).
    tol : float
        Stop when :func:`subgradient_norm` ``<= tol``.
    callback : callable, optional
        ``callback(iteration, objective, optimality)`` after every accepted step.

    Returns
    -------
    ProximalResult
    """
    x = np.array(theta0, dtype=np.float64)
    w = np.asarray(l1_weights, dtype=np.float64)
    f, g = fun(x)
    n_eval = 1
    opt = subgradient_norm(x, g, w)
    nit, converged = 0, opt <= tol
    if converged or max_iter == 0:
        return ProximalResult(x, f + float(w @ np.abs(x)), 0, opt, converged, n_eval)
    L = _initial_curvature(fun, x, g)
    n_eval += 1
    y, fy, gy, t = x, f, g, 1.0
    while nit < max_iter:
        xn, fn, gn, L, used = _prox_step(fun, y, fy, gy, L, w)
        n_eval += used
        nit += 1
        if xn is None:  # y is optimal; y == x unless momentum was on
            xn, fn, gn = y, fy, gy
        opt = subgradient_norm(xn, gn, w)
        if callback is not None:
            callback(nit, fn + float(w @ np.abs(xn)), opt)
        step = xn - x
        # a step below float resolution: the iterate cannot move any more (tol below rounding)
        stalled = float(np.max(np.abs(step))) <= 4 * np.finfo(float).eps * max(
            1.0, float(np.max(np.abs(xn))))
        if opt <= tol or stalled or not math.isfinite(fn):
            x, f = xn, fn
            converged = opt <= tol or stalled
            break
        if float((y - xn) @ step) > 0.0:  # momentum points uphill: restart
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        x, f, t = xn, fn, t_next
        if beta > 0.0:
            y = xn + beta * step
            fy, gy = fun(y)
            n_eval += 1
        else:
            y, fy, gy = xn, fn, gn
        L *= _L_DECREASE
    return ProximalResult(x, f + float(w @ np.abs(x)), nit, opt, converged, n_eval)
