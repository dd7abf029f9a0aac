"""The one place where Numba options live.

Every kernel in :mod:`fastlin.kernels` is compiled with :func:`jit`, so the cache policy, the
floating-point contract and the error model are decided here and nowhere else.

* ``cache=True``: compiled machine code is kept on disk, so a fresh process pays only the load, not
  the compile. Set ``FASTLIN_NUMBA_CACHE=0`` to turn the disk cache off (read at import time).
  Where the cache goes is decided once, at import, before any kernel is decorated (see
  :func:`choose_cache_dir`): the user's ``NUMBA_CACHE_DIR``, else Numba's own choice
  (``__pycache__`` beside the sources, else the user-wide cache directory), else a private
  per-user directory under the system's temporary directory; when none is writable the kernels
  compile uncached and one :class:`NumbaCacheWarning` says how to set ``NUMBA_CACHE_DIR``. A
  read-only install never fails with Numba's "cannot cache function ...: no locator available".
  ``fastlin compile`` fills the cache ahead of time (container images, cluster nodes).
  Numba keys a cached kernel on its own source file only: after editing a function that other
  kernels call (e.g. ``kernels/rows.py``, ``kernels/classes.py`` or ``kernels/losses.py``, used by
  ``sgd.py``, ``minibatch.py``, ``logistic.py`` and ``newton.py``), delete
  ``fastlin/kernels/__pycache__`` or run with ``FASTLIN_NUMBA_CACHE=0``. A fresh install rewrites
  every file, so users are not affected.
* ``fastmath``: the LLVM flags that allow re-association and contraction (FMA), which is what lets
  the reductions vectorize. ``nnan`` and ``ninf`` are left out on purpose: with them LLVM may fold
  ``np.isfinite(x)`` to ``True``, and fastlin's divergence and NaN checks must keep working.
* ``error_model="numpy"``: division by zero gives inf/NaN like NumPy instead of raising, which
  removes a branch from every division in the hot loops; the estimators check finiteness per epoch.
* ``nogil=True``: kernels release the GIL, so one-vs-rest classes can be fitted in threads.
"""

from __future__ import annotations

import os
import stat
import tempfile
import types
import warnings
from pathlib import Path

import numba
from numba.core import config as _numba_config

__all__ = ["jit", "renamed", "CACHE", "CACHE_DIR", "FASTMATH", "NumbaCacheWarning", "choose_cache_dir"]

#: LLVM fast-math flags: every flag of ``fastmath=True`` except ``nnan`` and ``ninf``.
FASTMATH: frozenset[str] = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

# A kernel source whose cache location stands for all of them (they share one directory).
_PROBE_SOURCE = Path(__file__).resolve().parent / "kernels" / "losses.py"


class NumbaCacheWarning(RuntimeWarning):
    """No writable location for Numba's disk cache: the kernels compile in every process."""


def _probe():  # pragma: no cover - never called; its code object stands in for a kernel's
    """The function handed to Numba's cache locators when probing a location."""


def _numba_locator_works(source: Path) -> bool:
    """Whether one of Numba's own cache locators has a writable directory for ``source``.

    Asks Numba's locator classes in Numba's order (``NUMBA_CACHE_DIR``, ``__pycache__`` beside the
    source, the user-wide cache directory, ...); each one's ``from_function`` creates its directory
    and writes a temporary file there, i.e. exactly the test Numba applies when decorating.
    """
    from numba.core import caching

    # The table is ``CacheImpl._locator_classes`` in numba 0.68, ``_CacheImpl._...`` before.
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = list(getattr(impl, "_locator_classes", ()))
    if not classes:  # a Numba without that table: test the two usual places ourselves
        places = [source.parent / "__pycache__"]
        if _numba_config.CACHE_DIR:
            places.insert(0, Path(_numba_config.CACHE_DIR))
        return any(_writable_dir(str(place)) for place in places)
    for cls in classes:
        try:
            if cls.from_function(_probe, str(source)) is not None:
                return True
        except Exception:  # noqa: BLE001 - a locator that fails to probe is a locator that fails
            continue
    return False


