"""The orchestration: :func:`run` measures everything and returns the report document.

Stages, in order: compile the kernels (timed apart), measure the machine's peaks, generate the
data, time the sweeps (:mod:`fastlin.report.sweeps`), fit the series and the cost model
(:mod:`fastlin.report.analysis`, :mod:`fastlin.report.model`), then describe the machine and the
run. The run holds BLAS to ``threads`` threads and times with the matching clock throughout.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from .analysis import build_crossovers, build_series
from .machine import describe_machine
from .memory import check_memory, estimate_memory, format_bytes
from .model import fit_constants
from .peaks import PEAK_UNITS, gemm_gflops, measure_peaks
from .plan import Plan
from .sweeps import data_elements, layout, time_sweeps, timed_units
from .timing import Progress, thread_limit, timing_clock

# Importing .workloads imports fastlin.engine.gram, fastlin.solvers.normal and fastlin.kernels.sgd,
# and so loads scipy's OpenBLAS before `run` calls `thread_limit`: threadpoolctl limits only the
# libraries already loaded, and scipy's OpenBLAS is a different library from NumPy's. (Limiting
# before it was loaded left scipy's BLAS on 2 threads with one spinning, which doubled CPU time
# and, under load, made the first run 5x slower than the second.)
from .workloads import Data, compile_kernels

__all__ = ["run", "total_units"]

_MODEL = "T_closed = a*N*D^2 + b*D^3; T_sgd = max(1, k*D/N) * c*N*D"

_REGIME_PRESET = (
    "Sizes are in each step's asymptotic regime (chosen on a 2-core machine, one BLAS "
    "thread): the Gram D-sweep starts at D = 400, where syrk's GFLOP/s has levelled off; "
    "the N-sweep (D = 256) is fitted over N >= 8000 only (smaller N are shown, not "
    "fitted: they are there for the crossover); Cholesky from D = 2000 (OpenBLAS potrf's "
    "GFLOP/s still rises with D below ~4000, which pulls the slope under 3); every fitted call "
    "takes >= 5 ms. The crossover sweep goes down to tiny D on purpose, outside that regime.")
_REGIME_CUSTOM = "Custom or test sizes: not checked to be in the asymptotic regime."

_CLOCK_TEXT = {
    "cpu": "cpu: process CPU time (time.process_time); BLAS on one thread, so this is the work's "
           "own time, unaffected by other processes taking the CPU; wall times are in each "
           "point's wall_seconds",
    "wall": "wall: time.perf_counter",
}


def run(plan: Plan, *, dtype="float64", seed=0, threads=1, progress=None, log=None,
        check_mem=True) -> dict:
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
        Refuse (:class:`~fastlin.report.memory.SweepTooLarge`) before allocating when the
        estimate does not fit.

    Returns
    -------
    dict
        ``{"machine": {...}, "series": [...], "crossover": [...]}``.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    threads = int(threads)
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}.")
    if check_mem:
        need = check_memory(plan, dtype.itemsize)
    else:
        need = estimate_memory(plan, dtype.itemsize)[0]
    clock_name = "cpu" if threads == 1 else "wall"
    with timing_clock(clock_name), thread_limit(threads):
        report = _measure(plan, dtype, seed, need, Progress(progress), _Stages(log))
    if threads:
        # The all-thread GEMM figure, for reference; measured last so that BLAS worker threads
        # woken by it cannot spin during the single-thread timings.
        report["machine"]["gemm_gflops_all_threads"] = gemm_gflops(plan.gemm_size, dtype, 3)
    report["machine"]["run"]["blas_threads"] = threads if threads else "library default"
    report["machine"]["run"]["clock"] = _CLOCK_TEXT[clock_name]
    return report


def total_units(plan: Plan) -> int:
    """Number of ``progress`` increments :func:`run` will make (for a progress bar's total)."""
    return PEAK_UNITS + timed_units(plan)


class _Stages:
    """Forwards stage messages to the user's ``log`` and times each stage on the wall clock.

    A stage runs from its message to the next one; its name is the message up to the first
    ``":"`` or ``" ("``, without trailing dots.
    """

    def __init__(self, user_log):
        self.user_log = user_log or (lambda msg: None)
        self.started = time.perf_counter()
        self.seconds = {}
        self._name, self._t = None, self.started

    def __call__(self, msg):
        now = time.perf_counter()
        if self._name:
            self.seconds[self._name] = self.seconds.get(self._name, 0.0) + now - self._t
        self._name, self._t = msg.split(":")[0].split(" (")[0].rstrip(". "), now
        self.user_log(msg)


def _measure(plan, dtype, seed, need, progress, stages):
    """Every stage of the run, under the thread limit and clock that :func:`run` set."""
    rng = np.random.default_rng(seed)
    stages("compiling kernels (timed apart, excluded from every point) ...")
    compile_seconds = compile_kernels(dtype, rng)
    stages("measuring machine peaks (GEMM, streaming read) ...")
    peaks = measure_peaks(plan, dtype, progress)

    n_el = data_elements(plan)
    stages(f"generating data ({format_bytes(n_el * dtype.itemsize)})")
    t0 = time.perf_counter()
    data = Data(n_el, dtype, rng)
    data_seconds = time.perf_counter() - t0
    sweeps = layout(plan)
    timings = time_sweeps(plan, sweeps, data, seed, rng, progress, stages)
    del data  # the largest allocation of the run, no longer needed

    stages("fitting")
    series = build_series(plan, sweeps, timings, peaks, dtype.itemsize)
    consts = fit_constants(series)
    crossovers = build_crossovers(sweeps, timings, consts)
    stages("done")

    run_info = {
        "preset": plan.name,
        "plan": asdict(plan),
        "dtype": dtype.name,
        "seed": seed,
        "statistic": (f"median of {plan.repeats} timed rounds after one warm-up round; every "
                      "round visits all points in a random order"),
        "compile_seconds": compile_seconds,
        "data_seconds": data_seconds,
        "memory_estimate_bytes": need,
        "sweep_seconds": time.perf_counter() - stages.started,
        "stage_wall_seconds": stages.seconds,
        "model_constants": consts,
        "model": _MODEL,
        "asymptotic_regime": _REGIME_PRESET if plan.name in ("quick", "full") else _REGIME_CUSTOM,
    }
    # Described inside the thread limit, so the BLAS entries show the threads the run used.
    machine = {**peaks, **describe_machine(), "run": run_info}
    return {"machine": machine, "series": series, "crossover": crossovers}
