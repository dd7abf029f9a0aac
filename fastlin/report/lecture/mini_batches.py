"""Mini-batches: batch sizes 1, 32, 256 and the full batch, loss against samples seen and time.

``SGDRegressor(batch_size=b, learning_rate="constant")``; each ``partial_fit`` is one epoch (a pass
over the N points in a fresh order), so the samples seen after e epochs are e·N for every b. The
full batch makes one step per epoch, a batch of b makes N/b steps of the mean gradient of b points.
"""

from __future__ import annotations

import time

import numpy as np

from ...linear_model import SGDRegressor
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "BATCHES", "problem"]

N, D, EPOCHS = 4096, 20, 12
#: label -> (batch_size, η as a multiple of 1/L)
BATCHES = {"1": (1, 0.02), "32": (32, 0.3), "256": (256, 0.9), f"full ({N})": (None, 1.0)}


def problem(seed):
    """Standard-normal features, noisy linear target; returns X, y, L, f*."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 0.5 * rng.standard_normal(N)
    lip = float(np.linalg.eigvalsh(X.T @ X / N).max())
    w_opt = np.linalg.lstsq(X, y, rcond=None)[0]
    return X, y, lip, float(np.mean((X @ w_opt - y) ** 2) / 2)


def _curve(X, y, batch, eta, seed):
    est = SGDRegressor(batch_size=batch, learning_rate="constant", eta0=eta, penalty=None,
                       fit_intercept=False, shuffle=False, tol=None)
    rng = np.random.default_rng(seed)
    losses, seconds, elapsed = [float(np.mean(y ** 2) / 2)], [0.0], 0.0
    for _ in range(EPOCHS):
        order = rng.permutation(len(y))
        Xo, yo = X[order], y[order]
        t0 = time.perf_counter()
        est.partial_fit(Xo, yo)
        elapsed += time.perf_counter() - t0
        seconds.append(elapsed)
        losses.append(float(np.mean((X @ est.coef_ - y) ** 2) / 2))
    return losses, seconds


def _draw(plt, curves, f_opt):
    fig, (a, b) = new_figure(plt, 2, width=14.0, height=5.0)
    seen = np.arange(EPOCHS + 1) * N
    for label, (losses, seconds) in curves.items():
        gap = np.maximum(np.array(losses) - f_opt, 1e-16)
        a.semilogy(seen, gap, "o-", ms=4, lw=2, label=f"batch {label}")
        b.semilogy(np.array(seconds) * 1e3, gap, "o-", ms=4, lw=2, label=f"batch {label}")
    a.set(xlabel="samples seen (epochs × N)", ylabel="f(w) − f*   (log scale)",
          title="Progress per sample seen")
    b.set(xlabel="fit time (milliseconds, fit calls only)", ylabel="f(w) − f*   (log scale)",
          title="Progress per second")
    a.legend(loc="upper right", title="mini-batch size b")
    return fig


def run(seed, plt):
    """One curve per batch size; per sample seen small batches must be ahead of the full batch."""
    X, y, lip, f_opt = problem(seed)
    curves = {label: _curve(X, y, bs, k / lip, seed) for label, (bs, k) in BATCHES.items()}
    gaps = {label: [v - f_opt for v in losses] for label, (losses, _) in curves.items()}
    full = gaps[f"full ({N})"]
    all_descend = all(g[-1] < 0.1 * g[0] for g in gaps.values())
    ahead = all(gaps[k][1] < full[1] for k in ("1", "32", "256"))
    holds = bool(all_descend and ahead)
    numbers = {"N": N, "D": D, "epochs": EPOCHS, "L": lip, "f_min": f_opt,
               "eta": {k: v[1] / lip for k, v in BATCHES.items()},
               "gap_per_epoch": gaps, "seconds_per_epoch": {
                   k: (s[-1] / EPOCHS) for k, (_, s) in curves.items()}}
    g1 = {k: f"{v[1]:.2g}" for k, v in gaps.items()}
    headline = ("after one epoch f − f* = " + ", ".join(f"{v} (b = {k})" for k, v in g1.items())
                + f"; every batch size lowers the loss {EPOCHS} epochs on")
    return Finding(holds, headline, numbers, _draw(plt, curves, f_opt))


DEMO = Demonstration(
    name="mini_batches",
    title="Mini-batches",
    statement=(
        "SGD updates w with the gradient of one data point at a time; often the data are fed in "
        "batches of a few hundred points instead. Gradient descent uses all N points per step: "
        "after the same number of samples seen it has made far fewer steps."),
    check=(
        f"{EPOCHS} epochs over N = {N} points for b = 1, 32, 256 and the full batch (η tuned per "
        "b, a multiple of 1/L): each ends at least 10 times closer to f* than it started, and "
        "after one epoch b = 1, 32 and 256 are all closer to f* than the full batch. The time "
        "panel is shown, not judged: it depends on the machine."),
    run=run,
)
