"""LogisticRegression: fused kernel vs its NumPy twin and finite differences, parity with
scikit-learn's optimum, predictions, bad input."""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from naive_logistic import logistic_objective, sklearn_objective
from scipy.optimize import check_grad
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from fastlin import LogisticRegression
from fastlin.kernels.logistic import MIN_CHUNK_ROWS, logistic_loss_grad, n_chunks_for
from fastlin.data import kernel_X
from fastlin.engine.logistic import add_sums, logistic_piece, logistic_sums
from fastlin.engine.sources import ArraySource
from fastlin.solvers.lbfgs import LogisticObjective


def _data(n=300, d=6, K=2, seed=0, flip_y=0.15):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=min(d, 4), n_redundant=0,
                               n_classes=K, n_clusters_per_class=1, flip_y=flip_y, random_state=seed)
    return StandardScaler().fit_transform(X), y


def _call_kernel(X, y, sw, coef, b, l2, scale):
    K, D = coef.shape
    work = np.empty((n_chunks_for(X.shape[0], K, D), K, D + 1))
    grad = np.empty((K, D + 1))
    f = logistic_loss_grad(kernel_X(X), y.astype(np.float64), sw, coef, b, l2, scale, work, grad)
    return f, grad


# ---------------------------------------------------------------------------------------- kernel
def test_chunks_of_wide_sparse_passes_are_capped_by_the_entries_read():
    """Wide CSR: partials of at most one entry per ENTRIES_PER_PARTIAL read, a power of two;
    dense-sized reads leave the shape rule alone."""
    from fastlin.kernels.logistic import ENTRIES_PER_PARTIAL

    n, D = 200_000, 2**17
    assert n_chunks_for(n, 1, D) == n_chunks_for(n, 1, D, n * D) == 31  # the memory cap
    chunks = n_chunks_for(n, 1, D, 10**7)  # 50 entries a row
    assert chunks == 4 and chunks * (D + 1) <= 10**7 // ENTRIES_PER_PARTIAL
    for entries in (1, 10**6, 3 * 10**7, 10**8):
        c, shape_only = n_chunks_for(n, 3, D, entries), n_chunks_for(n, 3, D)
        assert c == shape_only or (1 <= c < shape_only and c & (c - 1) == 0)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("layout", ["dense64", "dense32", "csr64"])
