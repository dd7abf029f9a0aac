"""The complexity report behind ``fastlin bench complexity``.

The lecture's claim is that the closed form is exact but costs O(D³ + D²N), and that SGD is the
general alternative at O(epochs · N · D). This module measures both on the machine it runs on:

* **closed form**, split into its two parts: the one-pass Gram accumulation
  (:func:`fastlin.engine.gram.gram`, theory N·D²) and the Cholesky solve
  (:func:`fastlin.solvers.normal.solve_normal`, theory D³/3), and their sum;
* **one SGD epoch** (the per-sample kernel of :mod:`fastlin.kernels.sgd`, theory N·D), and
  **SGD to tolerance**: epochs until the training objective is within a relative gap ``tol`` of the
  closed-form optimum of the same objective, which multiplies the epoch cost by the epoch count.

Each series is a sweep of N at fixed D or of D at fixed N, with sizes chosen in the asymptotic
regime (a BLAS call on a 30 × 30 matrix measures call overhead, not D²). Every point is the median
of ``repeats`` timings taken after a warm-up call, with Numba compilation done (and timed) before
any sweep starts. Three choices make the numbers hold on a shared, noisy 2-core machine:

* the repeats are taken in *rounds*: each round times every point of every sweep once, in a fresh
  random order, so a burst of load from another process lands on a minority of any point's
  samples (which the median then ignores) instead of bending one end of a slope;
* BLAS runs on one thread (``threads=1``, the default): per-core costs, like-for-like with the
  single-threaded SGD kernel, and no barrier stalls when another process takes a core (measured
  under load: Gram 4× slower on two threads than on one);
* with one thread the clock is the process's CPU time, which does not count time the scheduler
  gave to other processes; wall times are recorded beside it.

Then: log-log least-squares exponents with R² beside the theoretical exponents, achieved GFLOP/s
(Gram, Cholesky) and GB/s (SGD) beside the machine's own peaks measured by the same run (a large
GEMM; a streaming read), and the crossover where SGD to tolerance becomes cheaper than the closed
form — measured, and predicted from the fitted constants of the cost model

    T_closed(N, D) = a · N · D² + b · D³,      T_sgd(N, D) = E(N, D) · c · N · D,
    E(N, D) = max(1, k · D / N)                 (epochs to the relative gap ``tol``).

The SGD problem. Standard-normal features, y = X w + 0.5 + unit noise with ‖w‖ ≈ 1, objective
``mean((x·w + b − y)²)/2 + alpha/2 ‖w‖²`` (scikit-learn's SGDRegressor convention: squared error,
L2, intercept not penalised), solved exactly by the closed form with ridge alpha = N · alpha.
SGD is averaged SGD with the constant step 1 / (4 R²), R² = mean ‖x‖² (Bach & Moulines 2013:
for least squares this step with iterate averaging reaches an O(D / t) excess objective with no
tuning). The relative gap is checked after every epoch on the averaged iterate; that check is the
benchmark's oracle, not part of the algorithm, so it is not in the timed seconds.

Nothing here is imported by ``import fastlin``; matplotlib is imported only when a plot is asked for.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = [
    "Plan",
    "PRESETS",
    "SERIES_NAMES",
    "SweepTooLarge",
    "fit_power_law",
    "parse_sizes",
    "estimate_memory",
    "check_memory",
    "available_memory",
    "crossover_from_ratios",
    "predict_crossover",
    "check_writable",
    "atomic_write_bytes",
    "write_json",
    "write_plot",
    "run",
    "format_report",
]

#: Series names of the report (the JSON's ``series[].name``).
SERIES_NAMES = ("gram", "cholesky", "closed_form", "sgd_epoch", "sgd_to_tolerance")

#: Theory exponents of the pure series (sweep variable -> exponent). The closed form's is the
#: slope of its flop count N·D² + D³/3 over the sweep's own points (see :func:`_model_slope`), and
#: SGD-to-tolerance's that of epochs · N · D with the measured epoch counts.
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

#: Refuse a sweep whose estimated peak memory exceeds this share of the available memory.
MEMORY_FRACTION = 0.8


class SweepTooLarge(ValueError):
    """The sweep would not fit in memory; raised before anything large is allocated."""


# ------------------------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Sizes and settings of one complexity sweep.

    Attributes
    ----------
    name : str
        Preset name ("quick", "full", or "custom" after ``--sizes``).
    n_sweep_D : int
        D of the N-sweep (gram, closed_form, sgd_epoch, sgd_to_tolerance against N).
    n_sweep_N : tuple of int
        The N values in the asymptotic regime (the exponent fits use only these).
    n_extra : tuple of int
        Smaller N values added to the N-sweep for the crossover along N (where SGD needs many
        epochs and the closed form wins); shown, marked ``in_fit: false``, not fitted.
    d_sweep_N : int
        N of the D-sweep (the same four series against D).
    d_sweep_D : tuple of int
    chol_D : tuple of int
        D values of the Cholesky sweep (independent of N).
    cross_N : int
        N of the crossover sweep along D (closed form against SGD to tolerance).
    cross_D : tuple of int
    repeats : int
        Timed repeats per point (after one warm-up); the point is their median.
    tol : float
        Relative objective gap that SGD must reach.
    alpha : float
        L2 strength of the SGD objective (ridge alpha = N · alpha).
    max_epochs : int
        SGD gives up (and the point is marked unreached) after this many epochs.
    tol_repeats : int
        Timed repeats of a whole SGD-to-tolerance run.
    gemm_size : int
        Side of the square GEMM that measures the compute peak.
    stream_bytes : int
        Size of the array that measures the streaming-read peak (larger than the caches).
    """

    name: str
    n_sweep_D: int
    n_sweep_N: tuple
    n_extra: tuple
    d_sweep_N: int
    d_sweep_D: tuple
    chol_D: tuple
    cross_N: int
    cross_D: tuple
    repeats: int = 5
    tol: float = 1e-3
    alpha: float = 1e-4
    max_epochs: int = 60
    tol_repeats: int = 3
    gemm_size: int = 2048
    stream_bytes: int = 1 << 30

    def n_points(self):
        """All N values of the N-sweep, ascending (asymptotic ones and the extra small ones)."""
        return tuple(sorted(set(self.n_sweep_N) | set(self.n_extra)))


