"""Lasso by coordinate descent on the Gram: fastlin's LassoCV and lasso path beside scikit-learn.

Timed:   pytest bench/bench_lasso.py --benchmark-only --benchmark-group-by=group
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_lasso.py --benchmark-disable

* ``LassoCV(alphas=100, cv=5)``: fastlin (one pass for the five folds' Gram statistics, the paths
  on D×D matrices) against scikit-learn's ``LassoCV`` (five Gram products, then an X-based refit);
  both must choose the same ``alpha_`` (goal: fastlin >= 10x faster). scikit-learn's run can take
  minutes at full size, so it is timed once; its test prints the ratio to fastlin's best of 3.
* a 100-alpha Lasso path: ``fastlin.linear_model.lasso_path`` from X (its Gram pass included)
  against scikit-learn's ``lasso_path`` given the Gram and Xy precomputed outside the timing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from benchutil import make_regression_data, scaled
from sklearn import linear_model as sklm
from sklearn.model_selection import KFold

import fastlin
from fastlin.linear_model import lasso_path
from fastlin.solvers.cd import alpha_grid, enet_gram_path

SHAPES = [(1_000_000, 100), (200_000, 512)]


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def data(request):
    n, d = request.param
    X, _ = make_regression_data(scaled(n, 1000), d, seed=0)
    # a sparse truth (one coefficient in 4 non-zero), so the path has a support to find
    rng = np.random.default_rng(1)
    y = X[:, ::4] @ rng.standard_normal(X[:, ::4].shape[1]) + rng.standard_normal(X.shape[0])
    fastlin.LassoCV(alphas=5, cv=KFold(3)).fit(X[:500], y[:500])  # JIT warm-up outside timings
    return X, y


def _group(benchmark, X, what, kind):
    benchmark.group = f"{what} {X.shape[0]}x{X.shape[1]}"
    benchmark.extra_info["kind"] = kind


def _best_of(fn, rounds=3):
    best, out = np.inf, None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def test_fastlin_lassocv(benchmark, data):
    X, y = data
    _group(benchmark, X, "LassoCV", "fastlin.LassoCV")
    model = benchmark(lambda: fastlin.LassoCV(alphas=100, cv=KFold(5)).fit(X, y))
    assert model.mse_path_.shape == (100, 5)


def test_sklearn_lassocv(benchmark, data):
    X, y = data
    _group(benchmark, X, "LassoCV", "sklearn.LassoCV")
    ours_s, ours = _best_of(lambda: fastlin.LassoCV(alphas=100, cv=KFold(5)).fit(X, y))
    t0 = time.perf_counter()
    theirs = benchmark.pedantic(lambda: sklm.LassoCV(alphas=100, cv=KFold(5)).fit(X, y),
                                rounds=1, iterations=1)
    theirs_s = time.perf_counter() - t0
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-9)
    benchmark.extra_info.update(fastlin_s=ours_s, sklearn_s=theirs_s, ratio=theirs_s / ours_s)
    print(f"\nLassoCV {X.shape}: fastlin {ours_s:.3f}s, scikit-learn {theirs_s:.3f}s, "
          f"ratio {theirs_s / ours_s:.1f}x, alpha_ {ours.alpha_:.6g} (both)")


def test_fastlin_path(benchmark, data):
    X, y = data
    _group(benchmark, X, "lasso path 100 alphas", "fastlin lasso_path (Gram pass included)")
    alphas, coefs, _ = benchmark(lambda: lasso_path(X, y, alphas=100))
    assert coefs.shape == (X.shape[1], 100)


def test_sklearn_path(benchmark, data):
    X, y = data
    _group(benchmark, X, "lasso path 100 alphas", "sklearn lasso_path (Gram precomputed)")
    G, Xy = X.T @ X, X.T @ y
    ours_s, ours = _best_of(lambda: lasso_path(X, y, alphas=100))
    t0 = time.perf_counter()
    theirs = benchmark.pedantic(lambda: sklm.lasso_path(X, y, alphas=100, precompute=G, Xy=Xy),
                                rounds=1, iterations=1)
    theirs_s = time.perf_counter() - t0
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)
    benchmark.extra_info.update(fastlin_s=ours_s, sklearn_s=theirs_s, ratio=theirs_s / ours_s)
    print(f"\nlasso path {X.shape}: fastlin {ours_s:.3f}s (from X), scikit-learn {theirs_s:.3f}s "
          f"(Gram given), ratio {theirs_s / ours_s:.1f}x")


def test_fastlin_path_on_given_gram(benchmark, data):
    """The coordinate descent alone, on the same precomputed Gram scikit-learn is given above."""
    X, y = data
    _group(benchmark, X, "lasso path 100 alphas", "fastlin enet_gram_path (Gram precomputed)")
    G, Xy = X.T @ X, X.T @ y
    n = X.shape[0]
    grid = alpha_grid(Xy, n, 1.0, 1e-3, 100)

    def run():
        return enet_gram_path(G, Xy, float(y @ y), n, grid, 1.0)

    ours_s, ours = _best_of(run)
    benchmark(run)
    t0 = time.perf_counter()
    theirs = sklm.lasso_path(X, y, alphas=grid, precompute=G, Xy=Xy)
    theirs_s = time.perf_counter() - t0
    np.testing.assert_allclose(ours[0], theirs[1], rtol=1e-3, atol=1e-3 * np.abs(theirs[1]).max())
    benchmark.extra_info.update(fastlin_s=ours_s, sklearn_s=theirs_s, ratio=theirs_s / ours_s)
    print(f"\nCD only, Gram given {X.shape}: fastlin {ours_s * 1e3:.1f} ms, scikit-learn "
          f"{theirs_s * 1e3:.1f} ms, ratio {theirs_s / ours_s:.1f}x")
