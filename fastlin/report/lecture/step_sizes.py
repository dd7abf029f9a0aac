"""Good and bad step sizes: gradient descent with η too small, right, and too large.

Least squares, mean form f(w) = (1/2N)‖Xw − y‖², whose gradient is L-Lipschitz with L the largest
eigenvalue of XᵀX/N: a fixed step converges for η < 2/L (fastest near 1/L) and diverges beyond.
Each step is one ``partial_fit`` of ``SGDRegressor(batch_size=None, learning_rate="constant")``
(full-batch gradient descent). With η too large the estimator itself stops the run: fastlin warns
that the fit diverges (a ``ConvergenceWarning`` naming ``learning_rate`` and ``eta0``) as soon as a
loss derivative reaches 10¹², which this demonstration turns into an error with a warnings filter.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ...linear_model import SGDRegressor
from .claim import Demonstration, Finding
from .figures import new_figure, note

__all__ = ["DEMO", "problem", "descend", "FACTORS"]

N, D, STEPS = 200, 5, 60
#: η as a multiple of 1/L.
FACTORS = {"too small": 0.03, "right": 1.0, "too large": 3.0}


def problem(seed):
    """Standard-normal features, a noisy linear target; returns X, y, L and the optimum f*."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 0.3 * rng.standard_normal(N)
    lip = float(np.linalg.eigvalsh(X.T @ X / N).max())
    w_opt = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, lip, float(np.mean((X @ w_opt - y) ** 2) / 2)


def descend(X, y, eta, steps=STEPS):
    """f(w) after each gradient step from w = 0; stops at fastlin's divergence signal.

    Returns
    -------
    losses : list of float
    error : dict or None
        ``{"step", "type", "message"}`` when the estimator reported divergence.
    """
    est = SGDRegressor(batch_size=None, learning_rate="constant", eta0=eta, penalty=None,
                       fit_intercept=False, shuffle=False, tol=None)
    losses = [float(np.mean(y ** 2) / 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for step in range(1, steps + 1):
            try:
                est.partial_fit(X, y)
            except (ConvergenceWarning, ValueError) as exc:
                return losses, {"step": step, "type": type(exc).__name__, "message": str(exc)}
            losses.append(float(np.mean((X @ est.coef_ - y) ** 2) / 2))
    return losses, None


def _draw(plt, runs, lip, f_opt):
    fig, (ax,) = new_figure(plt, 1, width=10.5, height=5.4)
    colors = {"too small": "tab:blue", "right": "tab:green", "too large": "tab:red"}
    for label, (losses, err) in runs.items():
        eta = FACTORS[label] / lip
        gap = np.maximum(np.array(losses) - f_opt, 1e-18)
        ax.semilogy(np.arange(len(losses)), gap, "o-", ms=3, lw=2, color=colors[label],
                    label=f"η {label}: {FACTORS[label]:g}/L = {eta:.3f}")
        if err:
            ax.plot(len(losses) - 1, gap[-1], "X", ms=14, color="tab:red")
            ax.annotate(f"step {err['step']}: fastlin stops the fit\n({err['type']}: "
                        "'SGD is diverging ...\nlearning_rate=...constant..., eta0=...')",
                        (len(losses) - 1, gap[-1]), xytext=(-30, -30),
                        textcoords="offset points", ha="right", va="top", fontsize=10,
                        color="tab:red")
    ax.set(xlabel="iteration t (one gradient step on all N points)",
           ylabel="distance to the minimum f(w⁽ᵗ⁾) − f*  (log scale)",
           title="Good and bad step sizes: w⁽ᵗ⁾ ← w⁽ᵗ⁻¹⁾ − η∇f")
    ax.legend(loc="center right")
    note(ax, f"f(w) = (1/2N)‖Xw − y‖², minimum f* = {f_opt:.3f}\n"
             f"L = largest eigenvalue of XᵀX/N = {lip:.2f}\nconverges for η < 2/L",
         loc="upper left")
    return fig


def run(seed, plt):
    """The three runs; the verdict needs the slow, the fast and the stopped one."""
    X, y, lip, f_opt = problem(seed)
    runs = {label: descend(X, y, k / lip) for label, k in FACTORS.items()}
    (small, e_small), (right, e_right), (large, e_large) = runs.values()
    gap = lambda losses: (losses[-1] - f_opt) / (losses[0] - f_opt)  # noqa: E731
    named = e_large is not None and "learning_rate" in e_large["message"] and \
        "eta0" in e_large["message"]
    holds = bool(e_small is None and e_right is None and gap(right) < 1e-8
                 and gap(small) > 1e-2 and named and large[-1] > large[0])
    numbers = {"N": N, "D": D, "L": lip, "f_min": f_opt, "steps": STEPS,
               "eta": {k: v / lip for k, v in FACTORS.items()},
               "loss": {k: v[0] for k, v in runs.items()},
               "relative_gap_at_end": {"too small": gap(small), "right": gap(right)},
               "divergence": e_large}
    headline = (f"η = 1/L: gap {gap(right):.0e} after {STEPS} steps; η = 0.03/L: gap "
                f"{gap(small):.2f}; η = 3/L: fastlin stops at step "
                f"{e_large['step'] if e_large else '—'} "
                f"({e_large['type'] if e_large else 'no error'})")
    return Finding(holds, headline, numbers, _draw(plt, runs, lip, f_opt))


DEMO = Demonstration(
    name="step_sizes",
    title="Good and bad step sizes",
    statement=(
        "The learning rate η of w⁽ᵗ⁾ ← w⁽ᵗ⁻¹⁾ − η∇f is crucial for convergence: too small and the "
        "descent crawls, well chosen and it reaches the minimum quickly, too large and the steps "
        "overshoot the minimum and the loss grows without bound."),
    check=(
        f"{STEPS} full-batch steps from w = 0. η = 1/L: the gap f − f* shrinks by 10⁸ or more; "
        "η = 0.03/L: less than 100-fold; η = 3/L: the loss grows and fastlin stops the fit with "
        "its divergence message naming learning_rate and eta0."),
    run=run,
)