PRESETS = {
    # Under 2 minutes on a 2-core machine, cold compile included (about 45 s of CPU work at one
    # BLAS thread). Sizes are in each step's asymptotic regime as measured on that machine (one
    # BLAS thread, CPU time): Gram's syrk GFLOP/s levels off from D ≈ 400 (22 GFLOP/s at D = 200,
    # 31 at 400, 37-50 up to 1600), so the D-sweep spans 400-1600, and the N-sweep uses D = 256
    # and is fitted from N = 8000 (at N = 4000 a call's fixed overhead is still ~10 %). OpenBLAS
    # potrf's GFLOP/s keeps rising with D (16 at D = 1000, 23 at 2000, 31 at 4000, 33 at 5657,
    # while one-thread GEMM is flat at ~70): over 1000-4000 the fitted exponent is 2.55, over
    # 2000-5657 2.6-2.8, so the Cholesky sweep is 2000-5657 (8000 would cost 5 s a call). The
    # crossover sweep goes down to D = 4 on purpose: there the closed form's overhead shows.
    "quick": Plan(
        name="quick",
        n_sweep_D=256, n_sweep_N=(8_000, 16_000, 32_000, 64_000, 128_000, 256_000),
        n_extra=(1_000, 2_000, 4_000),
        d_sweep_N=4_000, d_sweep_D=(400, 566, 800, 1131, 1600),
        chol_D=(2000, 2828, 4000, 5657),
        cross_N=20_000, cross_D=(4, 8, 16, 32, 64, 128, 256, 512, 1024),
        repeats=5, tol_repeats=3, max_epochs=60,
        gemm_size=2048, stream_bytes=1 << 30,
    ),
    # Minutes: wider and denser sweeps, more repeats.
    "full": Plan(
        name="full",
        n_sweep_D=256, n_sweep_N=(8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000),
        n_extra=(1_000, 2_000, 4_000),
        d_sweep_N=8_000, d_sweep_D=(400, 566, 800, 1131, 1600, 2263, 3200),
        chol_D=(2000, 2828, 4000, 5657, 8000),
        cross_N=40_000, cross_D=(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
        repeats=9, tol_repeats=5, max_epochs=200,
        gemm_size=4096, stream_bytes=2 << 30,
    ),
    # Seconds: only for the test-suite (not in --help; reachable as --sizes preset=tiny).
    "tiny": Plan(
        name="tiny",
        n_sweep_D=16, n_sweep_N=(2000, 4000, 8000), n_extra=(500,),
        d_sweep_N=1000, d_sweep_D=(8, 16, 32),
        chol_D=(32, 64, 128),
        cross_N=2000, cross_D=(2, 4, 8),
        repeats=2, tol_repeats=1, max_epochs=30, tol=1e-2,
        gemm_size=128, stream_bytes=4 << 20,
    ),
}

_SIZE_KEYS = {
    # --sizes key: (Plan field, kind)
    "N": ("n_sweep_N", "list"),
    "N_extra": ("n_extra", "list0"),
    "fixed_D": ("n_sweep_D", "int"),
    "D": ("d_sweep_D", "list"),
    "fixed_N": ("d_sweep_N", "int"),
    "chol": ("chol_D", "list"),
    "cross_N": ("cross_N", "int"),
    "cross_D": ("cross_D", "list"),
    "repeats": ("repeats", "int"),
    "tol_repeats": ("tol_repeats", "int"),
    "max_epochs": ("max_epochs", "int"),
    "tol": ("tol", "float"),
    "alpha": ("alpha", "float"),
    "gemm": ("gemm_size", "int"),
    "stream_mb": ("stream_bytes", "mb"),
}

_SUFFIX = {"k": 10**3, "K": 10**3, "m": 10**6, "M": 10**6, "g": 10**9, "G": 10**9}


def _parse_int(text: str, key: str) -> int:
    t = text.strip()
    mult = 1
    if t and t[-1] in _SUFFIX:
        mult = _SUFFIX[t[-1]]
        t = t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise ValueError(f"--sizes {key}: {text!r} is not a number (examples: 2000, 2e5, 200k).") from None
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise ValueError(f"--sizes {key}: {text!r} must be a positive integer.")
    return int(value)


def parse_sizes(tokens, base: Plan) -> Plan:
    """Apply ``--sizes`` overrides to a plan.

    Parameters
    ----------
    tokens : list of str
        ``KEY=VALUE[,VALUE...]`` items, e.g. ``["N=1e4,2e4,4e4", "fixed_D=64", "chol=500,1000"]``.
        Keys: N, fixed_D (the N-sweep), N_extra (small N for the crossover along N; empty
        allowed), D, fixed_N (the D-sweep), chol (Cholesky D values),
        cross_N, cross_D (crossover sweep), repeats, tol_repeats, max_epochs, tol, alpha,
        gemm (GEMM side), stream_mb (streaming-read array, MiB), preset (quick, full, tiny: the
        base the other keys modify; must come first).
    base : Plan

    Returns
    -------
    Plan
        Named "custom" when anything was overridden.

    Raises
    ------
    ValueError
        For an unknown key or a malformed value (the message lists the valid keys).
    """
    plan = base
    changes = {}
    for item in tokens:
        for tok in str(item).split():
            if "=" not in tok:
                raise ValueError(f"--sizes expects KEY=VALUES items, got {tok!r}. Valid keys: "
                                 + ", ".join(["preset", *_SIZE_KEYS]) + ".")
            key, _, value = tok.partition("=")
            if key == "preset":
                if value not in PRESETS:
                    raise ValueError(f"--sizes preset={value!r}: unknown preset; valid: {', '.join(PRESETS)}.")
                if changes:
                    raise ValueError("--sizes preset=... must come before the other keys.")
                plan = PRESETS[value]
                continue
            if key not in _SIZE_KEYS:
                raise ValueError(f"--sizes: unknown key {key!r}. Valid keys: "
                                 + ", ".join(["preset", *_SIZE_KEYS]) + ".")
            attr, kind = _SIZE_KEYS[key]
            if kind in ("list", "list0"):
                vals = tuple(_parse_int(v, key) for v in value.split(",") if v.strip())
                if not vals and kind == "list":
                    raise ValueError(f"--sizes {key}: give at least one value.")
                changes[attr] = tuple(sorted(set(vals)))
            elif kind == "int":
                changes[attr] = _parse_int(value, key)
            elif kind == "mb":
                changes[attr] = _parse_int(value, key) << 20
            else:
                try:
                    v = float(value)
                except ValueError:
                    raise ValueError(f"--sizes {key}: {value!r} is not a number.") from None
                if not (math.isfinite(v) and v > 0):
                    raise ValueError(f"--sizes {key}: must be a positive number, got {value!r}.")
                changes[attr] = v
    if changes:
        plan = replace(plan, name="custom", **changes)
    return plan


# ------------------------------------------------------------------------------------------------
# Memory: estimate before allocating
# ------------------------------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(nbytes: float) -> str:
    if nbytes >= 1 << 30:
        return f"{nbytes / (1 << 30):.2f} GiB"
    return f"{nbytes / (1 << 20):.1f} MiB"


def estimate_memory(plan: Plan, itemsize: int = 8) -> tuple[int, dict]:
    """Peak bytes the sweep will allocate, and the peak of each phase.

    The machine-peak phase frees its arrays before the sweep allocates, so the peak is the larger
    phase. The sweep holds at once: the shared data buffer (every X is a contiguous prefix of it),
    a target vector, a permutation and SGD state per point, the permutations kept for the timed
    SGD-to-tolerance replays (at most ``max_epochs`` per point), the Cholesky test matrices, and
    the D×D statistics with the copies the solver makes (about 6 D² float64).
    """
    f8 = 8
    pts = ([(n, plan.n_sweep_D) for n in plan.n_points()] + [(plan.d_sweep_N, d) for d in plan.d_sweep_D]
           + [(plan.cross_N, d) for d in plan.cross_D])
    buf = max(n * d for n, d in pts) * itemsize
    per_point = sum(n * f8 * 3 + d * f8 * 4 for n, d in pts)  # y, sample weights, order; SGD state
    tol_pts = [(n, plan.n_sweep_D) for n in plan.n_points()] + [(plan.cross_N, d) for d in plan.cross_D]
    tol_orders = sum(n * f8 * plan.max_epochs for n, _ in tol_pts)
    d_max = max(d for _, d in pts)
    gram_scratch = 6 * d_max * d_max * f8 + 4 * 1024 * 1024
    chol = sum(d * d for d in plan.chol_D) * f8 + max(plan.chol_D) ** 2 * f8 * 4
    phases = {
        "machine peaks (GEMM operands, streaming-read array)": max(3 * plan.gemm_size**2 * itemsize,
                                                                  plan.stream_bytes),
        "sweeps (data buffer, targets, permutations, Cholesky matrices, D×D statistics)":
            buf + per_point + tol_orders + gram_scratch + chol,
    }
    return int(max(phases.values()) * 1.1), phases


def check_memory(plan: Plan, itemsize: int = 8, available: int | None = None) -> int:
    """Raise :class:`SweepTooLarge` (with the estimate) if the sweep would not fit; return the estimate."""
    need, phases = estimate_memory(plan, itemsize)
    if available is None:
        available = available_memory()
    if available is not None and need > MEMORY_FRACTION * available:
        worst = max(phases, key=phases.get)
        raise SweepTooLarge(
            f"Refusing to run: this sweep needs an estimated {_gib(need)} (largest phase: {worst}, "
            f"{_gib(phases[worst])}) but only {_gib(available)} of memory is available "
            f"(limit {MEMORY_FRACTION:.0%} of it). Choose smaller --sizes. Nothing was allocated."
        )
    return need


# ------------------------------------------------------------------------------------------------
# Fits and crossovers (pure functions: tested on synthetic numbers)
# ------------------------------------------------------------------------------------------------


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


def crossover_from_ratios(x, ratio):
    """Where ``ratio`` (SGD time / closed-form time) crosses 1, interpolated in log-log.

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


def _model_slope(xs, cost):
    """Log-log slope of a cost model over the sweep's own points."""
    p, _, _ = fit_power_law(xs, cost)
    return p


# ------------------------------------------------------------------------------------------------
# Output files: fail early, write atomically
# ------------------------------------------------------------------------------------------------


def check_writable(path: str, what: str) -> str:
    """Check before any work that ``path`` can be created; return its absolute form.

    Raises
    ------
    ValueError
        With a message naming the option and the reason (missing directory, no permission, a
        directory in the way).
    """
    apath = os.path.abspath(os.path.expanduser(path))
    parent = os.path.dirname(apath) or "."
    if os.path.isdir(apath):
        raise ValueError(f"{what} {path!r} is a directory; give a file name.")
    if not os.path.isdir(parent):
        raise ValueError(f"{what} {path!r}: directory {parent!r} does not exist.")
    try:
        fd, probe = tempfile.mkstemp(prefix=".fastlin-probe-", dir=parent)
    except OSError as exc:
        raise ValueError(f"{what} {path!r} is not writable: {exc.strerror or exc}.") from None
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(apath) and not os.access(apath, os.W_OK):
        raise ValueError(f"{what} {path!r} exists and is not writable.")
    return apath


def atomic_write_bytes(path: str, write) -> None:
    """Create ``path`` atomically: ``write(tmp_path)`` fills a temporary file beside it, then rename.

    A failure (or an interrupt) leaves no partial file: the temporary file is removed and ``path``
    keeps its previous content, if any.
    """
    apath = os.path.abspath(path)
    parent = os.path.dirname(apath)
    base, ext = os.path.splitext(os.path.basename(apath))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{ext}", dir=parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, apath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _finite(obj):
    """The report with NaN/inf replaced by None (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not math.isfinite(obj):
        return None
    return obj


def write_json(report: dict, path: str) -> None:
    """Write the report as strict JSON (NaN/inf as null), atomically."""
    text = json.dumps(_finite(report), indent=2, default=_json_default, allow_nan=False)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")

    atomic_write_bytes(path, write)


def check_plot_path(path: str) -> str:
    """Check early that matplotlib is importable and can write ``path``'s format; return the path."""
    plt = import_pyplot()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    fig = plt.figure()
    try:
        formats = fig.canvas.get_supported_filetypes()
    finally:
        plt.close(fig)
    if ext not in formats:
        raise ValueError(f"--plot {path!r}: unknown image format {ext!r}; use one of "
                         + ", ".join(sorted(formats)) + ".")
    return path


def import_pyplot():
    """Import matplotlib's pyplot on the non-interactive Agg backend, or raise a clear ImportError."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "--plot needs matplotlib, which is not installed. Install it with "
            "`pip install matplotlib` (or `pip install fastlin[plot]`), or leave out --plot."
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# ------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------


#: The clock of every timed point: CPU time of this process (``time.process_time``) when BLAS
#: runs on one thread, else wall time. With one thread the work is all on the calling thread, so
#: its CPU time is the work's duration minus the time the scheduler gave to other processes: on a
#: shared 2-core machine under load 4-9 the wall time of a Gram call varied 5x between repeats
#: while its CPU time stayed within ~20 %. Wall times are recorded beside it (``wall_seconds``).
_CLOCK = {"fn": time.perf_counter, "name": "wall"}


def _clock():
    return _CLOCK["fn"]()


def _use_clock(name):
    _CLOCK["fn"] = time.process_time if name == "cpu" else time.perf_counter
    _CLOCK["name"] = name


class _Progress:
    """Counts work units for an optional callback ``progress(n_done_increment, description)``."""

    def __init__(self, callback):
        self.callback = callback

    def __call__(self, n=1, desc=None):
        if self.callback is not None:
            self.callback(n, desc)


def _rounds(tasks, repeats, progress, rng=None, warmup=True):
    """Time every task once (warm-up), then ``repeats`` rounds over all tasks; return medians.

    ``tasks`` is a list of ``(label, callable)``; each callable returns a dict of named durations
    it measured itself (with :func:`_clock` around exactly the work), so one call can time
    several parts. Every round visits all tasks in a fresh random order (``rng``): interference
    from other processes comes in bursts of seconds, and spreading each point's samples over the
    whole run — rather than taking them back to back — keeps a burst to a minority of any point's
    samples, which the median then ignores.

    Returns
    -------
    list of dict
        Per task: name -> median over the rounds; also ``"_samples"``: name -> list of samples.
    """
    samples = [dict() for _ in tasks]
    rng = rng or np.random.default_rng(0)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        if warmup:  # caches, page faults, BLAS buffers
            for label, task in tasks:
                task()
                progress(1, label)
        for _ in range(repeats):
            for i in rng.permutation(len(tasks)):
                label, task = tasks[i]
                for k, v in task().items():
                    samples[i].setdefault(k, []).append(v)
                progress(1, label)
    finally:
        if gc_was:
            gc.enable()
    out = []
    for s in samples:
        med = {k: float(np.median(v)) for k, v in s.items()}
        med["_samples"] = s
        out.append(med)
    return out


def _spread(samples):
    """Relative half inter-quartile range of timing samples (a noise indicator per point)."""
    a = np.asarray(samples, dtype=np.float64)
    if a.size < 3:
        return None
    q1, q2, q3 = np.percentile(a, [25, 50, 75])
    return float((q3 - q1) / (2 * q2)) if q2 > 0 else None


# ------------------------------------------------------------------------------------------------
# Adapters to the kernels (the only place that knows their signatures)
# ------------------------------------------------------------------------------------------------


def _gram(X, y):
    from .engine.gram import gram

    return gram(X, y)


def _solve(xtx, xty, alpha):
    from .solvers.normal import solve_normal

    coef, _solver = solve_normal(xtx, xty, alpha)
    return coef


class _SGD:
    """One-epoch adapter over :func:`fastlin.kernels.sgd.epoch`: squared error + L2, constant step,
    averaging from the first sample, intercept fitted (the SGD of the module docstring)."""

    def __init__(self, X, y, alpha, eta):
        from .kernels import sgd

        self._sgd = sgd
        self.X, self.y = X, y
        self.alpha, self.eta = float(alpha), float(eta)
        n, d = X.shape
        self.sw = np.ones(n, dtype=np.float64)
        self.w = np.zeros(d)
        self.avg_w = np.zeros(d)
        self.l1_q = np.zeros(d)
        self.state = sgd.new_state()

    def reset(self):
        self.w[:] = 0.0
        self.avg_w[:] = 0.0
        self.l1_q[:] = 0.0
        self.state[:] = self._sgd.new_state()

    def epoch(self, order):
        sgd = self._sgd
        sgd.epoch(self.X, self.y, self.sw, order, self.w, self.avg_w, self.l1_q, self.state,
                  loss_code=0, penalty_code=1, schedule_code=0, alpha=self.alpha, l1_ratio=0.0,
                  eta0=self.eta, power_t=0.25, epsilon=0.1, opt_init=1.0, fit_intercept=True,
                  average_start=1.0, want_loss=False)

    def averaged(self):
        return self.avg_w, float(self.state[self._sgd.STATE_AVG_INTERCEPT])


def _objective(X, y, w, b, alpha):
    """mean((X w + b − y)²)/2 + alpha/2 ‖w‖², accumulated in float64."""
    r = X @ w.astype(X.dtype, copy=False)
    r = r.astype(np.float64) + (b - y)
    return 0.5 * float(r @ r) / len(y) + 0.5 * alpha * float(w @ w)


# ------------------------------------------------------------------------------------------------
# Machine peaks
# ------------------------------------------------------------------------------------------------


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: i.get(k) for k in keep} for i in threadpool_info() if i.get("user_api") == "blas"]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gemm_gflops(g, dtype, repeats, clock=time.perf_counter):
    """GFLOP/s of a square ``g`` GEMM (2 g³ flops), best of ``repeats`` after a warm-up."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((g, g), dtype=np.float32).astype(dtype)
    B = rng.standard_normal((g, g), dtype=np.float32).astype(dtype)
    A @ B
    ts = []
    for _ in range(repeats):
        t0 = clock()
        A @ B
        ts.append(clock() - t0)
    return 2.0 * g**3 / max(min(ts), 1e-9) / 1e9


def measure_peaks(plan: Plan, dtype, progress, rng, threads=0) -> dict:
    """The machine's compute and read peaks, measured now by this process.

    * GEMM: a square ``gemm_size`` product in ``dtype`` through NumPy's BLAS with the run's thread
      setting (and with all threads, for reference); 2 n³ flops; best of 5 (a peak is a best case,
      unlike the sweep points' medians).
    * Streaming read: ``np.sum`` over ``stream_bytes`` (larger than the last-level cache, so it
      comes from memory), one core and one thread per core; best of 5.
    """
    from concurrent.futures import ThreadPoolExecutor

    gemm = _gemm_gflops(plan.gemm_size, dtype, 5, _clock)
    progress(1, "machine peaks")

    itemsize = np.dtype(dtype).itemsize
    big = np.ones(plan.stream_bytes // itemsize, dtype=dtype)
    big.sum()
    one = []
    for _ in range(5):
        t0 = _clock()
        big.sum()
        one.append(_clock() - t0)
    read_1 = big.nbytes / min(one) / 1e9
    ncores = os.cpu_count() or 1
    parts = np.array_split(big, ncores)
    many = []
    with ThreadPoolExecutor(ncores) as pool:  # np.sum releases the GIL
        for _ in range(5):
            t0 = time.perf_counter()
            list(pool.map(np.sum, parts))
            many.append(time.perf_counter() - t0)
    read_all = big.nbytes / min(many) / 1e9
    del big, parts
    progress(1, "machine peaks")
    return {
        "gemm_gflops": gemm,
        "gemm_gflops_all_threads": gemm,
        "gemm_size": plan.gemm_size,
        "read_gbps": read_all,
        "read_gbps_1core": read_1,
        "read_bytes": int(plan.stream_bytes),
    }


# ------------------------------------------------------------------------------------------------
# The sweep
# ------------------------------------------------------------------------------------------------


def _count_units(plan: Plan) -> int:
    n_round = 2 * (len(plan.n_points()) + len(plan.d_sweep_D)) + len(plan.chol_D) + len(plan.cross_D)
    n_tol = len(plan.n_points()) + len(plan.cross_D)
    return 2 + n_round * (plan.repeats + 1) + n_tol * (1 + plan.tol_repeats)


class _Data:
    """Every X of the run is a contiguous prefix of one random buffer, reshaped: no copies."""

    def __init__(self, n_elements, dtype, rng):
        # float32 normals are ~3x faster to draw than float64 ones; the values' precision does not
        # matter for timings or for the objective (the closed form and SGD see the same X).
        self.buf = rng.standard_normal(n_elements, dtype=np.float32)
        if np.dtype(dtype) != np.float32:
            self.buf = self.buf.astype(dtype)

    def X(self, n, d):
        return self.buf[: n * d].reshape(n, d)

    def problem(self, n, d, seed):
        """(X, y): y = X w + 0.5 + noise, ‖w‖ ≈ 1, unit noise."""
        X = self.X(n, d)
        r = np.random.default_rng(seed)
        w = r.standard_normal(d) / math.sqrt(d)
        y = (X @ w.astype(X.dtype)).astype(np.float64) + 0.5 + r.standard_normal(n)
        return X, y


def _closed_form_task(X, y, ridge_alpha, keep):
    """Time gram + solve; ``keep`` receives the solution (the SGD oracle reuses it)."""

    def task():
        w0 = time.perf_counter()
        t0 = _clock()
        st = _gram(X, y)
        t1 = _clock()
        coef = _solve(st.xtx, st.xty, ridge_alpha)
        t2 = _clock()
        w2 = time.perf_counter()
        keep["coef"] = coef[:, 0]
        keep["intercept"] = float(st.y_mean[0] - st.x_mean @ coef[:, 0])
        return {"gram": t1 - t0, "solve": t2 - t1, "closed_form": t2 - t0, "wall": w2 - w0}

    return task


def _sgd_epoch_task(sgd, order):
    def task():
        sgd.reset()
        w0 = time.perf_counter()
        t0 = _clock()
        sgd.epoch(order)
        t1 = _clock()
        return {"sgd_epoch": t1 - t0, "wall": time.perf_counter() - w0}

    return task


def _chol_task(M, b):
    def task():
        w0 = time.perf_counter()
        t0 = _clock()
        _solve(M, b, 1.0)
        t1 = _clock()
        return {"cholesky": t1 - t0, "wall": time.perf_counter() - w0}

    return task


def _step_for(X):
    """1 / (4 R²), R² = mean squared row norm (estimated on up to 4096 rows)."""
    head = np.asarray(X[: min(len(X), 4096)], dtype=np.float64)
    r2 = float(np.einsum("ij,ij->", head, head)) / len(head)
    return 1.0 / (4.0 * r2)


class _ToTolerance:
    """SGD to a relative objective gap, in two phases so that the timed part can be interleaved.

    :meth:`explore` runs epochs from zero, checking the gap on the averaged iterate after each
    (the untimed oracle), and keeps the permutations; :meth:`task` replays exactly those epochs
    without checks, timed. ``optimum`` holds the closed-form ``coef``/``intercept`` of the same
    objective.
    """

    def __init__(self, X, y, plan, seed, optimum):
        self.X, self.y, self.plan, self.seed, self.optimum = X, y, plan, seed, optimum
        self.sgd = _SGD(X, y, plan.alpha, _step_for(X))

    def explore(self):
        X, y, plan = self.X, self.y, self.plan
        w0 = time.perf_counter()
        f_star = _objective(X, y, self.optimum["coef"], self.optimum["intercept"], plan.alpha)
        rng = np.random.default_rng(self.seed)
        self.orders, self.gap, self.reached, first = [], math.inf, False, 0.0
        sgd = self.sgd
        sgd.reset()
        while len(self.orders) < plan.max_epochs:
            order = rng.permutation(len(y)).astype(np.int64)
            self.orders.append(order)
            t = _clock()
            sgd.epoch(order)
            first += _clock() - t
            w, b_avg = sgd.averaged()
            self.gap = (_objective(X, y, w, b_avg, plan.alpha) - f_star) / f_star
            if self.gap <= plan.tol:
                self.reached = True
                break
        self.first = first
        self.explore_wall = time.perf_counter() - w0

    def task(self):
        def run():
            self.sgd.reset()
            w0 = time.perf_counter()
            t = _clock()
            for order in self.orders:
                self.sgd.epoch(order)
            t1 = _clock()
            return {"sgd_to_tolerance": t1 - t, "wall": time.perf_counter() - w0}

        return run

    def point(self, timed, itemsize):
        n, d = self.X.shape
        samples = [self.first] + list(timed["_samples"].get("sgd_to_tolerance", [])) if timed else [self.first]
        sec = float(np.median(samples))
        e = len(self.orders)
        p = {"N": n, "D": d, "seconds": sec if self.reached else None, "epochs": e, "gap": float(self.gap),
             "reached": self.reached, "gbps": e * n * d * itemsize / sec / 1e9, "step": self.sgd.eta,
             "oracle_wall_seconds": self.explore_wall,
             "wall_seconds": timed.get("wall") if timed else None, "spread": _spread(samples)}
        if not self.reached:
            p["seconds_to_max_epochs"] = sec
        return p


def _series(name, vary, fixed, points, theory, theory_basis, regime):
    """One series of the report; points with ``in_fit`` false are shown but not fitted."""
    xs = [p[vary] for p in points]
    fit = [p for p in points if p["seconds"] is not None and p.get("in_fit", True)]
    exponent, const, r2 = fit_power_law([p[vary] for p in fit], [p["seconds"] for p in fit])
    overhead = [p[vary] for p in fit if p["seconds"] < MIN_ASYMPTOTIC_SECONDS]
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
        "regime": regime + (f" WARNING: points {overhead} took < {MIN_ASYMPTOTIC_SECONDS * 1e3:g} ms "
                            "and are likely overhead-dominated." if overhead else ""),
        "range": [min(xs), max(xs)] if xs else None,
        "fit_range": [min(p[vary] for p in fit), max(p[vary] for p in fit)] if fit else None,
    }


def run(plan: Plan, *, dtype="float64", seed=0, threads=1, progress=None, log=None, check_mem=True) -> dict:
    """Run the complexity sweep and return the report (the JSON document).

    Parameters
    ----------
    plan : Plan
    dtype : {"float64", "float32"}
        dtype of X (statistics and SGD state are float64 either way).
    seed : int
        Seeds the data, the SGD permutations and the order of the timing rounds.
    threads : int
        BLAS/LAPACK threads during the run (0: leave the library's default, all cores). The
        default 1 measures per-core costs: like-for-like with the single-threaded SGD kernel,
        no parallel efficiency that changes with size (which bends log-log slopes), and robust on
        a shared machine, where a descheduled BLAS thread stalls its partner at every barrier
        (measured under load: Gram 4x slower with 2 threads than with 1).
    progress : callable, optional
        ``progress(n, description)`` after each unit of work (:func:`total_units` in all).
    log : callable, optional
        ``log(message)`` at the start of each stage.
    check_mem : bool
        Refuse (:class:`SweepTooLarge`) before allocating when the estimate does not fit.

    Returns
    -------
    dict
        ``{"machine": {...}, "series": [...], "crossover": [...]}``.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    if int(threads) < 0:
        raise ValueError(f"threads must be >= 0, got {threads}.")
    need = check_memory(plan, dtype.itemsize) if check_mem else estimate_memory(plan, dtype.itemsize)[0]
    # Load every BLAS the run uses *before* limiting threads: threadpoolctl only limits the
    # libraries already loaded, and scipy's OpenBLAS (behind gram and solve_normal) is a different
    # library from NumPy's. (Missing this left scipy's BLAS on 2 threads with one spinning, which
    # doubled CPU time and, under load, made the first run 5x slower than the second.)
    from .solvers import normal  # noqa: F401
    from .engine import gram  # noqa: F401
    from .kernels import sgd  # noqa: F401

    limiter = _thread_limit(int(threads))
    _use_clock("cpu" if int(threads) == 1 else "wall")
    try:
        with limiter:
            report = _run(plan, dtype, seed, int(threads), need, progress, log)
    finally:
        clock = _CLOCK["name"]
        _use_clock("wall")
    if threads:
        # The all-thread GEMM figure, for reference; measured last so that BLAS worker threads
        # woken by it cannot spin during the single-thread timings.
        report["machine"]["gemm_gflops_all_threads"] = _gemm_gflops(plan.gemm_size, dtype, 3)
    report["machine"]["run"]["blas_threads"] = int(threads) if threads else "library default"
    report["machine"]["run"]["clock"] = (
        "cpu: process CPU time (time.process_time); BLAS on one thread, so this is the work's own "
        "time, unaffected by other processes taking the CPU; wall times are in each point's "
        "wall_seconds" if clock == "cpu" else "wall: time.perf_counter")
    return report


def _thread_limit(threads):
    """A context manager limiting BLAS threads (a no-op for 0 or without threadpoolctl)."""
    import contextlib

    if not threads:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _run(plan, dtype, seed, threads, need, progress, log):
    progress = _Progress(progress)
    user_log = log or (lambda msg: None)
    wall0 = time.perf_counter()
    stages = {}
    current = {"name": None, "t": wall0}

    def log(msg):
        """Report a stage and close the previous one's wall-clock timer."""
        now = time.perf_counter()
        if current["name"]:
            stages[current["name"]] = stages.get(current["name"], 0.0) + now - current["t"]
        current["name"], current["t"] = msg.split(":")[0].split(" (")[0].rstrip(". "), now
        user_log(msg)

    rng = np.random.default_rng(seed)
    itemsize = dtype.itemsize

    # ---- compile (timed apart) --------------------------------------------------------------
    log("compiling kernels (timed apart, excluded from every point) ...")
    t0 = time.perf_counter()
    Xs = rng.standard_normal((64, 8)).astype(dtype)
    ys = rng.standard_normal(64)
    st = _gram(Xs, ys)
    _solve(st.xtx, st.xty, 1.0)
    s = _SGD(Xs, ys, 1e-4, 0.01)
    s.epoch(np.arange(64, dtype=np.int64))
    compile_seconds = time.perf_counter() - t0

    # ---- machine peaks ----------------------------------------------------------------------
    log("measuring machine peaks (GEMM, streaming read) ...")
    peaks = measure_peaks(plan, dtype, progress, rng, threads)

    # ---- data and tasks ---------------------------------------------------------------------
    n_el = max(max(plan.n_points()) * plan.n_sweep_D, plan.d_sweep_N * max(plan.d_sweep_D),
               plan.cross_N * max(plan.cross_D))
    log(f"generating data ({_gib(n_el * itemsize)})")
    t0 = time.perf_counter()
    data = _Data(n_el, dtype, rng)
    data_seconds = time.perf_counter() - t0

    sweeps = {  # key -> (vary, fixed, points, with SGD epoch)
        "N": ("N", {"D": plan.n_sweep_D}, [(n, plan.n_sweep_D) for n in plan.n_points()]),
        "D": ("D", {"N": plan.d_sweep_N}, [(plan.d_sweep_N, d) for d in plan.d_sweep_D]),
        "cross": ("D", {"N": plan.cross_N}, [(plan.cross_N, d) for d in plan.cross_D]),
    }
    tasks, where = [], {}
    problems, optima = {}, {}
    for key, (vary, fixed, pts) in sweeps.items():
        for i, (n, d) in enumerate(pts):
            X, y = data.problem(n, d, seed + 1000 * len(problems) + 1)
            problems[(key, i)] = (X, y)
            optima[(key, i)] = {}
            where[(key, i, "cf")] = len(tasks)
            tasks.append((f"closed form N={n:,} D={d:,}", _closed_form_task(X, y, n * plan.alpha, optima[(key, i)])))
            if key != "cross":
                sgd = _SGD(X, y, plan.alpha, _step_for(X))
                order = np.random.default_rng(seed + 7 * i + 3).permutation(n).astype(np.int64)
                where[(key, i, "sgd")] = len(tasks)
                tasks.append((f"SGD epoch N={n:,} D={d:,}", _sgd_epoch_task(sgd, order)))
    # Cholesky: leading principal submatrices of one symmetric, strictly diagonally dominant
    # matrix, each positive definite (Gershgorin), so every solve takes the Cholesky path; potrf's
    # time does not depend on the values.
    dmax = max(plan.chol_D)
    base = rng.random((dmax, dmax), dtype=np.float64)
    base += base.T
    base.flat[:: dmax + 1] += 2.0 * dmax
    for j, d in enumerate(plan.chol_D):
        where[("chol", j)] = len(tasks)
        tasks.append((f"Cholesky D={d:,}", _chol_task(np.ascontiguousarray(base[:d, :d]), rng.standard_normal((d, 1)))))
    del base

    # ---- the timed rounds ---------------------------------------------------------------------
    log(f"timing {len(tasks)} points x {plan.repeats} rounds (+1 warm-up), interleaved")
    res = _rounds(tasks, plan.repeats, progress, rng=np.random.default_rng(seed + 11))
    del tasks

    # ---- SGD to tolerance ---------------------------------------------------------------------
    log(f"SGD to tolerance (relative gap {plan.tol:g}, at most {plan.max_epochs} epochs)")
    tol_keys = [("N", i) for i in range(len(plan.n_points()))] + [("cross", i) for i in range(len(plan.cross_D))]
    tol = {}
    for j, k in enumerate(tol_keys):
        X, y = problems[k]
        t = _ToTolerance(X, y, plan, seed + 9000 + j, optima[k])
        t.explore()
        progress(1, f"SGD to tolerance N={X.shape[0]:,} D={X.shape[1]:,}")
        tol[k] = t
    tol_res = _rounds([(f"SGD to tolerance N={tol[k].X.shape[0]:,} D={tol[k].X.shape[1]:,}", tol[k].task())
                       for k in tol_keys], plan.tol_repeats, progress,
                      rng=np.random.default_rng(seed + 13), warmup=False)
    tol_points = {k: tol[k].point(r, itemsize) for k, r in zip(tol_keys, tol_res)}
    del problems, data, tol

    # ---- series -------------------------------------------------------------------------------
    log("fitting")
    series = []
    cf_by_key = {}
    for key in ("N", "D"):
        vary, fixed, pts = sweeps[key]
        g_pts, cf_pts, e_pts = [], [], []
        for i, (n, d) in enumerate(pts):
            cf, ep = res[where[(key, i, "cf")]], res[where[(key, i, "sgd")]]
            in_fit = key != "N" or n in plan.n_sweep_N
            flops_g = float(n) * d * d
            flops_c = d**3 / 3.0
            g_pts.append({"N": n, "D": d, "seconds": cf["gram"], "gflops": flops_g / cf["gram"] / 1e9,
                          "gbps": n * d * itemsize / cf["gram"] / 1e9,
                          "peak_fraction": flops_g / cf["gram"] / 1e9 / peaks["gemm_gflops"],
                          "spread": _spread(cf["_samples"]["gram"]), "in_fit": in_fit})
            cf_pts.append({"N": n, "D": d, "seconds": cf["closed_form"], "gram_seconds": cf["gram"],
                           "solve_seconds": cf["solve"],
                           "gflops": (flops_g + flops_c) / cf["closed_form"] / 1e9,
                           "wall_seconds": cf["wall"], "spread": _spread(cf["_samples"]["closed_form"]),
                           "in_fit": in_fit})
            gbps = n * d * itemsize / ep["sgd_epoch"] / 1e9
            e_pts.append({"N": n, "D": d, "seconds": ep["sgd_epoch"], "gbps": gbps,
                          "peak_fraction": gbps / peaks["read_gbps_1core"],
                          "ns_per_element": ep["sgd_epoch"] / (n * d) * 1e9,
                          "wall_seconds": ep["wall"], "spread": _spread(ep["_samples"]["sgd_epoch"]),
                          "in_fit": in_fit})
        cf_by_key[key] = cf_pts
        fit_pts = [(p["N"], p["D"]) for p in cf_pts if p["in_fit"]]
        cf_theory = _model_slope([p[0] if vary == "N" else p[1] for p in fit_pts],
                                 [n * d * d + d**3 / 3.0 for n, d in fit_pts])
        series.append(_series("gram", vary, fixed, g_pts, THEORY[("gram", vary)], "N*D^2 flops (syrk: N*D^2/2 multiply-adds)",
                              "fastlin.engine.gram.gram: one pass, BLAS syrk on row blocks."))
        series.append(_series("closed_form", vary, fixed, cf_pts, cf_theory,
                              "log-log slope of N*D^2 + D^3/3 over these points",
                              "Gram + fastlin.solvers.normal.solve_normal of (X'X + N*alpha*I) w = X'y."))
        series.append(_series("sgd_epoch", vary, fixed, e_pts, THEORY[("sgd_epoch", vary)], "N*D",
                              "One per-sample averaged-SGD epoch (squared error + L2), kernel called "
                              "directly; GB/s of X read, against the one-core streaming read."))
    # SGD to tolerance: against N on the N-sweep, against D on the crossover sweep
    for key in ("N", "cross"):
        vary, fixed, pts = sweeps[key]
        t_pts = [tol_points[(key, i)] for i in range(len(pts))]
        tol_theory = _model_slope([p[vary] for p in t_pts], [p["epochs"] * p["N"] * p["D"] for p in t_pts])
        series.append(_series("sgd_to_tolerance", vary, fixed, t_pts, tol_theory,
                              "log-log slope of epochs*N*D with the measured epoch counts",
                              f"Averaged SGD, step 1/(4 R^2), until the objective is within a relative "
                              f"{plan.tol:g} of the closed-form optimum; seconds exclude the gap checks."
                              + (" At small D the per-sample overhead, not N*D, dominates an epoch."
                                 if key == "cross" else " Includes the small-N points (several epochs).")))
    ch_pts = []
    for j, d in enumerate(plan.chol_D):
        r = res[where[("chol", j)]]
        gf = d**3 / 3.0 / r["cholesky"] / 1e9
        ch_pts.append({"N": None, "D": d, "seconds": r["cholesky"], "gflops": gf,
                       "peak_fraction": gf / peaks["gemm_gflops"], "wall_seconds": r["wall"],
                       "spread": _spread(r["_samples"]["cholesky"])})
    series.append(_series("cholesky", "D", {"N": None}, ch_pts, THEORY[("cholesky", "D")], "D^3/3",
                          "fastlin.solvers.normal.solve_normal (LAPACK potrf + pocon + potrs) on a D x D SPD "
                          "matrix; independent of N. OpenBLAS potrf's GFLOP/s keeps rising with D "
                          "(O(D^2) panel work) until D of several thousand, which pulls the fitted "
                          "slope below 3 while GEMM's GFLOP/s is flat."))
    cross_cf = []
    for i, (n, d) in enumerate(sweeps["cross"][2]):
        r = res[where[("cross", i, "cf")]]
        cross_cf.append({"N": n, "D": d, "seconds": r["closed_form"]})

    # ---- constants of the cost model, crossovers ------------------------------------------------
    consts = _fit_constants(series)
    crossovers = []
    for key, cf_pts in (("N", cf_by_key["N"]), ("cross", cross_cf)):
        vary, fixed, pts = sweeps[key]
        pairs = []
        for i, c in enumerate(cf_pts):
            t = tol_points[(key, i)]
            ratio = (t["seconds"] / c["seconds"]) if t["seconds"] else math.nan
            pairs.append((c[vary], ratio, c["seconds"], t["seconds"], t["epochs"]))
        crossovers.append(_crossover_entry(vary, fixed, pairs, consts,
                                           sweep="N-sweep" if key == "N" else "crossover sweep"))
    log("done")

    import numba
    import scipy

    machine = {
        **peaks,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "blas": _blas_info(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "run": {
            "preset": plan.name,
            "plan": asdict(plan),
            "dtype": dtype.name,
            "seed": seed,
            "statistic": (f"median of {plan.repeats} timed rounds after one warm-up round; every round "
                          "visits all points in a random order"),
            "compile_seconds": compile_seconds,
            "data_seconds": data_seconds,
            "memory_estimate_bytes": need,
            "sweep_seconds": time.perf_counter() - wall0,
            "stage_wall_seconds": stages,
            "model_constants": consts,
            "model": "T_closed = a*N*D^2 + b*D^3; T_sgd = max(1, k*D/N) * c*N*D",
            "asymptotic_regime": (
                "Sizes are in each step's asymptotic regime (chosen on a 2-core machine, one BLAS "
                "thread): the Gram D-sweep starts at D = 400, where syrk's GFLOP/s has levelled off; "
                "the N-sweep (D = 256) is fitted over N >= 8000 only (smaller N are shown, not "
                "fitted: they are there for the crossover); Cholesky from D = 2000 (OpenBLAS potrf's "
                "GFLOP/s still rises with D below ~4000, which pulls the slope under 3); every fitted call takes >= 5 ms. The crossover sweep goes down to tiny D "
                "on purpose, outside that regime."
                if plan.name in ("quick", "full") else
                "Custom or test sizes: not checked to be in the asymptotic regime."),
        },
    }
    return {"machine": machine, "series": series, "crossover": crossovers}


def total_units(plan: Plan) -> int:
    """Number of ``progress`` increments :func:`run` will make (for a progress bar's total)."""
    return _count_units(plan)


def _geo_mean(values):
    v = [x for x in values if x is not None and x > 0 and math.isfinite(x)]
    return float(math.exp(sum(math.log(x) for x in v) / len(v))) if v else None


def _fit_constants(series):
    """Constants of the cost model (geometric means of time / operation count over the points).

    ``a`` from the Gram points (s per N·D²), ``b`` from the Cholesky points (s per D³), ``c`` from
    the SGD epoch points (s per N·D), ``k`` from the SGD-to-tolerance points that needed several
    epochs: E = ceil(k·D/N) brackets k·D/N in (E − 1, E], so (E − ½)·N/D is taken per point.
    """
    by = {}
    for s in series:
        by.setdefault(s["name"], []).extend(s["points"])
    a = _geo_mean([p["seconds"] / (p["N"] * p["D"] ** 2) for p in by.get("gram", []) if p["seconds"]])
    b = _geo_mean([p["seconds"] / p["D"] ** 3 for p in by.get("cholesky", []) if p["seconds"]])
    c = _geo_mean([p["seconds"] / (p["N"] * p["D"]) for p in by.get("sgd_epoch", []) if p["seconds"]])
    pts = [p for p in by.get("sgd_to_tolerance", []) if p["reached"]]
    multi = [(p["epochs"] - 0.5) * p["N"] / p["D"] for p in pts if p["epochs"] >= 2]
    # With every point done in one epoch, k·D/N <= 1 there: k is at most the smallest N/D seen.
    k = _geo_mean(multi) if multi else (min(p["N"] / p["D"] for p in pts) if pts else None)
    return {"a": a, "b": b, "c": c, "k": k}


def _crossover_entry(vary, fixed, pairs, consts, sweep=None):
    xs = [p[0] for p in pairs]
    ratios = [p[1] for p in pairs]
    x_meas, dir_meas = crossover_from_ratios(xs, ratios)
    fixed_value = list(fixed.values())[0]
    x_pred, dir_pred = predict_crossover(consts, vary, fixed_value)
    # the model's large-N rule (one epoch): SGD cheaper once D > c/a (minus the D^3 term's help)
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
                    "epochs": p[4], "ratio": p[1] if math.isfinite(p[1]) else None} for p in pairs],
    }
    entry["note"] = (
        "The model has one constant per step (a geometric mean over the sweeps). It leaves out the "
        "closed form's O(N*D) read and per-call overhead, which dominate at small D, and SGD's cache "
        "effects: consecutive epochs over an X that fits in cache run up to 2x faster than the "
        "cold single epochs that give c. Measured and predicted crossovers differ by those terms.")
    if consts.get("a") and consts.get("c") and consts.get("k"):
        entry["rule"] = (
            f"model: SGD to tolerance is cheaper when max(1, k*D/N)*c*N*D < a*N*D^2 + b*D^3, i.e. "
            f"for N >= k*D (one epoch) once D > c/a = {consts['c'] / consts['a']:.0f}, and for N < k*D "
            f"once N > k*c/a = {consts['k'] * consts['c'] / consts['a']:.3g} (k = {consts['k']:.0f})"
        )
    return entry


