"""L2 shrinks every weight towards 0; L1 sets weights exactly to 0.

Both paths use the lecture's scale, ½‖Xw − y‖² + penalty, no intercept. Ridge: fastlin's
``Ridge(alpha=λ, fit_intercept=False)`` (penalty λ/2‖w‖² on the halved loss). Lasso: fastlin's
``enet_path(l1_ratio=1)``, whose objective (1/2N)‖y − Xw‖² + α‖w‖₁ is the lecture's
½‖Xw − y‖² + λ‖w‖₁ divided by N, so α = λ/N.
"""

from __future__ import annotations

import numpy as np

from ...linear_model import Ridge, enet_path
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "problem", "paths"]

N, D = 120, 8
LAMBDAS = np.logspace(-1, 4, 26)


def problem(seed):
    """Three informative features out of eight, unit-variance columns, noise 0.5."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    w = np.zeros(D)
    w[:3] = [3.0, -2.0, 1.0]
    return X, X @ w + 0.5 * rng.standard_normal(N)


def paths(X, y):
    """Ridge and lasso coefficients, shape (len(LAMBDAS), D) each, for increasing λ."""
    ridge = np.array([Ridge(alpha=lam, fit_intercept=False).fit(X, y).coef_.ravel()
                      for lam in LAMBDAS])
    alphas = LAMBDAS[::-1] / len(y)  # enet_path wants decreasing alphas
    _, coefs, _ = enet_path(X, y, l1_ratio=1.0, alphas=alphas, tol=1e-10, max_iter=10_000)
    return ridge, coefs.T[::-1]


def _panel(ax, coefs, zeros, title, ylabel):
    for j in range(D):
        ax.semilogx(LAMBDAS, coefs[:, j], lw=2, label=f"w{chr(0x2081 + j)}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set(xlabel="λ (penalty strength, log scale)", ylabel=ylabel, title=title)
    twin = ax.twinx()
    twin.step(LAMBDAS, zeros, where="mid", color="0.4", ls=":", lw=2)
    twin.set_ylabel("weights exactly 0 (dotted, count)", color="0.3")
    twin.set_ylim(-0.3, D + 0.3)
    twin.grid(False)


def _draw(plt, ridge, lasso, zr, zl):
    fig, (a, b) = new_figure(plt, 2, width=14.0, height=5.2)
    _panel(a, ridge, zr, "Ridge, λ/2‖w‖²: all weights shrink, none is 0", "weight w_d")
    _panel(b, lasso, zl, "Lasso, λ‖w‖₁: weights hit 0 one by one", "weight w_d")
    a.legend(loc="upper right", ncols=2)
    return fig


def run(seed, plt):
    """Paths, zero counts and the shrinkage of ‖w‖ along λ."""
    X, y = problem(seed)
    ridge, lasso = paths(X, y)
    zr = (ridge == 0.0).sum(axis=1)
    zl = (lasso == 0.0).sum(axis=1)
    norms = np.linalg.norm(ridge, axis=1)
    shrinks = bool(np.all(np.diff(norms) < 0))
    lam_max = float(np.max(np.abs(X.T @ y)))  # above it the lasso solution is w = 0
    holds = bool(zr.max() == 0 and shrinks and zl.max() == D and zl[0] < D
                 and np.any((zl > 0) & (zl < D)))
    numbers = {"N": N, "D": D, "lambdas": LAMBDAS.tolist(), "ridge_coefs": ridge.tolist(),
               "lasso_coefs": lasso.tolist(), "ridge_exact_zeros": zr.tolist(),
               "lasso_exact_zeros": zl.tolist(), "ridge_norms": norms.tolist(),
               "ridge_norm_decreasing": shrinks, "lasso_all_zero_from_lambda": lam_max}
    headline = (f"ridge: {zr.max()} exact zeros at any λ, ‖w‖ {norms[0]:.2f} → {norms[-1]:.3f}; "
                f"lasso: {zl[0]} zeros at λ = {LAMBDAS[0]:g}, {D} of {D} from λ ≈ {lam_max:.0f}")
    return Finding(holds, headline, numbers, _draw(plt, ridge, lasso, zr, zl))


DEMO = Demonstration(
    name="shrinkage",
    title="L2 shrinks, L1 zeroes",
    statement=(
        "Regularisation constrains the weights to be small: the L2 (ridge) penalty λ‖w‖² and the "
        "L1 (lasso) penalty λ|w|, with λ a hyper-parameter setting its intensity. Larger λ, "
        "simpler model: ridge pulls all weights towards 0; lasso sets weights exactly to 0."),
    check=(
        f"Over {len(LAMBDAS)} values of λ from {LAMBDAS[0]:g} to {LAMBDAS[-1]:g}: ridge has no "
        "exact zero at any λ and ‖w‖ decreases strictly with λ; lasso has fewer than D zeros at "
        "the smallest λ, some but not all zeros in between, all D weights 0 at the largest."),
    run=run,
)
