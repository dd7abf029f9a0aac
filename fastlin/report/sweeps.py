"""The sweeps of a plan and their timing: which (N, D) points, in which tasks, timed how.

Three sweeps share one data buffer: N at fixed D (``"N"``: closed form and one SGD epoch per
point), D at fixed N (``"D"``: the same) and the crossover sweep along D (``"cross"``: closed form
only), plus the Cholesky solve on its own D values. All their tasks are timed together in
interleaved rounds (:func:`fastlin.report.timing.rounds`); SGD to tolerance is then explored and
timed on the points of the ``"N"`` and ``"cross"`` sweeps, reusing their closed-form optima.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .plan import Plan
from .timing import rounds
from .workloads import SGD, ToTolerance, cholesky_task, closed_form_task, sgd_epoch_task, step_for

__all__ = ["Sweep", "Timings", "layout", "TOLERANCE_SWEEPS", "data_elements", "timed_units",
           "time_sweeps"]

#: The sweeps whose points also get SGD to tolerance (and hence a crossover).
TOLERANCE_SWEEPS = ("N", "cross")


class Sweep(NamedTuple):
    """One sweep: the size that varies, the one held fixed, and the (N, D) points."""

    vary: str
    fixed: dict
    points: list


@dataclass
class Timings:
    """Everything the sweeps measured.

    Attributes
    ----------
    medians : dict
        Task key -> :func:`~fastlin.report.timing.rounds` result (medians and ``"_samples"``).
        Keys: ``(sweep, i, "cf")`` closed form, ``(sweep, i, "sgd")`` one SGD epoch (not for
        ``"cross"``), ``("chol", j)`` Cholesky.
    to_tolerance : dict
        ``(sweep, i)`` -> the SGD-to-tolerance report point, for the :data:`TOLERANCE_SWEEPS`.
    """

    medians: dict
    to_tolerance: dict


def layout(plan: Plan) -> dict:
    """The plan's sweeps: ``{"N": Sweep, "D": Sweep, "cross": Sweep}`` (in timing order)."""
    return {
        "N": Sweep("N", {"D": plan.n_sweep_D}, [(n, plan.n_sweep_D) for n in plan.n_points()]),
        "D": Sweep("D", {"N": plan.d_sweep_N}, [(plan.d_sweep_N, d) for d in plan.d_sweep_D]),
        "cross": Sweep("D", {"N": plan.cross_N}, [(plan.cross_N, d) for d in plan.cross_D]),
    }


def data_elements(plan: Plan) -> int:
    """Elements of the shared data buffer: the largest X of any sweep."""
    return max(max(plan.n_points()) * plan.n_sweep_D, plan.d_sweep_N * max(plan.d_sweep_D),
               plan.cross_N * max(plan.cross_D))


def timed_units(plan: Plan) -> int:
    """Progress units :func:`time_sweeps` reports (one per task call and per exploration)."""
    n_round = (2 * (len(plan.n_points()) + len(plan.d_sweep_D)) + len(plan.chol_D)
               + len(plan.cross_D))
    n_tol = len(plan.n_points()) + len(plan.cross_D)
    return n_round * (plan.repeats + 1) + n_tol * (1 + plan.tol_repeats)


def time_sweeps(plan: Plan, sweeps: dict, data, seed, rng, progress, log) -> Timings:
    """Time every point of the sweeps, then SGD to tolerance.

    Parameters
    ----------
    plan : Plan
    sweeps : dict
        :func:`layout` of the plan.
    data : fastlin.report.workloads.Data
    seed : int
        Seeds the problems, the SGD permutations and the order of the rounds.
    rng : numpy.random.Generator
        Draws the Cholesky matrices (the run's generator, after the data).
    progress : Progress
    log : callable
        ``log(message)`` at the start of each of the two stages.

    Returns
    -------
    Timings
    """
    problems, optima = {}, {}
    medians = _time_points(plan, sweeps, data, seed, rng, progress, log, problems, optima)
    log(f"SGD to tolerance (relative gap {plan.tol:g}, at most {plan.max_epochs} epochs)")
    to_tolerance = _time_to_tolerance(plan, sweeps, problems, optima, seed, progress,
                                      data.buf.itemsize)
    return Timings(medians, to_tolerance)