def test_kernel_matches_naive_twin(K, layout):
    rng = np.random.default_rng(K)
    # 2 * MIN_CHUNK_ROWS + 37 rows: at least two chunks, the last one of uneven length.
    n, D = 2 * MIN_CHUNK_ROWS + 37, 5
    assert n_chunks_for(n, K, D) >= 2
    X = rng.standard_normal((n, D))
    if layout == "csr64":
        X[rng.random((n, D)) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    elif layout == "dense32":
        X = X.astype(np.float32)
    y = rng.integers(0, 2 if K == 1 else K, n)
    sw = rng.uniform(0.0, 3.0, n)
    coef = rng.standard_normal((K, D))
    # large logits on purpose (|z| up to ~30): the stable branches of both losses are exercised
    coef[:, 0] *= 8.0
    b = rng.standard_normal(K)
    l2, scale = 0.37, 1.0 / sw.sum()
    f, grad = _call_kernel(X, y, sw, coef, b, l2, scale)
    Xref = X.astype(np.float64) if not sp.issparse(X) else X
    f0, gc0, gb0 = logistic_objective(Xref, y, sw, coef, b, l2, scale)
    assert f == pytest.approx(f0, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad[:, :D], gc0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad[:, D], gb0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("parallel", [False, True])
def test_feature_major_softmax_pass_matches_naive_twin(parallel):
    """CSR with 4 classes and K x D x 8 > FEATURE_MAJOR_BYTES: the feature-major softmax pass
    (its own chunk function and reduction) against the NumPy twin."""
    from fastlin.kernels.classes import FEATURE_MAJOR_BYTES
    from fastlin.kernels.logistic import logistic_loss_grad_serial

    rng = np.random.default_rng(11)
    n, D, K = 2 * MIN_CHUNK_ROWS + 37, 12_000, 4
    assert K * D * 8 > FEATURE_MAJOR_BYTES
    X = sp.random(n, D, density=6 / D, format="csr", random_state=rng) * 3.0
    y = rng.integers(0, K, n)
    sw = rng.uniform(0.0, 3.0, n)
    coef, b = rng.standard_normal((K, D)), rng.standard_normal(K)
    l2, scale = 0.37, 1.0 / sw.sum()
    work = np.empty((3, K, D + 1))  # three chunks, reduced in the feature-major order
    grad = np.empty((K, D + 1))
    kernel = logistic_loss_grad if parallel else logistic_loss_grad_serial
    f = kernel(kernel_X(X), y.astype(np.float64), sw, coef, b, l2, scale, work, grad)
    f0, gc0, gb0 = logistic_objective(X, y, sw, coef, b, l2, scale)
    assert f == pytest.approx(f0, rel=1e-12)
    np.testing.assert_allclose(grad[:, :D], gc0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad[:, D], gb0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("K", [1, 3])
def test_gradient_matches_finite_differences(K):
    X, y = _data(n=200, d=4, K=2 if K == 1 else K, seed=3)
    sw = np.random.default_rng(0).uniform(0.2, 2.0, X.shape[0])
    classes = np.unique(y)
    prepared = ArraySource(X, y, sw).prepare(logistic_piece, classes, np.ones(len(classes)), K)
    prob = LogisticObjective(lambda c, b: prepared.map_reduce(logistic_sums, add_sums, c, b),
                             K, X.shape[1], sw.sum(), 0.05 / sw.sum(), True)
    theta = np.random.default_rng(1).standard_normal(prob.size)
    # the objective is O(1) and smooth: finite differences (step 1.5e-8) are good to ~1e-7
    err = check_grad(lambda t: prob(t)[0], lambda t: prob(t)[1], theta)
    assert err < 1e-6 * max(1.0, np.linalg.norm(prob(theta)[1]))


def test_kernel_is_deterministic_across_thread_counts():
    rng = np.random.default_rng(0)
    n, D, K = 8 * MIN_CHUNK_ROWS, 7, 3
    X = rng.standard_normal((n, D))
    y = rng.integers(0, K, n)
    sw = rng.random(n)
    coef, b = rng.standard_normal((K, D)), rng.standard_normal(K)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        f1, g1 = _call_kernel(X, y, sw, coef, b, 0.1, 1.0 / n)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        f2, g2 = _call_kernel(X, y, sw, coef, b, 0.1, 1.0 / n)
    finally:
        numba.set_num_threads(before)
    assert f1 == f2
    assert np.array_equal(g1, g2)


# --------------------------------------------------------------------------- parity with sklearn
def _sk(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SkLogisticRegression(**kw)


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("case", ["sample_weight", "balanced", "none"])
def test_lbfgs_reaches_sklearn_optimum(K, case):
    X, y = _data(n=300, d=6, K=K, seed=K)
    sw = np.random.default_rng(7).uniform(0.1, 3.0, X.shape[0])
    fit_kw, ours_kw, sk_kw = {}, {}, {}
    if case == "sample_weight":
        fit_kw = dict(sample_weight=sw)
        ours_kw = sk_kw = dict(C=0.3)
    elif case == "balanced":
        # unbalance the classes first so "balanced" changes the weights
        keep = (y != 0) | (np.arange(len(y)) % 3 == 0)
        X, y, sw = X[keep], y[keep], sw[keep]
        fit_kw = dict(sample_weight=sw)
        ours_kw = sk_kw = dict(C=2.0, class_weight="balanced")
    else:  # no penalty, on non-separable data (flip_y=0.15 makes a finite optimum)
        ours_kw = sk_kw = dict(C=np.inf)
    ours = LogisticRegression(tol=1e-10, **ours_kw).fit(X, y, **fit_kw)
    ref = _sk(tol=1e-12, max_iter=1000, **sk_kw).fit(X, y, **fit_kw)
    assert ours.coef_.shape == ref.coef_.shape == ((1 if K == 2 else K), X.shape[1])
    assert ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4, rtol=0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4, rtol=0)
    # objective_ is the training objective at the returned coefficients, in sklearn's mean form
    y_code = np.searchsorted(ours.classes_, y)
    w = fit_kw.get("sample_weight", np.ones(len(y)))
    if "class_weight" in ours_kw:
        w = w * compute_class_weight("balanced", classes=ours.classes_, y=y, sample_weight=w)[y_code]
    C = ours_kw.get("C", 1.0)
    pen = "l2" if np.isfinite(C) else None
    expected = sklearn_objective(X, y_code, w, ours.coef_, ours.intercept_, C, pen)
    assert ours.objective_ == pytest.approx(expected, rel=1e-12)
    at_ref = sklearn_objective(X, y_code, w, ref.coef_, ref.intercept_, C, pen)
    assert ours.objective_ <= at_ref + 1e-12


def test_default_fit_stops_where_sklearn_stops():
    """Same objective, optimizer and options: the default fit (tol=1e-4) takes sklearn's path."""
    X, y = _data(n=400, d=8, K=2, seed=11)
    ours = LogisticRegression().fit(X, y)
    ref = _sk().fit(X, y)
    assert ours.n_iter_[0] == ref.n_iter_[0]
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)


def test_sparse_and_float32_give_the_dense_float64_model():
    X, y = _data(n=250, d=6, K=3, seed=5)
    X[np.abs(X) < 0.5] = 0.0
    dense = LogisticRegression(tol=1e-10).fit(X, y)
    csr = LogisticRegression(tol=1e-10).fit(sp.csr_matrix(X), y)
    csc = LogisticRegression(tol=1e-10).fit(sp.csc_matrix(X), y)
    f32 = LogisticRegression(tol=1e-6).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, atol=1e-9)
    np.testing.assert_allclose(csc.coef_, dense.coef_, atol=1e-9)
    # float32 X differs from X by ~6e-8 relative; the optimum moves by about as much
    np.testing.assert_allclose(f32.coef_, dense.coef_, atol=1e-4)
    assert f32.coef_.dtype == np.float32 and f32.intercept_.dtype == np.float32
    assert dense.coef_.dtype == np.float64


# ------------------------------------------------------------------------------ predictions
@pytest.mark.parametrize("K", [2, 4])
def test_predictions_labels_and_shapes(K):
    X, y = _data(n=200, d=5, K=K, seed=2)
    labels = np.array(["cat", "dog", "emu", "fox"])[:K]
    ys = labels[y]
    clf = LogisticRegression().fit(X, ys)
    assert list(clf.classes_) == list(labels)
    scores = clf.decision_function(X)
    assert scores.shape == ((200,) if K == 2 else (200, K))
    np.testing.assert_allclose(scores, (X @ clf.coef_.T + clf.intercept_).squeeze(), atol=1e-12)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, K)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    z = np.column_stack([np.zeros(200), scores]) if K == 2 else scores
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-9, atol=1e-12)
    assert np.array_equal(clf.predict(X), labels[np.argmax(proba, axis=1)])
    assert clf.score(X, ys) == pytest.approx(np.mean(clf.predict(X) == ys))
    assert clf.n_iter_.shape == (1,) and clf.n_iter_.dtype == np.int32


