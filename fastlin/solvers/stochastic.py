"""The ``sgd``/``minibatch`` (SAGA) and ``gd`` (proximal gradient) solvers of logistic regression.

Both minimise ``F = f + sum_j w_j |theta_j|`` with ``f`` the smooth mean-form objective of
:class:`fastlin.solvers.lbfgs.LogisticObjective`, and both stop on the same test as L-BFGS-B's
``gtol`` and the proximal solver's KKT check: the largest entry of the minimum-norm subgradient
(:func:`fastlin.solvers.proximal.subgradient_norm`) ``<= tol``. Their epochs run inside THE epoch
loop, :func:`fastlin.solvers.epochs.run_epochs`, through :func:`run_to_tolerance`.

* :func:`minimize_saga`: SAGA (Defazio, Bach & Lacoste-Julien 2014) over the rows, one row or a
  mini-batch per step (:mod:`fastlin.kernels.saga`). Chosen over averaged SGD because the
  variance of its steps vanishes at the optimum: with a constant step it converges linearly on this
  strongly convex objective (rate ``1 - min(1/(4n), mu/(3L))`` per step at ``gamma = 1/(3L)``),
  handles L1 and L2 exactly by the proximal map, and so reaches any ``tol`` instead of hovering at
  a distance O(gamma) (the former constant-step kernels ended 19 % to 4.3x above the optimum).
  Its gradient estimate ``gbar`` after an epoch is the mean of the rows' gradients at iterates of
  that epoch: free to test, and exact at a fixed point; an epoch that passes it is confirmed by
  one exact pass of the fused kernel before the run stops.
  A mini-batch's step is set by the expected smoothness ``L(b)`` of b-row sampling (Gazagnadou,
  Gower & Salmon 2019), mostly the full-batch ``L``; the intercepts step by ``c^2`` times the
  weights' step (:func:`intercept_scale`). On the benchmark's text-like CSR that took ``L`` from
  0.25 to 0.0017, the 256-row step from 1.55 to 6.96, and the epochs to a 1e-3 gap from 192 to 42
  (one-row SAGA: 42).
* :func:`minimize_gd`: proximal gradient descent in a fixed diagonal metric ``M`` (the
  intercept's column scaled, :func:`intercept_scale`); the trial step is Barzilai-Borwein's
  ``s.M^-1 s / s.y`` (at least ``1 / L``), accepted by the nonmonotone test of SpaRSA (Wright,
  Nowak & Figueiredo 2009; Grippo, Lampariello & Lucidi 1986) ``F(x+) <= max of the last 10
  F - 1e-4 |d|^2_{M^-1} / (2 step)`` or by the descent lemma ``f(x+) <= f(x) + g.d + |d|^2_{M^-1} /
  (2 step)``, else halved; at ``1 / L`` (``L`` from the power-iteration bound, in the metric) the
  descent lemma always holds, so the line search ends, and the nonmonotone scheme converges
  (Wright et al., Theorem 1). A constant ``1 / L`` alone needed thousands of passes on
  standardized breast-cancer data (condition number ~1e4). Measured on the benchmark's
  50 000 x 20 000 CSR (1e-3 gap): BB with a monotone descent-lemma test and no metric, 128
  iterations (1.8 s, 14 ms each, about two passes); the metric alone, 16
  iterations but 28 passes; the metric and the nonmonotone test, 16 iterations in 17 passes
  (0.21 s; scikit-learn saga 1.5 s). Nesterov acceleration was not needed: it takes two passes
  per iteration (the gradient at the extrapolated point and the value at the new one).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..kernels.classes import feature_major_layout
from ..kernels.saga import alias_table, lag_tables, saga_epoch, saga_init
from .epochs import Epoch, Stopping, check_finite_state, run_epochs
from .proximal import soft_threshold, subgradient_norm

__all__ = ["StochasticResult", "run_to_tolerance", "minimize_saga", "minimize_gd",
           "intercept_scale"]


class StochasticResult(NamedTuple):
    """Outcome of :func:`minimize_saga` / :func:`minimize_gd`."""

    x: np.ndarray
    fun: float          # F(x), exact
    nit: int            # epochs (SAGA) or accepted steps (gd)
    optimality: float   # largest entry of the minimum-norm subgradient at x, exact
    converged: bool


def run_to_tolerance(step, max_iter, *, verbose=False):
    """Run ``step(epoch) -> (converged, message)`` in :func:`run_epochs` until ``converged``.

    ``run_epochs`` stops after ``n_iter_no_change`` epochs that do not beat the best value; a
    threshold test is that rule with ``n_iter_no_change=1``, a monitored value that falls by 1 per
    epoch while not converged (so always improves by more than ``tol=0.5``) and ``+inf`` once
    converged (never improves). Returns ``(epochs run, converged)``.
    """
    def wrapped(epoch):
        done, message = step(epoch)
        return Epoch(math.inf if done else -float(epoch), message)

    return run_epochs(wrapped, max_iter, Stopping(0.5, 1), verbose=verbose, header=False)


def _l1_weights(objective, lam):
    w = np.zeros(objective.size)
    w[: objective.K * objective.D] = lam
    return w


def minimize_saga(fun, objective, X, codes, sw, theta0, *, lam, gamma, batch_size, seed,
                  max_iter, tol, probs=None, gamma_b=None, verbose=False, hint=""):
    """SAGA on ``objective + lam ||W||_1`` (intercepts unpenalised) over the rows of X.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (f, gradient)``: the exact smooth objective (``objective``, possibly
        wrapped by a first-call check), used for the confirmation passes and the result.
    objective : LogisticObjective
        Its ``K``, ``D``, ``scale`` (1 / S), ``l2`` (mu) and ``fit_intercept``.
    X : ndarray or CSR tuple
        The kernels' view of X (:func:`fastlin.data.kernel_X`).
    codes, sw : ndarray of shape (n,), float64
        Class codes and effective sample weights.
    theta0 : ndarray
    lam, gamma : float
        L1 strength (mean-form units) and step.
    gamma_b : float, optional
        Step of the intercepts (default ``gamma``): ``c^2 gamma`` runs SAGA on ``b / c``, the
        intercept's column of ones scaled to ``c`` (:func:`intercept_scale`).
    batch_size : int
        Rows per step (1: per-sample SAGA).
    seed : int
        Seed of the per-epoch permutations (same seed, same bits).
    probs : ndarray of shape (n,), optional
        Draw the rows with these probabilities (with replacement, ``n`` draws per epoch) instead
        of a permutation; the kernel reweights row i's term by ``1 / (n p_i)``.
    max_iter : int
        Epochs at most.
    tol : float
    verbose : bool
    hint : str
        Appended to the divergence error (names the step).

    Returns
    -------
    StochasticResult
    """
    n = codes.shape[0]
    K, D = objective.K, objective.D
    coef0, b0 = objective.split(theta0)
    # wide multi-class CSR: the (K, D) state feature-major (Fortran order), so that the K weights
    # of a stored entry share a cache line; the kernel indexes W[q, j] either way
    order = "F" if feature_major_layout(X, K, D) else "C"
    W, b = np.array(coef0, dtype=np.float64, order=order), np.array(b0, dtype=np.float64)
    u = np.ascontiguousarray(sw * (n * objective.scale))
    memory, gbar = np.empty((n, K)), np.empty((K, D + 1), order=order)
    delta, last = np.zeros((K, D + 1), order=order), np.zeros(D, dtype=np.int64)
    gamma_b = gamma if gamma_b is None else gamma_b
    weights = _l1_weights(objective, lam)
    pw, ge = lag_tables(-(-n // batch_size), gamma * objective.l2)
    saga_init(X, codes, u, W, b, memory, gbar)
    rng, rows = np.random.default_rng(seed), np.arange(n, dtype=np.int64)
    if probs is None:
        rscale, draw = np.ones(n), lambda: rng.permutation(rows)
    else:
        probs = np.asarray(probs, dtype=np.float64)
        accept, alias = alias_table(probs)
        rscale = 1.0 / (n * probs)

        def draw():  # alias method: one uniform gives the bin (integer part) and the coin
            v = rng.random(n) * n
            i = np.minimum(v.astype(np.int64), n - 1)  # (v < n, guarded against rounding)
            return np.where(v - i < accept[i], i, alias[i])
    found = {}

    def estimate():  # SAGA's gradient estimate of f at (W, b), without a pass over X
        g = (gbar[:, :D] + objective.l2 * W).ravel()
        if objective.fit_intercept:
            g = np.concatenate([g, gbar[:, D]])
        theta = objective.join(W, b)
        return theta, subgradient_norm(theta, g, weights)

    def exact(theta):
        with np.errstate(over="ignore"):  # huge weights: inf, then the divergence error
            f, g = fun(theta)
        return f + float(weights @ np.abs(theta)), subgradient_norm(theta, g, weights)

    theta, est = estimate()
    if max_iter == 0 or est <= tol:
        value, opt = exact(theta)
        if max_iter == 0 or opt <= tol:
            return StochasticResult(theta, value, 0, opt, opt <= tol)

    def step(epoch):
        saga_epoch(X, codes, u, draw(), batch_size, W, b, memory, gbar, delta, last, gamma,
                   gamma_b, objective.l2, lam, objective.fit_intercept, rscale, pw, ge)
        check_finite_state(epoch, hint, W, b)
        theta, est = estimate()
        found.update(theta=theta, value=None)
        message = f"saga epoch {epoch}: gradient estimate {est:.3g}"
        if est > tol:
            return False, message
        found["value"], found["opt"] = exact(theta)
        return found["opt"] <= tol, f"{message}, exact {found['opt']:.3g}"

    n_epochs, converged = run_to_tolerance(step, max_iter, verbose=verbose)
    if found["value"] is None:
        found["value"], found["opt"] = exact(found["theta"])
    return StochasticResult(found["theta"], found["value"], n_epochs, found["opt"], converged)


#: :func:`intercept_scale` rescales the intercept's column only below this squared scale.
_MIN_INTERCEPT_SHRINK = 0.5


def intercept_scale(sq, sw, n_features):
    """``c`` with ``c^2 = sum_i sw_i |x_i|^2 / (S n_features)`` when below 1/2, else 1.

    The full-batch smoothness of the mean-form loss is ``curv lambda_max(sum_i sw_i x~_i x~_i^T /
    S)``, and the intercept's column of ones alone puts ``1`` on its diagonal: on text-like CSR
    (mean squared feature column ``tr / D = 0.0025``, ``lambda_max`` of the features 0.0067) it
    made ``L`` 150 times the features' (1.01 against 0.0067), and so the steps of "gd" and of
    mini-batch SAGA (whose ``L(b)`` is mostly ``L``) 150 times too small for every weight.
    Optimising over ``b / c`` instead (the column of ones replaced by ``c``) is a fixed diagonal
    preconditioner: the intercept steps by ``c^2`` times the weights' step (scikit-learn's sparse
    SAG/SAGA damp it by a fixed 0.01 for the same reason). With the column's squared norm at the
    features' mean diagonal entry ``tr / D <= lambda_max``, the top eigenvalue of the rescaled
    Gram is at most twice the features'. ``c = 1`` when ``c^2 >= 1/2`` (standardized data).

    Parameters
    ----------
    sq : ndarray of shape (n,)
        ``|x_i|^2``.
    sw : ndarray of shape (n,)
    n_features : int

    Returns
    -------
    float
    """
    mean_diag = float(sw @ sq) / (max(float(sw.sum()), np.finfo(float).tiny) * max(n_features, 1))
    # c = 1 (no rescaled copy of X for the eigenvalue) unless the column would shrink by > 2 in
    # squared norm: standard-normal dense features (mean 0.995) keep their 200 000 x 100 copy-free
    return math.sqrt(mean_diag) if 0.0 < mean_diag < _MIN_INTERCEPT_SHRINK else 1.0


#: Nonmonotone acceptance of :func:`minimize_gd`: a step is accepted when F falls below the
#: largest of the last ``_GD_MEMORY`` accepted values by ``_GD_SIGMA |d|^2_{M^-1} / (2 step)``
#: (Grippo, Lampariello & Lucidi 1986; SpaRSA, Wright, Nowak & Figueiredo 2009).
_GD_MEMORY = 10
_GD_SIGMA = 1e-4


def minimize_gd(fun, theta0, l1_weights, lipschitz, *, max_iter, tol, scale=None, verbose=False,
                hint=""):
    """Proximal gradient descent with Barzilai-Borwein steps and backtracking (module docstring).

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (f, gradient)`` of the smooth part.
    theta0, l1_weights : ndarray of shape (n,)
    lipschitz : float
        An upper bound (estimate) of the smoothness constant of ``f`` in the metric ``scale``;
        ``1 / lipschitz`` is the smallest step tried before backtracking goes below it (only when
        the bound is too low).
    max_iter : int
        Accepted steps at most, each one an "epoch" of :func:`run_epochs`.
    tol : float
    scale : ndarray of shape (n,), optional
        A fixed diagonal preconditioner ``M`` (positive; ones where ``l1_weights`` is nonzero):
        the step is ``x+ = prox(x - step M g)``, i.e. proximal gradient on ``M^{-1/2} x``
        (:func:`intercept_scale`). Default: ones.

    Returns
    -------
    StochasticResult
    """
    # One BLAS thread for the vector products between passes, as in minimize_lbfgs: BLAS threads
    # spinning against the fused kernel's Numba workers made a 16-iteration fit on the
    # benchmark's CSR 0.85-1.3 s in some processes instead of 0.2 s (2 cores)
    with threadpool_limits(1, user_api="blas"):
        return _minimize_gd(fun, theta0, l1_weights, lipschitz, max_iter=max_iter, tol=tol,
                            scale=scale, verbose=verbose, hint=hint)


def _minimize_gd(fun, theta0, l1_weights, lipschitz, *, max_iter, tol, scale, verbose, hint):
    x = np.array(theta0, dtype=np.float64)
    w = np.asarray(l1_weights, dtype=np.float64)
    M = np.ones_like(x) if scale is None else np.asarray(scale, dtype=np.float64)
    Minv = 1.0 / M
    f, g = fun(x)
    opt = subgradient_norm(x, g, w)
    if opt <= tol or max_iter == 0:
        return StochasticResult(x, f + float(w @ np.abs(x)), 0, opt, opt <= tol)
    F0 = f + float(w @ np.abs(x))
    st = dict(x=x, f=f, g=g, opt=opt, step=1.0 / lipschitz, hist=[F0])

    def step(epoch):
        x, f, g, s = st["x"], st["f"], st["g"], st["step"]
        Fref = max(st["hist"])
        while True:
            xn = soft_threshold(x - s * (M * g), s * w)
            d = xn - x
            dMd = float(d @ (Minv * d))
            fn, gn = fun(xn)
            # nonmonotone test, or the descent lemma (which always holds at step <= 1 / L)
            if math.isfinite(fn) and (
                    fn + float(w @ np.abs(xn)) <= Fref - _GD_SIGMA * dMd / (2.0 * s)
                    + 1e-12 * abs(Fref)
                    or fn <= f + float(g @ d) + dMd / (2.0 * s) + 1e-12 * abs(f)):
                break
            if s * lipschitz < 1e-6 or not np.all(np.isfinite(xn)):
                check_finite_state(epoch, hint, np.array([fn]))
                break  # the bound is far off (rounding): accept the smallest step
            s *= 0.5
        check_finite_state(epoch, hint, xn)
        dg = gn - g
        sy = float(d @ dg)
        # BB1 step for the next trial, never below 1 / L (where the test is known to pass)
        st["step"] = max(dMd / sy, 1.0 / lipschitz) if sy > 0 else 1.0 / lipschitz
        Fn = fn + float(w @ np.abs(xn))
        st["hist"] = (st["hist"] + [Fn])[-_GD_MEMORY:]
        st.update(x=xn, f=fn, g=gn, opt=subgradient_norm(xn, gn, w))
        return st["opt"] <= tol, (f"gd iteration {epoch}: objective {Fn:.10g}, gradient "
                                  f"{st['opt']:.3g}")

    nit, converged = run_to_tolerance(step, max_iter, verbose=verbose)
    x = st["x"]
    return StochasticResult(x, st["f"] + float(w @ np.abs(x)), nit, st["opt"], converged)
