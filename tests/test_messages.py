"""What a scikit-learn user reads: warnings at their own line, scikit-learn's NaN message, labels
printed as they were written.

* Warnings raised during ``fit`` or ``partial_fit`` (LinAlgWarning, ConvergenceWarning,
  UserWarning) are attributed to the line of this file that called fastlin, whatever the call
  path, worker threads included (:func:`fastlin._warn.warn`).
* NaN or infinity in an in-memory X gives scikit-learn 1.9's own ValueError, guidance sentence
  included, although fastlin finds it in the statistics pass instead of a separate scan.
* Errors that print labels or alphas print them as plain Python values (``[100, 200]``), not as
  NumPy 2 scalars (``[np.int64(100), ...]``).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sklearn.linear_model as sklm
from scipy.linalg import LinAlgWarning
from sklearn.exceptions import ConvergenceWarning

import fastlin
from fastlin._warn import user_stacklevel
from fastlin.data.labels import encode_with, format_labels
from fastlin.streaming import fit_chunks


def _collinear(n=40, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    X = np.column_stack([a, 2.0 * a, rng.standard_normal(n)])
    return X, X @ np.array([1.0, 1.0, 1.0]) + 0.1 * rng.standard_normal(n)


def _regression(n=60, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


def _classes(n=60, d=5, seed=0, n_classes=2):
    """The data of :func:`_regression` with the targets cut into ``n_classes`` labels."""
    X, y = _regression(n, d, seed)
    return X, np.digitize(y, np.quantile(y, np.arange(1, n_classes) / n_classes))


def _caught(category, call):
    """Run ``call()`` recording warnings; return those of ``category`` (at least one)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    found = [w for w in record if issubclass(w.category, category)]
    assert found, f"no {category.__name__} among {[str(w.message) for w in record]}"
    return found


# ------------------------------------------------------------------------------ stacklevel


def _fit_chunks_ridge():
    X, y = _collinear()
    fit_chunks(fastlin.Ridge(alpha=0.0), [(X[:20], y[:20]), (X[20:], y[20:])])


def _fit_chunks_lasso():
    X, y = _regression()
    fit_chunks(fastlin.Lasso(alpha=1e-3, max_iter=1), [(X[:30], y[:30]), (X[30:], y[30:])])


def _fit_chunks_logistic():
    X, y = _regression()
    fit_chunks(fastlin.LogisticRegression(max_iter=1), [(X[:30], y[:30] > 0), (X[30:], y[30:] > 0)])


def _one_shot_generator():
    X, y = _regression()
    fit_chunks(fastlin.SGDRegressor(random_state=0), ((X[i:i + 20], y[i:i + 20])
                                                      for i in range(0, 60, 20)), epochs=3)


CASES = {
    "Ridge singular Gram": (LinAlgWarning,
                            lambda: fastlin.Ridge(alpha=0.0).fit(*_collinear())),
    "LinearRegression singular Gram": (LinAlgWarning,
                                       lambda: fastlin.LinearRegression().fit(*_collinear())),
    "LinearRegression dual (D > N)": (LinAlgWarning,
                                      lambda: fastlin.LinearRegression().fit(*_regression(5, 20))),
    "Ridge positive max_iter": (ConvergenceWarning,
                                lambda: fastlin.Ridge(alpha=1e-6, positive=True, max_iter=1)
                                .fit(*_regression())),
    "Lasso max_iter=1": (ConvergenceWarning,
                         lambda: fastlin.Lasso(alpha=1e-3, max_iter=1).fit(*_regression())),
    "ElasticNet alpha=0": (UserWarning,
                           lambda: fastlin.ElasticNet(alpha=0.0).fit(*_regression())),
    "LassoCV max_iter=1": (ConvergenceWarning,
                           lambda: fastlin.LassoCV(max_iter=1, cv=3).fit(*_regression())),
    "RidgeCV singular refit": (LinAlgWarning,
                               lambda: fastlin.RidgeCV(alphas=[0.0], cv=3).fit(*_collinear())),
    "enet_path max_iter=1": (ConvergenceWarning,
                             lambda: fastlin.enet_path(*_regression(), alphas=[1e-3],
                                                       max_iter=1)),
    "fit_chunks Ridge": (LinAlgWarning, _fit_chunks_ridge),
    "fit_chunks Lasso": (ConvergenceWarning, _fit_chunks_lasso),
    "fit_chunks one-shot generator": (UserWarning, _one_shot_generator),
    "fit_chunks LogisticRegression lbfgs": (ConvergenceWarning, _fit_chunks_logistic),
    "Perceptron max_iter=1": (ConvergenceWarning,
                              lambda: fastlin.Perceptron(max_iter=1).fit(*_classes())),
    "SGDRegressor max_iter=1": (ConvergenceWarning,
                                lambda: fastlin.SGDRegressor(max_iter=1).fit(*_regression())),
}


