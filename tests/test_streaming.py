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
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import fastlin
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


# ------------------------------------------------------------------------------------------------
# shuffled piece order for every re-iterable source; scikit-learn's estimators; refusals
# ------------------------------------------------------------------------------------------------


class _Recorder(BaseEstimator):
    """A partial_fit estimator that records the piece ids (X[0, 0]) it is given, in order."""

    def __init__(self, reads=None, buffer=None):
        self.seen, self.reads, self.buffer = [], reads, buffer

    def partial_fit(self, X, y, sample_weight=None):
        if self.reads is not None:  # pieces read but not yet fitted: at most the buffer
            assert self.reads[0] - len(self.seen) <= self.buffer
        self.seen.append(int(X[0, 0]))
        return self


class _ReIterable:
    """Re-iterable but not indexable: ``__iter__`` returns a fresh generator (counts reads)."""

    def __init__(self, n):
        self.n, self.reads = n, [0]

    def __iter__(self):
        for k in range(self.n):
            self.reads[0] += 1
            yield np.full((3, 2), float(k)), np.zeros(3)


def _epochs_of(seen, n):
    return [seen[e * n:(e + 1) * n] for e in range(len(seen) // n)]


@pytest.mark.parametrize("kind", ["callable", "reiterable", "list"])
def test_shuffle_every_reiterable_source(kind):
    n, epochs, buffer = 20, 4, 6
    src = _ReIterable(n)
    chunks = {"callable": lambda: iter(src), "reiterable": src, "list": list(src)}[kind]
    src.reads[0] = 0
    rec = _Recorder(src.reads if kind != "list" else None, buffer)
    fit_chunks(rec, chunks, epochs=epochs, shuffle=True, shuffle_buffer=buffer, random_state=7)
    orders = _epochs_of(rec.seen, n)
    assert len(rec.seen) == n * epochs
    for order in orders:  # every piece exactly once per epoch
        assert sorted(order) == list(range(n))
        assert order != list(range(n))
    assert len({tuple(o) for o in orders}) == epochs  # a new order each epoch
    if kind != "list":
        assert src.reads[0] == n * epochs  # one read of the source per epoch
    again = _Recorder()
    fit_chunks(again, chunks, epochs=epochs, shuffle=True, shuffle_buffer=buffer, random_state=7)
    assert again.seen == rec.seen  # deterministic for a random_state
    other = _Recorder()
    fit_chunks(other, chunks, epochs=epochs, shuffle=True, shuffle_buffer=buffer, random_state=8)
    assert other.seen != rec.seen


def test_shuffle_buffer_bounds_and_one_shot():
    src = _ReIterable(12)
    seen = _Recorder()
    fit_chunks(seen, src, epochs=1, shuffle=True, shuffle_buffer=1)
    assert seen.seen == list(range(12))  # a buffer of one piece keeps the source order
    seen = _Recorder()
    fit_chunks(seen, src, epochs=3, shuffle=True, shuffle_buffer=3, random_state=0)
    for order in _epochs_of(seen.seen, 12):
        assert sorted(order) == list(range(12))
        for k, piece in enumerate(order):  # a piece moves at most buffer - 1 places earlier
            assert k >= piece - 2
    gen = _Recorder()
    fit_chunks(gen, iter(src), shuffle=True, shuffle_buffer=100, random_state=0)  # one-shot
    assert sorted(gen.seen) == list(range(12)) and gen.seen != list(range(12))
    with pytest.raises(ValueError, match="shuffle_buffer must be an integer >= 1"):
        fit_chunks(_Recorder(), src, shuffle=True, shuffle_buffer=0)


def _sk_pieces(classification=True):
    X, y = _classes(n=2400, d=5, n_classes=3 if classification else 2)
    if not classification:
        y = X @ np.arange(1.0, 6.0) + 0.1 * np.random.default_rng(0).standard_normal(len(y))
    return X, y, _pieces(X, y, [600, 1, 599, 700, 500])


@pytest.mark.parametrize("name", ["SGDClassifier", "Perceptron", "PassiveAggressiveClassifier",
                                  "SGDRegressor", "PassiveAggressiveRegressor", "MultinomialNB"])
def test_sklearn_partial_fit_estimators_equal_their_own_loop(name):
    import warnings

    import sklearn.linear_model
    import sklearn.naive_bayes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PassiveAggressive* are deprecated
        module = sklearn.naive_bayes if name == "MultinomialNB" else sklearn.linear_model
        Est = getattr(module, name)
        params = {} if name == "MultinomialNB" else {"random_state": 0}
        if name == "SGDClassifier":
            params["loss"] = "log_loss"
        classification = name not in ("SGDRegressor", "PassiveAggressiveRegressor")
        X, y, pieces = _sk_pieces(classification)
        if name == "MultinomialNB":
            pieces = [(np.abs(Xk), yk) for Xk, yk in pieces]
        epochs = 1 if name == "MultinomialNB" else 3
        kw = {"classes": [2, 0, 1]} if classification else {}
        est = fit_chunks(Est(**params), pieces, epochs=epochs, **kw)
        ref = Est(**params)
        for _ in range(epochs):
            for Xk, yk in pieces:
                ref.partial_fit(Xk, yk, **kw)
    attrs = ["feature_log_prob_", "class_count_"] if name == "MultinomialNB" else ["coef_",
                                                                                  "intercept_"]
    for attr in attrs:
        np.testing.assert_allclose(getattr(est, attr), getattr(ref, attr), rtol=1e-12, atol=1e-12)
    if classification:
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert est.n_iter_ == epochs


def test_sklearn_sgd_early_stop_and_unknown_loss():
    from sklearn.linear_model import SGDClassifier as SkSGD

    X, y, pieces = _sk_pieces()
    est = fit_chunks(SkSGD(tol=10.0, n_iter_no_change=2, random_state=0), pieces, epochs=50,
                     classes=[0, 1, 2])
    assert est.n_iter_ == 3  # progressive loss known for scikit-learn's loss names: stops early

    class OddLoss(SkSGD):
        def partial_fit(self, X, y, classes=None, sample_weight=None):
            self.loss = "hinge"
            try:
                return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)
            finally:
                self.loss = "my_loss"

    with pytest.warns(UserWarning, match="cannot evaluate this loss.*all 4 epochs"):
        est = fit_chunks(OddLoss(loss="my_loss", tol=10.0, n_iter_no_change=1), pieces,
                         epochs=4, classes=[0, 1, 2])
    assert est.n_iter_ == 4


def test_estimators_that_cannot_stream_say_what_to_do():
    from sklearn.linear_model import HuberRegressor
    from sklearn.linear_model import Lasso as SkLasso
    from sklearn.linear_model import Ridge as SkRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data(n=100)
    pieces = _pieces(X, y, [50, 50])
    with pytest.raises(TypeError, match=r"cannot fit Ridge.*any estimator with partial_fit.*"
                                        r"use fastlin\.Ridge\(alpha=3\.0, fit_intercept=False\) "
                                        r"instead") as info:
        fit_chunks(SkRidge(alpha=3.0, fit_intercept=False), pieces)
    unused = str(info.value).partition("no use for: ")[2].rstrip(").").split(", ")
    assert not set(unused) & set(Ridge().get_params())  # only parameters fastlin's Ridge lacks
    pipe = make_pipeline(StandardScaler(), Ridge())
    with pytest.raises(TypeError, match=r"cannot fit Pipeline.*Fit the preprocessing on a sample"
                                        r".*transform every piece.*fit_chunks\(pipe\[-1\]"):
        fit_chunks(pipe, pieces)
    with pytest.raises(TypeError, match=r"cannot fit Lasso.*use fastlin\.Lasso\(alpha=0\.5\) "
                                        r"instead"):
        fit_chunks(SkLasso(alpha=0.5), pieces)
    with pytest.raises(TypeError, match=r"cannot fit HuberRegressor.*penalty='l1'"):
        fit_chunks(HuberRegressor(), pieces)
    with pytest.raises(TypeError, match=r"needs an estimator instance.*Ridge\(\.\.\.\)"):
        fit_chunks(Ridge, pieces)
    # the estimator is checked before a single piece is read
    with pytest.raises(TypeError, match="cannot fit Lasso"):
        fit_chunks(SkLasso(), iter([]))


@pytest.mark.parametrize("make", [lambda: fastlin.RidgeCV(alphas=[0.1, 1.0, 10.0], cv=4),
                                  lambda: fastlin.Lasso(alpha=0.05, tol=1e-10),
                                  lambda: fastlin.ElasticNetCV(l1_ratio=[0.5, 1.0], cv=3,
                                                               tol=1e-10)])
def test_fit_chunks_forwards_the_statistics_estimators(make):
    X, y = _data(n=1200, d=5)
    pieces = _pieces(X, y, [400, 400, 400])
    est = fit_chunks(make(), pieces)
    ref = make().fit(X, y)
    _assert_same_model(est, ref, 1e-8)
    assert est.n_features_in_ == 5
