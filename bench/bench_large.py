"""Large data: Ridge on a memmap on disk, and the Dask backend against in-memory fits.

Timed (for people)::

    pytest bench/bench_large.py --benchmark-only          # pytest-benchmark tables
    python bench/bench_large.py                           # the summary table quoted in docs/large-data.md

Untimed (CI)::

    FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_large.py --benchmark-disable

What is measured (one run, so ratios are comparable on a noisy machine):

* Ridge on a (2 000 000 × 100) float64 memmap (1.6 GB file): fit from the memmap with the page
  cache warm, fit from the memmap after dropping the file from the page cache
  (``posix_fadvise(DONTNEED)``, no root needed), the same fit on an in-memory copy, and the limit:
  reading the file once (warm: a sum over the mapped blocks; cold: ``readinto`` after the drop).
* Dask ``LocalCluster`` (2 worker processes × 1 thread, X persisted on the workers) against the
  in-memory fit on the same data, for Ridge and LogisticRegression(lbfgs), at growing N: the
  overhead ratio dask / in-memory and how it falls as N grows.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from benchutil import scaled  # noqa: E402

from fastlin import Ridge  # noqa: E402

try:
    from fastlin import LogisticRegression
except (ImportError, AttributeError):  # pragma: no cover
    LogisticRegression = None

N_MEMMAP, D = scaled(2_000_000), 100
DASK_NS = [scaled(n, minimum=2000) for n in (100_000, 400_000, 1_600_000)]
DASK_D = 100
BLOCK_WRITE = 100_000


# ------------------------------------------------------------------------------------------------
# memmap
# ------------------------------------------------------------------------------------------------


def write_memmap(path, n=N_MEMMAP, d=D, seed=0):
    """Write standard-normal X (n, d) and a linear y to ``path`` / ``path.y`` block by block."""
    rng = np.random.default_rng(seed)
    X = np.memmap(path, dtype=np.float64, mode="w+", shape=(n, d))
    y = np.memmap(str(path) + ".y", dtype=np.float64, mode="w+", shape=(n,))
    coef = rng.standard_normal(d)
    for a in range(0, n, BLOCK_WRITE):
        b = min(n, a + BLOCK_WRITE)
        blk = rng.standard_normal((b - a, d))
        X[a:b] = blk
        y[a:b] = blk @ coef + rng.standard_normal(b - a)
    X.flush()
    y.flush()
    del X, y
    return (np.memmap(path, dtype=np.float64, mode="r", shape=(n, d)),
            np.memmap(str(path) + ".y", dtype=np.float64, mode="r", shape=(n,)))


def open_memmap(path, n=N_MEMMAP, d=D):
    return (np.memmap(path, dtype=np.float64, mode="r", shape=(n, d)),
            np.memmap(str(path) + ".y", dtype=np.float64, mode="r", shape=(n,)))


def fit_fresh_memmap(path, n=N_MEMMAP, d=D):
    """Open the files and fit: after :func:`drop_page_cache` this reads X from disk."""
    X, y = open_memmap(path, n, d)
    return Ridge(alpha=1.0).fit(X, y)


def drop_page_cache(path):
    """Ask the kernel to forget the file's cached pages (clean pages only; no root needed).

    Pages still mapped by a live ``np.memmap`` are not dropped: the cold-cache timings therefore
    open a fresh mapping after the drop (:func:`fit_fresh_memmap`).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_file_once(path, buf_bytes=16 << 20):
    """Read the whole file sequentially (the I/O limit of any one-pass fit)."""
    buf = bytearray(buf_bytes)
    total = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            total += k
    return total


def sum_mapped_blocks(X, rows=1 << 14):
    """Touch every byte of a mapped X once (the memory-bandwidth limit with a warm cache)."""
    s = 0.0
    for a in range(0, X.shape[0], rows):
        s += float(X[a:a + rows].sum())
    return s


@pytest.fixture(scope="module")
def memmap_xy(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "X.f64"
    X, y = write_memmap(path)
    Ridge().fit(X[:1000], y[:1000])  # JIT/cache warm-up outside the timings
    return path, X, y


def test_ridge_memmap_warm(benchmark, memmap_xy):
    path, X, y = memmap_xy
    sum_mapped_blocks(X)  # cache warm
    est = benchmark(Ridge(alpha=1.0).fit, X, y)
    assert est.coef_.shape == (X.shape[1],)


def test_ridge_memmap_cold(benchmark, memmap_xy):
    path, X, y = memmap_xy
    del X, y
    benchmark.pedantic(fit_fresh_memmap, args=(path,), setup=lambda: drop_page_cache(path),
                       rounds=3, iterations=1)


def test_ridge_in_memory(benchmark, memmap_xy):
    path, X, y = memmap_xy
    Xm, ym = np.array(X), np.array(y)
    est = benchmark(Ridge(alpha=1.0).fit, Xm, ym)
    ref = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)


def test_read_file_once_warm(benchmark, memmap_xy):
    path, X, y = memmap_xy
    benchmark(sum_mapped_blocks, X)


