"""Per-fold Gram statistics (fastlin.engine.folds) and RidgeCV: direct computations, scikit-learn
parity (leave-one-out and K-fold), every source, bad input, scikit-learn's common checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, TimeSeriesSplit
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from fastlin import RidgeCV
from fastlin.data.pieces import Piece
from fastlin.engine.folds import (fold_assigner, fold_statistics, training_stats, uncentred,
                                  validation_sse)
from fastlin.engine.gram import gram
from fastlin.engine.sources import ArraySource, ChunkSource

ALPHAS = np.logspace(-3, 3, 25)


def make_problem(n=300, d=8, t=None, seed=0, shift=2.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + shift
    coef = rng.standard_normal((d,) if t is None else (d, t))
    y = (X - shift) @ coef + 3.0 * rng.standard_normal((n,) if t is None else (n, t)) + 1.0
    return X, y


def rel(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def fold_ids(assign, n):
    return assign(Piece(np.empty((n, 1)), np.empty(n), None))


# --------------------------------------------------------------------------- engine: folds


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cv", [5, KFold(4, shuffle=True, random_state=0)])
def test_training_stats_match_direct_computation(cv, weighted):
    X, y = make_problem(n=1003, d=7, t=2, shift=1e4)  # means 1e4 times the spread
    sw = np.random.default_rng(1).uniform(0.1, 2.0, 1003) if weighted else None
    assign = fold_assigner(cv, n_samples=1003)
    fs = fold_statistics(ArraySource(X, y, sw), assign, assign.n_folds, True)
    ids = fold_ids(assign, 1003)
    for k in range(assign.n_folds):
        tr = ids != k
        direct = gram(X[tr], y[tr], None if sw is None else sw[tr])
        got = training_stats(fs, k)
        assert got.n_samples == tr.sum()
        for field in ("xtx", "xty", "yty", "x_mean", "y_mean"):
            assert rel(getattr(got, field), getattr(direct, field)) < 1e-10, (k, field)


def test_training_stats_accurate_when_the_fold_is_small_or_huge():
    X, y = make_problem(n=2000, d=5, shift=50.0)
    splits = [(np.arange(3, 2000), np.arange(3)), (np.arange(3), np.arange(3, 2000))]
    assign = fold_assigner(splits, n_samples=2000)
    fs = fold_statistics(ArraySource(X, y), assign, 2, True)
    for k, (train, _) in enumerate(splits):
        direct = gram(X[train], y[train])
        got = training_stats(fs, k)
        assert rel(got.xtx, direct.xtx) < 1e-10 and rel(got.xty, direct.xty) < 1e-10


def test_validation_sse_is_the_direct_sum():
    X, y = make_problem(n=400, d=6, t=3)
    sw = np.random.default_rng(3).uniform(0.0, 2.0, 400)
    s = gram(X, y, sw)
    rng = np.random.default_rng(4)
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    direct = (sw[:, None] * (y - X @ W - b) ** 2).sum(axis=0)
    assert rel(validation_sse(s, W, b), direct) < 1e-10
    many = validation_sse(s, np.stack([W, 2 * W]), np.stack([b, b]))
    assert rel(many[1], (sw[:, None] * (y - X @ (2 * W) - b) ** 2).sum(axis=0)) < 1e-10
    # uncentred statistics with intercept 0 (fit_intercept=False)
    assert rel(validation_sse(uncentred(s), W, 0.0), (sw[:, None] * (y - X @ W) ** 2).sum(0)) < 1e-10


def test_int_cv_is_kfold_and_interleaved_without_length():
    n = 103
    ids = fold_ids(fold_assigner(5, n_samples=n), n)
    for k, (_, test) in enumerate(KFold(5).split(np.empty((n, 1)))):
        np.testing.assert_array_equal(np.flatnonzero(ids == k), test)
    np.testing.assert_array_equal(fold_ids(fold_assigner(5), n), np.arange(n) % 5)


def test_fold_statistics_is_one_pass_and_source_independent():
    X, y = make_problem(n=1000, d=4)
    reads = []

    def chunks():
        reads.append(1)
        return ((X[i:i + 170], y[i:i + 170]) for i in range(0, 1000, 170))

    assign = fold_assigner(5, n_samples=1000)
    fs_chunks = fold_statistics(ChunkSource(chunks), assign, 5, True)
    fs_array = fold_statistics(ArraySource(X, y), assign, 5, True)
    assert len(reads) == 1
    for a, b in zip(fs_chunks.folds, fs_array.folds):
        assert rel(a.xtx, b.xtx) < 1e-12 and a.n_samples == b.n_samples


@pytest.mark.parametrize("cv, match", [
    (ShuffleSplit(3, random_state=0), "partition"),
    (TimeSeriesSplit(3), "every row outside the test"),
    ([(np.arange(5, 10), np.arange(5))], "at least 2"),
    ([(np.arange(4, 10), np.arange(4)), (np.r_[0:4, 9], np.arange(4, 9))], "in no test fold"),
    ([(np.arange(5, 10), np.arange(5)), (np.arange(3), np.arange(5, 10))], "every row outside"),
])
def test_folds_that_do_not_partition_are_refused(cv, match):
    with pytest.raises(ValueError, match=match):
        fold_assigner(cv, n_samples=10)


def test_assigner_refusals():
    with pytest.raises(ValueError, match="more than n_samples"):
        fold_assigner(11, n_samples=10)
    with pytest.raises(ValueError, match="at least 2"):
        fold_assigner(1, n_samples=10)
    with pytest.raises(ValueError, match="number of samples"):
        fold_assigner(KFold(3))
    with pytest.raises(ValueError, match="out of order"):
        fold_assigner(3, n_samples=10)(Piece(np.empty((4, 1)), np.empty(4), None, start=None))


# --------------------------------------------------------------------------- scikit-learn parity


def _assert_same(ours, theirs, tol=1e-8):
    np.testing.assert_allclose(ours.alpha_, theirs.alpha_, rtol=0, atol=0)
    np.testing.assert_allclose(ours.best_score_, theirs.best_score_, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=tol, atol=tol)


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_squared_error",
                                     "neg_root_mean_squared_error"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("t", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_loo_matches_sklearn(scoring, fit_intercept, t, weighted):
    X, y = make_problem(t=t)
    sw = np.random.default_rng(5).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    kw = dict(fit_intercept=fit_intercept, scoring=scoring, store_cv_results=True)
    ours = RidgeCV(ALPHAS, **kw).fit(X, y, sw)
    theirs = sklm.RidgeCV(ALPHAS, **kw).fit(X, y, sample_weight=sw)
    _assert_same(ours, theirs)
    np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("gcv_mode", ["svd", "eigen"])
def test_loo_alpha_per_target_and_wide_data(gcv_mode):
    X, y = make_problem(n=40, d=60, t=3)
    kw = dict(alpha_per_target=True, gcv_mode=gcv_mode)
    _assert_same(RidgeCV(ALPHAS, **kw).fit(X, y), sklm.RidgeCV(ALPHAS, **kw).fit(X, y), tol=1e-7)


@pytest.mark.parametrize("cv", [5, KFold(3), KFold(4, shuffle=True, random_state=2)])
@pytest.mark.parametrize("scoring", [None, "neg_mean_squared_error", "r2"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("t", [None, 2])
def test_kfold_matches_sklearn(cv, scoring, fit_intercept, t):
    X, y = make_problem(t=t, seed=7)
    kw = dict(cv=cv, scoring=scoring, fit_intercept=fit_intercept)
    _assert_same(RidgeCV(ALPHAS, **kw).fit(X, y), sklm.RidgeCV(ALPHAS, **kw).fit(X, y))


def test_kfold_stratified_splitter_and_alpha_zero():
    X, y = make_problem(n=120)
    labels = (y > np.median(y)).astype(int)
    splits = list(StratifiedKFold(3).split(X, labels))
    alphas = np.r_[0.0, ALPHAS]
    _assert_same(RidgeCV(alphas, cv=splits).fit(X, y), sklm.RidgeCV(alphas, cv=splits).fit(X, y))


def test_kfold_weighted_is_weighted_validation():
    """With weights, the validation error is weighted (scikit-learn's K-fold score is not)."""
    X, y = make_problem(n=200, seed=9)
    sw = np.random.default_rng(0).uniform(0.1, 3.0, 200)
    est = RidgeCV(ALPHAS, cv=4, scoring="neg_mean_squared_error").fit(X, y, sw)
    scores = []
    for a in ALPHAS:
        per_fold = []
        for train, test in KFold(4).split(X):
            m = sklm.Ridge(alpha=a, solver="cholesky").fit(X[train], y[train], sw[train])
            r = y[test] - m.predict(X[test])
            per_fold.append(-(sw[test] * r * r).sum() / sw[test].sum())
        scores.append(np.mean(per_fold))
    assert est.alpha_ == ALPHAS[int(np.argmax(scores))]
    assert est.best_score_ == pytest.approx(max(scores), rel=1e-10)


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("cv", [None, 5])
def test_memmap_csr_and_float32(tmp_path, cv):
    X, y = make_problem(n=500, d=6)
    ref = sklm.RidgeCV(ALPHAS, cv=cv).fit(X, y)
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mm[:] = X
    mm.flush()
    _assert_same(RidgeCV(ALPHAS, cv=cv).fit(np.load(tmp_path / "X.npy", mmap_mode="r"), y), ref)
    Xs = sp.random(500, 30, density=0.1, format="csr", random_state=0) * 3.0
    ys = Xs @ np.linspace(-1, 1, 30) + 0.3 * np.random.default_rng(0).standard_normal(500)
    ours = RidgeCV(ALPHAS, cv=cv).fit(Xs, ys)
    _assert_same(ours, sklm.RidgeCV(ALPHAS, cv=cv).fit(Xs.toarray(), ys), tol=1e-7)
    _assert_same(RidgeCV(ALPHAS, cv=cv).fit(Xs.tocsc(), ys), ours, tol=1e-10)
    f32 = RidgeCV(ALPHAS, cv=cv).fit(X.astype(np.float32), y)
    assert f32.coef_.dtype == np.float32 and f32.alpha_ == ref.alpha_


@pytest.mark.parametrize("cv", [None, 4, KFold(3)])
def test_chunk_list_is_the_array_fit(cv):
    X, y = make_problem(n=700, d=5, t=2)
    chunks = [(X[i:i + 150], y[i:i + 150]) for i in range(0, 700, 150)]
    _assert_same(RidgeCV(ALPHAS, cv=cv).fit(ChunkSource(chunks), None),
                 RidgeCV(ALPHAS, cv=cv).fit(X, y), tol=1e-10)


def test_chunk_generator_unknown_length_interleaves():
    X, y = make_problem(n=700, d=5)
    gen = ((X[i:i + 150], y[i:i + 150]) for i in range(0, 700, 150))
    ours = RidgeCV(ALPHAS, cv=5).fit(ChunkSource(gen), None)
    splits = [(np.flatnonzero(np.arange(700) % 5 != k), np.flatnonzero(np.arange(700) % 5 == k))
              for k in range(5)]
    _assert_same(ours, sklm.RidgeCV(ALPHAS, cv=splits).fit(X, y))
    gen = ((X[i:i + 150], y[i:i + 150]) for i in range(0, 700, 150))
    with pytest.raises(TypeError, match="two passes"):
        RidgeCV(ALPHAS).fit(ChunkSource(gen), None)


@pytest.mark.parametrize("cv", [None, 5])
def test_dask(cv):
    da = pytest.importorskip("dask.array")
    X, y = make_problem(n=900, d=6)
    sw = np.random.default_rng(1).uniform(0.5, 1.5, 900)
    ours = RidgeCV(ALPHAS, cv=cv).fit(da.from_array(X, chunks=(137, 6)),
                                      da.from_array(y, chunks=137), sw)
    _assert_same(ours, RidgeCV(ALPHAS, cv=cv).fit(X, y, sw), tol=1e-10)
    if cv is None:
        _assert_same(ours, sklm.RidgeCV(ALPHAS).fit(X, y, sample_weight=sw))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("alphas, cv, match", [
    ([], None, "non-empty"),
    ([1.0, -1.0], 5, r"alphas\[1\]"),
    ([0.0, 1.0], None, r"alphas\[0\].*> 0"),
    ([1.0, np.nan], 5, "finite"),
    (np.ones((2, 2)), None, "1-D"),
])
def test_bad_alphas(alphas, cv, match):
    X, y = make_problem(n=50, d=3)
    est = RidgeCV(alphas, cv=cv)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("where", ["X_nan", "X_inf", "y_nan"])
@pytest.mark.parametrize("cv", [None, 3])
def test_non_finite_input(where, cv):
    X, y = make_problem(n=60, d=3)
    if where == "y_nan":
        y[7] = np.nan
    else:
        X[7, 1] = np.nan if where == "X_nan" else np.inf
    est = RidgeCV(cv=cv)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.fit(X, y)
    assert not hasattr(est, "coef_") and not hasattr(est, "alpha_")


def test_bad_cv_and_options():
    X, y = make_problem(n=20, d=3)
    with pytest.raises(ValueError, match="more than n_samples"):
        RidgeCV(cv=21).fit(X, y)
    with pytest.raises(ValueError, match="partition"):
        RidgeCV(cv=ShuffleSplit(3, random_state=0)).fit(X, y)
    with pytest.raises(ValueError, match="neg_mean_squared_error"):
        RidgeCV(scoring="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="store_cv_results"):
        RidgeCV(cv=3, store_cv_results=True).fit(X, y)
    with pytest.raises(ValueError, match="alpha_per_target"):
        RidgeCV(cv=3, alpha_per_target=True).fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        RidgeCV(cv=3).fit(ChunkSource([(X[:10], y[:10]), (X[10:] * np.nan, y[10:])]), None)


# --------------------------------------------------------------------------- common checks


@parametrize_with_checks([RidgeCV(), RidgeCV(cv=3), RidgeCV(alphas=[0.5, 2.0], fit_intercept=False,
                                                            cv=2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
