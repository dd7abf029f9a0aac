"""Will a plan fit? Its peak memory, estimated before anything large is allocated.

:func:`check_memory` is called by the command line before any measurement and by
:func:`fastlin.report.run` before it allocates, so an oversized ``--sizes`` is refused with the
estimate instead of swapping or being killed half-way.
"""

from __future__ import annotations

from ..data.layout import available_memory
from .plan import Plan

__all__ = [
    "MEMORY_FRACTION",
    "SweepTooLarge",
    "available_memory",
    "estimate_memory",
    "check_memory",
    "format_bytes",
]

#: Refuse a sweep whose estimated peak memory exceeds this share of the available memory.
MEMORY_FRACTION = 0.8


class SweepTooLarge(ValueError):
    """The sweep would not fit in memory; raised before anything large is allocated."""




def format_bytes(nbytes: float) -> str:
    """``nbytes`` in GiB with two decimals from 1 GiB up, else in MiB with one."""
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

    Parameters
    ----------
    plan : Plan
    itemsize : int
        Bytes per element of X (8 for float64, 4 for float32); everything else is float64.

    Returns
    -------
    need : int
        The larger phase, with a 10 % margin.
    phases : dict
        Phase description -> bytes.
    """
    f8 = 8
    pts = ([(n, plan.n_sweep_D) for n in plan.n_points()]
           + [(plan.d_sweep_N, d) for d in plan.d_sweep_D]
           + [(plan.cross_N, d) for d in plan.cross_D])
    buf = max(n * d for n, d in pts) * itemsize
    per_point = sum(n * f8 * 3 + d * f8 * 4 for n, d in pts)  # y, sample weights, order; SGD state
    tol_pts = ([(n, plan.n_sweep_D) for n in plan.n_points()]
               + [(plan.cross_N, d) for d in plan.cross_D])
    tol_orders = sum(n * f8 * plan.max_epochs for n, _ in tol_pts)
    d_max = max(d for _, d in pts)
    gram_scratch = 6 * d_max * d_max * f8 + 4 * 1024 * 1024
    chol = sum(d * d for d in plan.chol_D) * f8 + max(plan.chol_D) ** 2 * f8 * 4
    phases = {
        "machine peaks (GEMM operands, streaming-read array)":
            max(3 * plan.gemm_size**2 * itemsize, plan.stream_bytes),
        "sweeps (data buffer, targets, permutations, Cholesky matrices, D×D statistics)":
            buf + per_point + tol_orders + gram_scratch + chol,
    }
    return int(max(phases.values()) * 1.1), phases


def check_memory(plan: Plan, itemsize: int = 8, available: int | None = None) -> int:
    """Refuse a sweep that would not fit; return the estimate when it fits.

    Parameters
    ----------
    plan : Plan
    itemsize : int
        Bytes per element of X.
    available : int, optional
        Bytes available; by default :func:`available_memory` (no check when that is unknown).

    Returns
    -------
    int
        The estimated peak bytes (:func:`estimate_memory`).

    Raises
    ------
    SweepTooLarge
        With the estimate, its largest phase and the memory available.
    """
    need, phases = estimate_memory(plan, itemsize)
    if available is None:
        available = available_memory()
    if available is not None and need > MEMORY_FRACTION * available:
        worst = max(phases, key=phases.get)
        raise SweepTooLarge(
            f"Refusing to run: this sweep needs an estimated {format_bytes(need)} (largest phase: "
            f"{worst}, {format_bytes(phases[worst])}) but only {format_bytes(available)} of memory "
            f"is available (limit {MEMORY_FRACTION:.0%} of it). Choose smaller --sizes. Nothing "
            "was allocated."
        )
    return need