# ------------------------------------------------------------------------------------------------
# Report text and plot
# ------------------------------------------------------------------------------------------------


def _fmt(x, spec=".2f", none="-"):
    return none if x is None else format(x, spec)


def _dir_text(direction, x, var):
    if x is None:
        return {"sgd_cheaper_throughout": "SGD cheaper throughout the sweep",
                "closed_form_cheaper_throughout": "closed form cheaper throughout the sweep",
                "no_data": "no data"}.get(direction, direction)
    side = ">" if direction == "sgd_cheaper_above" else "<"
    return f"{var} ≈ {x:,.0f} (SGD cheaper for {var} {side} {x:,.0f})"


def format_report(report: dict) -> str:
    """The human-readable table printed at the end of ``fastlin bench complexity``."""
    m = report["machine"]
    run_ = m.get("run", {})
    lines = []
    lines.append(f"fastlin complexity report — {m.get('cpu')}, {m.get('cores')} cores, "
                 f"preset {run_.get('preset')}, {run_.get('dtype')}")
    lines.append(f"machine peaks: GEMM {m['gemm_gflops']:.1f} GFLOP/s (n={m['gemm_size']}), "
                 f"streaming read {m['read_gbps']:.1f} GB/s all cores, {m['read_gbps_1core']:.1f} GB/s one core")
    lines.append(run_.get("asymptotic_regime", ""))
    lines.append(f"each point: {run_.get('statistic')}; compile time "
                 f"{_fmt(run_.get('compile_seconds'), '.1f')} s excluded")
    lines.append("")
    head = f"{'series':<17}{'vary':<5}{'fixed':<11}{'fitted range':<17}{'exponent':>9}{'theory':>8}{'R²':>7}   {'best rate (of peak)'}"
    lines.append(head)
    lines.append("-" * len(head) + "-" * 8)
    for s in report["series"]:
        fixed = ",".join(f"{k}={v}" for k, v in s["fixed"].items() if v is not None) or "-"
        fr = s.get("fit_range") or s.get("range")
        rng_ = f"{fr[0]:,}..{fr[1]:,}" if fr else "-"
        pts = [p for p in s["points"] if p.get("seconds")]
        rate = ""
        if s["name"] in ("gram", "cholesky") and pts:
            best = max(pts, key=lambda p: p["gflops"])
            rate = f"{best['gflops']:.1f} GFLOP/s ({best['peak_fraction']:.0%})"
        elif s["name"] == "closed_form" and pts:
            rate = f"{max(p['gflops'] for p in pts):.1f} GFLOP/s"
        elif s["name"] == "sgd_epoch" and pts:
            best = max(pts, key=lambda p: p["gbps"])
            rate = f"{best['gbps']:.1f} GB/s ({best['peak_fraction']:.0%} of 1 core)"
        elif s["name"] == "sgd_to_tolerance":
            ep = [p["epochs"] for p in s["points"]]
            miss = sum(1 for p in s["points"] if not p["reached"])
            rate = f"epochs {min(ep)}..{max(ep)}" + (f", {miss} not reached" if miss else "")
        lines.append(f"{s['name']:<17}{s['vary']:<5}{fixed:<11}{rng_:<17}{_fmt(s['exponent']):>9}"
                     f"{_fmt(s['theory']):>8}{_fmt(s['r2'], '.3f'):>7}   {rate}")
    lines.append("")
    lines.append("crossover (SGD to tolerance vs closed form):")
    for c in report["crossover"]:
        fixed = ",".join(f"{k}={v:,}" for k, v in c["fixed"].items())
        lines.append(f"  along {c['along']} at {fixed} ({c['sweep']}, {c['along']} {c['range'][0]:,}..{c['range'][1]:,}):")
        lines.append(f"    measured : {_dir_text(c['measured_direction'], c['measured'], c['along'])}")
        lines.append(f"    predicted: {_dir_text(c['predicted_direction'], c['predicted'], c['along'])}")
    if report["crossover"] and report["crossover"][0].get("rule"):
        lines.append("  " + report["crossover"][0]["rule"])
    return "\n".join(lines)


