"""The arithmetic of the report: power-law fits, the cost model and crossovers.

Pure functions of numbers (tested on synthetic timings): a log-log least-squares fit
(:func:`fit_power_law`), the crossover where a ratio of times passes 1
(:func:`crossover_from_ratios`), and the cost model with fitted constants

    T_closed(N, D) = a · N · D² + b · D³,      T_sgd(N, D) = E(N, D) · c · N · D,
    E(N, D) = max(1, k · D / N)

(:func:`fit_constants`, :func:`model_times`, :func:`predict_crossover`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "fit_power_law",
    "model_slope",
    "crossover_from_ratios",
    "model_times",
    "predict_crossover",
    "fit_constants",
]


def fit_power_law(x, t):
    """Least-squares fit of log t = p log x + log C.

    Parameters
    ----------
    x, t : array-like of shape (n_points,)
        Positive sizes and times (non-positive or non-finite pairs are ignored).

    Returns
    -------
    exponent : float or None
        ``p``; None with fewer than two usable points or a single distinct x.
    constant : float or None
        ``C``.
    r2 : float or None
        Coefficient of determination of the log-log fit (1 for an exact power law).
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(t) & (x > 0) & (t > 0)
    lx, lt = np.log(x[ok]), np.log(t[ok])
    if lx.size < 2 or np.ptp(lx) == 0:
        return None, None, None
    p, c = np.polyfit(lx, lt, 1)
    resid = lt - (p * lx + c)
    ss_tot = float(np.sum((lt - lt.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return float(p), float(math.exp(c)), r2


def model_slope(xs, cost):
    """Log-log slope of a cost model over the sweep's own points (the theory of a mixed series)."""
    p, _, _ = fit_power_law(xs, cost)
    return p


def crossover_from_ratios(x, ratio):
    """Where ``ratio`` (SGD time / closed-form time) crosses 1, interpolated in log-log.

    Parameters
    ----------
    x, ratio : array-like of shape (n_points,)
        Sizes and time ratios; non-positive or non-finite pairs are ignored.

    Returns
    -------
    x_cross : float or None
        The first crossing (None when the ratio stays on one side of 1).
    direction : str
        "sgd_cheaper_above" (ratio falls through 1 as x grows), "sgd_cheaper_below",
        "sgd_cheaper_throughout", "closed_form_cheaper_throughout" or "no_data".
    """
    x = np.asarray(x, dtype=np.float64)
    r = np.asarray(ratio, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(r) & (x > 0) & (r > 0)
    x, r = x[ok], r[ok]
    if x.size == 0:
        return None, "no_data"
    order = np.argsort(x)
    x, lr = np.log(x[order]), np.log(r[order])
    for i in range(len(x) - 1):
        a, b = lr[i], lr[i + 1]
        if a == 0.0:
            return float(math.exp(x[i])), "sgd_cheaper_above" if b < 0 else "sgd_cheaper_below"
        if a * b < 0:
            f = a / (a - b)
            xc = math.exp(x[i] + f * (x[i + 1] - x[i]))
            return xc, "sgd_cheaper_above" if b < a else "sgd_cheaper_below"
    if lr[-1] == 0.0:
        return float(math.exp(x[-1])), "sgd_cheaper_above" if lr[0] > 0 else "sgd_cheaper_below"
    return None, "sgd_cheaper_throughout" if np.all(lr < 0) else "closed_form_cheaper_throughout"


def model_times(N, D, consts):
    """Cost model with fitted constants: (closed form seconds, SGD-to-tolerance seconds, epochs).

    ``consts`` has ``a`` (s per N·D², Gram), ``b`` (s per D³, Cholesky), ``c`` (s per N·D, one
    epoch) and ``k`` (epochs ≈ max(1, k·D/N)).
    """
    N = np.asarray(N, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    epochs = np.maximum(1.0, consts["k"] * D / N)
    t_cf = consts["a"] * N * D * D + consts["b"] * D**3
    t_sgd = epochs * consts["c"] * N * D
    return t_cf, t_sgd, epochs


def predict_crossover(consts, along, fixed_value, lo=1.0, hi=1e9):
    """The model's crossover along N (fixed D) or along D (fixed N), searched on [lo, hi].

    Returns ``(x_cross, direction)`` like :func:`crossover_from_ratios`, evaluated on a fine
    logarithmic grid (400 points per decade) so the answer is exact to 0.6 %.
    """
    if any(consts.get(k) is None or not consts[k] > 0 for k in ("a", "b", "c", "k")):
        return None, "no_data"
    grid = np.logspace(math.log10(lo), math.log10(hi), int(400 * math.log10(hi / lo)) + 1)
    if along == "N":
        t_cf, t_sgd, _ = model_times(grid, fixed_value, consts)
    else:
        t_cf, t_sgd, _ = model_times(fixed_value, grid, consts)
    return crossover_from_ratios(grid, t_sgd / t_cf)


def _geo_mean(values):
    v = [x for x in values if x is not None and x > 0 and math.isfinite(x)]
    return float(math.exp(sum(math.log(x) for x in v) / len(v))) if v else None


def fit_constants(series):
    """Constants of the cost model (geometric means of time / operation count over the points).

    ``a`` from the Gram points (s per N·D²), ``b`` from the Cholesky points (s per D³), ``c`` from
    the SGD epoch points (s per N·D), ``k`` from the SGD-to-tolerance points that needed several
    epochs: E = ceil(k·D/N) brackets k·D/N in (E − 1, E], so (E − ½)·N/D is taken per point.

    Parameters
    ----------
    series : list of dict
        The report's series (``name`` and ``points`` are read).

    Returns
    -------
    dict
        ``{"a", "b", "c", "k"}``, each None when its series has no usable point.
    """
    by = {}
    for s in series:
        by.setdefault(s["name"], []).extend(s["points"])
    a = _geo_mean([p["seconds"] / (p["N"] * p["D"] ** 2)
                   for p in by.get("gram", []) if p["seconds"]])
    b = _geo_mean([p["seconds"] / p["D"] ** 3 for p in by.get("cholesky", []) if p["seconds"]])
    c = _geo_mean([p["seconds"] / (p["N"] * p["D"])
                   for p in by.get("sgd_epoch", []) if p["seconds"]])
    pts = [p for p in by.get("sgd_to_tolerance", []) if p["reached"]]
    multi = [(p["epochs"] - 0.5) * p["N"] / p["D"] for p in pts if p["epochs"] >= 2]
    # With every point done in one epoch, k·D/N <= 1 there: k is at most the smallest N/D seen.
    k = _geo_mean(multi) if multi else (min(p["N"] / p["D"] for p in pts) if pts else None)
    return {"a": a, "b": b, "c": c, "k": k}