@pytest.mark.parametrize("case", list(CASES))
def test_warning_points_at_the_callers_line(case):
    category, call = CASES[case]
    for w in _caught(category, call):
        assert w.filename == __file__, f"{case}: {category.__name__} attributed to " \
                                       f"{w.filename}:{w.lineno}: {w.message}"


def _diverging(n_jobs=None):
    """squared_hinge under the default 'optimal' schedule: the iterates explode, the 1e12 clip of
    the loss derivative keeps them finite, and a ConvergenceWarning says so."""
    return fastlin.SGDClassifier(loss="squared_hinge", random_state=0, n_jobs=n_jobs)


DIVERGING = {
    "fit": lambda: _diverging().fit(*_classes()),
    "partial_fit": lambda: _diverging().partial_fit(*_classes(), classes=[0, 1]),
    # one-vs-rest problems run in worker threads, where no frame of this file is on the stack
    "fit one-vs-rest in threads": lambda: _diverging(n_jobs=3).fit(*_classes(n_classes=3)),
}


@pytest.mark.parametrize("case", list(DIVERGING))
def test_clipped_derivative_warning_points_at_the_callers_line(case):
    found = [w for w in _caught(ConvergenceWarning, DIVERGING[case])
             if "diverging" in str(w.message)]
    assert found, f"{case}: no warning about the clipped derivative"
    for w in found:
        assert w.filename == __file__, f"{case}: attributed to {w.filename}:{w.lineno}"


def test_user_stacklevel_counts_frames_inside_the_package():
    """Called from outside fastlin, the caller itself is the user's frame: level 1."""
    assert user_stacklevel() == 1


# ------------------------------------------------------------------------------ NaN / inf


def _sklearn_message(est, X, y):
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    return str(info.value)


def _with_nan(n=30, d=4):
    X, y = _regression(n, d)
    X[3, 1] = np.nan
    return X, y


# fastlin estimator, scikit-learn twin, the name scikit-learn's message uses for it
NAN_CASES = {
    "Ridge": (fastlin.Ridge, sklm.Ridge, "Ridge"),
    "LinearRegression": (fastlin.LinearRegression, sklm.LinearRegression, "LinearRegression"),
    "Lasso": (fastlin.Lasso, sklm.Lasso, "Lasso"),
    "ElasticNet": (fastlin.ElasticNet, sklm.ElasticNet, "ElasticNet"),
    "LassoCV": (fastlin.LassoCV, sklm.LassoCV, "LassoCV"),
    "ElasticNetCV": (fastlin.ElasticNetCV, sklm.ElasticNetCV, "ElasticNetCV"),
    # scikit-learn's RidgeCV names its private helper _RidgeGCV; fastlin names RidgeCV
    "RidgeCV": (fastlin.RidgeCV, sklm.RidgeCV, "_RidgeGCV"),
}


