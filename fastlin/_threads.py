"""One thread policy for fastlin's parallel (Numba) kernels.

Numba sizes its thread pool from ``NUMBA_NUM_THREADS`` only, so the knobs scikit-learn users reach
for (``OMP_NUM_THREADS``, ``threadpoolctl.threadpool_limits``) did nothing to fastlin. This module
is where every limit meets:

* :func:`kernel_threads` -- how many threads a parallel kernel started by the calling thread may
  use now: the smallest of Numba's own setting for this thread (``NUMBA_NUM_THREADS``,
  ``numba.set_num_threads``), ``OMP_NUM_THREADS`` as read at import, the innermost
  :func:`limit_threads` block and the innermost ``threadpool_limits`` block of this thread.
* :func:`limit_threads` -- a thread-local context manager taking joblib's ``n_jobs`` convention.
* a threadpoolctl controller (user_api ``"openmp"``, internal_api ``"numba"``), registered on
  import when threadpoolctl >= 3.2 offers ``register``, so ``threadpool_limits(1)`` and
  ``threadpool_limits(limits=1, user_api="openmp")`` limit fastlin like an OpenMP library.
  threadpoolctl finds controllers by the shared libraries loaded in the process; this one matches
  Numba's ``_helperlib`` extension, loaded by ``import numba``, so it is listed from the moment
  fastlin's kernels are imported (``fastlin.LogisticRegression`` first accessed), without starting
  Numba's thread pool. A ``threadpool_limits`` block entered before that does not see it.
* :func:`numba_threads` -- used by the engine around a parallel kernel call: sets Numba's
  thread-local count to the decided number and restores it.

The limits choose how many threads run, never what is computed: fastlin's parallel kernels cut rows
into chunks fixed by the shapes and reduce them in a fixed order, so results are bit-identical
whatever the limit.
"""

from __future__ import annotations

import contextlib
import os
import threading
from numbers import Integral

import numba

try:  # where Numba keeps whether its thread pool was started (not a public name)
    from numba.np.ufunc import parallel as _numba_parallel
except ImportError:  # pragma: no cover - a future Numba; then get_num_threads() starts the pool
    _numba_parallel = None

__all__ = ["kernel_threads", "limit_threads", "numba_threads", "OMP_LIMIT"]


def _omp_limit(value: str | None) -> int | None:
    """The first entry of an ``OMP_NUM_THREADS`` value ("4" or the nested form "4,2"), else None."""
    if not value:
        return None
    try:
        n = int(value.split(",")[0].strip())
    except ValueError:
        return None
    return n if n >= 1 else None


#: ``OMP_NUM_THREADS`` as set when this module was first imported (None when unset or invalid).
#: joblib's process workers (loky) set it to cores // n_jobs, which keeps nested pools in check.
OMP_LIMIT: int | None = _omp_limit(os.environ.get("OMP_NUM_THREADS"))

_local = threading.local()  # .user: innermost limit_threads; .pool: innermost threadpool_limits


def _numba_threads_now() -> int:
    """Numba's thread count for a parallel region started by this thread, without starting the
    pool when it is not running yet (then every thread would get ``NUMBA_NUM_THREADS``)."""
    if _numba_parallel is not None and not getattr(_numba_parallel, "_is_initialized", True):
        return int(numba.config.NUMBA_NUM_THREADS)
    return int(numba.get_num_threads())


def _outer_threads() -> int:
    """Threads allowed before this thread's own limits: Numba's count capped by OMP_NUM_THREADS."""
    n = _numba_threads_now()
    return min(n, OMP_LIMIT) if OMP_LIMIT is not None else n


def kernel_threads() -> int:
    """How many threads a parallel kernel may use in the calling thread now.

    Returns
    -------
    n : int
        At least 1. The smallest of Numba's thread count for this thread, ``OMP_NUM_THREADS`` (read
        at import), the innermost :func:`limit_threads` and ``threadpool_limits`` of this thread.
    """
    n = _outer_threads()
    for limit in (getattr(_local, "user", None), getattr(_local, "pool", None)):
        if limit is not None:
            n = min(n, limit)
    return max(1, n)


def _resolve_n_jobs(n_jobs) -> int:
    """joblib's convention: k >= 1 threads, -1 all cores, -2 all but one, ...; 0 is an error."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral):
        raise TypeError(f"n_jobs must be None or an int, got {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or a positive int")
    if n_jobs < 0:
        return max(1, int(numba.config.NUMBA_NUM_THREADS) + 1 + int(n_jobs))
    return int(n_jobs)


@contextlib.contextmanager
def limit_threads(n_jobs):
    """Limit fastlin's parallel kernels to ``n_jobs`` threads inside the block (this thread only).

    Parameters
    ----------
    n_jobs : int or None
        None changes nothing; k >= 1 allows at most k threads; negative values follow joblib
        (-1 all cores, -2 all but one). An inner block replaces an outer one; ``OMP_NUM_THREADS``
        and ``threadpool_limits`` still cap it. Restored on exit, also on an exception.

    Yields
    ------
    n : int
        :func:`kernel_threads` inside the block.
    """
    if n_jobs is None:
        yield kernel_threads()
        return
    k = _resolve_n_jobs(n_jobs)
    previous = getattr(_local, "user", None)
    _local.user = k
    try:
        yield kernel_threads()
    finally:
        _local.user = previous


@contextlib.contextmanager
def numba_threads(n: int):
    """Set Numba's thread count of this thread to ``n`` for the block, then restore it.

    Numba's count is thread-local and read when a parallel region starts, so this is how a limit
    reaches a ``parallel=True`` kernel. Starts Numba's thread pool if it is not running.
    """
    previous = int(numba.get_num_threads())
    n = max(1, min(int(n), int(numba.config.NUMBA_NUM_THREADS)))
    if n == previous:
        yield
        return
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _pool_limit_get() -> int:
    limit = getattr(_local, "pool", None)
    outer = _outer_threads()
    return max(1, min(outer, limit) if limit is not None else outer)


def _pool_limit_set(num_threads) -> None:
    # threadpoolctl restores a block by setting back the count it read on entry: a count at least
    # the outer one means "no limit", so an unlimited thread stays unlimited after the block.
    n = max(1, int(num_threads))
    _local.pool = None if n >= _outer_threads() else n


def _register_with_threadpoolctl() -> bool:
    """Register the Numba controller; False when threadpoolctl is missing or older than 3.2."""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        return False
    register = getattr(threadpoolctl, "register", None)
    base = getattr(threadpoolctl, "LibController", None)
    if register is None or base is None:  # pragma: no cover - threadpoolctl < 3.2
        return False

    class NumbaController(base):
        """fastlin's parallel Numba kernels, seen by threadpoolctl as an OpenMP library."""

        user_api = "openmp"
        internal_api = "numba"
        filename_prefixes = ("_helperlib",)
        check_symbols = ("PyInit__helperlib",)

        def get_num_threads(self):
            return _pool_limit_get()

        def set_num_threads(self, num_threads):
            _pool_limit_set(num_threads)

        def get_version(self):
            return numba.__version__

        def set_additional_attributes(self):
            self.threading_layer = (numba.threading_layer() if _numba_parallel is not None
                                    and getattr(_numba_parallel, "_is_initialized", False)
                                    else None)

    register(NumbaController)
    return True


#: Whether ``threadpool_limits`` reaches fastlin's kernels in this process.
THREADPOOLCTL_REGISTERED: bool = _register_with_threadpoolctl()
