"""Lasso / ElasticNet / enet_path / LassoCV / ElasticNetCV: kernel twin, scikit-learn parity,
sources, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from naive_cd import enet_gram_cd as naive_enet_gram_cd
from sklearn import linear_model as sklm
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

import fastlin
from fastlin import ElasticNet, ElasticNetCV, Lasso, LassoCV
from fastlin.engine.sources import ChunkSource
from fastlin.kernels.cd import enet_gram_cd
from fastlin.linear_model import _coordinate, enet_path, lasso_path

TIGHT = dict(tol=1e-10, max_iter=100_000)


def synthetic(n=300, d=20, seed=0, t=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-2, 2, d)
    beta = rng.standard_normal((d,) if t is None else (d, t)) * (rng.random(d) < 0.4).reshape(
        (d,) if t is None else (d, 1))
    y = X @ beta + 0.5 * rng.standard_normal((n,) if t is None else (n, t)) + 3.0
    return X, y


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def assert_coef_parity(ours, theirs, rtol=1e-6):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    scale = max(np.abs(theirs).max(), 1e-300)
    assert np.max(np.abs(ours - theirs)) <= rtol * scale
    np.testing.assert_array_equal(ours == 0, theirs == 0)


# --- the kernel and its NumPy twin -------------------------------------------------------------


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("random", [False, True])
@pytest.mark.parametrize("l1,l2", [(30.0, 0.0), (5.0, 20.0), (0.0, 10.0), (400.0, 1.0)])
@pytest.mark.parametrize("partial_working", [False, True])
def test_kernel_matches_naive_twin(positive, random, l1, l2, partial_working):
    X, y = synthetic(n=120, d=15, seed=3)
    X = X - X.mean(0)
    y = y - y.mean()
    Q, q, yy = X.T @ X, X.T @ y, float(y @ y)
    outs = []
    for fn in (enet_gram_cd, naive_enet_gram_cd):
        w = np.zeros(15)
        w[:3] = 0.1  # a warm start that is not the answer
        Qw = Q @ w
        working = np.zeros(15, np.uint8) if partial_working else np.ones(15, np.uint8)
        working[::4] = 1
        gap, n_iter, state = fn(Q, q, yy, w, Qw, l1, l2, 5000, 1e-12, positive, random, 12345,
                                working)
        outs.append((w, Qw, gap, n_iter, state, working))
    (w1, Qw1, g1, n1, s1, k1), (w2, Qw2, g2, n2, s2, k2) = outs
    np.testing.assert_allclose(w1, w2, rtol=1e-10, atol=1e-10 * np.abs(w2).max())
    np.testing.assert_allclose(Qw1, Qw2, rtol=1e-10, atol=1e-10 * np.abs(Qw2).max())
    assert abs(g1 - g2) <= 1e-10 * yy
    assert (n1, s1) == (n2, s2)
    np.testing.assert_array_equal(w1 == 0, w2 == 0)
    np.testing.assert_array_equal(k1, k2)
    assert n1 > 0
    if positive:
        assert np.all(w1 >= 0)


def test_kernel_constant_column_stays_zero():
    X, y = synthetic(n=50, d=5)
    X[:, 2] = 0.0
    Q, q = X.T @ X, X.T @ y
    w = np.ones(5)
    Qw = Q @ w
    enet_gram_cd(Q, q, float(y @ y), w, Qw, 1.0, 0.0, 1000, 1e-10, False, False, 1,
                 np.ones(5, np.uint8))
    assert w[2] == 0.0
    np.testing.assert_allclose(Qw, Q @ w, rtol=1e-9, atol=1e-9)


# --- parity with scikit-learn ------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.005, 0.1, 1.0])
@pytest.mark.parametrize("kw", [{}, {"positive": True}, {"fit_intercept": False}],
                         ids=["plain", "positive", "no_intercept"])
def test_lasso_parity_diabetes(diabetes, alpha, kw):
    X, y = diabetes
    ours = Lasso(alpha=alpha, **kw, **TIGHT).fit(X, y)
    theirs = sklm.Lasso(alpha=alpha, **kw, **TIGHT).fit(X, y)
    assert_coef_parity(ours.coef_, theirs.coef_)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-6, abs=1e-8)
    assert ours.dual_gap_ == pytest.approx(theirs.dual_gap_, rel=1e-2, abs=1e-9)
    assert isinstance(ours.n_iter_, int)
    assert (ours.coef_ == 0).any() or alpha == 0.005


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("weighted", [False, True])
def test_elasticnet_parity_synthetic(l1_ratio, weighted):
    X, y = synthetic()
    sw = np.random.default_rng(1).uniform(0.1, 3.0, X.shape[0]) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # l1_ratio=0 in scikit-learn
        theirs = sklm.ElasticNet(alpha=0.2, l1_ratio=l1_ratio, **TIGHT).fit(X, y, sample_weight=sw)
    ours = ElasticNet(alpha=0.2, l1_ratio=l1_ratio, **TIGHT).fit(X, y, sample_weight=sw)
    assert_coef_parity(ours.coef_, theirs.coef_)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-6)


def test_sample_weight_equals_repeated_rows():
    X, y = synthetic(n=60, d=6)
    reps = np.random.default_rng(2).integers(1, 4, 60)
    a = Lasso(alpha=0.05, **TIGHT).fit(X, y, sample_weight=reps.astype(float))
    b = Lasso(alpha=0.05, **TIGHT).fit(np.repeat(X, reps, 0), np.repeat(y, reps))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)


def test_multi_target_and_sparse_coef():
    X, y = synthetic(t=3)
    ours = ElasticNet(alpha=0.3, l1_ratio=0.8, positive=True, **TIGHT).fit(X, y)
    theirs = sklm.ElasticNet(alpha=0.3, l1_ratio=0.8, positive=True, **TIGHT).fit(X, y)
    assert ours.coef_.shape == (3, 20) and ours.intercept_.shape == (3,)
    assert_coef_parity(ours.coef_, theirs.coef_)
    assert len(ours.n_iter_) == 3 and ours.dual_gap_.shape == (3,)
    assert sp.issparse(ours.sparse_coef_)
    np.testing.assert_array_equal(ours.sparse_coef_.toarray(), ours.coef_)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)


def test_random_selection_reproducible_and_converges():
    X, y = synthetic()
    a = Lasso(alpha=0.1, selection="random", random_state=7, **TIGHT).fit(X, y)
    b = Lasso(alpha=0.1, selection="random", random_state=7, **TIGHT).fit(X, y)
    c = Lasso(alpha=0.1, **TIGHT).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)  # bit-identical
    assert a.n_iter_ == b.n_iter_
    assert_coef_parity(a.coef_, c.coef_)


def test_warm_start_continues():
    X, y = synthetic()
    est = Lasso(alpha=0.1, warm_start=True, **TIGHT).fit(X, y)
    est.fit(X, y)
    assert est.n_iter_ <= 1  # already at the optimum: the gap check stops it at once


def test_float32_keeps_dtype():
    X, y = synthetic()
    est = Lasso(alpha=0.1).fit(X.astype(np.float32), y)
    assert est.coef_.dtype == np.float32


def test_convergence_warning_when_max_iter_is_hit():
    X, y = synthetic()
    with pytest.warns(ConvergenceWarning):
        Lasso(alpha=1e-4, max_iter=1, tol=1e-12).fit(X, y)


# --- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("positive", [False, True])
def test_enet_path_parity(l1_ratio, positive):
    X, y = synthetic(seed=4)
    ours = enet_path(X, y, l1_ratio=l1_ratio, alphas=30, positive=positive, return_n_iter=True,
                     **TIGHT)
    theirs = sklm.enet_path(X, y, l1_ratio=l1_ratio, alphas=30, positive=positive, **TIGHT)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert_coef_parity(ours[1], theirs[1])
    assert ours[2].shape == (30,) and len(ours[3]) == 30


def test_strong_rules_give_the_same_path():
    X, y = synthetic(n=200, d=60, seed=5)
    a = lasso_path(X, y, alphas=40, strong_rules=True, **TIGHT)
    b = lasso_path(X, y, alphas=40, strong_rules=False, **TIGHT)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-8, atol=1e-10)


def test_enet_path_user_alphas_sorted():
    X, y = synthetic()
    alphas, coefs, _ = lasso_path(X, y, alphas=[0.01, 1.0, 0.1], **TIGHT)
    np.testing.assert_array_equal(alphas, [1.0, 0.1, 0.01])
    theirs = sklm.lasso_path(X, y, alphas=[0.01, 1.0, 0.1], **TIGHT)[1]
    assert_coef_parity(coefs, theirs)


# --- cross-validation --------------------------------------------------------------------------


@pytest.mark.parametrize("kw,fit_kw", [({}, False), ({"positive": True}, False),
                                       ({"fit_intercept": False}, False), ({}, True)],
                         ids=["plain", "positive", "no_intercept", "weighted"])
def test_lassocv_parity_diabetes(diabetes, kw, fit_kw):
    X, y = diabetes
    sw = np.random.default_rng(0).uniform(0.5, 2, len(y)) if fit_kw else None
    ours = LassoCV(cv=KFold(5), **kw, **TIGHT).fit(X, y, sample_weight=sw)
    theirs = sklm.LassoCV(cv=KFold(5), **kw, **TIGHT).fit(X, y, sample_weight=sw)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    assert ours.mse_path_.shape == theirs.mse_path_.shape == (100, 5)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)
    assert_coef_parity(ours.coef_, theirs.coef_)
    assert not hasattr(ours, "l1_ratio_")


def test_elasticnetcv_parity_l1_ratio_list():
    X, y = synthetic(n=250, d=12, seed=6)
    ours = ElasticNetCV(l1_ratio=[0.2, 0.6, 1.0], cv=KFold(5), alphas=40, **TIGHT).fit(X, y)
    theirs = sklm.ElasticNetCV(l1_ratio=[0.2, 0.6, 1.0], cv=KFold(5), alphas=40, **TIGHT).fit(X, y)
    assert ours.l1_ratio_ == theirs.l1_ratio_
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)
    assert ours.mse_path_.shape == (3, 40, 5) and ours.alphas_.shape == (3, 40)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)
    assert_coef_parity(ours.coef_, theirs.coef_)


def test_elasticnetcv_user_alphas_and_int_cv():
    X, y = synthetic(seed=7)
    ours = ElasticNetCV(l1_ratio=0.0, alphas=[0.1, 1.0, 10.0], cv=3, **TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = sklm.ElasticNetCV(l1_ratio=0.0, alphas=[0.1, 1.0, 10.0], cv=3, **TIGHT).fit(X, y)
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)


def test_lassocv_shuffled_splitter_same_folds_as_sklearn():
    X, y = synthetic(n=200, d=8, seed=10)
    cv = KFold(4, shuffle=True, random_state=3)
    ours = LassoCV(cv=cv, alphas=15, **TIGHT).fit(X, y)
    theirs = sklm.LassoCV(cv=cv, alphas=15, **TIGHT).fit(X, y)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)


# --- sources: memmap, chunks, CSR, Dask give the in-memory model --------------------------------


def test_sources_give_the_in_memory_model(tmp_path):
    X, y = synthetic(n=400, d=10, seed=8)
    ref = Lasso(alpha=0.05, **TIGHT).fit(X, y)
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    chunks = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 400, 64)]
    for Xs, ys in [(mm, y), (sp.csr_matrix(X), y), (ChunkSource(chunks), None)]:
        est = Lasso(alpha=0.05, **TIGHT).fit(Xs, ys)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
        assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-9)
    cv_ref = LassoCV(cv=KFold(4), alphas=20, **TIGHT).fit(X, y)
    cv_chunks = LassoCV(cv=KFold(4), alphas=20, **TIGHT).fit(ChunkSource(chunks), None)
    np.testing.assert_allclose(cv_chunks.mse_path_, cv_ref.mse_path_, rtol=1e-9)
    assert cv_chunks.alpha_ == cv_ref.alpha_


def test_dask_gives_the_in_memory_model():
    da = pytest.importorskip("dask.array")
    import dask

    X, y = synthetic(n=400, d=10, seed=9)
    ref = ElasticNet(alpha=0.05, **TIGHT).fit(X, y)
    with dask.config.set(scheduler="synchronous"):
        est = ElasticNet(alpha=0.05, **TIGHT).fit(da.from_array(X, chunks=(100, 10)),
                                                  da.from_array(y, chunks=100))
        cv = LassoCV(cv=KFold(4), alphas=10, **TIGHT).fit(da.from_array(X, chunks=(100, 10)),
                                                          da.from_array(y, chunks=100))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    cv_ref = LassoCV(cv=KFold(4), alphas=10, **TIGHT).fit(X, y)
    np.testing.assert_allclose(cv.mse_path_, cv_ref.mse_path_, rtol=1e-9)


# --- memory estimate, bad input ----------------------------------------------------------------


def test_gram_too_large_is_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(_coordinate, "available_memory", lambda: 1_000_000)  # 1 MB, 0.8 MB usable
    X, y = synthetic(n=50, d=200)
    est = Lasso()
    with pytest.raises(ValueError, match="Gram route needs about"):  # 4 x 200² x 8 B = 1.28 MB
        est.fit(X, y)
    assert not hasattr(est, "coef_")
    Lasso().fit(X[:, :150], y)  # 4 x 150² x 8 B = 0.72 MB fits
    cv = LassoCV(cv=3)
    with pytest.raises(ValueError, match="Gram route needs about"):  # (3 + 2 + 3) x 150² x 8 B
        cv.fit(X[:, :150], y)
    assert not hasattr(cv, "coef_")


@pytest.mark.parametrize("make,msg", [
    (lambda: LassoCV(alphas=[]), "non-empty"),
    (lambda: LassoCV(alphas=[0.1, -1.0]), ">= 0"),
    (lambda: LassoCV(alphas=[0.1, np.nan]), "finite"),
    (lambda: ElasticNetCV(l1_ratio=[0.5, 1.5]), "l1_ratio"),
    (lambda: ElasticNetCV(l1_ratio=[0.0]), "l1_ratio=0"),
    (lambda: Lasso(alpha=-1.0), "alpha"),
    (lambda: ElasticNet(l1_ratio=2.0), "l1_ratio"),
    (lambda: Lasso(precompute=np.eye(3)), "Gram"),
])
def test_bad_parameters(make, msg):
    X, y = synthetic(n=40, d=3)
    est = make()
    with pytest.raises(ValueError, match=msg):
        est.fit(X, y)
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(bad):
    X, y = synthetic(n=40, d=3)
    Xb = X.copy()
    Xb[5, 1] = bad
    yb = y.copy()
    yb[3] = bad
    for est, args in [(Lasso(), (Xb, y)), (Lasso(), (X, yb)), (LassoCV(cv=3), (Xb, y)),
                      (ElasticNetCV(cv=3), (X, yb))]:
        with pytest.raises(ValueError, match="NaN|infinity|finite"):
            est.fit(*args)
        assert not hasattr(est, "coef_")


def test_path_bad_input():
    X, y = synthetic(n=40, d=3)
    with pytest.raises(ValueError, match="multi-task"):
        enet_path(X, np.c_[y, y], positive=True)
    with pytest.raises(ValueError, match="non-empty"):
        enet_path(X, y, alphas=[])
    with pytest.raises(ValueError, match="l1_ratio"):
        enet_path(X, y, l1_ratio=-0.1)
    with pytest.raises(ValueError, match="multi-task"):
        LassoCV(cv=3).fit(X, np.c_[y, y])


def test_public_names():
    assert fastlin.Lasso is Lasso and fastlin.enet_path is enet_path
