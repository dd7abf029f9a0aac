"""Streaming fits: ``fit_chunks`` over pieces, and fits on memmaps that never copy X.

Parity with the in-memory fit (closed form 1e-10, lbfgs 1e-5, SGD accuracy), errors that name the
chunk and leave no model, one-shot iterators, the progress bar, tracemalloc on memmap fits, and a
memmap larger than the memory the fitting process may allocate.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import fastlin._progress as progress
from fastlin import LinearRegression, Ridge
from fastlin.streaming import fit_chunks

try:
    from fastlin import LogisticRegression
except (ImportError, AttributeError):  # pragma: no cover - issue 4 not merged yet
    LogisticRegression = None

try:
    from fastlin import SGDClassifier, SGDRegressor
except (ImportError, AttributeError):  # pragma: no cover - issue 3 not merged yet
    SGDClassifier = SGDRegressor = None

needs_logistic = pytest.mark.skipif(LogisticRegression is None,
                                    reason="fastlin.LogisticRegression (issue 4) is not importable yet")
needs_sgd = pytest.mark.skipif(SGDClassifier is None,
                               reason="fastlin.SGDClassifier (issue 3) is not importable yet")


def _pieces(X, y, sizes, sw=None):
    cuts = np.cumsum([0] + list(sizes))
    assert cuts[-1] == X.shape[0]
    out = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        out.append((X[a:b], y[a:b]) if sw is None else (X[a:b], y[a:b], sw[a:b]))
    return out


def _data(n=3000, d=7, targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 3.0 + 10.0
    coef = rng.standard_normal((d, targets or 1))
    Y = X @ coef + rng.standard_normal((n, targets or 1))
    return X, (Y[:, 0] if targets is None else Y)


def _assert_same_model(a, b, tol):
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=tol, atol=tol)


def _assert_not_fitted(est):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


SIZES = [500, 1, 999, 700, 0, 800]  # uneven, with a one-row and an empty piece


# ------------------------------------------------------------------------------------------------
# closed form over chunks
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("Est", [LinearRegression, Ridge])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_chunks_equal_in_memory(Est, fit_intercept, weighted):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0, 2, X.shape[0]) if weighted else None
    est = fit_chunks(Est(fit_intercept=fit_intercept), _pieces(X, y, SIZES, sw))
    ref = Est(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    _assert_same_model(est, ref, 1e-10)
    assert est.n_features_in_ == 7 and est.solver_ == ref.solver_


def test_ridge_chunks_multitarget_sparse_memmap_float32(tmp_path):
    X, Y = _data(targets=3)
    alpha = np.array([0.5, 5.0, 50.0])
    ref = Ridge(alpha=alpha).fit(X, Y)
    # CSR pieces
    pieces = [(sp.csr_matrix(Xk), Yk) for Xk, Yk in _pieces(X, Y, SIZES)]
    _assert_same_model(fit_chunks(Ridge(alpha=alpha), pieces), ref, 1e-10)
    # memmap pieces (views of one file: no copy)
    path = tmp_path / "X.f64"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    ro = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    _assert_same_model(fit_chunks(Ridge(alpha=alpha), _pieces(ro, Y, SIZES)), ref, 1e-10)
    # float32 pieces give float32 coefficients
    X32 = X.astype(np.float32)
    est = fit_chunks(Ridge(alpha=alpha), _pieces(X32, Y, SIZES))
    assert est.coef_.dtype == np.float32
    _assert_same_model(est, Ridge(alpha=alpha).fit(X32, Y), 1e-5)


def test_chunks_from_callable_and_generator_one_pass():
    X, y = _data()
    ref = Ridge().fit(X, y)

    def factory():
        return iter(_pieces(X, y, SIZES))

    _assert_same_model(fit_chunks(Ridge(), factory), ref, 1e-10)
    gen = (p for p in _pieces(X, y, SIZES))  # one-shot: fine for the one-pass closed form
    _assert_same_model(fit_chunks(Ridge(), gen), ref, 1e-10)


def test_chunk_errors_name_the_chunk_and_leave_no_model():
    X, y = _data()
    pieces = _pieces(X, y, [1000, 1000, 1000])
    est = Ridge()

    bad = list(pieces)
    bad[2] = (bad[2][0][:, :5], bad[2][1])
    with pytest.raises(ValueError, match=r"chunk 2: X has 5 features but the first chunk had 7"):
        fit_chunks(est, bad)
    _assert_not_fitted(est)

    bad = list(pieces)
    Xn = bad[1][0].copy()
    Xn[10, 3] = np.nan
    bad[1] = (Xn, bad[1][1])
    with pytest.raises(ValueError, match=r"chunk 1 \(rows 1000-1999\): X contains NaN"):
        fit_chunks(est, bad)
    _assert_not_fitted(est)

    bad = list(pieces)
    bad[2] = (bad[2][0], bad[2][1][:-3])
    with pytest.raises(ValueError, match=r"chunk 2: y has shape \(997,\) but its X has 1000 rows"):
        fit_chunks(est, bad)

    bad = list(pieces)
    bad[1] = (bad[1][0], np.where(np.arange(1000) == 5, np.inf, bad[1][1]))
    with pytest.raises(ValueError, match=r"chunk 1: y contains NaN"):
        fit_chunks(est, bad)

    with pytest.raises(ValueError, match="chunk 0: sample_weight contains negative"):
        fit_chunks(est, [(X[:10], y[:10], -np.ones(10))])
    with pytest.raises(TypeError, match=r"chunk 0: expected an \(X, y\)"):
        fit_chunks(est, [X])
    with pytest.raises(ValueError, match="no samples"):
        fit_chunks(est, [])
    _assert_not_fitted(est)


def test_progress_bar(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    X, y = _data()
    fit_chunks(Ridge(), _pieces(X, y, SIZES), verbose=True)  # faster than the delay: silent
    assert "chunk" not in capsys.readouterr().err
    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    fit_chunks(Ridge(), _pieces(X, y, SIZES), verbose=True)
    assert "chunk" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# LogisticRegression lbfgs over chunks
# ------------------------------------------------------------------------------------------------


def _classes(n=3000, d=5, n_classes=2, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, n_classes))
    y = np.argmax(X @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    return X, y


@needs_logistic
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_chunks_equal_in_memory(n_classes, weighted):
    X, y = _classes(n_classes=n_classes)
    labels = np.array(["a", "b", "c", "d"])[y]
    sw = np.random.default_rng(4).uniform(0.1, 2, X.shape[0]) if weighted else None
    params = dict(C=0.3, tol=1e-10, max_iter=500, class_weight="balanced" if weighted else None)
    est = fit_chunks(LogisticRegression(**params), _pieces(X, labels, SIZES, sw))
    ref = LogisticRegression(**params).fit(X, labels, sample_weight=sw)
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    _assert_same_model(est, ref, 1e-5)
    assert abs(est.objective_ - ref.objective_) < 1e-10


@needs_logistic
def test_lbfgs_chunks_needs_reiterable_and_names_bad_chunk():
    X, y = _classes()
    est = LogisticRegression()
    with pytest.raises(TypeError, match="re-iterable"):
        fit_chunks(est, (p for p in _pieces(X, y, SIZES)))
    bad = _pieces(X, y, [1000, 1000, 1000])
    Xn = bad[2][0].copy()
    Xn[0, 0] = np.inf
    bad[2] = (Xn, bad[2][1])
    with pytest.raises(ValueError, match=r"chunk 2 \(rows 2000-2999\): X contains NaN"):
        fit_chunks(est, bad)
    _assert_not_fitted(est)


# ------------------------------------------------------------------------------------------------
# SGD over chunks
# ------------------------------------------------------------------------------------------------


@needs_sgd
def test_sgd_chunks_reach_in_memory_accuracy():
    X, y = _classes(n=6000, d=8)
    mem = SGDClassifier(loss="log_loss", max_iter=8, tol=None, random_state=0, average=True).fit(X, y)
    pieces = _pieces(X, y, [1000] * 6)
    est = fit_chunks(SGDClassifier(loss="log_loss", tol=None, random_state=0, average=True),
                     pieces, epochs=8,
                     classes=[0, 1], shuffle=True, random_state=0)
    assert est.n_iter_ == 8
    assert est.score(X, y) >= mem.score(X, y) - 0.01


@needs_sgd
def test_sgd_chunks_in_order_equal_partial_fit():
    X, y = _data(n=2000, d=4)
    X = (X - 10.0) / 3.0
    pieces = _pieces(X, y, [500] * 4)
    est = fit_chunks(SGDRegressor(random_state=0, shuffle=False), pieces, epochs=3)
    ref = SGDRegressor(random_state=0, shuffle=False)
    for _ in range(3):
        for Xk, yk in pieces:
            ref.partial_fit(Xk, yk)
    _assert_same_model(est, ref, 1e-12)


@needs_sgd
def test_sgd_one_shot_iterator_runs_one_pass_with_a_message():
    X, y = _classes()
    with pytest.warns(UserWarning, match="one-shot iterator.*only 1 epoch"):
        est = fit_chunks(SGDClassifier(random_state=0), (p for p in _pieces(X, y, SIZES)),
                         epochs=5, classes=[0, 1])
    assert est.n_iter_ == 1
    with pytest.raises(ValueError, match="classes"):
        fit_chunks(SGDClassifier(), _pieces(X, y, SIZES))
    est = SGDClassifier()
    bad = _pieces(X, y, [1500, 1500])
    bad[1] = (bad[1][0][:, :3], bad[1][1])
    with pytest.raises(ValueError, match="chunk 1: X has 3 features"):
        fit_chunks(est, bad, classes=[0, 1])
    _assert_not_fitted(est)


# ------------------------------------------------------------------------------------------------
# memmaps: no copy of X
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memmap_file(tmp_path_factory):
    n, d = 400_000, 50  # 160 MB
    path = tmp_path_factory.mktemp("mm") / "X.f64"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=(n, d))
    rng = np.random.default_rng(0)
    y = np.empty(n)
    coef = rng.standard_normal(d)
    for a in range(0, n, 50_000):
        blk = rng.standard_normal((50_000, d))
        mm[a:a + 50_000] = blk
        y[a:a + 50_000] = blk @ coef + rng.standard_normal(50_000)
    mm.flush()
    del mm
    return path, n, d, y


def test_ridge_on_memmap_allocates_under_10_percent(memmap_file):
    path, n, d, y = memmap_file
    X = np.memmap(path, dtype=np.float64, mode="r", shape=(n, d))
    Ridge().fit(X[:1000], y[:1000])  # warm up
    tracemalloc.start()
    try:
        est = Ridge(alpha=1.0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.10 * X.nbytes, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.0f} MB"
    # fit_chunks over memmap views allocates no copy either
    tracemalloc.start()
    try:
        est2 = fit_chunks(Ridge(alpha=1.0), [(X[a:a + 100_000], y[a:a + 100_000])
                                             for a in range(0, n, 100_000)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.10 * X.nbytes
    _assert_same_model(est, est2, 1e-10)


LIMITED_FIT = textwrap.dedent("""
    import re, resource, sys
    import numpy as np
    from fastlin import Ridge

    path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X = np.memmap(path, dtype=np.float64, mode="r", shape=(n, d))
    y = np.memmap(path + ".y", dtype=np.float64, mode="r", shape=(n,))
    Ridge().fit(np.asarray(X[:500]), np.asarray(y[:500]))  # load the kernels before the limit

    # RLIMIT_DATA caps what the process may allocate (heap and private anonymous mappings:
    # every NumPy array); a read-only file mapping is page cache, not counted. RLIMIT_AS would
    # also count the mapping's address space, so no memmap larger than the limit could even be
    # opened: RLIMIT_DATA is the limit that separates "memory" from "data on disk".
    data_kb = int(re.search(r"VmData:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
    limit = data_kb * 1024 + int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    try:
        np.array(X)  # control: a copy of X does not fit in the limit
        print("COPY-FITTED")
    except MemoryError:
        print("COPY-FAILED")
    est = Ridge(alpha=1.0).fit(X, y)
    print("LIMIT", limit, "XBYTES", X.nbytes)
    print("COEF", " ".join(repr(float(c)) for c in est.coef_), repr(float(est.intercept_)))
""")


def test_memmap_larger_than_process_memory_limit(tmp_path):
    n, d = 1_000_000, 50  # 400 MB file; the process gets its start-up footprint + 48 MB
    path = tmp_path / "big.f64"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=(n, d))
    ym = np.memmap(str(path) + ".y", dtype=np.float64, mode="w+", shape=(n,))
    rng = np.random.default_rng(5)
    coef = rng.standard_normal(d)
    for a in range(0, n, 100_000):
        blk = rng.standard_normal((100_000, d))
        mm[a:a + 100_000] = blk
        ym[a:a + 100_000] = blk @ coef + rng.standard_normal(100_000)
    mm.flush()
    ym.flush()
    extra = 48 * 1024 * 1024
    out = subprocess.run([sys.executable, "-c", LIMITED_FIT, str(path), str(n), str(d), str(extra)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines() if " " in line)
    assert "COPY-FAILED" in out.stdout, out.stdout
    limit = int(lines["LIMIT"].split()[0])
    assert mm.nbytes > limit, (mm.nbytes, limit)  # the file is larger than the whole allowance
    got = np.array([float(v) for v in lines["COEF"].split()])
    ref = Ridge(alpha=1.0).fit(mm, ym)
    np.testing.assert_allclose(got[:-1], ref.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[-1], ref.intercept_, rtol=1e-12, atol=1e-12)
    del mm, ym
