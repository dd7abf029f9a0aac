"""The report's ``series`` and ``crossover`` sections, built from the sweeps' timings.

A series is one step (Gram, Cholesky, closed form, one SGD epoch, SGD to tolerance) against N or
D: its points with achieved rates (GFLOP/s, GB/s and their share of the machine's peak), the fitted
log-log exponent with R², and the theoretical exponent beside it. A crossover entry compares the
closed form with SGD to tolerance along one sweep, measured and predicted by the cost model.
"""

from __future__ import annotations

import math

from .model import crossover_from_ratios, fit_power_law, model_slope, predict_crossover
from .plan import Plan
from .sweeps import TOLERANCE_SWEEPS, Timings
from .timing import spread

__all__ = ["SERIES_NAMES", "THEORY", "MIN_ASYMPTOTIC_SECONDS", "build_series",
           "build_crossovers", "crossover_entry"]

#: Series names of the report (the JSON's ``series[].name``).
SERIES_NAMES = ("gram", "cholesky", "closed_form", "sgd_epoch", "sgd_to_tolerance")

#: Theory exponents of the pure series (sweep variable -> exponent). The closed form's is the
#: slope of its flop count N·D² + D³/3 over the sweep's own points (see
#: :func:`fastlin.report.model.model_slope`), and SGD-to-tolerance's that of epochs · N · D with
#: the measured epoch counts.
THEORY = {
    ("gram", "N"): 1.0,
    ("gram", "D"): 2.0,
    ("cholesky", "D"): 3.0,
    ("sgd_epoch", "N"): 1.0,
    ("sgd_epoch", "D"): 1.0,
}

#: A timing below this is flagged as overhead-dominated in the report (call overhead of a
#: BLAS/LAPACK call through scipy is ~5-20 µs; at 1 ms it is below 2 % of the point).
MIN_ASYMPTOTIC_SECONDS = 1e-3

_CROSSOVER_NOTE = (
    "The model has one constant per step (a geometric mean over the sweeps). It leaves out the "
    "closed form's O(N*D) read and per-call overhead, which dominate at small D, and SGD's cache "
    "effects: consecutive epochs over an X that fits in cache run up to 2x faster than the "
    "cold single epochs that give c. Measured and predicted crossovers differ by those terms.")


def series_entry(name, vary, fixed, points, theory, theory_basis, regime):
    """One series of the report; points with ``in_fit`` false are shown but not fitted."""
    xs = [p[vary] for p in points]
    fit = [p for p in points if p["seconds"] is not None and p.get("in_fit", True)]
    exponent, const, r2 = fit_power_law([p[vary] for p in fit], [p["seconds"] for p in fit])
    overhead = [p[vary] for p in fit if p["seconds"] < MIN_ASYMPTOTIC_SECONDS]
    warning = (f" WARNING: points {overhead} took < {MIN_ASYMPTOTIC_SECONDS * 1e3:g} ms "
               "and are likely overhead-dominated." if overhead else "")
    return {
        "name": name,
        "vary": vary,
        "fixed": fixed,
        "points": points,
        "exponent": exponent,
        "r2": r2,
        "theory": theory,
        "theory_basis": theory_basis,
        "constant": const,
        "regime": regime + warning,
        "range": [min(xs), max(xs)] if xs else None,
        "fit_range": [min(p[vary] for p in fit), max(p[vary] for p in fit)] if fit else None,
    }


def build_series(plan: Plan, sweeps: dict, timings: Timings, peaks: dict, itemsize: int) -> list:
    """Every series of the report, in the report's order.

    Gram, closed form and SGD epoch against N, then against D; SGD to tolerance against N and
    along the crossover sweep; Cholesky against D.
    """
    series = []
    for key in ("N", "D"):
        series += _sweep_series(plan, key, sweeps[key], timings.medians, peaks, itemsize)
    for key in TOLERANCE_SWEEPS:
        series.append(_tolerance_series(plan, key, sweeps[key], timings.to_tolerance))
    series.append(_cholesky_series(plan, timings.medians, peaks))
    return series


