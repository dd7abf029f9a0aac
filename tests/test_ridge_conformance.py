"""LinearRegression / Ridge against scikit-learn 1.9: parameters, shapes and types of the fitted
attributes, positive=True parity; sparsify/densify of every linear classifier and SGDRegressor."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sklm
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastlin
from fastlin import LinearRegression, Ridge


def positive_problem(n=300, d=10, t=None, seed=0, dtype=np.float64):
    """y from coefficients of both signs: about half the constraints are active at the optimum."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + 0.3 * rng.standard_normal((n, 1))  # correlated columns
    shape = (d,) if t is None else (d, t)
    coef = (np.abs(rng.standard_normal(shape)) + 0.5) * 2.0
    coef[::2] *= -1.0  # every other feature pulls the wrong way: its constraint binds
    noise = 0.2 * rng.standard_normal((n,) if t is None else (n, t))
    return X.astype(dtype), (X @ coef + noise + 1.5).astype(dtype)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
def test_signature_is_scikit_learns(name):
    ours = inspect.signature(getattr(fastlin, name))
    theirs = inspect.signature(getattr(sklm, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p, q in zip(ours.parameters.values(), theirs.parameters.values()):
        assert (p.default, p.kind) == (q.default, q.kind), p.name
    assert set(getattr(fastlin, name)._parameter_constraints) == set(theirs.parameters)


@pytest.mark.parametrize("solver", ["svd", "lsqr", "sparse_cg", "sag", "saga"])
def test_other_ridge_solvers_run_the_closed_form(solver):
    X, y = positive_problem(n=60, d=5, seed=12)
    m = Ridge(alpha=2.0, solver=solver).fit(X, y)
    ref = Ridge(alpha=2.0).fit(X, y)
    assert m.solver_ == "cholesky"
    np.testing.assert_array_equal(m.coef_, ref.coef_)
    # scikit-learn's solver of that name reaches the same minimiser (to its tol)
    theirs = sklm.Ridge(alpha=2.0, solver=solver, tol=1e-12, max_iter=100_000,
                        random_state=0).fit(X, y)
    np.testing.assert_allclose(m.coef_, theirs.coef_, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=f"solver='{solver}' does not support positive=True"):
        Ridge(solver=solver, positive=True).fit(X, y)


def test_ridge_solver_combinations():
    X, y = positive_problem(n=60, d=4)
    assert Ridge(solver="cholesky").fit(X, y).solver_ == "cholesky"
    assert Ridge(solver="lbfgs", positive=True).fit(X, y).solver_ == "nnls"
    with pytest.raises(ValueError, match="'lbfgs' can be used only when positive=True"):
        Ridge(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="solver='cholesky' does not support positive=True"):
        Ridge(solver="cholesky", positive=True).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'solver' parameter of Ridge"):
        Ridge(solver="qr").fit(X, y)
    for bad in (dict(max_iter=0), dict(tol=-1.0), dict(copy_X="yes"), dict(positive=1.5)):
        with pytest.raises(InvalidParameterError):
            Ridge(**bad).fit(X, y)
    for bad in (dict(n_jobs=1.5), dict(tol=-1.0), dict(positive="no")):
        with pytest.raises(InvalidParameterError):
            LinearRegression(**bad).fit(X, y)


def test_accepted_parameters_do_not_change_the_model():
    X, y = positive_problem(n=80, d=5, seed=1)
    ref = Ridge(alpha=2.0).fit(X, y)
    for kw in (dict(copy_X=False), dict(max_iter=3), dict(tol=0.5), dict(random_state=7)):
        np.testing.assert_array_equal(Ridge(alpha=2.0, **kw).fit(X, y).coef_, ref.coef_)
    ref = LinearRegression().fit(X, y)
    for kw in (dict(copy_X=False), dict(n_jobs=2), dict(n_jobs=-1)):
        np.testing.assert_array_equal(LinearRegression(**kw).fit(X, y).coef_, ref.coef_)
    X0 = X.copy()
    LinearRegression(copy_X=False).fit(X, y)
    np.testing.assert_array_equal(X, X0)  # never written to, whatever copy_X says


def test_linear_regression_tol_is_lstsq_cond():
    # Singular values of the centred X span 1 .. 1e-4: tol=1e-2 drops the smallest (as
    # scikit-learn's lstsq cond), the default 1e-6 keeps it.
    rng = np.random.default_rng(2)
    U, _ = np.linalg.qr(rng.standard_normal((200, 4)))
    U -= U.mean(axis=0)
    X = U @ np.diag([30.0, 20.0, 10.0, 30e-4]) @ np.linalg.qr(rng.standard_normal((4, 4)))[0]
    y = X @ np.array([1.0, -1.0, 2.0, 0.5]) + 0.01 * rng.standard_normal(200)
    for tol, solver in [(1e-2, "eigh"), (1e-6, "cholesky")]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = LinearRegression(tol=tol).fit(X, y)
        theirs = sklm.LinearRegression(tol=tol).fit(X, y)
        assert ours.solver_ == solver
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- shapes and types


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("wide", [False, True])
def test_coef_shape_for_y_with_one_column(name, positive, wide):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 30 if wide else 4))
    y = rng.standard_normal((20, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(fastlin, name)(positive=positive).fit(X, y)
        theirs = getattr(sklm, name)(positive=positive).fit(X, y)
    assert ours.coef_.shape == theirs.coef_.shape  # Ridge: (4,); LinearRegression: (1, 4)
    assert ours.coef_.shape == ((X.shape[1],) if name == "Ridge" else (1, X.shape[1]))
    assert ours.intercept_.shape == theirs.intercept_.shape == (1,)
    # scikit-learn's Ridge then predicts shape (20,), its LinearRegression (20, 1)
    assert ours.predict(X).shape == theirs.predict(X).shape


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("y_cols", [None, 1, 3])
def test_intercept_type_matches(name, dtype, fit_intercept, y_cols):
    X, y = positive_problem(n=50, d=3, t=y_cols, seed=4, dtype=dtype)
    if y_cols == 1:
        y = y.reshape(-1, 1)
    ours = getattr(fastlin, name)(fit_intercept=fit_intercept).fit(X, y)
    theirs = getattr(sklm, name)(fit_intercept=fit_intercept).fit(X, y)
    assert type(ours.intercept_) is type(theirs.intercept_)
    assert np.asarray(ours.intercept_).dtype == np.asarray(theirs.intercept_).dtype
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    assert ours.coef_.dtype == theirs.coef_.dtype == dtype
    if y_cols is None and fit_intercept:
        assert type(ours.intercept_) is dtype  # np.float32 / np.float64, not a Python float
    if not fit_intercept:
        assert ours.intercept_ == 0.0 and type(ours.intercept_) is float


# --------------------------------------------------------------------------- positive=True


def _theirs_positive(name, fit_intercept):
    if name == "Ridge":  # L-BFGS-B: tightened until it agrees with an exact solver to 1e-9
        return sklm.Ridge(alpha=3.0, positive=True, fit_intercept=fit_intercept, tol=1e-12,
                          max_iter=100_000)
    return sklm.LinearRegression(positive=True, fit_intercept=fit_intercept)


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("t", [None, 3])
def test_positive_parity_with_sklearn(name, fit_intercept, weighted, t):
    X, y = positive_problem(t=t, seed=5)
    w = np.random.default_rng(6).random(len(X)) + 0.2 if weighted else None
    kw = dict(alpha=3.0) if name == "Ridge" else {}
    ours = getattr(fastlin, name)(positive=True, fit_intercept=fit_intercept, **kw)
    ours.fit(X, y, sample_weight=w)
    theirs = _theirs_positive(name, fit_intercept).fit(X, y, sample_weight=w)
    active = np.sum(ours.coef_ == 0.0, axis=-1)
    assert np.all(active >= 3), active  # the constraint binds for several features
    assert np.all(ours.coef_ >= 0) and ours.solver_ == "nnls"
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-6)
    # where scikit-learn's L-BFGS-B leaves ~1e-10 at the bound, ours are exact zeros
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(theirs.coef_) < 1e-7)
    assert ours.score(X, y) >= theirs.score(X, y) - 1e-10


