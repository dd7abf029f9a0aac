"""The machine's own peaks, measured by the run: GEMM GFLOP/s and streaming-read GB/s.

The sweep's rates (GFLOP/s of the Gram and Cholesky steps, GB/s of an SGD epoch) are reported as
fractions of these, so the report says how close each step gets to what this machine can do.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .plan import Plan
from .timing import clock

__all__ = ["PEAK_UNITS", "gemm_gflops", "measure_peaks"]

#: Progress units :func:`measure_peaks` reports (one after the GEMM, one after the reads).
PEAK_UNITS = 2

#: Timed repeats of each peak measurement; a peak is the best of them.
_PEAK_REPEATS = 5


def gemm_gflops(g, dtype, repeats, clock=time.perf_counter):
    """GFLOP/s of a square ``g`` GEMM (2 g³ flops), best of ``repeats`` after a warm-up.

    Parameters
    ----------
    g : int
        Side of the matrices.
    dtype : numpy dtype
    repeats : int
    clock : callable
        The clock of the timings (the run's clock for the single-thread figure).
    """
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


def _read_gbps_one_core(big):
    """GB/s of ``big.sum()`` on the calling thread, best of five after a warm-up."""
    big.sum()
    one = []
    for _ in range(_PEAK_REPEATS):
        t0 = clock()
        big.sum()
        one.append(clock() - t0)
    return big.nbytes / min(one) / 1e9


def _read_gbps_all_cores(big):
    """GB/s of summing ``big`` in one slice per core on as many threads, best of five.

    Wall time: the work is spread over threads, whose CPU times would add up.
    """
    ncores = os.cpu_count() or 1
    parts = np.array_split(big, ncores)
    many = []
    with ThreadPoolExecutor(ncores) as pool:  # np.sum releases the GIL
        for _ in range(_PEAK_REPEATS):
            t0 = time.perf_counter()
            list(pool.map(np.sum, parts))
            many.append(time.perf_counter() - t0)
    return big.nbytes / min(many) / 1e9


def measure_peaks(plan: Plan, dtype, progress) -> dict:
    """The machine's compute and read peaks, measured now by this process.

    * GEMM: a square ``gemm_size`` product in ``dtype`` through NumPy's BLAS with the run's thread
      setting; 2 n³ flops; best of 5 (a peak is a best case, unlike the sweep points' medians).
      ``gemm_gflops_all_threads`` starts as the same figure; the run replaces it with an
      all-thread measurement when it limited the threads.
    * Streaming read: ``np.sum`` over ``stream_bytes`` (larger than the last-level cache, so it
      comes from memory), one core and one thread per core; best of 5.

    Parameters
    ----------
    plan : Plan
    dtype : numpy dtype
    progress : Progress
        Advanced by :data:`PEAK_UNITS` in all.

    Returns
    -------
    dict
        ``gemm_gflops``, ``gemm_gflops_all_threads``, ``gemm_size``, ``read_gbps`` (all cores),
        ``read_gbps_1core``, ``read_bytes``.
    """
    gemm = gemm_gflops(plan.gemm_size, dtype, _PEAK_REPEATS, clock)
    progress(1, "machine peaks")
    itemsize = np.dtype(dtype).itemsize
    big = np.ones(plan.stream_bytes // itemsize, dtype=dtype)
    read_1 = _read_gbps_one_core(big)
    read_all = _read_gbps_all_cores(big)
    del big  # freed before the sweep allocates (the memory estimate counts the phases apart)
    progress(1, "machine peaks")
    return {
        "gemm_gflops": gemm,
        "gemm_gflops_all_threads": gemm,
        "gemm_size": plan.gemm_size,
        "read_gbps": read_all,
        "read_gbps_1core": read_1,
        "read_bytes": int(plan.stream_bytes),
    }
