"""The cost of the closed form, O(D³ + D²N): a short timing against N and D with fitted exponents.

``Ridge(fit_intercept=False)`` on one BLAS thread, timed by process CPU time (which does not count
time the scheduler gave to other processes); each point is the median of :data:`REPEATS` fits after
a warm-up. With N ≫ D the D²N of forming XᵀX dominates, so the time should grow like N¹ at fixed
D and like D² at fixed N. The sizes are small; ``fastlin bench complexity`` tells the whole story
(larger sweeps, the D³ of the solve alone, the crossover with SGD).
"""

from __future__ import annotations

import time

import numpy as np

from ...linear_model import Ridge
from ..model import fit_power_law
from ..timing import thread_limit
from .claim import Demonstration, Finding
from .figures import new_figure

__all__ = ["DEMO", "N_SIZES", "D_SIZES", "BANDS"]

FIXED_D, N_SIZES = 128, [4000, 8000, 16000, 32000]
FIXED_N, D_SIZES = 8000, [128, 256, 512, 1024]
REPEATS = 3
#: Accepted ranges of the fitted exponents (theory: 1 along N, 2 along D with N ≫ D).
BANDS = {"N": (0.6, 1.4), "D": (1.5, 3.0)}


def _seconds(X, y):
    model = Ridge(alpha=1e-3, fit_intercept=False)
    model.fit(X, y)  # warm-up
    times = []
    for _ in range(REPEATS):
        t0 = time.process_time()
        model.fit(X, y)
        times.append(time.process_time() - t0)
    return float(np.median(times))


def _sweep(rng, shapes):
    out = []
    for n, d in shapes:
        X = rng.standard_normal((n, d))
        out.append(_seconds(X, X[:, 0] + rng.standard_normal(n)))
    return out


def _panel(ax, sizes, secs, fit, fixed, xlabel, theory):
    ax.loglog(sizes, np.array(secs) * 1e3, "o", ms=8, color="tab:red", label="measured (median)")
    xs = np.array(sizes, dtype=float)
    ax.loglog(xs, fit["constant"] * xs ** fit["exponent"] * 1e3, "-", lw=2,
              color="tab:red", alpha=0.6,
              label=f"fit: time ∝ {xlabel[0]}^{fit['exponent']:.2f}  (theory {theory})")
    ax.set(xlabel=xlabel, ylabel="closed-form fit time (ms, CPU, log scale)",
           title=f"Closed form against {xlabel[0]}, {fixed}")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.legend(loc="upper left")


def run(seed, plt):
    """Two sweeps, two power-law fits."""
    rng = np.random.default_rng(seed)
    with thread_limit(1):
        n_secs = _sweep(rng, [(n, FIXED_D) for n in N_SIZES])
        d_secs = _sweep(rng, [(FIXED_N, d) for d in D_SIZES])
    fits = {"N": _fit(N_SIZES, n_secs), "D": _fit(D_SIZES, d_secs)}
    holds = all(lo <= fits[k]["exponent"] <= hi for k, (lo, hi) in BANDS.items())
    numbers = {"fixed_D": FIXED_D, "N_sizes": N_SIZES, "seconds_vs_N": n_secs,
               "fixed_N": FIXED_N, "D_sizes": D_SIZES, "seconds_vs_D": d_secs,
               "exponent_N": fits["N"]["exponent"], "r2_N": fits["N"]["r2"],
               "exponent_D": fits["D"]["exponent"], "r2_D": fits["D"]["r2"],
               "bands": {k: list(v) for k, v in BANDS.items()}, "blas_threads": 1,
               "repeats": REPEATS}
    headline = (f"time ∝ N^{fits['N']['exponent']:.2f} at D = {FIXED_D}, "
                f"∝ D^{fits['D']['exponent']:.2f} at N = {FIXED_N} (theory 1 and 2)")
    fig, (a, b) = new_figure(plt, 2, width=13.5, height=4.9)
    _panel(a, N_SIZES, n_secs, fits["N"], f"D = {FIXED_D}", "N (data points)", "1")
    _panel(b, D_SIZES, d_secs, fits["D"], f"N = {FIXED_N}", "D (features)", "2 while N ≫ D")
    return Finding(bool(holds), headline, numbers, fig)


def _fit(sizes, secs):
    exponent, const, r2 = fit_power_law(sizes, secs)
    if exponent is None:  # a clock that did not tick: no fit, the claim cannot be checked
        return {"exponent": float("nan"), "constant": float("nan"), "r2": float("nan")}
    return {"exponent": float(exponent), "constant": float(const), "r2": float(r2)}


DEMO = Demonstration(
    name="cost",
    title="The cost of the closed form: O(D³ + D²N)",
    statement=(
        "The closed form w = (XᵀX + λI)⁻¹Xᵀy is exact but costly: O(D³ + D²N) for D features and "
        "N data points (D²N to form XᵀX, D³ to solve the D × D system)."),
    check=(
        f"Fitted log-log exponents of the closed form's time: along N (D = {FIXED_D}) within "
        f"{BANDS['N']}, along D (N = {FIXED_N}) within {BANDS['D']}. Small sizes on a possibly "
        "busy machine, hence the wide bands; see fastlin bench complexity for the full report."),
    run=run,
)
