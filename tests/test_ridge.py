"""Closed-form LinearRegression / Ridge: naive twins, scikit-learn parity, fallback, bad input, memory."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_gram import naive_min_norm_predictions, naive_ridge, naive_stats
from scipy.linalg import LinAlgWarning
from sklearn import linear_model as sklm

from fastlin import LinearRegression, Ridge
from fastlin.engine.gram import gram, merge


def make_problem(n=200, d=8, t=None, seed=0, dtype=np.float64, shift=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + shift
    coef = rng.standard_normal((d,) if t is None else (d, t))
    y = (X - shift) @ coef + 0.1 * rng.standard_normal((n,) if t is None else (n, t)) + 3.0
    return X.astype(dtype), y


# --------------------------------------------------------------------------- the Gram kernel


@pytest.mark.parametrize("block_rows", [7, 64, None])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [False, True])
def test_gram_matches_naive(block_rows, weighted, center):
    X, y = make_problem(n=301, d=5, t=2, seed=1)
    w = np.random.default_rng(2).random(301) if weighted else None
    s = gram(X, y, w, center=center, block_rows=block_rows)
    xm, ym, xtx, xty, yty = naive_stats(X, y, w, center=center)
    np.testing.assert_allclose(s.x_mean, xm, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.y_mean, ym, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.xtx, xtx, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(s.xty, xty, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(s.yty, yty, rtol=1e-12, atol=1e-10)
    assert s.weight_sum == pytest.approx(301 if w is None else w.sum(), rel=1e-14)
    np.testing.assert_array_equal(s.xtx, s.xtx.T)


def test_gram_merge_equals_one_pass():
    X, y = make_problem(n=500, d=6, seed=3, shift=5.0)
    w = np.random.default_rng(4).random(500)
    whole = gram(X, y, w)
    parts = merge(gram(X[:123], y[:123], w[:123]), gram(X[123:], y[123:], w[123:]))
    for a, b in zip(whole[2:], parts[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-9)
    assert parts.n_samples == 500


def test_gram_float32_accumulates_in_float64():
    X, y = make_problem(n=4000, d=4, seed=5)
    s32 = gram(X.astype(np.float32), y)
    xm, ym, xtx, *_ = naive_stats(X.astype(np.float32).astype(np.float64), y)
    assert s32.xtx.dtype == np.float64
    # float64 accumulation of float32 inputs: exact up to float64 rounding of the same numbers
    np.testing.assert_allclose(s32.xtx, xtx, rtol=1e-12)


def test_centering_is_safe_for_means_far_above_the_spread():
    # Column means 1e6 times their spread: Σxxᵀ − n μμᵀ would cancel every digit.
    rng = np.random.default_rng(6)
    n, d = 5000, 4
    Z = rng.standard_normal((n, d))
    y = Z @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.01 * rng.standard_normal(n)
    X = Z + 1e6
    ref_coef, _ = naive_ridge(Z, y, alpha=1.0)  # same problem, centred data: the exact answer
    model = Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref_coef, rtol=1e-7)
    np.testing.assert_allclose(model.predict(X), Ridge(alpha=1.0).fit(Z, y).predict(Z), atol=1e-6)
    # the same data in small blocks (the shift comes from the first block only)
    s = gram(X, y, block_rows=50)
    np.testing.assert_allclose(s.xtx, naive_stats(Z, y)[2], rtol=1e-8)


def _assert_stats_close(s, X, y, w=None, center=True, rtol=1e-10):
    xm, ym, xtx, xty, yty = naive_stats(X, y, w, center=center)
    scale = max(1.0, float(np.max(np.abs(xtx))))  # entries near zero are compared to the scale
    np.testing.assert_allclose(s.x_mean, xm, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(s.y_mean, ym, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(s.xtx, xtx, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(s.xty, xty, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(s.yty, yty, rtol=rtol)


@pytest.mark.parametrize("t", [1, 3, 7, 40])  # 1 + t > max(8, d // 4) from t = 8: y by gemm
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("block_rows", [13, None])
def test_gram_folded_and_separate_targets_match_naive(t, weighted, block_rows):
    X, y = make_problem(n=257, d=6, t=t, seed=11, shift=40.0)  # shifted: the augmented block
    w = np.random.default_rng(12).random(257) if weighted else None
    s = gram(X, y, w, block_rows=block_rows)
    _assert_stats_close(s, X, y, w)
    assert s.xty.shape == (6, t) and s.yty.shape == (t,) and s.y_mean.shape == (t,)


@pytest.mark.parametrize("layout", ["C64", "F64", "C32", "F32", "csr", "csc", "strided"])
def test_gram_every_block_layout_matches_naive(layout):
    X, y = make_problem(n=300, d=7, t=2, seed=13)
    X[np.random.default_rng(14).random(X.shape) < 0.5] = 0.0
    dtype = np.float32 if layout.endswith("32") else np.float64
    Xl = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}.get(layout, np.asarray)(X.astype(dtype))
    if layout.startswith("F"):
        Xl = np.asfortranarray(Xl)
    if layout == "strided":  # rows of a wider array: read in place with a leading dimension of 11
        Xl = np.hstack([X, np.ones((300, 4))])[:, :7]
    w = np.random.default_rng(15).random(300)
    for weights in (None, w):
        _assert_stats_close(gram(Xl, y, weights, block_rows=64), Xl, y, weights)


def test_gram_statistics_over_many_blocks_hold_to_1e_10():
    # 40 blocks with a mean 1e3 times the spread: the shift and the rank-one correction carry it
    X, y = make_problem(n=20_000, d=12, seed=16, shift=1e3)
    _assert_stats_close(gram(X, y, block_rows=500), X, y)
    _assert_stats_close(gram(X, y, center=False, block_rows=500), X, y, center=False)


@pytest.fixture
def two_pass_threads(monkeypatch):
    """The Gram pass split over 2 threads whatever the machine (and from 2 blocks per thread)."""
    import fastlin.engine.gram as g

    monkeypatch.setattr(g, "_blas_threads", lambda: 2)
    monkeypatch.setattr(g, "_cpus", lambda: 2)
    monkeypatch.setattr(g, "_MIN_BLOCKS_PER_THREAD", 2)
    return g


@pytest.mark.parametrize("shift", [0.0, 1e4])  # in place, and the augmented block
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_split_over_threads_matches_naive(two_pass_threads, shift, weighted):
    X, y = make_problem(n=1001, d=9, t=2, seed=17, shift=shift)
    w = np.random.default_rng(18).random(1001) if weighted else None
    assert two_pass_threads.pass_threads(-(-1001 // 50), 12) == 2
    s = gram(X, y, w, block_rows=50)
    _assert_stats_close(s, X, y, w, rtol=1e-9 if shift else 1e-10)
    # the same threads give the same bits; one thread differs by rounding only
    assert all(np.array_equal(a, b) for a, b in zip(s, gram(X, y, w, block_rows=50)))


def test_gram_split_restores_blas_threads_and_raises_worker_errors(two_pass_threads,
                                                                   monkeypatch):
    from threadpoolctl import threadpool_info

    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    X, y = make_problem(n=1000, d=5, seed=19)
    gram(X, y, block_rows=50)
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert after == before

    def boom(*args):
        raise RuntimeError("worker failed")

    monkeypatch.setattr(two_pass_threads, "_range_in_place", boom)
    with pytest.raises(RuntimeError, match="worker failed"):
        gram(X, y, block_rows=50)
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert after == before


@pytest.mark.parametrize("shift", [0.0, 1e4])
def test_gram_without_cython_blas_uses_scipy_blas(monkeypatch, shift):
    import fastlin.engine.gram as g

    monkeypatch.setattr(g, "_cython_blas", lambda: None)
    X, y = make_problem(n=500, d=7, t=9, seed=20, shift=shift)  # 9 targets: y through gemm
    w = np.random.default_rng(21).random(500)
    for weights in (None, w):
        _assert_stats_close(gram(X, y, weights, block_rows=64), X, y, weights, rtol=1e-9)
    assert g.pass_threads(10_000, 100) == 1  # scipy.linalg.blas holds the GIL: no second thread


def test_gram_pass_follows_the_blas_thread_limit():
    from threadpoolctl import threadpool_limits

    import fastlin.engine.gram as g

    with threadpool_limits(1):
        assert g.pass_threads(10_000, 100) == 1
    assert g.pass_threads(10, 100) == 1  # too few blocks to split
    assert g.pass_threads(10_000, 4000) == 1  # a 128 MB accumulator is not copied per thread


def test_default_block_rows_follow_the_l2_cache(monkeypatch):
    import fastlin.engine.gram as g

    monkeypatch.setattr(g, "l2_cache_bytes", lambda: 2 * 1024 * 1024)
    assert g.default_block_rows(102) == 2 * 1024 * 1024 // 4 // (8 * 102)
    monkeypatch.setattr(g, "l2_cache_bytes", lambda: 512 * 1024)
    assert g.default_block_rows(102) == 256  # the floor of one syrk update
    assert g.default_block_rows(10) == 512 * 1024 // 4 // 80
    assert g.default_block_rows(600) == 600  # no fewer rows than columns


def test_l2_cache_size_parser_reads_sysfs_units():
    from fastlin.data.layout import _parse_cache_size, l2_cache_bytes

    assert _parse_cache_size("2048K\n") == 2 * 1024 * 1024
    assert _parse_cache_size("1M") == 1024 * 1024
    assert _parse_cache_size("65536") == 65536
    assert l2_cache_bytes() >= 64 * 1024  # this machine's L2, or the 1 MiB fallback


# --------------------------------------------------------------------------- naive-twin parity


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 10.0])
def test_ridge_matches_naive(fit_intercept, weighted, alpha):
    X, y = make_problem(seed=7)
    w = np.random.default_rng(8).random(len(y)) + 0.1 if weighted else None
    coef, b = naive_ridge(X, y, alpha, w, fit_intercept)
    m = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(m.coef_, coef, rtol=1e-10, atol=1e-12)
    assert m.intercept_ == pytest.approx(b if fit_intercept else 0.0, abs=1e-10)
    assert m.solver_ == "cholesky"


def test_multi_target_with_per_target_alpha():
    X, y = make_problem(t=3, seed=9)
    alpha = np.array([0.0, 1.0, 50.0])
    coef, b = naive_ridge(X, y, alpha)
    m = Ridge(alpha=alpha).fit(X, y)
    assert m.coef_.shape == (3, X.shape[1]) and m.intercept_.shape == (3,)
    np.testing.assert_allclose(m.coef_, coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.intercept_, b, atol=1e-10)
    for t in range(3):  # each target is the single-target fit with its own alpha
        single = Ridge(alpha=alpha[t]).fit(X, y[:, t])
        np.testing.assert_allclose(m.coef_[t], single.coef_, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("layout", ["F", "csr", "csc", "memmap", "readonly", "int"])
def test_layouts_give_the_same_model(layout, tmp_path):
    X, y = make_problem(seed=10)
    if layout == "int":
        X = np.round(X * 10)
    ref = naive_ridge(X, y, 0.5)
    if layout == "F":
        Xl = np.asfortranarray(X)
    elif layout in ("csr", "csc"):
        Xs = X.copy()
        Xs[np.abs(Xs) < 0.7] = 0.0
        ref = naive_ridge(Xs, y, 0.5)
        Xl = sp.csr_matrix(Xs) if layout == "csr" else sp.csc_matrix(Xs)
    elif layout == "memmap":
        Xl = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
        Xl[:] = X
        Xl.flush()
        Xl = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="r", shape=X.shape)
    elif layout == "readonly":
        Xl = X.copy()
        Xl.setflags(write=False)
    else:
        Xl = X.astype(np.int64)
    m = Ridge(alpha=0.5).fit(Xl, y)
    np.testing.assert_allclose(m.coef_, ref[0], rtol=1e-10, atol=1e-12)
    assert m.intercept_ == pytest.approx(ref[1], abs=1e-10)
    np.testing.assert_allclose(m.predict(Xl), X @ ref[0] + ref[1] if layout not in ("csr", "csc")
                               else Xl.toarray() @ ref[0] + ref[1], atol=1e-9)


def test_sparse_equals_dense_model():
    rng = np.random.default_rng(11)
    X = sp.random(300, 20, density=0.2, random_state=12, format="csr")
    y = rng.standard_normal(300)
    w = rng.random(300)
    a = Ridge(alpha=0.1).fit(X, y, sample_weight=w)
    b = Ridge(alpha=0.1).fit(X.toarray(), y, sample_weight=w)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-13)
    assert a.intercept_ == pytest.approx(b.intercept_, abs=1e-12)


def test_float32_stays_float32():
    X, y = make_problem(n=500, seed=13)
    m32 = Ridge(alpha=1.0).fit(X.astype(np.float32), y.astype(np.float32))
    assert m32.coef_.dtype == np.float32
    assert m32.predict(X.astype(np.float32)).dtype == np.float32
    ref, b = naive_ridge(X.astype(np.float32), y.astype(np.float32), 1.0)
    np.testing.assert_allclose(m32.coef_, ref, rtol=1e-4, atol=1e-5)
    assert m32.intercept_ == pytest.approx(b, abs=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 2.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_more_features_than_samples_solves_the_dual(alpha, fit_intercept):
    rng = np.random.default_rng(14)
    X = rng.standard_normal((30, 80))
    y = rng.standard_normal(30)
    w = rng.random(30) + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)
        m = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    assert m.solver_.endswith("_dual")
    if alpha > 0:
        coef, b = naive_ridge(X, y, alpha, w, fit_intercept)
        assert m.solver_ == "cholesky_dual"
        np.testing.assert_allclose(m.coef_, coef, rtol=1e-9, atol=1e-11)
    else:
        # Underdetermined: the minimum-norm interpolant (weights do not matter when it fits exactly).
        np.testing.assert_allclose(m.predict(X), y, atol=1e-8)
        A = X - (w @ X) / w.sum() if fit_intercept else X
        np.testing.assert_allclose(m.coef_, np.linalg.pinv(A) @ (y - ((w @ y) / w.sum() if fit_intercept else 0)),
                                   rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- scikit-learn parity


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("multi", [False, True])
def test_parity_with_sklearn(fit_intercept, multi):
    X, y = make_problem(n=400, d=12, t=2 if multi else None, seed=15)
    w = np.random.default_rng(16).random(400)
    for ours, theirs in [
        (Ridge(alpha=3.0, fit_intercept=fit_intercept), sklm.Ridge(alpha=3.0, fit_intercept=fit_intercept, solver="cholesky")),
        (LinearRegression(fit_intercept=fit_intercept), sklm.LinearRegression(fit_intercept=fit_intercept)),
    ]:
        ours.fit(X, y, sample_weight=w)
        theirs.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-8, atol=1e-10)
        assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-10)


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_problem(n=50, d=3, seed=17)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    m = LinearRegression().fit(df, y)
    assert list(m.feature_names_in_) == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="feature names"):
        m.predict(X)


# --------------------------------------------------------------------------- fallback


def test_collinear_columns_fall_back_to_minimum_norm():
    X, y = make_problem(n=100, d=4, seed=18)
    Xc = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])  # exactly dependent
    with pytest.warns(LinAlgWarning, match="minimum-norm"):
        m = LinearRegression().fit(Xc, y)
    assert m.solver_ != "cholesky" and m.solver_ == "eigh"
    assert np.all(np.isfinite(m.coef_))
    np.testing.assert_allclose(m.predict(Xc), naive_min_norm_predictions(Xc, y), atol=1e-9)
    # minimum norm: no weight along the null direction (1, -2, 0, 0, -1)
    null = np.array([1.0, -2.0, 0.0, 0.0, -1.0])
    assert abs(m.coef_ @ null) < 1e-8 * np.linalg.norm(m.coef_)


def test_constant_column_and_ridge_stays_cholesky():
    X, y = make_problem(n=100, d=3, seed=19)
    X[:, 1] = 7.0
    with pytest.warns(LinAlgWarning):
        assert LinearRegression().fit(X, y).solver_ == "eigh"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = Ridge(alpha=1.0).fit(X, y)
    assert m.solver_ == "cholesky" and m.coef_[1] == 0.0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("Est", [LinearRegression, Ridge])
def test_bad_input(Est):
    X, y = make_problem(n=20, d=3, seed=20)
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[15, 2] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            Est().fit(Xb, y)
        yb = y.copy()
        yb[3] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            Est().fit(X, yb)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est().fit(X, y[:-1])
    with pytest.raises(ValueError, match="0 sample"):
        Est().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="2D array"):
        Est().fit(X[:, 0], y)
    with pytest.raises(ValueError):
        Est().fit(np.zeros((2, 2, 2)), y[:2])
    with pytest.raises(ValueError, match="could not convert|numeric|dtype"):
        Est().fit(np.array([["a", "b"], ["c", "d"]]), y[:2])
    with pytest.raises(ValueError, match="sample_weight"):
        Est().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="sample_weight has 3 elements"):
        Est().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(Exception, match="not fitted"):
        Est().predict(X)
    m = Est().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :2])
    Xo = X.copy()
    Xo[0, 0] = 1e200  # finite, but its square overflows
    with pytest.raises(ValueError, match="overflow"):
        Est().fit(Xo, y)


def test_negative_or_bad_alpha():
    X, y = make_problem(n=20, d=3, seed=21)
    with pytest.raises(ValueError, match=r"'alpha' parameter of Ridge must be a float in the range \[0"):
        Ridge(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="one value per target"):
        Ridge(alpha=[1.0, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="'alpha' parameter of Ridge must be.*Got nan instead"):
        Ridge(alpha=np.nan).fit(X, y)


def test_malformed_sparse_is_rejected():
    X = sp.csr_matrix(np.eye(4))
    y = np.arange(4.0)
    bad = sp.csr_matrix((X.data, X.indices.copy(), X.indptr), shape=X.shape)
    bad.indices[2] = 9  # out of range
    with pytest.raises(ValueError, match="Malformed sparse|index|indices"):
        Ridge().fit(bad, y)
    bad2 = sp.csr_matrix((X.data, X.indices, X.indptr.copy()), shape=X.shape)
    bad2.indptr[2] = 0  # not monotone
    with pytest.raises(ValueError):
        Ridge().fit(bad2, y)


def test_no_fitted_attributes_after_failed_fit():
    X, y = make_problem(n=20, d=3, seed=22)
    X[4, 1] = np.nan
    m = Ridge()
    with pytest.raises(ValueError):
        m.fit(X, y)
    assert not hasattr(m, "coef_")


# --------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.01, 100.0), scale=st.floats(0.1, 10.0))
def test_invariants(seed, alpha, scale):
    X, y = make_problem(n=60, d=5, seed=seed)
    m = Ridge(alpha=alpha).fit(X, y)
    perm = np.random.default_rng(seed).permutation(5)
    # permuting the features permutes the coefficients
    np.testing.assert_allclose(Ridge(alpha=alpha).fit(X[:, perm], y).coef_, m.coef_[perm], rtol=1e-9, atol=1e-12)
    # the model is linear in y
    np.testing.assert_allclose(Ridge(alpha=alpha).fit(X, scale * y).coef_, scale * m.coef_, rtol=1e-9, atol=1e-12)
    # integer sample weights repeat rows
    k = np.random.default_rng(seed + 1).integers(0, 3, 60)
    k[0] = 1
    rep = Ridge(alpha=alpha).fit(np.repeat(X, k, axis=0), np.repeat(y, k))
    np.testing.assert_allclose(Ridge(alpha=alpha).fit(X, y, sample_weight=k).coef_, rep.coef_, rtol=1e-8, atol=1e-11)


# --------------------------------------------------------------------------- memory


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fit_does_not_copy_x():
    rng = np.random.default_rng(23)
    X = rng.standard_normal((400_000, 50))
    y = rng.standard_normal(400_000)
    Ridge().fit(X[:1000], y[:1000])  # JIT and import warm-up outside the measurement
    peak = _peak_bytes(lambda: Ridge().fit(X, y))
    assert peak < 0.10 * X.nbytes, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.0f} MB"
    # the same holds on the block-buffer path (X far from zero is shifted block by block)
    X += 1e3
    peak = _peak_bytes(lambda: Ridge().fit(X, y))
    assert peak < 0.10 * X.nbytes, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.0f} MB"


def test_nearly_collinear_columns_are_caught_by_the_condition_estimate():
    # Cholesky succeeds on this matrix (tiny positive pivot), but its solution would be noise
    # amplified ~1e9 times; the rcond estimate must send it to the minimum-norm solver.
    X, y = make_problem(n=100, d=4, seed=24)
    near = X[:, 0] - 2 * X[:, 1] + 1e-9 * np.random.default_rng(25).standard_normal(100)
    Xc = np.column_stack([X, near])
    with pytest.warns(LinAlgWarning, match="ill-conditioned"):
        m = LinearRegression().fit(Xc, y)
    assert m.solver_ == "eigh"
    assert np.max(np.abs(m.coef_)) < 10


# --------------------------------------------------------------------------- non-negative solve


@pytest.mark.parametrize("alpha", [0.0, 2.0])
@pytest.mark.parametrize("d", [6, 60])
def test_solve_nnls_matches_scipy_nnls_on_the_augmented_system(alpha, d):
    from scipy.optimize import nnls

    from fastlin.solvers.normal import solve_nnls

    rng = np.random.default_rng(26)
    X = rng.standard_normal((300, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(300)
    w = rng.random(300) + 0.1
    xm, ym, xtx, xty, _ = naive_stats(X, y, w)
    # the same problem as a plain NNLS on rows: [√w (X − x̄); √α I] c ≈ [√w (y − ȳ); 0]
    A = np.vstack([(X - xm) * np.sqrt(w)[:, None], np.sqrt(alpha) * np.eye(d)])
    b = np.concatenate([(y - ym[0]) * np.sqrt(w), np.zeros(d)])
    ref = nnls(A, b, maxiter=50 * d)[0]
    W, solver, n_iter = solve_nnls(xtx, xty, alpha)
    assert solver == "nnls" and W.shape == (d, 1) and n_iter[0] >= 1
    np.testing.assert_allclose(W[:, 0], ref, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(W[:, 0] == 0, ref == 0)
    # KKT: gradient zero on the free set, non-negative at the bound
    grad = (xtx + alpha * np.eye(d)) @ W[:, 0] - xty[:, 0]
    free = W[:, 0] > 0
    assert np.max(np.abs(grad[free]), initial=0) < 1e-9 * np.abs(xty).max()
    assert np.all(grad[~free] > -1e-9 * np.abs(xty).max())


def test_solve_nnls_singular_gram_still_satisfies_kkt():
    from fastlin.solvers.normal import solve_nnls

    X, y = make_problem(n=100, d=4, seed=27)
    Xc = np.column_stack([X, X[:, 0] + X[:, 1], -X[:, 2]])  # exactly dependent columns
    _, _, xtx, xty, _ = naive_stats(Xc, y)
    W, _, _ = solve_nnls(xtx, xty)
    c = W[:, 0]
    assert np.all(c >= 0)
    grad = xtx @ c - xty[:, 0]
    scale = np.abs(xty).max()
    assert np.all(grad > -1e-9 * scale) and np.all(np.abs(grad[c > 0]) < 1e-9 * scale)
    with pytest.warns(LinAlgWarning, match="minimum-norm"):  # the unconstrained fit is singular
        best = LinearRegression().fit(Xc, y)
    m = LinearRegression(positive=True).fit(Xc, y)
    assert m.score(Xc, y) <= best.score(Xc, y) + 1e-12
