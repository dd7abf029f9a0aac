"""Closed form (issue 2): fastlin's Ridge/LinearRegression beside a bare ``X.T @ X`` and scikit-learn.

Timed:   pytest bench/bench_closed_form.py --benchmark-only --benchmark-group-by=group
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_closed_form.py --benchmark-disable

Each group times, on the same array: the bare Gram product (the floor every closed-form fit pays),
fastlin's fit, scikit-learn's ``Ridge(solver="cholesky")`` and ``LinearRegression``. The ratio to the
bare product is the figure quoted in the README (goal: fastlin ≤ 1.0×). Peers (scikit-learn-intelex,
PyTorch), each in its own process: bench/bench_peers.py --table.

``test_ratio_to_bare_gram`` prints fastlin's Ridge as a ratio to a bare ``X.T @ X`` of the same X,
interleaved round by round, for float64 and float32 X, with BLAS's default threads (every core: the
Gram pass splits its rows between them) and with one (``threadpool_limits(1)``).
``test_import_and_first_fit`` times a fresh process's first fit, float64 with Numba's disk cache off
(``FASTLIN_NUMBA_CACHE=0``: the in-place Gram pass imports no Numba, so nothing is compiled) and
float32 (the augmented-block kernel: a cold compile, then the warm disk cache).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
from benchutil import make_regression_data, ratio_to_bare_gram, scaled
from sklearn import linear_model as sklm
from threadpoolctl import threadpool_limits

import fastlin

SHAPES = [(1_000_000, 100), (200_000, 512)]


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def data(request):
    n, d = request.param
    X, y = make_regression_data(scaled(n, 1000), d, seed=0)
    fastlin.Ridge().fit(X[:500], y[:500])  # JIT warm-up (or cache load) outside the timings
    return X, y


def _group(benchmark, X, kind):
    benchmark.group = f"closed form {X.shape[0]}x{X.shape[1]}"
    benchmark.extra_info["kind"] = kind


def test_bare_gram(benchmark, data):
    X, _ = data
    _group(benchmark, X, "X.T @ X (floor)")
    benchmark(lambda: X.T @ X)


@pytest.mark.parametrize("est", ["Ridge", "LinearRegression"])
def test_fastlin(benchmark, data, est):
    X, y = data
    _group(benchmark, X, f"fastlin.{est}")
    model = benchmark(lambda: getattr(fastlin, est)().fit(X, y))
    assert model.solver_ == "cholesky"


@pytest.mark.parametrize("est", ["Ridge", "LinearRegression"])
def test_sklearn(benchmark, data, est):
    X, y = data
    _group(benchmark, X, f"sklearn.{est}")
    make = (lambda: sklm.Ridge(solver="cholesky")) if est == "Ridge" else sklm.LinearRegression
    benchmark.pedantic(lambda: make().fit(X, y), rounds=1 if est == "LinearRegression" else 3, iterations=1)


@pytest.mark.parametrize("threads", [None, 1], ids=["all-cores", "1-thread"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ratio_to_bare_gram(benchmark, data, dtype, threads):
    X, y = data
    X = X.astype(dtype, copy=False)
    benchmark.group = f"closed form {X.shape[0]}x{X.shape[1]}: Ridge / bare X.T @ X"
    with threadpool_limits(threads):
        fastlin.Ridge().fit(X[:2000], y[:2000])
        ratio, fit_s, bare_s = ratio_to_bare_gram(lambda: fastlin.Ridge().fit(X, y), X,
                                                  rounds=int(os.environ.get("FASTLIN_RATIO_ROUNDS", "5")))
    benchmark.extra_info.update(ratio=ratio, fit_s=fit_s, bare_s=bare_s, dtype=dtype,
                                threads=threads or "default")
    print(f"\nfastlin.Ridge {X.shape[0]}x{X.shape[1]} {dtype} threads={threads or 'default'}: "
          f"{ratio:.2f}x a bare X.T @ X ({fit_s:.3f} s / {bare_s:.3f} s)")
    assert np.isfinite(ratio)
    benchmark.pedantic(lambda: None, rounds=1)


_FIRST_FIT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 20)); y = rng.standard_normal(2000)
    t0 = time.perf_counter()
    if sys.argv[1].startswith("fastlin"):
        import fastlin
        if sys.argv[1] == "fastlin32":  # float32 X goes through the Numba block kernel
            X = X.astype(np.float32)
        fastlin.Ridge().fit(X, y)
    else:
        from sklearn.linear_model import Ridge
        Ridge().fit(X, y)
    print(json.dumps(time.perf_counter() - t0))
    """
)


def _fresh_process_seconds(lib, env):
    out = subprocess.run([sys.executable, "-c", _FIRST_FIT, lib], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_import_and_first_fit(benchmark):
    """Fresh-process `import` + first fit: cold Numba compile, then warm disk cache, beside scikit-learn."""
    benchmark.group = "import + first fit (fresh process)"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = _fresh_process_seconds("fastlin32", env)
        warm = min(_fresh_process_seconds("fastlin32", env) for _ in range(3))
    no_cache = {**os.environ, "FASTLIN_NUMBA_CACHE": "0"}  # float64 compiles nothing: no cache needed
    cold64 = min(_fresh_process_seconds("fastlin", no_cache) for _ in range(3))
    sk = min(_fresh_process_seconds("sklearn", dict(os.environ)) for _ in range(3))
    benchmark.extra_info.update(cold_compile_s=cold, warm_cache_s=warm, float64_no_cache_s=cold64,
                                sklearn_s=sk)
    print(f"\nimport+first fit: fastlin float32 cold compile {cold:.2f}s, warm cache {warm:.2f}s, "
          f"float64 without a Numba cache {cold64:.2f}s; scikit-learn {sk:.2f}s")
    benchmark.pedantic(lambda: None, rounds=1)