def test_predict_log_proba_is_finite_for_huge_scores():
    X = np.array([[-3.0], [-1.0], [1.0], [3.0]])
    clf = LogisticRegression(C=np.inf, max_iter=10_000).fit(X, [0, 1, 0, 1])
    clf.coef_ = np.array([[1e4]])
    lp = clf.predict_log_proba(np.array([[-1.0], [1.0]]))
    assert np.all(np.isfinite(lp))
    assert lp[0, 1] == pytest.approx(-1e4)


def test_warm_start_restarts_at_the_optimum():
    X, y = _data(n=200, d=5, K=3, seed=4)
    clf = LogisticRegression(tol=1e-8, warm_start=True).fit(X, y)
    coef = clf.coef_.copy()
    clf.fit(X, y)
    assert clf.n_iter_[0] <= 1
    np.testing.assert_allclose(clf.coef_, coef, atol=1e-7)


def test_no_intercept_and_convergence_warning():
    X, y = _data(n=200, d=5, K=2, seed=6)
    clf = LogisticRegression(fit_intercept=False, tol=1e-10).fit(X, y)
    ref = _sk(fit_intercept=False, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-6)
    assert np.array_equal(clf.intercept_, [0.0])
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LogisticRegression(max_iter=1).fit(X, y)


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(l1_ratio=1.0), r"Solver lbfgs supports only 'l2'.*solver='proximal'.*'sgd'"),
        (dict(l1_ratio=0.5), r"Solver lbfgs supports only 'l2'.*solver='proximal'"),
        (dict(penalty="ridge"), "'penalty' parameter of LogisticRegression must be"),
        (dict(penalty="elasticnet", l1_ratio=None), "l1_ratio must be specified"),
        (dict(solver="newton"), "'solver' parameter of LogisticRegression must be.*'lbfgs'"),
        (dict(solver="newton-cholesky"),
         r"solver='newton-cholesky' is not implemented by fastlin.*'lbfgs'"),
        (dict(solver="liblinear"), r"solver='liblinear' is not implemented.*'proximal'"),
        (dict(dual=True), "supports only dual=False"),
        (dict(l1_ratio=1.5), "'l1_ratio' parameter of LogisticRegression must be"),
        (dict(intercept_scaling=0.0), "'intercept_scaling' parameter"),
        (dict(n_jobs=1.5), "'n_jobs' parameter"),
        (dict(C=0.0), r"'C' parameter of LogisticRegression must be a float in the range \(0.0"),
        (dict(C=-1.0), r"'C' parameter of LogisticRegression must be a float in the range \(0.0"),
        # C=np.inf is now accepted (no penalty), as in scikit-learn: see tests/test_params.py
        (dict(tol=-1.0), "tol"),
        (dict(max_iter=-1), "max_iter"),
        (dict(max_iter=2.5), "max_iter"),
        (dict(batch_size=0), "batch_size"),
        (dict(class_weight="auto"), "class_weight"),
    ],
)
def test_bad_parameters(params, match):
    X, y = _data(n=40, d=3)
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match):
        warnings.simplefilter("ignore", FutureWarning)  # an explicit penalty is deprecated
        LogisticRegression(**params).fit(X, y)


def test_bad_data():
    X, y = _data(n=40, d=3)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, np.zeros(40))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(Xn, y)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LogisticRegression().fit(Xi, y)
    with pytest.raises(ValueError, match="negative"):
        LogisticRegression().fit(X, y, sample_weight=-np.ones(40))
    with pytest.raises(ValueError, match="expected 40"):
        LogisticRegression().fit(X, y, sample_weight=np.ones(39))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, np.linspace(0, 1, 40))
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
