"""The one place where Numba options live.

Every kernel in :mod:`fastlin.kernels` is compiled with :func:`jit`, so the cache policy, the
floating-point contract and the error model are decided here and nowhere else.

* ``cache=True``: compiled machine code is kept on disk beside the sources, so a fresh process pays
  only the load, not the compile. Set ``FASTLIN_NUMBA_CACHE=0`` to turn the disk cache off (read at
  import time). Numba keys a cached kernel on its own source file only: after editing a function
  that other kernels call (e.g. ``kernels/rows.py`` or ``kernels/losses.py``, used by ``sgd.py``,
  ``minibatch.py`` and ``logistic.py``), delete ``fastlin/kernels/__pycache__`` or run with
  ``FASTLIN_NUMBA_CACHE=0``. A fresh install rewrites every file, so users are not affected.
* ``fastmath``: the LLVM flags that allow re-association and contraction (FMA), which is what lets
  the reductions vectorize. ``nnan`` and ``ninf`` are left out on purpose: with them LLVM may fold
  ``np.isfinite(x)`` to ``True``, and fastlin's divergence and NaN checks must keep working.
* ``error_model="numpy"``: division by zero gives inf/NaN like NumPy instead of raising, which
  removes a branch from every division in the hot loops; the estimators check finiteness per epoch.
* ``nogil=True``: kernels release the GIL, so one-vs-rest classes can be fitted in threads.
"""

from __future__ import annotations

import os

import numba

__all__ = ["jit", "CACHE", "FASTMATH"]

#: Whether compiled kernels are cached on disk ("0", "false", "no" or "off" turns it off).
CACHE: bool = os.environ.get("FASTLIN_NUMBA_CACHE", "1").strip().lower() not in {"0", "false", "no", "off"}

#: LLVM fast-math flags: every flag of ``fastmath=True`` except ``nnan`` and ``ninf``.
FASTMATH: frozenset[str] = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})


def jit(*args, inline: str = "never", **overrides):
    """Decorate a kernel with fastlin's Numba options.

    Use it bare (``@jit``) or with a signature / overrides (``@jit(inline="always")``).
    Signatures are not forced: each kernel compiles lazily once per dtype/layout it meets, which
    keeps the number of specialisations to the ones actually used (typically float64 and float32,
    C order) and, with the disk cache, makes the second process free.
    """
    options = dict(cache=CACHE, fastmath=set(FASTMATH), error_model="numpy", nogil=True, inline=inline)
    options.update(overrides)
    if len(args) == 1 and callable(args[0]) and not overrides and inline == "never":
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
