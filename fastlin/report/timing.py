"""The timing harness: which clock, how many BLAS threads, interleaved rounds, medians.

Every timed point of the report goes through :func:`rounds`: one warm-up call per task, then
``repeats`` rounds, each visiting every task once in a fresh random order, and the median per
task. The clock (:func:`clock`) is chosen for the whole run by :func:`timing_clock`; BLAS threads
are limited by :func:`thread_limit`.
"""

from __future__ import annotations

import contextlib
import gc
import time

import numpy as np

__all__ = ["clock", "timing_clock", "thread_limit", "Progress", "rounds", "spread"]

#: The clock of every timed point: CPU time of this process (``time.process_time``) when BLAS
#: runs on one thread, else wall time. With one thread the work is all on the calling thread, so
#: its CPU time is the work's duration minus the time the scheduler gave to other processes: on a
#: shared 2-core machine under load 4-9 the wall time of a Gram call varied 5x between repeats
#: while its CPU time stayed within ~20 %. Wall times are recorded beside it (``wall_seconds``).
#: Module state rather than an argument because the timed closures read it at call time, deep
#: inside tasks built long before the run picks its clock.
_CLOCK = {"fn": time.perf_counter, "name": "wall"}


def clock() -> float:
    """The current reading of the run's clock (see :func:`timing_clock`), in seconds."""
    return _CLOCK["fn"]()


def _use_clock(name: str) -> None:
    _CLOCK["fn"] = time.process_time if name == "cpu" else time.perf_counter
    _CLOCK["name"] = name


@contextlib.contextmanager
def timing_clock(name: str):
    """Make :func:`clock` the process CPU time (``"cpu"``) or wall time inside the block.

    The wall clock is restored on exit, however the block ends.
    """
    _use_clock(name)
    try:
        yield name
    finally:
        _use_clock("wall")


def thread_limit(threads: int):
    """A context manager limiting BLAS threads (a no-op for 0 or without threadpoolctl).

    threadpoolctl limits only the BLAS libraries already loaded: load every library the timed code
    uses before calling this.
    """
    if not threads:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


class Progress:
    """Counts work units for an optional callback ``progress(n_done_increment, description)``."""

    def __init__(self, callback):
        self.callback = callback

    def __call__(self, n=1, desc=None):
        if self.callback is not None:
            self.callback(n, desc)


def rounds(tasks, repeats, progress, rng=None, warmup=True):
    """Time every task once (warm-up), then ``repeats`` rounds over all tasks; return medians.

    ``tasks`` is a list of ``(label, callable)``; each callable returns a dict of named durations
    it measured itself (with :func:`clock` around exactly the work), so one call can time
    several parts. Every round visits all tasks in a fresh random order (``rng``): interference
    from other processes comes in bursts of seconds, and spreading each point's samples over the
    whole run — rather than taking them back to back — keeps a burst to a minority of any point's
    samples, which the median then ignores.

    Parameters
    ----------
    tasks : list of (str, callable)
    repeats : int
    progress : Progress
        Called once per task call (warm-up included), with the task's label.
    rng : numpy.random.Generator, optional
        Orders the rounds; ``default_rng(0)`` if not given.
    warmup : bool
        Make the untimed first pass (caches, page faults, BLAS buffers).

    Returns
    -------
    list of dict
        Per task: name -> median over the rounds; also ``"_samples"``: name -> list of samples.
    """
    samples = [dict() for _ in tasks]
    rng = rng or np.random.default_rng(0)
    # A collection in the middle of a timed call would be charged to that point.
    gc_was = gc.isenabled()
    gc.disable()
    try:
        if warmup:
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


def spread(samples):
    """Relative half inter-quartile range of timing samples (a noise indicator per point)."""
    a = np.asarray(samples, dtype=np.float64)
    if a.size < 3:
        return None
    q1, q2, q3 = np.percentile(a, [25, 50, 75])
    return float((q3 - q1) / (2 * q2)) if q2 > 0 else None
