"""Cross-validated ridge: fastlin's ``RidgeCV(cv=5)`` on per-fold statistics beside one ``Ridge`` fit
and scikit-learn's ``RidgeCV(cv=5)`` and ``GridSearchCV(Ridge(), 100 alphas, cv=5)``.

Timed:   pytest bench/bench_cv.py --benchmark-only --benchmark-group-by=group
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_cv.py --benchmark-disable

Goals: fastlin ``RidgeCV`` (100 alphas, 5 folds) <= 1.3x one fastlin ``Ridge`` fit, and >= 20x faster
than scikit-learn's two searches. scikit-learn's searches fit 5 x 100 Ridge models (500 passes over
X), minutes at full size: they run one round each (``pedantic(rounds=1)``).
"""

from __future__ import annotations

import numpy as np
import pytest
from benchutil import make_regression_data, scaled
from sklearn import linear_model as sklm
from sklearn.model_selection import GridSearchCV

import fastlin

SHAPES = [(1_000_000, 100), (200_000, 512)]
ALPHAS = np.logspace(-3, 3, 100)


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def data(request):
    n, d = request.param
    X, y = make_regression_data(scaled(n, 1000), d, seed=0)
    fastlin.RidgeCV(ALPHAS, cv=5).fit(X[:500], y[:500])  # warm-up outside the timings
    return X, y


def _group(benchmark, X, kind):
    benchmark.group = f"ridge cv {X.shape[0]}x{X.shape[1]}"
    benchmark.extra_info["kind"] = kind


def test_fastlin_ridge_one_fit(benchmark, data):
    X, y = data
    _group(benchmark, X, "fastlin.Ridge (one alpha, floor)")
    benchmark(lambda: fastlin.Ridge().fit(X, y))


def test_fastlin_ridge_cv(benchmark, data):
    X, y = data
    _group(benchmark, X, "fastlin.RidgeCV(100 alphas, cv=5)")
    est = benchmark(lambda: fastlin.RidgeCV(ALPHAS, cv=5).fit(X, y))
    ref = fastlin.Ridge(alpha=est.alpha_).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10, atol=1e-12)


def test_sklearn_ridge_cv(benchmark, data):
    X, y = data
    _group(benchmark, X, "sklearn.RidgeCV(100 alphas, cv=5)")
    benchmark.pedantic(lambda: sklm.RidgeCV(ALPHAS, cv=5).fit(X, y), rounds=1, iterations=1)


def test_sklearn_grid_search(benchmark, data):
    X, y = data
    _group(benchmark, X, "sklearn GridSearchCV(Ridge, 100 alphas, cv=5)")
    search = GridSearchCV(sklm.Ridge(), {"alpha": ALPHAS}, cv=5)
    benchmark.pedantic(lambda: search.fit(X, y), rounds=1, iterations=1)
