"""Logistic regression: the sigmoid, the cross-entropy gradient, the 0.5 decision boundary.

The gradient is fastlin's fused loss-and-gradient kernel (:mod:`fastlin.kernels.logistic`, the
pass behind ``LogisticRegression(solver="lbfgs")``), checked against the lecture's formula and
against central finite differences of the loss the same kernel returns.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ...kernels.logistic import logistic_loss_grad_serial, n_chunks_for
from ...linear_model import LogisticRegression
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "loss_and_gradient", "finite_difference", "GRAD_TOL"]

N, D = 200, 2
#: Largest relative difference allowed between the kernel's gradient and the others.
GRAD_TOL = 1e-6


def problem(seed):
    """Two overlapping Gaussian clouds in 2-D, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=N) < 0.5).astype(float)
    X = rng.standard_normal((N, D)) + np.where(y[:, None] == 1, [1.2, 0.8], [-0.8, -1.0])
    return np.ascontiguousarray(X), y


def loss_and_gradient(X, y, w, b):
    """Mean cross-entropy −(1/N)Σ[y log σ(z) + (1 − y) log(1 − σ(z))], z = w·x + b, and its
    gradient in (w, b), from fastlin's kernel."""
    coef, icpt = np.array([w], dtype=float), np.array([b], dtype=float)
    work = np.zeros((n_chunks_for(len(y), 1, X.shape[1]), 1, X.shape[1] + 1))
    grad = np.zeros((1, X.shape[1] + 1))
    f = logistic_loss_grad_serial(X, y, np.ones(len(y)), coef, icpt, 0.0, 1.0 / len(y), work,
                                  grad)
    return float(f), grad[0].copy()


def finite_difference(X, y, w, b, h=1e-6):
    """Central differences of the kernel's loss in each of w₁ … w_D, b."""
    theta = np.r_[w, b]
    out = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = h
        up = loss_and_gradient(X, y, (theta + e)[:-1], (theta + e)[-1])[0]
        down = loss_and_gradient(X, y, (theta - e)[:-1], (theta - e)[-1])[0]
        out[j] = (up - down) / (2 * h)
    return out


def _draw(plt, X, y, clf):
    fig, (a, b) = new_figure(plt, 2, width=13.5, height=5.2)
    z = np.linspace(-8, 8, 400)
    a.plot(z, expit(z), color="tab:blue", lw=2.5, label="σ(z) = 1 / (1 + e⁻ᶻ)")
    a.axhline(0.5, color="0.4", ls="--", lw=1, label="σ = 0.5 at z = 0")
    a.set(xlabel="z = w·x + b", ylabel="p̂(y = 1 | x) = σ(z)", title="The sigmoid",
          ylim=(-0.05, 1.05))
    a.legend(loc="upper left")
    lim = (-4.5, 4.5)
    g = np.linspace(*lim, 200)
    gx, gy = np.meshgrid(g, g)
    p = clf.predict_proba(np.c_[gx.ravel(), gy.ravel()])[:, 1].reshape(gx.shape)
    cs = b.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.45)
    fig.colorbar(cs, ax=b, label="p̂(y = 1 | x)")
    b.contour(gx, gy, p, levels=[0.5], colors="black", linewidths=2.5)
    for label, mark, color in ((1, "o", "tab:blue"), (0, "s", "tab:red")):
        sel = y == label
        b.scatter(X[sel, 0], X[sel, 1], marker=mark, s=22, color=color, edgecolor="white",
                  lw=0.5, label=f"y = {label}")
    b.plot([], [], color="black", lw=2.5, label="p̂ = 0.5: w·x + b = 0")
    b.set(xlim=lim, ylim=lim, xlabel="feature x₁", ylabel="feature x₂", aspect="equal",
          title="Decision boundary: ŷ = 1 if p̂(y = 1 | x) > 0.5")
    b.legend(loc="lower right")
    return fig


def _boundary_checks(clf, X):
    w, b0 = clf.coef_.ravel(), clf.intercept_[0]
    p = clf.predict_proba(X)[:, 1]
    agree = bool(np.array_equal(clf.predict(X), np.where(p > 0.5, 1.0, 0.0)))
    t = np.linspace(-3, 3, 7)  # points on the line w·x + b = 0
    on_line = np.c_[t, -(b0 + w[0] * t) / w[1]]
    return agree, float(np.max(np.abs(clf.predict_proba(on_line)[:, 1] - 0.5)))


def run(seed, plt):
    """Gradient check at a random (w, b); boundary checks of a fitted model."""
    X, y = problem(seed)
    rng = np.random.default_rng(seed + 1)
    w, b = rng.standard_normal(D), float(rng.standard_normal())
    _, g_kernel = loss_and_gradient(X, y, w, b)
    resid = expit(X @ w + b) - y  # the lecture's (σ(w·x) − y) x, averaged over the points
    g_formula = np.r_[X.T @ resid, resid.sum()] / N
    g_fd = finite_difference(X, y, w, b)
    rel = lambda u: float(np.max(np.abs(u - g_kernel)) / np.max(np.abs(g_kernel)))  # noqa: E731
    clf = LogisticRegression(C=100.0).fit(X, y)
    agree, off_half = _boundary_checks(clf, X)
    holds = bool(rel(g_formula) < GRAD_TOL and rel(g_fd) < GRAD_TOL and agree
                 and off_half < 1e-9)
    numbers = {"N": N, "w": w.tolist(), "b": b, "gradient_kernel": g_kernel.tolist(),
               "gradient_formula": g_formula.tolist(), "gradient_finite_diff": g_fd.tolist(),
               "rel_diff_formula": rel(g_formula), "rel_diff_finite_diff": rel(g_fd),
               "tolerance": GRAD_TOL, "fitted_coef": clf.coef_.ravel().tolist(),
               "fitted_intercept": float(clf.intercept_[0]),
               "predict_equals_proba_gt_half": agree, "max_abs_p_minus_half_on_line": off_half,
               "training_accuracy": float(clf.score(X, y))}
    headline = (f"gradient vs (σ(w·x) − y)x: {rel(g_formula):.0e}, vs finite differences: "
                f"{rel(g_fd):.0e}; p̂ on the line w·x + b = 0 is 0.5 ± {off_half:.0e}")
    return Finding(holds, headline, numbers, _draw(plt, X, y, clf))


DEMO = Demonstration(
    name="logistic",
    title="Logistic regression",
    statement=(
        "p̂(y = 1 | x) = σ(w·x) with σ(z) = 1/(1 + e⁻ᶻ), which squeezes z into (0, 1); the class "
        "is 1 when p̂ > 0.5. The loss is the cross-entropy −[y log σ(w·x) + (1 − y) log(1 − "
        "σ(w·x))], whose derivative for one point is (σ(w·x) − y)xⱼ, summed over the points."),
    check=(
        f"fastlin's logistic kernel gradient equals the formula and central finite differences "
        f"to a relative {GRAD_TOL:g}; a fitted LogisticRegression predicts 1 exactly where "
        "p̂ > 0.5, and p̂ = 0.5 (to 10⁻⁹) on the line w·x + b = 0."),
    run=run,
)