def _writable_dir(path: str) -> bool:
    """Whether ``path`` is (or can be made) a directory this process can write a file in."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def _private_temp_dir() -> str | None:
    """A per-user cache directory under the temporary directory, or None when unusable.

    Mode 0700 and owned by this user: compiled code loaded from a directory that someone else can
    write to would run their code, so a pre-existing directory with any other owner or mode is
    refused rather than used.
    """
    try:
        uid = os.getuid()
    except AttributeError:  # Windows: no uid; the user's temp dir is private already
        uid = None
    name = "fastlin-numba-cache" + ("" if uid is None else f"-{uid}")
    path = os.path.join(tempfile.gettempdir(), name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            return None
        if uid is not None and (st.st_uid != uid or st.st_mode & 0o077):
            return None
    except OSError:
        return None
    return path if _writable_dir(path) else None


def choose_cache_dir(source: Path = _PROBE_SOURCE):
    """Decide where the kernels' disk cache goes; set Numba's ``CACHE_DIR`` if needed.

    Returns
    -------
    enabled : bool
        Whether the kernels can be cached on disk.
    where : str or None
        ``"numba"`` when Numba's own locators work (``NUMBA_CACHE_DIR`` or its defaults), the
        per-user temporary directory that was set as Numba's ``CACHE_DIR``, or None (uncached).
    """
    if os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
        return True, "numba"  # the user chose the locators: leave them to Numba
    if _numba_locator_works(source):
        return True, "numba"
    path = _private_temp_dir()
    if path is not None:
        # Read by Numba's first locator when each kernel is decorated, i.e. after this module.
        _numba_config.CACHE_DIR = path
        return True, path
    return False, None


def _env_cache_flag() -> bool:
    flag = os.environ.get("FASTLIN_NUMBA_CACHE", "1").strip().lower()
    return flag not in {"0", "false", "no", "off"}


#: Whether compiled kernels are cached on disk ("0", "false", "no" or "off" in
#: ``FASTLIN_NUMBA_CACHE`` turns it off; also off when no cache location is writable).
CACHE: bool = _env_cache_flag()

#: Where the cache goes: "numba" (Numba's own choice), a per-user temporary directory, or None.
CACHE_DIR: str | None = None

if CACHE:
    CACHE, CACHE_DIR = choose_cache_dir()
    if not CACHE:
        warnings.warn(
            "fastlin: no writable location for Numba's disk cache (the package directory, the "
            "user cache directory and the temporary directory were tried), so the kernels are "
            "compiled again in every process. Set NUMBA_CACHE_DIR to a writable directory (and "
            "run `fastlin compile` once to fill it), or set FASTLIN_NUMBA_CACHE=0 to silence "
            "this warning.", NumbaCacheWarning, stacklevel=2)


def jit(*args, inline: str = "never", **overrides):
    """Decorate a kernel with fastlin's Numba options.

    Use it bare (``@jit``) or with a signature / overrides (``@jit(inline="always")``).
    Signatures are not forced: each kernel compiles lazily once per dtype/layout it meets, which
    keeps the number of specialisations to the ones actually used (typically float64 and float32,
    C order) and, with the disk cache, makes the second process free.
    """
    options = dict(cache=CACHE, fastmath=set(FASTMATH), error_model="numpy", nogil=True,
                   inline=inline)
    options.update(overrides)
    if len(args) == 1 and callable(args[0]) and not overrides and inline == "never":
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


def renamed(fn, name):
    """A copy of ``fn`` under another name (same code), to compile one body twice.

    Numba's disk cache names its files after the function's qualified name and keys them on the
    signature and bytecode, not on options such as ``parallel``: two dispatchers of one function
    would load each other's machine code. ``jit(parallel=True)(renamed(body, "k"))`` and
    ``jit(parallel=False)(renamed(body, "k_serial"))`` keep apart.
    """
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = name
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return copy
