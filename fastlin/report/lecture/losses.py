"""Loss functions against the margin y·a and the residual y − ŷ, and their convexity.

The curves are fastlin's own loss kernel (:func:`fastlin.kernels.losses.loss`, the function every
SGD fit calls) evaluated point by point; the 0/1 loss, which no fit minimises, is written here.
Convexity is tested by chords: f(t·u + (1 − t)·v) ≤ t·f(u) + (1 − t)·f(v) on random u, v, t.
"""

from __future__ import annotations

import numpy as np

from ..._registry import LOSSES
from ...kernels.losses import loss as kernel_loss
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "loss_values", "chord_violations"]

N_CHORDS = 5000
_MARGIN = np.linspace(-3, 3, 601)
_RESIDUAL = np.linspace(-3, 3, 601)


def loss_values(name, z):
    """The loss ``name`` at margins (classification) or residuals (regression) ``z``.

    ``"zero_one"`` is 1[y·a ≤ 0]; ``"squared_error"`` is (y − ŷ)², the lecture's MSE term (the
    kernel computes half of it); the others are the kernel's values.
    """
    z = np.asarray(z, dtype=float)
    if name == "zero_one":
        return (z <= 0).astype(float)
    code = LOSSES[name].code
    if LOSSES[name].task == "classification":  # a = z, y = +1: y·a = z
        vals = np.array([kernel_loss(code, float(v), 1.0, 0.0) for v in z])
    else:  # ŷ = 0, y = z: y − ŷ = z
        vals = np.array([kernel_loss(code, 0.0, float(v), 0.0) for v in z])
    return 2.0 * vals if name == "squared_error" else vals


def chord_violations(name, rng, n=N_CHORDS):
    """How many of ``n`` random chords on [−3, 3] pass below the curve; and one such chord."""
    u, v, t = rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.uniform(0, 1, n)
    mid = t * u + (1 - t) * v
    gap = t * loss_values(name, u) + (1 - t) * loss_values(name, v) - loss_values(name, mid)
    bad = np.flatnonzero(gap < -1e-12)
    example = [float(u[bad[0]]), float(v[bad[0]])] if bad.size else None
    return int(bad.size), example


_CLASSIFICATION = [("zero_one", "0/1: 1[y·a ≤ 0]", "black"),
                   ("hinge", "hinge: max(0, 1 − y·a)", "tab:blue"),
                   ("log_loss", "logistic: log(1 + e^(−y·a))", "tab:green"),
                   ("perceptron", "perceptron: max(0, −y·a)", "tab:orange")]
_REGRESSION = [("squared_error", "squared (MSE term): (y − ŷ)²", "tab:red"),
               ("absolute_error", "absolute (MAE term): |y − ŷ|", "tab:purple")]


def _chord(ax, name, u, v, color, label):
    ax.plot([u, v], loss_values(name, [u, v]), "--", color=color, lw=2, label=label)
    ax.plot([u, v], loss_values(name, [u, v]), "o", color=color, ms=6)


def _draw(plt):
    fig, (left, right) = new_figure(plt, 2, width=13.5, height=5.0)
    for name, label, color in _CLASSIFICATION:
        left.plot(_MARGIN, loss_values(name, _MARGIN), color=color, lw=2.2, label=label)
    _chord(left, "hinge", -2.0, 2.5, "tab:blue", "chord of the hinge: above the curve")
    _chord(left, "zero_one", -2.0, 1.0, "0.35", "chord of 0/1: below it on (−2, 0]")
    left.set(xlabel="margin y·a = y(w·x + b)   (y ∈ {−1, +1})", ylabel="loss of one point",
             title="Classification losses", ylim=(-0.2, 4.2))
    left.legend(loc="upper right")
    for name, label, color in _REGRESSION:
        right.plot(_RESIDUAL, loss_values(name, _RESIDUAL), color=color, lw=2.2, label=label)
    _chord(right, "squared_error", -1.5, 2.0, "tab:red", "a chord: above the curve (convex)")
    right.set(xlabel="residual y − ŷ", ylabel="loss of one point", title="Regression losses",
              ylim=(-0.2, 5.0))
    right.legend(loc="upper center")
    return fig


def run(seed, plt):
    """Chord tests for every loss drawn; the 0/1 loss must fail, the others must pass."""
    rng = np.random.default_rng(seed)
    names = [n for n, _, _ in _CLASSIFICATION + _REGRESSION]
    tests = {n: chord_violations(n, rng) for n in names}
    convex = [n for n in names if n != "zero_one"]
    holds = bool(all(tests[n][0] == 0 for n in convex) and tests["zero_one"][0] > 0)
    at_zero = {n: float(loss_values(n, [0.0])[0]) for n in names}
    numbers = {"chords": N_CHORDS, "violations": {n: tests[n][0] for n in names},
               "zero_one_violating_chord": tests["zero_one"][1], "loss_at_zero": at_zero,
               "hinge_at_margin_1": float(loss_values("hinge", [1.0])[0])}
    headline = (f"hinge, logistic, perceptron, squared, absolute: 0 of {N_CHORDS} chords below "
                f"the curve; 0/1: {tests['zero_one'][0]} (not convex)")
    return Finding(holds, headline, numbers, _draw(plt))


DEMO = Demonstration(
    name="losses",
    title="Loss functions and convexity",
    statement=(
        "The 0/1 loss 1[y(w·x + b) < 0] counts mistakes but is not convex, so calculus cannot "
        "minimise it. Convex surrogates are used instead: any chord of a convex function lies "
        "above it. For regression, MSE Σ(yₙ − ŷ)² and MAE Σ|yₙ − ŷ|; the hinge Σ max{0, 1 − yₙŷ} "
        "ignores confident correct predictions, MSE reacts super-linearly to large errors."),
    check=(
        f"{N_CHORDS} random chords on [−3, 3] per loss, evaluated with fastlin's loss kernel: no "
        "chord may pass below the hinge, logistic, perceptron, squared or absolute loss, and at "
        "least one must pass below the 0/1 loss."),
    run=run,
)
