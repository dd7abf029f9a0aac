"""The two parts of the closed form at a couple of sizes (issue 5), as pytest-benchmark groups.

Timed:   pytest bench/bench_complexity.py --benchmark-only --benchmark-group-by=group
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_complexity.py --benchmark-disable

``fastlin bench complexity`` is the sweep (exponents, crossover, plot); these groups are fixed points
whose JSON can be compared between commits (``pytest-benchmark compare``):

* ``gram NxD``: fastlin's one-pass Gram beside a bare ``X.T @ X`` on the same array (the floor);
* ``cholesky D``: ``fastlin.solvers.normal.solve_normal`` beside ``scipy.linalg.cho_factor`` + ``cho_solve``.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import make_regression_data, scaled
from scipy import linalg

from fastlin.engine.gram import gram
from fastlin.solvers.normal import solve_normal

GRAM_SHAPES = [(256_000, 128), (16_000, 1024)]
CHOL_D = [1000, 2000]


@pytest.fixture(scope="module", params=GRAM_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def xy(request):
    n, d = request.param
    X, y = make_regression_data(scaled(n, 1000), scaled(d, 16), seed=0)
    gram(X[:100], y[:100])  # warm-up outside the timings
    return X, y


def test_gram_fastlin(benchmark, xy):
    X, y = xy
    benchmark.group = f"gram {X.shape[0]}x{X.shape[1]}"
    st = benchmark(gram, X, y)
    assert st.xtx.shape == (X.shape[1], X.shape[1])


def test_gram_bare_xtx(benchmark, xy):
    X, _ = xy
    benchmark.group = f"gram {X.shape[0]}x{X.shape[1]}"
    benchmark(lambda: X.T @ X)


@pytest.fixture(scope="module", params=CHOL_D, ids=lambda d: f"D{d}")
def spd(request):
    d = scaled(request.param, 32)
    rng = np.random.default_rng(0)
    M = rng.random((d, d))
    M += M.T
    M.flat[:: d + 1] += 2.0 * d  # strictly diagonally dominant: positive definite
    return M, rng.standard_normal((d, 1))


def test_cholesky_fastlin(benchmark, spd):
    M, b = spd
    benchmark.group = f"cholesky {M.shape[0]}"
    coef, solver = benchmark(solve_normal, M, b, 1.0)
    assert solver == "cholesky" and coef.shape == b.shape


def test_cholesky_scipy(benchmark, spd):
    M, b = spd
    benchmark.group = f"cholesky {M.shape[0]}"
    A = M + np.eye(M.shape[0])
    benchmark(lambda: linalg.cho_solve(linalg.cho_factor(A, check_finite=False), b, check_finite=False))