@pytest.mark.parametrize("layout", ["csr", "chunks", "float32"])
def test_positive_on_every_source_gives_one_model(layout):
    X, y = positive_problem(n=400, d=8, seed=7)
    X[np.abs(X) < 0.5] = 0.0
    ref = Ridge(alpha=1.0, positive=True).fit(X, y)
    if layout == "csr":
        m = Ridge(alpha=1.0, positive=True).fit(sp.csr_matrix(X), y)
    elif layout == "chunks":
        pieces = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 400, 64)]
        m = fastlin.fit_chunks(Ridge(alpha=1.0, positive=True), pieces)
    else:
        m = Ridge(alpha=1.0, positive=True).fit(X.astype(np.float32), y)
    tol = 1e-4 if layout == "float32" else 1e-9
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=0, atol=tol)
    np.testing.assert_array_equal(m.coef_ == 0, ref.coef_ == 0)
    assert m.solver_ == "nnls"


def test_positive_wide_data_solves_the_primal():
    X, y = positive_problem(n=20, d=40, seed=8)
    ours = LinearRegression(positive=True).fit(X, y)
    theirs = sklm.LinearRegression(positive=True).fit(X, y)
    assert ours.solver_ == "nnls" and np.all(ours.coef_ >= 0)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-6)


def test_positive_max_iter_caps_the_active_set():
    X, y = positive_problem(seed=9)
    full = Ridge(positive=True).fit(X, y)
    assert np.all(full.n_iter_ == np.sum(full.coef_ > 0) + 1)  # no step had to be undone here
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        capped = Ridge(positive=True, max_iter=2).fit(X, y)
    assert np.sum(capped.coef_ > 0) <= 2 and capped.n_iter_[0] == 3