def _sweep_series(plan, key, sweep, medians, peaks, itemsize):
    """The gram, closed_form and sgd_epoch series of the ``"N"`` or ``"D"`` sweep."""
    vary, fixed, pts = sweep
    g_pts, cf_pts, e_pts = [], [], []
    for i, (n, d) in enumerate(pts):
        cf, ep = medians[(key, i, "cf")], medians[(key, i, "sgd")]
        # The small N of the N-sweep are there for the crossover, outside the asymptotic regime.
        in_fit = key != "N" or n in plan.n_sweep_N
        g_pts.append(_gram_point(n, d, cf, peaks, itemsize, in_fit))
        cf_pts.append(_closed_form_point(n, d, cf, in_fit))
        e_pts.append(_epoch_point(n, d, ep, peaks, itemsize, in_fit))
    fit_pts = [(p["N"], p["D"]) for p in cf_pts if p["in_fit"]]
    cf_theory = model_slope([p[0] if vary == "N" else p[1] for p in fit_pts],
                            [n * d * d + d**3 / 3.0 for n, d in fit_pts])
    return [
        series_entry("gram", vary, fixed, g_pts, THEORY[("gram", vary)],
                     "N*D^2 flops (syrk: N*D^2/2 multiply-adds)",
                     "fastlin.engine.gram.gram: one pass, BLAS syrk on row blocks."),
        series_entry("closed_form", vary, fixed, cf_pts, cf_theory,
                     "log-log slope of N*D^2 + D^3/3 over these points",
                     "Gram + fastlin.solvers.normal.solve_normal of (X'X + N*alpha*I) w = X'y."),
        series_entry("sgd_epoch", vary, fixed, e_pts, THEORY[("sgd_epoch", vary)], "N*D",
                     "One per-sample averaged-SGD epoch (squared error + L2), kernel called "
                     "directly; GB/s of X read, against the one-core streaming read."),
    ]


def _gram_point(n, d, cf, peaks, itemsize, in_fit):
    flops = float(n) * d * d
    return {"N": n, "D": d, "seconds": cf["gram"], "gflops": flops / cf["gram"] / 1e9,
            "gbps": n * d * itemsize / cf["gram"] / 1e9,
            "peak_fraction": flops / cf["gram"] / 1e9 / peaks["gemm_gflops"],
            "spread": spread(cf["_samples"]["gram"]), "in_fit": in_fit}


def _closed_form_point(n, d, cf, in_fit):
    flops = float(n) * d * d + d**3 / 3.0
    return {"N": n, "D": d, "seconds": cf["closed_form"], "gram_seconds": cf["gram"],
            "solve_seconds": cf["solve"], "gflops": flops / cf["closed_form"] / 1e9,
            "wall_seconds": cf["wall"], "spread": spread(cf["_samples"]["closed_form"]),
            "in_fit": in_fit}


def _epoch_point(n, d, ep, peaks, itemsize, in_fit):
    gbps = n * d * itemsize / ep["sgd_epoch"] / 1e9
    return {"N": n, "D": d, "seconds": ep["sgd_epoch"], "gbps": gbps,
            "peak_fraction": gbps / peaks["read_gbps_1core"],
            "ns_per_element": ep["sgd_epoch"] / (n * d) * 1e9,
            "wall_seconds": ep["wall"], "spread": spread(ep["_samples"]["sgd_epoch"]),
            "in_fit": in_fit}


def _tolerance_series(plan, key, sweep, to_tolerance):
    """SGD to tolerance: against N on the N-sweep, against D on the crossover sweep."""
    vary, fixed, pts = sweep
    t_pts = [to_tolerance[(key, i)] for i in range(len(pts))]
    theory = model_slope([p[vary] for p in t_pts], [p["epochs"] * p["N"] * p["D"] for p in t_pts])
    regime = (f"Averaged SGD, step 1/(4 R^2), until the objective is within a relative "
              f"{plan.tol:g} of the closed-form optimum; seconds exclude the gap checks."
              + (" At small D the per-sample overhead, not N*D, dominates an epoch."
                 if key == "cross" else " Includes the small-N points (several epochs)."))
    return series_entry("sgd_to_tolerance", vary, fixed, t_pts, theory,
                        "log-log slope of epochs*N*D with the measured epoch counts", regime)


