"""Layouts: how the kernels and the Gram pass see X (row blocks, the CSR triple)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["BLOCK_BYTES", "available_memory", "block_rows_for", "iter_row_blocks", "kernel_X",
           "l2_cache_bytes"]

#: Target size of one row block. 2 MiB keeps a block (and its centred float64 copy) inside the L2/L3
#: caches of current x86 cores while staying large enough that BLAS syrk on it runs at full speed
#: (measured: 1024 x 256 float64 blocks reach 95 % of one large syrk).
BLOCK_BYTES = 2 * 1024 * 1024


def block_rows_for(n_features: int, itemsize: int = 8, target_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that one block of float64 is about ``target_bytes`` (at least 64 rows)."""
    return max(64, int(target_bytes // (max(int(n_features), 1) * max(itemsize, 8))))


#: Level-2 cache assumed when the operating system does not report one: 1 MiB per core, the L2 of
#: Intel server cores since Skylake-SP (1-2 MiB) and of AMD Zen 4 (1 MiB; Zen 2-3: 0.5 MiB).
FALLBACK_L2_BYTES = 1024 * 1024


def _parse_cache_size(text: str) -> int:
    """Bytes of a sysfs cache size: ``"2048K"``, ``"1M"`` or a plain number of bytes."""
    text = text.strip()
    units = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    unit = units.get(text[-1:].upper())
    return int(text[:-1]) * unit if unit else int(text)


@functools.lru_cache(maxsize=1)
def l2_cache_bytes() -> int:
    """The level-2 data cache of one core of this machine, in bytes.

    Read once per process from Linux sysfs (``/sys/devices/system/cpu/cpu0/cache``), else from
    ``sysconf(_SC_LEVEL2_CACHE_SIZE)``; :data:`FALLBACK_L2_BYTES` when neither reports a size
    (macOS, Windows, containers that hide sysfs).
    """
    try:
        for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
            if ((index / "level").read_text().strip() == "2"
                    and (index / "type").read_text().strip() in ("Data", "Unified")):
                size = _parse_cache_size((index / "size").read_text())
                if size > 0:
                    return size
    except (OSError, ValueError):
        pass
    try:
        size = int(os.sysconf("SC_LEVEL2_CACHE_SIZE"))
        if size > 0:
            return size
    except (AttributeError, OSError, ValueError):
        pass
    return FALLBACK_L2_BYTES


def iter_row_blocks(X, block_rows: int | None = None):
    """Walk X in row blocks, yielding ``(start, stop, block)``.

    Parameters
    ----------
    X : ndarray, np.memmap or scipy.sparse matrix of shape (n_samples, n_features)
        Dense blocks are views (no copy, for memmaps only the block's pages are read); sparse blocks
        are CSR slices of ``block_rows`` rows (CSC is sliced by rows as well).
    block_rows : int, optional
        Default from :func:`block_rows_for`.

    Yields
    ------
    start, stop : int
    block : ndarray or sparse matrix of shape (stop - start, n_features)
    """
    n = X.shape[0]
    if block_rows is None:
        block_rows = block_rows_for(X.shape[1], X.dtype.itemsize)
    if sp.issparse(X) and X.format not in ("csr",):
        X = X.tocsr()
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        yield start, stop, X[start:stop]


def kernel_X(X):
    """The kernels' view of a validated X: a C-contiguous 2-D array, or the CSR triple.

    Sparse X becomes ``(data, indices, indptr)`` of its CSR form, indices narrowed to int32 when they
    fit (they almost always do), so that one compiled specialisation per dtype serves every CSR
    input; int64 is kept only when needed. The kernels dispatch on the type (array or tuple).
    """
    if not sp.issparse(X):
        return np.ascontiguousarray(X)
    if X.format != "csr":
        X = X.tocsr()
    small = X.nnz < 2**31 - 1 and X.shape[1] < 2**31 - 1
    idx_dtype = np.int32 if small else np.int64
    return (np.ascontiguousarray(X.data), np.ascontiguousarray(X.indices, dtype=idx_dtype),
            np.ascontiguousarray(X.indptr, dtype=idx_dtype))


def available_memory():
    """Bytes of memory available to a new allocation (Linux MemAvailable, else the free physical
    pages), or None when unknown. Used to refuse an allocation that would not fit before making it."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