def write_plot(report: dict, path: str) -> None:
    """Three log-log panels, written atomically.

    (a) time against N at fixed D and (b) against D (Cholesky at any N): measured medians (filled
    markers; hollow = shown but not fitted), the fitted power law (solid) and the theoretical
    slope through the same points (dotted); (c) the crossover along D: closed form against SGD to
    tolerance, with epochs annotated. Crossovers are marked: measured (dashed) and predicted by
    the fitted cost model (dash-dot).
    """
    plt = import_pyplot()
    colors = {"gram": "tab:blue", "cholesky": "tab:purple", "closed_form": "tab:red",
              "sgd_epoch": "tab:green", "sgd_to_tolerance": "tab:orange"}
    labels = {"gram": "Gram XᵀX, Xᵀy", "cholesky": "Cholesky solve", "closed_form": "closed form",
              "sgd_epoch": "SGD, one epoch", "sgd_to_tolerance": "SGD to tolerance"}
    m = report["machine"]
    run_ = m.get("run", {})
    plan = run_.get("plan", {})
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.8), gridspec_kw={"width_ratios": [1.05, 1.05, 0.9]})

    def draw(ax, s, vary, with_fixed):
        pts = [p for p in s["points"] if p.get("seconds")]
        if not pts:
            return
        if s["name"] == "sgd_to_tolerance":
            for p in pts:
                ax.annotate(f"{p['epochs']}", (p[vary], p["seconds"]), textcoords="offset points",
                            xytext=(0, -11), ha="center", fontsize=7, color=colors["sgd_to_tolerance"])
        col = colors.get(s["name"], "k")
        fixed = ", ".join(f"{k}={v:,}" for k, v in s["fixed"].items() if v is not None)
        lab = (f"{labels.get(s['name'], s['name'])}{' (' + fixed + ')' if with_fixed and fixed else ''}: "
               f"slope {_fmt(s['exponent'])} (theory {_fmt(s['theory'])}, R² {_fmt(s['r2'], '.3f')})")
        fit = [p for p in pts if p.get("in_fit", True)]
        out = [p for p in pts if not p.get("in_fit", True)]
        ax.plot([p[vary] for p in fit], [p["seconds"] for p in fit], "o", color=col, ms=5, label=lab)
        if out:
            ax.plot([p[vary] for p in out], [p["seconds"] for p in out], "o", mfc="none", color=col, ms=5)
        if s["exponent"] is not None and fit:
            x = np.array([p[vary] for p in fit], dtype=float)
            t = np.array([p["seconds"] for p in fit], dtype=float)
            xx = np.geomspace(x.min(), x.max(), 50)
            ax.plot(xx, s["constant"] * xx ** s["exponent"], "-", color=col, lw=1.6, alpha=0.85)
            lx0, lt0 = np.mean(np.log(x)), np.mean(np.log(t))
            ax.plot(xx, np.exp(lt0 + s["theory"] * (np.log(xx) - lx0)), ":", color=col, lw=1.8)

    def mark(ax, c, var):
        if c.get("measured") is not None:
            ax.axvline(c["measured"], color="k", ls="--", lw=1.1)
            ax.annotate(f" measured crossover\n {var} ≈ {c['measured']:,.0f}", (c["measured"], 0.98),
                        xycoords=("data", "axes fraction"), va="top", ha="left", fontsize=8)
        lo, hi = c["range"]
        if c.get("predicted") is not None and lo / 3 <= c["predicted"] <= hi * 3:
            ax.axvline(c["predicted"], color="gray", ls="-.", lw=1.1)
            ax.annotate(f" model's crossover\n {var} ≈ {c['predicted']:,.0f}", (c["predicted"], 0.86),
                        xycoords=("data", "axes fraction"), va="top", ha="left", fontsize=8, color="dimgray")

    cross = {c["along"]: c for c in report["crossover"]}
    # (a) against N
    ax = axes[0]
    for s in report["series"]:
        if s["vary"] == "N":
            draw(ax, s, "N", False)
    if "N" in cross:
        mark(ax, cross["N"], "N")
    ax.set_title(f"(a) time against N, D = {plan.get('n_sweep_D')} (hollow: not fitted; numbers: SGD epochs)",
                 fontsize=10)
    ax.set_xlabel("N (samples)")
    ax.legend(fontsize=7.3, loc="lower right", framealpha=0.92)
    # (b) against D
    ax = axes[1]
    for s in report["series"]:
        if s["vary"] == "D" and s["name"] != "sgd_to_tolerance":
            draw(ax, s, "D", s["name"] == "cholesky")
    ax.set_title(f"(b) time against D, N = {plan.get('d_sweep_N', 0):,}; Cholesky: any N", fontsize=10)
    ax.set_xlabel("D (features)")
    ax.legend(fontsize=7.3, loc="upper left", framealpha=0.92)
    # (c) crossover along D
    ax = axes[2]
    c = cross.get("D")
    if c:
        for s in report["series"]:
            if s["vary"] == "D" and s["name"] == "sgd_to_tolerance":
                draw(ax, s, "D", False)
        pts = [p for p in c["points"] if p["closed_form_seconds"]]
        ax.plot([p["D"] for p in pts], [p["closed_form_seconds"] for p in pts], "s-", color=colors["closed_form"],
                ms=4, lw=1.2, label="closed form (measured)")
        mark(ax, c, "D")
        ax.set_title(f"(c) crossover along D, N = {c['fixed']['N']:,} (numbers: SGD epochs)", fontsize=10)
        ax.set_xlabel("D (features)")
        ax.legend(fontsize=7.3, loc="upper left", framealpha=0.92)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel(f"seconds (median, {run_.get('clock', 'wall').split(':')[0]} time)")
        ax.grid(True, which="both", alpha=0.25)
    fig.suptitle(
        f"fastlin complexity ({run_.get('preset')}, {run_.get('dtype')}, {run_.get('blas_threads')} BLAS "
        f"thread) on {m.get('cpu')}, {m.get('cores')} cores: GEMM {m['gemm_gflops']:.0f} GFLOP/s, read "
        f"{m['read_gbps_1core']:.0f} GB/s per core.  Solid: fitted slope; dotted: theory; SGD to "
        f"tolerance = relative objective gap {plan.get('tol', 0):g}.", fontsize=9.5)
    fig.tight_layout()

    def write(tmp):
        fig.savefig(tmp, dpi=110, format=os.path.splitext(path)[1].lstrip(".").lower() or "png")

    try:
        atomic_write_bytes(path, write)
    finally:
        plt.close(fig)