def _cholesky_series(plan, medians, peaks):
    ch_pts = []
    for j, d in enumerate(plan.chol_D):
        r = medians[("chol", j)]
        gf = d**3 / 3.0 / r["cholesky"] / 1e9
        ch_pts.append({"N": None, "D": d, "seconds": r["cholesky"], "gflops": gf,
                       "peak_fraction": gf / peaks["gemm_gflops"], "wall_seconds": r["wall"],
                       "spread": spread(r["_samples"]["cholesky"])})
    return series_entry(
        "cholesky", "D", {"N": None}, ch_pts, THEORY[("cholesky", "D")], "D^3/3",
        "fastlin.solvers.normal.solve_normal (LAPACK potrf + pocon + potrs) on a D x D SPD "
        "matrix; independent of N. OpenBLAS potrf's GFLOP/s keeps rising with D "
        "(O(D^2) panel work) until D of several thousand, which pulls the fitted "
        "slope below 3 while GEMM's GFLOP/s is flat.")


def build_crossovers(sweeps: dict, timings: Timings, consts: dict) -> list:
    """One crossover entry per sweep with SGD to tolerance (along N, then along D)."""
    crossovers = []
    for key in TOLERANCE_SWEEPS:
        vary, fixed, pts = sweeps[key]
        pairs = []
        for i, (n, d) in enumerate(pts):
            cf_seconds = timings.medians[(key, i, "cf")]["closed_form"]
            t = timings.to_tolerance[(key, i)]
            ratio = (t["seconds"] / cf_seconds) if t["seconds"] else math.nan
            pairs.append((n if vary == "N" else d, ratio, cf_seconds, t["seconds"], t["epochs"]))
        crossovers.append(crossover_entry(vary, fixed, pairs, consts,
                                          sweep="N-sweep" if key == "N" else "crossover sweep"))
    return crossovers


def crossover_entry(vary, fixed, pairs, consts, sweep=None):
    """The crossover along ``vary`` at ``fixed``: measured from ``pairs``, predicted by the model.

    Parameters
    ----------
    vary : {"N", "D"}
    fixed : dict
        The fixed size, e.g. ``{"D": 256}``.
    pairs : list of tuple
        Per point ``(x, sgd / closed-form ratio, closed-form seconds, SGD seconds, epochs)``.
    consts : dict
        :func:`fastlin.report.model.fit_constants`.
    sweep : str, optional
        Which sweep the points come from (for the text).
    """
    xs = [p[0] for p in pairs]
    x_meas, dir_meas = crossover_from_ratios(xs, [p[1] for p in pairs])
    x_pred, dir_pred = predict_crossover(consts, vary, list(fixed.values())[0])
    entry = {
        "along": vary,
        "fixed": fixed,
        "sweep": sweep or f"{vary}-sweep",
        "range": [min(xs), max(xs)] if xs else None,
        "measured": x_meas,
        "measured_direction": dir_meas,
        "predicted": x_pred,
        "predicted_direction": dir_pred,
        "points": [{vary: p[0], "closed_form_seconds": p[2], "sgd_to_tolerance_seconds": p[3],
                    "epochs": p[4], "ratio": p[1] if math.isfinite(p[1]) else None}
                   for p in pairs],
        "note": _CROSSOVER_NOTE,
    }
    if consts.get("a") and consts.get("c") and consts.get("k"):
        entry["rule"] = _model_rule(consts)
    return entry


def _model_rule(consts):
    """The model's rule in words: one epoch for N >= k*D, where SGD wins once D > c/a."""
    a, c, k = consts["a"], consts["c"], consts["k"]
    return (
        f"model: SGD to tolerance is cheaper when max(1, k*D/N)*c*N*D < a*N*D^2 + b*D^3, i.e. "
        f"for N >= k*D (one epoch) once D > c/a = {c / a:.0f}, and for N < k*D "
        f"once N > k*c/a = {k * c / a:.3g} (k = {k:.0f})"
    )
