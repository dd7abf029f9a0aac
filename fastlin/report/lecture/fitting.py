"""Under- and over-fitting: training and development error against λ and the number of features.

1-D inputs x, target sin(πx) + noise, features x, x², …, x^K (each standardised on the training
set). ``Ridge(alpha=λ)`` (intercept not penalised): training error rises with λ (the
constraint stops it following the training points), development error is high at both ends. λ is
picked where the development error is lowest, as the lecture prescribes.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...linear_model import Ridge
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "features", "LAMBDAS"]

N_TRAIN, N_DEV, DEGREE = 25, 200, 12
LAMBDAS = np.logspace(-8, 3, 23)
DEGREES = np.arange(1, 16)
TINY_LAMBDA = 1e-9


def _data(rng, n):
    x = rng.uniform(-1, 1, n)
    return x, np.sin(np.pi * x) + 0.3 * rng.standard_normal(n)


def features(x, degree, mean=None, std=None):
    """Columns x, x², …, x^degree, standardised with the given (training) mean and std."""
    F = np.vander(x, degree + 1, increasing=True)[:, 1:]
    mean = F.mean(axis=0) if mean is None else mean
    std = F.std(axis=0) if std is None else std
    return (F - mean) / std, mean, std


def _errors(tr, dev, degree, lam):
    Ftr, mean, std = features(tr[0], degree)
    Fdev, _, _ = features(dev[0], degree, mean, std)
    with warnings.catch_warnings():  # near-singular Gram at tiny λ: fastlin warns, falls back
        warnings.simplefilter("ignore")
        model = Ridge(alpha=lam).fit(Ftr, tr[1])
    mse = lambda F, y: float(np.mean((model.predict(F) - y) ** 2))  # noqa: E731
    return mse(Ftr, tr[1]), mse(Fdev, dev[1])


def _draw(plt, lam_err, deg_err, best):
    fig, (a, b) = new_figure(plt, 2, width=14.0, height=5.0)
    a.loglog(LAMBDAS, lam_err[:, 0], "o-", ms=4, lw=2, label="training error")
    a.loglog(LAMBDAS, lam_err[:, 1], "s-", ms=4, lw=2, label="development error")
    a.axvline(best, color="tab:green", ls="--", lw=2, label=f"λ picked on dev = {best:.0e}")
    a.set(xlabel="λ (log scale)", ylabel="mean squared error (log scale)",
          title=f"Degree {DEGREE}: over-fits at small λ, under-fits at large λ")
    a.text(LAMBDAS[1], lam_err[:, 1].max() * 0.5, "over-fitting", fontsize=11)
    a.text(LAMBDAS[-6], lam_err[:, 0].min() * 3, "under-fitting", fontsize=11)
    a.legend(loc="lower right")
    b.semilogy(DEGREES, deg_err[:, 0], "o-", ms=5, lw=2, label="training error")
    b.semilogy(DEGREES, deg_err[:, 1], "s-", ms=5, lw=2, label="development error")
    b.set(xlabel="number of features D (x, x², …, x^D)", ylabel="mean squared error (log scale)",
          title=f"λ = {TINY_LAMBDA:g}: more features, training error only falls",
          xticks=DEGREES[::2])
    b.legend(loc="upper center")
    return fig


def run(seed, plt):
    """Errors along λ and along D; the λ with the lowest development error."""
    rng = np.random.default_rng(seed)
    tr, dev = _data(rng, N_TRAIN), _data(rng, N_DEV)
    lam_err = np.array([_errors(tr, dev, DEGREE, lam) for lam in LAMBDAS])
    deg_err = np.array([_errors(tr, dev, d, TINY_LAMBDA) for d in DEGREES])
    k = int(np.argmin(lam_err[:, 1]))
    best = float(LAMBDAS[k])
    train_rises = bool(np.all(np.diff(lam_err[:, 0]) >= -1e-9 * lam_err[:, 0].max()))
    interior = 0 < k < len(LAMBDAS) - 1
    dev_u = bool(lam_err[k, 1] < 0.8 * lam_err[0, 1] and lam_err[k, 1] < 0.8 * lam_err[-1, 1])
    deg_best = int(DEGREES[np.argmin(deg_err[:, 1])])
    train_falls = bool(np.all(np.diff(deg_err[:, 0]) <= 1e-9))
    holds = bool(train_rises and interior and dev_u and train_falls
                 and deg_err[-1, 1] > 1.5 * deg_err[:, 1].min())
    numbers = {"n_train": N_TRAIN, "n_dev": N_DEV, "degree": DEGREE, "lambdas": LAMBDAS.tolist(),
               "train_error_vs_lambda": lam_err[:, 0].tolist(),
               "dev_error_vs_lambda": lam_err[:, 1].tolist(), "lambda_picked": best,
               "degrees": DEGREES.tolist(), "train_error_vs_degree": deg_err[:, 0].tolist(),
               "dev_error_vs_degree": deg_err[:, 1].tolist(), "degree_picked": deg_best,
               "train_error_nondecreasing_in_lambda": train_rises,
               "train_error_nonincreasing_in_degree": train_falls}
    headline = (f"dev error {lam_err[0, 1]:.3f} at λ = {LAMBDAS[0]:g}, {lam_err[k, 1]:.3f} at the "
                f"picked λ = {best:.0e}, {lam_err[-1, 1]:.3f} at λ = {LAMBDAS[-1]:g}; best D = "
                f"{deg_best} of {DEGREES[-1]}")
    return Finding(holds, headline, numbers, _draw(plt, lam_err, deg_err, best))


DEMO = Demonstration(
    name="fitting",
    title="Under- and over-fitting; λ chosen on a development set",
    statement=(
        "Under-fitting: the model had the chance to learn and did not. Over-fitting: it follows "
        "the idiosyncrasies of the training data and does not generalise. Regularisation (λ) "
        "trades one for the other; λ is a hyper-parameter, chosen on a development set held out "
        "from training."),
    check=(
        f"{N_TRAIN} training and {N_DEV} development points, degree-{DEGREE} polynomial ridge: "
        "training error never decreases as λ grows; the development error is lowest at an "
        "interior λ, at least 20 % below both ends. With more features (λ ≈ 0) training error "
        "never rises while the development error at D = 15 is 1.5 times its minimum or more."),
    run=run,
)
