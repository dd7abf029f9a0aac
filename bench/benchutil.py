"""Shared helpers for the benchmark suites (import as `from benchutil import ...`).

Timed runs (for people): ``pytest bench --benchmark-only``; sizes are the ones the issues quote.
Untimed runs (CI): ``pytest --benchmark-disable`` runs every benchmark body once so the suites never
rot; set ``FASTLIN_BENCH_SCALE`` (e.g. ``0.05``) to shrink every size by that factor there.
"""

from __future__ import annotations

import os

import numpy as np

SCALE = float(os.environ.get("FASTLIN_BENCH_SCALE", "1"))


def scaled(n: int, minimum: int = 100) -> int:
    """``n`` times FASTLIN_BENCH_SCALE, at least ``minimum``."""
    return max(minimum, int(round(n * SCALE)))


def make_regression_data(n, d, dtype=np.float64, seed=0, n_targets=None):
    """Standard-normal X, a dense linear target with unit noise; deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype, copy=False)
    coef = rng.standard_normal(d if n_targets is None else (d, n_targets))
    y = X @ coef.astype(dtype) + rng.standard_normal(n if n_targets is None else (n, n_targets)).astype(dtype)
    return X, y


def make_classification_data(n, d, dtype=np.float64, seed=0):
    """Standard-normal X and labels in {0, 1} from a noisy linear rule; deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype, copy=False)
    coef = rng.standard_normal(d) / np.sqrt(d)
    y = (X @ coef + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    return X, y


def make_csr_classification_data(n, d, nnz_per_row, seed=0):
    """CSR ``n x d`` with ``nnz_per_row`` sorted columns per row (a row that draws a column twice
    keeps it once, summed), standard-normal values, float64 data and int32 indices; labels in
    {0, 1} from the sign of a standard-normal linear rule. Deterministic for ``seed``."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    cols = rng.integers(0, d, size=(n, nnz_per_row), dtype=np.int32)
    cols.sort(axis=1)
    data = rng.standard_normal(n * nnz_per_row)
    indptr = np.arange(0, n * nnz_per_row + 1, nnz_per_row, dtype=np.int32)
    X = sp.csr_matrix((data, cols.ravel(), indptr), shape=(n, d))
    X.sum_duplicates()
    coef = rng.standard_normal(d)
    y = (X @ coef > 0).astype(np.int64)
    return X, y


def peer_available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a peer's import can start its
    thread pool in the calling process; the peers are timed in their own subprocesses)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def ratio_to_bare_gram(fit, X, rounds: int = 3, pause: float = 0.2):
    """Median over ``rounds`` of (seconds of ``fit()``) / (seconds of a bare ``X.T @ X``).

    The two are interleaved round by round on the same X in the same process, so a load change on
    a shared machine hits both, and the ratio is comparable across processes and machines. Their
    order alternates between rounds and each call starts after ``pause`` seconds idle: an OpenBLAS
    pool keeps spinning for a while after a call, and a fit timed right after NumPy's 2-thread
    ``X.T @ X`` shared the cores with those spinning threads (measured 0.80 of the bare product for
    fastlin's Ridge on 1M x 100, against 0.61 timed after a pause).
    Returns ``(ratio, fit_seconds, bare_seconds)``, the last two medians.
    """
    return ratio_to_reference(fit, lambda: X.T @ X, rounds, pause)


def ratio_to_reference(fit, reference, rounds: int = 3, pause: float = 0.2):
    """:func:`ratio_to_bare_gram` with another reference operation ``reference()`` (for CSR X, a
    bare ``X.T @ (X @ v)`` of SciPy: one pass of the products every solver is made of)."""
    import statistics
    import time

    def timed(f):
        time.sleep(pause)
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    fits, refs, ratios = [], [], []
    for r in range(rounds):
        if r % 2:
            f_s = timed(fit)
            r_s = timed(reference)
        else:
            r_s = timed(reference)
            f_s = timed(fit)
        refs.append(r_s)
        fits.append(f_s)
        ratios.append(f_s / r_s)
    return statistics.median(ratios), statistics.median(fits), statistics.median(refs)


def cold_compile_seconds(benchmark, code: str, **extra_names) -> list[float]:
    """Run ``code`` in a fresh process with the disk cache off; the floats it prints, as a list.

    Timed runs only (a disabled benchmark skips: the compile takes seconds). The figures go to
    ``benchmark.extra_info`` under ``extra_names`` (name -> index into the printed floats), in a
    group of their own, and the benchmark itself times nothing.
    """
    import os
    import subprocess
    import sys

    import pytest

    if getattr(benchmark, "disabled", False):
        pytest.skip("compile time is measured in timed runs only (it takes seconds)")
    env = dict(os.environ, FASTLIN_NUMBA_CACHE="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = [float(v) for v in subprocess.run([sys.executable, "-c", code], env=env, cwd=root,
                                            capture_output=True, text=True,
                                            check=True).stdout.split()]
    benchmark.extra_info.update({name: round(out[i], 3) for name, i in extra_names.items()})
    benchmark.group = "cold compile (reported in extra_info, not the timing)"
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    return out
