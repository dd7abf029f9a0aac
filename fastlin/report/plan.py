"""What a complexity sweep measures: the :class:`Plan`, its presets and ``--sizes`` overrides.

A plan is pure data (sizes, repeats, tolerances); nothing here allocates or times anything. Whether
a plan fits in memory is :mod:`fastlin.report.memory`'s question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = ["Plan", "PRESETS", "parse_sizes"]


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
        n_sweep_D=256,
        n_sweep_N=(8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000),
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
            key, value = _split_token(tok)
            if key == "preset":
                plan = _preset(value, changes)
                continue
            if key not in _SIZE_KEYS:
                raise ValueError(f"--sizes: unknown key {key!r}. {_valid_keys()}")
            attr, kind = _SIZE_KEYS[key]
            changes[attr] = _parse_value(key, kind, value)
    if changes:
        plan = replace(plan, name="custom", **changes)
    return plan


def _valid_keys() -> str:
    return "Valid keys: " + ", ".join(["preset", *_SIZE_KEYS]) + "."


def _split_token(tok: str) -> tuple[str, str]:
    if "=" not in tok:
        raise ValueError(f"--sizes expects KEY=VALUES items, got {tok!r}. {_valid_keys()}")
    key, _, value = tok.partition("=")
    return key, value


def _preset(value: str, changes: dict) -> Plan:
    """The base plan named by ``preset=value``; only valid before any override."""
    if value not in PRESETS:
        raise ValueError(
            f"--sizes preset={value!r}: unknown preset; valid: {', '.join(PRESETS)}.")
    if changes:
        # Overrides given earlier would be silently dropped by switching the base.
        raise ValueError("--sizes preset=... must come before the other keys.")
    return PRESETS[value]


def _parse_value(key: str, kind: str, value: str):
    """The Plan field value of ``key=value``; ``kind`` is the entry of :data:`_SIZE_KEYS`."""
    if kind in ("list", "list0"):
        vals = tuple(_parse_int(v, key) for v in value.split(",") if v.strip())
        if not vals and kind == "list":
            raise ValueError(f"--sizes {key}: give at least one value.")
        return tuple(sorted(set(vals)))
    if kind == "int":
        return _parse_int(value, key)
    if kind == "mb":
        return _parse_int(value, key) << 20
    return _parse_positive_float(value, key)


def _parse_int(text: str, key: str) -> int:
    """A positive integer written as 2000, 2e5 or 200k (suffixes k, m, g: powers of 1000)."""
    t = text.strip()
    mult = 1
    if t and t[-1] in _SUFFIX:
        mult = _SUFFIX[t[-1]]
        t = t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise ValueError(f"--sizes {key}: {text!r} is not a number "
                         "(examples: 2000, 2e5, 200k).") from None
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise ValueError(f"--sizes {key}: {text!r} must be a positive integer.")
    return int(value)


def _parse_positive_float(value: str, key: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise ValueError(f"--sizes {key}: {value!r} is not a number.") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"--sizes {key}: must be a positive number, got {value!r}.")
    return v
