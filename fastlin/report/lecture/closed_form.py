"""The normal equations give the optimum; gradient descent and SGD iterates converge to it.

The lecture's objective is L(w) = ½‖Xw − y‖² + λ/2‖w‖² (no intercept). fastlin's ``Ridge(alpha=λ,
fit_intercept=False)`` minimises ‖Xw − y‖² + λ‖w‖², the same minimiser, solved by Cholesky on
(XᵀX + λI) w = Xᵀy. ``SGDRegressor`` minimises the mean form (1/N)·L(w) with alpha = λ/N, again
the same minimiser: ``batch_size=None`` is full-batch gradient descent (one step per epoch),
``batch_size=1`` per-sample SGD (here with the averaged iterate, which converges with a constant η).
"""

from __future__ import annotations

import warnings

import numpy as np

from ...linear_model import Ridge, SGDRegressor
from .claim import Demonstration, Finding
from .figures import new_figure, note

__all__ = ["DEMO", "problem", "GRAD_TOL"]

N, D, LAM = 300, 6, 5.0
GD_STEPS, SGD_EPOCHS = 100, 30
#: ‖∇L(w*)‖ / ‖Xᵀy‖ must be below this at the closed form.
GRAD_TOL = 1e-10


def problem(seed):
    """Correlated features (condition number of XᵀX about 6) and a noisy linear target."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.7, 1.4, D)
    X = rng.standard_normal((N, D)) * scales
    X[:, 1] += 0.3 * X[:, 0]
    y = X @ rng.standard_normal(D) + 0.5 * rng.standard_normal(N)
    return X, y


def _iterates(X, y, est, steps, rng=None):
    """‖w_t − w*‖ after each call of ``partial_fit`` (each an epoch), from w = 0."""
    path = []
    for _ in range(steps):
        order = rng.permutation(len(y)) if rng is not None else slice(None)
        est.partial_fit(X[order], y[order])
        path.append(est.coef_.copy())
    return np.array(path)


def _draw(plt, epochs_gd, dist_gd, epochs_sgd, dist_sgd, grad_rel):
    fig, (ax,) = new_figure(plt, 1, width=9.5, height=5.2)
    ax.semilogy(epochs_gd, dist_gd, color="tab:blue", lw=2,
                label="gradient descent (batch_size=None), η = 1/L")
    ax.semilogy(epochs_sgd, dist_sgd, "o-", ms=4, color="tab:orange", lw=2,
                label="SGD, one point per step, averaged iterate")
    ax.set(xlabel="epoch (one pass over the N points; GD: one step)",
           ylabel="distance to the closed form ‖w − w*‖",
           title="Iterates converge to w* = (XᵀX + λI)⁻¹Xᵀy")
    ax.legend(loc="lower left")
    note(ax, f"at w*: ‖Xᵀ(Xw* − y) + λw*‖ / ‖Xᵀy‖ = {grad_rel:.1e}\nN = {N}, D = {D}, λ = {LAM:g}")
    return fig


def run(seed, plt):
    """Closed form, its gradient, and the distances of GD and SGD iterates to it."""
    X, y = problem(seed)
    w_star = Ridge(alpha=LAM, fit_intercept=False).fit(X, y).coef_.ravel()
    grad = X.T @ (X @ w_star - y) + LAM * w_star
    grad_rel = float(np.linalg.norm(grad) / np.linalg.norm(X.T @ y))
    numpy_rel = float(np.linalg.norm(w_star - np.linalg.solve(X.T @ X + LAM * np.eye(D), X.T @ y))
                      / np.linalg.norm(w_star))
    lip = float(np.linalg.eigvalsh(X.T @ X / N).max()) + LAM / N
    common = dict(penalty="l2", alpha=LAM / N, fit_intercept=False, shuffle=False, tol=None,
                  learning_rate="constant")
    gd = SGDRegressor(batch_size=None, eta0=1.0 / lip, **common)
    sgd = SGDRegressor(batch_size=1, eta0=0.2 / lip, average=True, **common)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any divergence warning would void the demonstration
        dist_gd = np.linalg.norm(_iterates(X, y, gd, GD_STEPS) - w_star, axis=1)
        rng = np.random.default_rng(seed)
        dist_sgd = np.linalg.norm(_iterates(X, y, sgd, SGD_EPOCHS, rng) - w_star, axis=1)
    scale = float(np.linalg.norm(w_star))
    holds = bool(grad_rel < GRAD_TOL and dist_gd[-1] < 1e-6 * scale
                 and dist_sgd[-1] < 0.05 * scale and dist_sgd[-1] < dist_sgd[0] / 5)
    numbers = {"N": N, "D": D, "lambda": LAM, "w_star": w_star.tolist(),
               "gradient_norm_relative": grad_rel, "gradient_tolerance": GRAD_TOL,
               "closed_form_vs_numpy_solve_relative": numpy_rel, "eta_gd": 1.0 / lip,
               "eta_sgd": 0.2 / lip, "gd_distance": dist_gd.tolist(),
               "sgd_distance": dist_sgd.tolist(), "w_star_norm": scale}
    headline = (f"‖∇L(w*)‖/‖Xᵀy‖ = {grad_rel:.1e}; after {GD_STEPS} GD steps ‖w − w*‖ = "
                f"{dist_gd[-1]:.1e}, after {SGD_EPOCHS} SGD epochs {dist_sgd[-1]:.1e}")
    fig = _draw(plt, np.arange(1, GD_STEPS + 1), dist_gd, np.arange(1, SGD_EPOCHS + 1),
                dist_sgd, grad_rel)
    return Finding(holds, headline, numbers, fig)


DEMO = Demonstration(
    name="closed_form",
    title="The closed form is the optimum; gradient descent gets there too",
    statement=(
        "For L(w) = ½‖Xw − y‖² + λ/2‖w‖², setting the gradient Xᵀ(Xw − y) + λw to zero gives "
        "w = (XᵀX + λI)⁻¹Xᵀy, exact. Gradient descent w⁽ᵗ⁾ ← w⁽ᵗ⁻¹⁾ − η∇L, and SGD (one point "
        "at a time), are iterative routes to the same minimum."),
    check=(
        f"At fastlin's closed form (Ridge, Cholesky) ‖Xᵀ(Xw − y) + λw‖ / ‖Xᵀy‖ < {GRAD_TOL:g}; "
        f"after {GD_STEPS} steps of gradient descent ‖w − w*‖ < 10⁻⁶‖w*‖; after {SGD_EPOCHS} "
        "epochs of SGD ‖w − w*‖ < 0.05‖w*‖ and 5 times smaller than after the first epoch."),
    run=run,
)
