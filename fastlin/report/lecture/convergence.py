"""Perceptron convergence: mistakes per epoch on separable data fall to 0; on XOR they never do.

Each step is one ``Perceptron.partial_fit`` on one point (starting from w = 0, b = 0), so a mistake
is counted exactly when the estimator updates; the final weights are checked against
``Perceptron(max_iter=epochs).fit`` on the same order.
"""

from __future__ import annotations

import numpy as np

from ...linear_model import Perceptron
from .claim import Demonstration, Finding
from .figures import new_figure, note

__all__ = ["DEMO", "separable_data", "XOR_X", "XOR_Y", "mistakes_per_epoch"]

EPOCHS = 15
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([-1, 1, 1, -1])


def separable_data(seed, n=40, margin=0.3):
    """``n`` points in [−1, 1]², by the side of a random line at least ``margin`` off it."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(2)
    u /= np.linalg.norm(u)
    X = np.empty((0, 2))
    while len(X) < n:
        cand = rng.uniform(-1, 1, (4 * n, 2))
        X = np.vstack([X, cand[np.abs(cand @ u - 0.1) >= margin]])
    X = X[:n]
    return X, np.where(X @ u - 0.1 > 0, 1, -1)


def mistakes_per_epoch(X, y, epochs):
    """Mistakes (updates) of each epoch, one ``partial_fit`` per point, and the final (w, b)."""
    clf = Perceptron(shuffle=False, tol=None)
    counts = []
    for _ in range(epochs):
        count = 0
        for i in range(len(y)):
            if hasattr(clf, "coef_"):
                a = float(clf.coef_.ravel() @ X[i] + clf.intercept_[0])
            else:
                a = 0.0
            clf.partial_fit(X[i:i + 1], y[i:i + 1], classes=[-1, 1])
            count += int(y[i] * a <= 0)
        counts.append(count)
    return counts, clf.coef_.ravel().copy(), float(clf.intercept_[0])


def _boundary(ax, w, b, lim):
    xs = np.linspace(*lim, 2)
    if abs(w[1]) > 1e-12:
        ax.plot(xs, -(w[0] * xs + b) / w[1], color="black", lw=2, label="w·x + b = 0")
    else:
        ax.axvline(-b / w[0] if w[0] else 0.0, color="black", lw=2, label="w·x + b = 0")


def _scatter(ax, X, y, title, w, b, lim):
    for label, mark, color in ((1, "o", "tab:blue"), (-1, "s", "tab:red")):
        sel = y == label
        ax.scatter(X[sel, 0], X[sel, 1], marker=mark, s=50, color=color, zorder=3,
                   label=f"y = {label:+d}".replace("-", "−"))
    _boundary(ax, w, b, lim)
    ax.set(xlim=lim, ylim=lim, xlabel="feature x₁", ylabel="feature x₂", title=title,
           aspect="equal")
    ax.legend(loc="lower left")


def _draw(plt, sep, xor):
    fig, axes = new_figure(plt, 3, width=15.0, height=4.9)
    (Xs, ys, cs, ws, bs), (cx, wx, bx) = sep, xor
    _scatter(axes[0], Xs, ys, f"Separable: w after {EPOCHS} epochs", ws, bs, (-1.1, 1.1))
    _scatter(axes[1], XOR_X, XOR_Y, "XOR: no line separates it", wx, bx, (-0.4, 1.4))
    ax = axes[2]
    epochs = np.arange(1, EPOCHS + 1)
    ax.plot(epochs, cs, "o-", color="tab:green", label=f"separable ({len(ys)} points)")
    ax.plot(epochs, cx, "s-", color="tab:purple", label="XOR (4 points)")
    ax.set(xlabel="epoch (one pass over the data)", ylabel="mistakes in the epoch (count)",
           title="Mistakes per epoch", xticks=epochs[::2])
    ax.set_ylim(bottom=-0.5)
    ax.legend(loc="upper right")
    return fig


def run(seed, plt):
    """Count mistakes per epoch on separable data and on XOR."""
    Xs, ys = separable_data(seed)
    cs, ws, bs = mistakes_per_epoch(Xs, ys, EPOCHS)
    cx, wx, bx = mistakes_per_epoch(XOR_X, XOR_Y, EPOCHS)
    ref = Perceptron(shuffle=False, tol=None, max_iter=EPOCHS).fit(Xs, ys)
    same_as_fit = bool(np.allclose(ref.coef_.ravel(), ws) and np.isclose(ref.intercept_[0], bs))
    first_zero = next((e + 1 for e, c in enumerate(cs) if c == 0), None)
    stays_zero = first_zero is not None and all(c == 0 for c in cs[first_zero - 1:])
    xor_errors = int(np.sum(XOR_Y * (XOR_X @ wx + bx) <= 0))
    holds = bool(stays_zero and min(cx) > 0 and xor_errors > 0 and same_as_fit)
    numbers = {"epochs": EPOCHS, "separable_mistakes": cs, "xor_mistakes": cx,
               "separable_first_epoch_without_mistake": first_zero,
               "separable_training_errors_at_end": int(np.sum(ys * (Xs @ ws + bs) <= 0)),
               "xor_training_errors_at_end": xor_errors, "min_xor_mistakes": int(min(cx)),
               "partial_fit_matches_fit": same_as_fit, "n_separable": int(len(ys))}
    headline = (f"separable: 0 mistakes from epoch {first_zero} on; XOR: at least {min(cx)} "
                f"mistakes in every one of {EPOCHS} epochs")
    fig = _draw(plt, (Xs, ys, cs, ws, bs), (cx, wx, bx))
    note(fig.axes[1], f"{xor_errors} of 4 points\nstill misclassified", loc="upper right")
    return Finding(holds, headline, numbers, fig)


DEMO = Demonstration(
    name="convergence",
    title="The perceptron converges on separable data, never on XOR",
    statement=(
        "The perceptron always converges when the points are linearly separable: after finitely "
        "many updates a pass makes no mistake (the 0/1 loss reaches its minimum, zero). It cannot "
        "go beyond linearly separable data: on XOR, no w, b with sign(w·x + b) right on all four "
        "points exists, so every pass makes mistakes."),
    check=(
        f"Mistakes per epoch over {EPOCHS} epochs, w = 0 and b = 0 at the start, no shuffling: on "
        "the separable set they reach 0 and stay 0; on XOR they are > 0 in every epoch. The "
        "point-by-point run equals Perceptron(max_iter=epochs).fit."),
    run=run,
)