def _time_points(plan, sweeps, data, seed, rng, progress, log, problems, optima):
    """The interleaved rounds over every sweep point and Cholesky size; task key -> medians.

    Fills ``problems`` ((sweep, i) -> (X, y)) and, while the closed form runs, ``optima``
    ((sweep, i) -> closed-form solution) for the SGD-to-tolerance stage. The tasks (and the SGD
    states and permutations they hold) are dropped on return, before that stage allocates.
    """
    tasks = _sweep_tasks(plan, sweeps, data, seed, problems, optima) + _cholesky_tasks(plan, rng)
    log(f"timing {len(tasks)} points x {plan.repeats} rounds (+1 warm-up), interleaved")
    res = rounds([(label, fn) for _, label, fn in tasks], plan.repeats, progress,
                 rng=np.random.default_rng(seed + 11))
    return {key: r for (key, _, _), r in zip(tasks, res)}


def _sweep_tasks(plan, sweeps, data, seed, problems, optima):
    """``(key, label, task)`` of every sweep point: closed form, and SGD epoch outside "cross".

    The order is fixed (the rounds' random order is a permutation of it), and so are the seeds
    of the problems and permutations, so a seed reproduces the run's data and visiting order.
    """
    tasks = []
    for key, (_vary, _fixed, pts) in sweeps.items():
        for i, (n, d) in enumerate(pts):
            X, y = data.problem(n, d, seed + 1000 * len(problems) + 1)
            problems[(key, i)] = (X, y)
            optima[(key, i)] = {}
            tasks.append(((key, i, "cf"), f"closed form N={n:,} D={d:,}",
                          closed_form_task(X, y, n * plan.alpha, optima[(key, i)])))
            if key != "cross":
                sgd = SGD(X, y, plan.alpha, step_for(X))
                order = np.random.default_rng(seed + 7 * i + 3).permutation(n).astype(np.int64)
                tasks.append(((key, i, "sgd"), f"SGD epoch N={n:,} D={d:,}",
                              sgd_epoch_task(sgd, order)))
    return tasks


def _cholesky_tasks(plan, rng):
    """``(key, label, task)`` of the Cholesky solve at every ``plan.chol_D``.

    The matrices are leading principal submatrices of one symmetric, strictly diagonally dominant
    matrix, each positive definite (Gershgorin), so every solve takes the Cholesky path; potrf's
    time does not depend on the values.
    """
    dmax = max(plan.chol_D)
    base = rng.random((dmax, dmax), dtype=np.float64)
    base += base.T
    base.flat[:: dmax + 1] += 2.0 * dmax
    return [(("chol", j), f"Cholesky D={d:,}",
             cholesky_task(np.ascontiguousarray(base[:d, :d]), rng.standard_normal((d, 1))))
            for j, d in enumerate(plan.chol_D)]


def _time_to_tolerance(plan, sweeps, problems, optima, seed, progress, itemsize):
    """SGD to tolerance on every point of :data:`TOLERANCE_SWEEPS`; (sweep, i) -> report point.

    Each point is explored first (epochs with gap checks), then the replays are timed in
    interleaved rounds without a warm-up: the exploration was one.
    """
    tol_keys = [(key, i) for key in TOLERANCE_SWEEPS for i in range(len(sweeps[key].points))]
    tol = {}
    for j, k in enumerate(tol_keys):
        X, y = problems[k]
        t = ToTolerance(X, y, plan, seed + 9000 + j, optima[k])
        t.explore()
        progress(1, f"SGD to tolerance N={X.shape[0]:,} D={X.shape[1]:,}")
        tol[k] = t
    tasks = [(f"SGD to tolerance N={tol[k].X.shape[0]:,} D={tol[k].X.shape[1]:,}", tol[k].task())
             for k in tol_keys]
    res = rounds(tasks, plan.tol_repeats, progress, rng=np.random.default_rng(seed + 13),
                 warmup=False)
    return {k: tol[k].point(r, itemsize) for k, r in zip(tol_keys, res)}
