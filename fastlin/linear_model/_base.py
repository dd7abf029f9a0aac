"""What the estimators share: the input attributes of a fit from any source, the linear
classifiers' decision values, labels, and predictions on Dask arrays, and
``sparsify``/``densify``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ..data.validation import is_dask_collection, validate_X, validate_X_y
from ..engine.dask import map_rows
from ..engine.sources import ArraySource

__all__ = ["LinearRegressorMixin", "LinearClassifierMixin", "SparseCoefMixin", "record_input", "predict_rows"]


def record_input(est, source):
    """``n_features_in_`` / ``feature_names_in_`` after a fit from a source.

    In-memory arrays got them from scikit-learn's validation; chunks and Dask blocks get them here
    (a stale ``feature_names_in_`` from an earlier fit is dropped).
    """
    if isinstance(source, ArraySource):
        return
    est.__dict__.pop("feature_names_in_", None)
    est.n_features_in_ = int(source.n_features)
    if source.feature_names is not None:
        est.feature_names_in_ = source.feature_names


def predict_rows(est, X, method, compute):
    """``compute(X)`` on validated in-memory X, or a lazy Dask array of ``est.<method>`` per block."""
    check_is_fitted(est, "coef_")
    if is_dask_collection(X):
        return map_rows(est, X, method)
    return compute(validate_X(est, X, reset=False))


class SparseCoefMixin:
    """``sparsify()`` / ``densify()``: store ``coef_`` as a CSR matrix and back.

    Prediction reads ``coef_`` through ``safe_sparse_dot``, so a sparse ``coef_`` gives the same
    predictions; fitting needs a dense one (call ``densify`` before ``partial_fit`` or a warm
    start).
    """

    def densify(self):
        """Convert ``coef_`` back to a dense ndarray (a no-op when it is dense).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_is_fitted(self, "coef_",
                        msg="Estimator, %(name)s, must be fitted before densifying.")
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self

    def sparsify(self):
        """Convert ``coef_`` to a CSR matrix (``intercept_`` stays dense).

        Worth it when most coefficients are zero (L1 or elastic-net penalties): CSR costs 12 bytes
        per non-zero (value + int32 index) against 8 per coefficient dense (float64), so it saves
        memory only below about 2/3 non-zeros. A 2-D ``coef_`` (classifiers) becomes a
        ``csr_matrix`` as in scikit-learn, or a ``csr_array`` under
        ``sklearn.set_config(sparse_interface="sparray")``. A 1-D ``coef_`` (SGDRegressor) always
        becomes a 1-D ``csr_array``: SciPy's ``csr_matrix`` is 2-D only, and the 1-D one
        scikit-learn makes cannot multiply a dense X. Predicting on a ``csr_matrix`` X with a
        sparse 1-D ``coef_`` fails inside SciPy (it does in scikit-learn too): pass a dense X or
        a ``csr_array``, or ``densify()`` first.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_is_fitted(self, "coef_",
                        msg="Estimator, %(name)s, must be fitted before sparsifying.")
        coef = sp.csr_array(self.coef_)
        if coef.ndim == 2 and get_config().get("sparse_interface", "spmatrix") == "spmatrix":
            coef = sp.csr_matrix(coef)
        self.coef_ = coef
        return self


class LinearClassifierMixin(SparseCoefMixin):
    """``decision_function`` and ``predict`` from ``coef_``, ``intercept_`` and ``classes_``.

    Every prediction method of the estimator also accepts a dask array: it returns a lazy dask array
    computed block by block on the workers (:func:`fastlin.engine.dask.map_rows`).
    """

    def _decision(self, X):
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def decision_function(self, X):
        """Signed distance to the hyperplane(s), ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. A dask array gives a lazy dask array, computed block by block.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
            Positive values favour ``classes_[1]`` (two classes) / class k (column k).
        """
        return predict_rows(self, X, "decision_function", self._decision)

    def _labels(self, X):
        scores = self._decision(X)
        idx = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. A dask array gives a lazy dask array, computed block by block.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of each sample, from ``classes_``: the one with the largest decision
            value (``classes_[1]`` when the single decision value is positive).
        """
        return predict_rows(self, X, "predict", self._labels)


class LinearRegressorMixin:
    """What the statistics regressors share: in-memory validation for the Gram pass, and
    ``predict`` as ``X @ coef_.T + intercept_`` (a lazy dask array for dask input)."""

    def _validate(self, X, y):
        # X's finiteness is checked on the Gram statistics (see fastlin.engine.gram.gram_piece).
        X, y = validate_X_y(self, X, y, multi_output=True, y_numeric=True, ensure_all_finite=False)
        return X, y.astype(np.float64, copy=False)

    def _predict(self, X):
        coef = self.coef_.astype(X.dtype, copy=False)
        return safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            Samples. A dask array gives a lazy dask array, computed block by block.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values, ``X @ coef_.T + intercept_``.
        """
        return predict_rows(self, X, "predict", self._predict)
