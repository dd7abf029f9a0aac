"""The complexity report behind ``fastlin bench complexity``.

The lecture's claim is that the closed form is exact but costs O(D³ + D²N), and that SGD is the
general alternative at O(epochs · N · D). This package measures both on the machine it runs on:

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

Modules, one concern each (none imports :mod:`fastlin.report.runner` or
:mod:`fastlin.report.command` but those two; ``runner`` is not called ``run`` so that the module
does not collide with the function :func:`run` re-exported here):

=============  ====================================================================
``plan``       :class:`Plan`, :data:`PRESETS`, :func:`parse_sizes`
``memory``     :func:`estimate_memory`, :func:`check_memory`, :class:`SweepTooLarge`
``timing``     the clock, BLAS thread limit, interleaved rounds and medians
``peaks``      the machine's GEMM and streaming-read peaks
``machine``    CPU, BLAS and software versions
``workloads``  the benchmark problem and the calls into the kernels (what is timed)
``sweeps``     the sweeps' points and tasks, timed
``model``      power-law fits, the cost model, crossovers (pure arithmetic)
``analysis``   the report's ``series`` and ``crossover`` sections
``output``     :func:`check_writable`, :func:`atomic_write_bytes`, :func:`write_json`
``text``       :func:`format_report`
``plot``       :func:`import_pyplot`, :func:`check_plot_path`, :func:`write_plot`
``runner``     :func:`run`, :func:`total_units`: the orchestration
``command``    the command's steps apart from argparse (used by :mod:`fastlin.cli`)
=============  ====================================================================

The names below are re-exported for convenience. Code inside the package imports each name from
the module that defines it, so patching a name here changes nothing for that code: patch it in the
module whose code looks it up (e.g. ``fastlin.report.command.run`` for the run the command makes,
``fastlin.report.plot.import_pyplot`` for the figure).

Nothing here is imported by ``import fastlin``; matplotlib is imported only when a plot is asked
for.
"""

from __future__ import annotations

from .analysis import MIN_ASYMPTOTIC_SECONDS, SERIES_NAMES, THEORY
from .command import Job, banner, prepare_job, publish, run_job
from .memory import (
    MEMORY_FRACTION,
    SweepTooLarge,
    available_memory,
    check_memory,
    estimate_memory,
)
from .model import (
    crossover_from_ratios,
    fit_constants,
    fit_power_law,
    model_times,
    predict_crossover,
)
from .output import atomic_write_bytes, check_writable, write_json
from .peaks import measure_peaks
from .plan import PRESETS, Plan, parse_sizes
from .plot import check_plot_path, import_pyplot, write_plot
from .runner import run, total_units
from .text import format_report

__all__ = [
    "Plan",
    "PRESETS",
    "SERIES_NAMES",
    "THEORY",
    "MIN_ASYMPTOTIC_SECONDS",
    "MEMORY_FRACTION",
    "SweepTooLarge",
    "fit_power_law",
    "parse_sizes",
    "estimate_memory",
    "check_memory",
    "available_memory",
    "crossover_from_ratios",
    "model_times",
    "predict_crossover",
    "fit_constants",
    "measure_peaks",
    "check_writable",
    "atomic_write_bytes",
    "write_json",
    "import_pyplot",
    "check_plot_path",
    "write_plot",
    "run",
    "total_units",
    "format_report",
    "Job",
    "prepare_job",
    "banner",
    "run_job",
    "publish",
]