@pytest.mark.parametrize("name", list(NAN_CASES))
@pytest.mark.parametrize("shape", [(30, 4), (12, 30)], ids=["primal", "wide"])
def test_nan_message_is_scikit_learns(name, shape):
    ours, theirs, their_name = NAN_CASES[name]
    X, y = _with_nan(*shape)
    expected = _sklearn_message(theirs(), X, y).replace(their_name, name)
    assert "HistGradientBoosting" in expected and "imputer" in expected
    with pytest.raises(ValueError) as info:
        ours().fit(X, y)
    assert str(info.value) == expected


#: the stochastic estimators find NaN in their first kernel pass, through the same pieces
STOCHASTIC_NAN_CASES = {
    "SGDRegressor": (fastlin.SGDRegressor, sklm.SGDRegressor, False),
    "SGDClassifier": (fastlin.SGDClassifier, sklm.SGDClassifier, True),
    "Perceptron": (fastlin.Perceptron, sklm.Perceptron, True),
    "LogisticRegression": (fastlin.LogisticRegression, sklm.LogisticRegression, True),
}


@pytest.mark.parametrize("name", list(STOCHASTIC_NAN_CASES))
def test_nan_message_is_scikit_learns_stochastic(name):
    ours, theirs, classifier = STOCHASTIC_NAN_CASES[name]
    X, y = _with_nan()
    y = y > 0 if classifier else y
    expected = _sklearn_message(theirs(), X, y)
    with pytest.raises(ValueError) as info:
        ours().fit(X, y)
    assert str(info.value) == expected


@pytest.mark.parametrize("est", [fastlin.Ridge(), fastlin.Lasso(), fastlin.RidgeCV(cv=3)],
                         ids=["Ridge", "Lasso", "RidgeCV"])
def test_inf_message_is_scikit_learns(est):
    X, y = _regression(30, 4)
    X[2, 2] = np.inf
    expected = _sklearn_message(sklm.Ridge(), X, y)
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        est.fit(X, y)


def test_nan_in_a_chunk_names_the_chunk():
    """Pieces keep their own message (which chunk, which rows), not scikit-learn's."""
    X, y = _with_nan()
    with pytest.raises(ValueError, match=r"^chunk 0 \(rows 0-14\): X contains NaN"):
        fit_chunks(fastlin.Ridge(), [(X[:15], y[:15]), (X[15:], y[15:])])


# ------------------------------------------------------------------------------ labels


def test_format_labels_prints_plain_values():
    assert format_labels(np.array([100, 200], dtype=np.int64)) == "[100, 200]"
    assert format_labels(np.array(["a", "b"])) == "['a', 'b']"
    assert format_labels(np.array([0.5, 1.5], dtype=np.float32)) == "[0.5, 1.5]"
    assert format_labels(np.arange(12)) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (2 more)]"


def test_encode_with_names_unseen_labels_as_written():
    with pytest.raises(ValueError) as info:
        encode_with(np.array([100, 300, 300, 200]), np.array([100, 200], dtype=np.int64))
    message = str(info.value)
    assert "labels [300] " in message and "classes [100, 200] " in message
    assert "np." not in message


def test_labels_changing_between_passes_are_named():
    """LogisticRegression over chunks: the label pass saw [100, 200], a later pass sees 300."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    passes = []

    def chunks():
        passes.append(1)
        y = np.where(X[:, 0] > 0, 200, 100)
        if len(passes) > 1:
            y[0] = 300
        return [(X[:20], y[:20]), (X[20:], y[20:])]

    with pytest.raises(ValueError) as info:
        fit_chunks(fastlin.LogisticRegression(), chunks)
    message = str(info.value)
    assert "[300]" in message and "[100, 200]" in message and "np." not in message


@pytest.mark.parametrize(("est", "shown"), [
    (fastlin.RidgeCV(alphas=np.array([1.0, -2.0]), cv=3), "alphas[1] = -2.0:"),
    (fastlin.Ridge(alpha=np.array([-1.0])), "got [-1.0]"),
    (fastlin.LassoCV(alphas=np.array([1.0, np.inf]), cv=3), "got [1.0, inf]"),
])
def test_alpha_errors_print_plain_values(est, shown):
    X, y = _regression()
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    assert shown in str(info.value) and "np." not in str(info.value)