@parametrize_with_checks([Ridge(positive=True), LinearRegression(positive=True)])
def test_positive_passes_sklearn_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- sparsify / densify


def _classification(n_classes):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((200, 30))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], np.linspace(-1, 1, n_classes + 1)[1:-1])
    return X, y


@pytest.mark.parametrize("est", [
    fastlin.SGDClassifier(penalty="l1", alpha=0.02, random_state=0),
    fastlin.SGDClassifier(loss="log_loss", penalty="elasticnet", alpha=0.02, random_state=0),
    fastlin.Perceptron(penalty="l1", alpha=0.01, random_state=0),
    fastlin.LogisticRegression(C=0.05),
], ids=["sgd-hinge", "sgd-log", "perceptron", "logistic"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparsify_classifiers(est, n_classes):
    X, y = _classification(n_classes)
    est.fit(X, y)
    dense = est.coef_.copy()
    methods = [m for m in ("decision_function", "predict", "predict_proba") if hasattr(est, m)]
    before = {m: getattr(est, m)(X) for m in methods}
    assert est.sparsify() is est
    assert sp.issparse(est.coef_) and est.coef_.format == "csr"
    assert isinstance(est.coef_, sp.spmatrix)  # scikit-learn's default sparse_interface
    np.testing.assert_array_equal(est.coef_.toarray(), dense)
    for m in methods:
        for Xin in (X, sp.csr_matrix(X)):
            np.testing.assert_allclose(getattr(est, m)(Xin), before[m], rtol=1e-12, atol=1e-12)
    assert est.densify() is est
    assert isinstance(est.coef_, np.ndarray)
    np.testing.assert_array_equal(est.coef_, dense)
    est.densify()  # a no-op on a dense coef_
    assert isinstance(est.coef_, np.ndarray)


def test_sparsify_sgd_regressor():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 40))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(300)
    reg = fastlin.SGDRegressor(penalty="l1", alpha=0.05, random_state=0).fit(X, y)
    before, dense = reg.predict(X), reg.coef_.copy()
    assert 0 < np.count_nonzero(dense) < 20  # the L1 penalty zeroed most coefficients
    reg.sparsify()
    assert sp.issparse(reg.coef_) and reg.coef_.shape == (40,)
    assert reg.coef_.nnz == np.count_nonzero(dense)
    np.testing.assert_allclose(reg.predict(X), before, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reg.predict(sp.csr_array(X)), before, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reg.score(X, y), fastlin.SGDRegressor().set_params(
        **reg.get_params()).fit(X, y).score(X, y), rtol=1e-12)
    reg.densify()
    assert isinstance(reg.coef_, np.ndarray) and reg.coef_.shape == (40,)
    np.testing.assert_array_equal(reg.coef_, dense)


def test_sparsify_respects_sparse_interface_and_needs_a_fit():
    import sklearn

    X, y = _classification(2)
    with sklearn.config_context(sparse_interface="sparray"):
        clf = fastlin.SGDClassifier(random_state=0).fit(X, y).sparsify()
    assert isinstance(clf.coef_, sp.sparray)
    for est in (fastlin.SGDClassifier(), fastlin.SGDRegressor(), fastlin.LogisticRegression()):
        with pytest.raises(NotFittedError, match="before sparsifying"):
            est.sparsify()
        with pytest.raises(NotFittedError, match="before densifying"):
            est.densify()