def test_read_file_once_cold(benchmark, memmap_xy):
    path, X, y = memmap_xy
    n = benchmark.pedantic(read_file_once, args=(path,), setup=lambda: drop_page_cache(path),
                           rounds=3, iterations=1)
    assert n == X.nbytes


# ------------------------------------------------------------------------------------------------
# Dask
# ------------------------------------------------------------------------------------------------


def start_cluster():
    import distributed

    env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, env=env)
    return cluster, distributed.Client(cluster)


def dask_data(client, n, d=DASK_D, seed=0):
    """X, y (regression) and yc (classes) generated and persisted on the workers."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    chunk = max(1000, n // 8)
    X = rng.standard_normal((n, d), chunks=(chunk, d))
    coef = np.random.default_rng(seed).standard_normal(d) / np.sqrt(d)
    y = X @ coef + rng.standard_normal(n, chunks=chunk)
    yc = (y > 0).astype(np.int64)
    X, y, yc = client.persist([X, y, yc])
    return X, y, yc


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("distributed")
    cluster, client = start_cluster()
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("n", DASK_NS)
def test_dask_ridge(benchmark, dask_client, n):
    X, y, _ = dask_data(dask_client, n)
    Ridge().fit(X[:2000], y[:2000])
    est = benchmark(Ridge(alpha=1.0).fit, X, y)
    ref = Ridge(alpha=1.0).fit(X.compute(), y.compute())
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", DASK_NS)
def test_dask_lbfgs(benchmark, dask_client, n):
    if LogisticRegression is None:
        pytest.skip("fastlin.LogisticRegression is not importable")
    X, _, yc = dask_data(dask_client, n)
    est = benchmark(lambda: LogisticRegression().fit(X, yc))
    ref = LogisticRegression().fit(X.compute(), yc.compute())
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------------------
# Summary table (python bench/bench_large.py)
# ------------------------------------------------------------------------------------------------


def best_of(fn, repeat=3, setup=None):
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def memmap_table(path):  # pragma: no cover - timed run for people
    t0 = time.perf_counter()
    X, y = write_memmap(path)
    print(f"memmap ({X.shape[0]} x {X.shape[1]}, {X.nbytes / 1e9:.2f} GB) written in "
          f"{time.perf_counter() - t0:.1f} s")
    Ridge().fit(X[:1000], y[:1000])
    del X, y  # no live mapping: the page-cache drop must be able to evict every page
    r = {}
    r["read once, cold cache"] = best_of(lambda: read_file_once(path), setup=lambda: drop_page_cache(path))
    r["Ridge on memmap, cold cache"] = best_of(lambda: fit_fresh_memmap(path),
                                               setup=lambda: drop_page_cache(path))
    X, y = open_memmap(path)
    sum_mapped_blocks(X)
    r["read once, warm cache (sum of mapped blocks)"] = best_of(lambda: sum_mapped_blocks(X))
    r["Ridge on memmap, warm cache"] = best_of(lambda: Ridge().fit(X, y))
    Xm, ym = np.array(X), np.array(y)
    r["Ridge in memory"] = best_of(lambda: Ridge().fit(Xm, ym))
    r["bare X.T @ X in memory"] = best_of(lambda: Xm.T @ Xm)
    del Xm, ym
    base = r["Ridge in memory"]
    print("\n| Ridge, memmap (n x 100) | time (s) | / in-memory fit |\n|---|---|---|")
    for k, v in r.items():
        print(f"| {k} | {v:.3f} | {v / base:.2f} |")
    del X, y


def main():  # pragma: no cover - timed run for people
    import shutil
    import tempfile
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    if "--dask-only" not in sys.argv:
        tmp = tempfile.mkdtemp(dir=os.environ.get("FASTLIN_BENCH_TMP"))
        try:
            memmap_table(os.path.join(tmp, "X.f64"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if "--memmap-only" in sys.argv:
        return

    cluster, client = start_cluster()
    try:
        print("\n| N (x 100) | Ridge in-mem (s) | Ridge dask (s) | ratio | lbfgs in-mem (s) | "
              "lbfgs dask (s) | ratio | lbfgs iters |\n|---|---|---|---|---|---|---|---|")
        for n in DASK_NS + [scaled(3_200_000, minimum=2000)]:
            X, y, yc = dask_data(client, n)
            Xm, ym, ycm = X.compute(), y.compute(), yc.compute()
            Ridge().fit(X[:2000], y[:2000])
            tr_m = best_of(lambda: Ridge().fit(Xm, ym))
            tr_d = best_of(lambda: Ridge().fit(X, y))
            LogisticRegression(max_iter=2).fit(X[:2000], yc[:2000])
            tl_m = best_of(lambda: LogisticRegression().fit(Xm, ycm), repeat=2)
            tl_d = best_of(lambda: LogisticRegression().fit(X, yc), repeat=2)
            it = int(LogisticRegression().fit(Xm, ycm).n_iter_[0])
            print(f"| {n} | {tr_m:.3f} | {tr_d:.3f} | {tr_d / tr_m:.1f} | {tl_m:.3f} | {tl_d:.3f} | "
                  f"{tl_d / tl_m:.1f} | {it} |")
            del X, y, yc, Xm, ym, ycm
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":  # pragma: no cover
    main()
