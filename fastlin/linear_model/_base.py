"""What the linear classifiers share: decision values, labels, and predictions on Dask arrays."""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ..data import is_dask_collection, validate_X

__all__ = ["LinearClassifierMixin"]


class LinearClassifierMixin:
    """``decision_function`` and ``predict`` from ``coef_``, ``intercept_`` and ``classes_``.

    Every prediction method of the estimator also accepts a dask array: it returns a lazy dask array
    computed block by block on the workers (:func:`fastlin._dask.map_rows`).
    """

    def _dask_rows(self, X, method):
        from .._dask import map_rows

        return map_rows(self, X, method)

    def decision_function(self, X):
        """Signed distance to the hyperplane(s), ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
            Positive values favour ``classes_[1]`` (two classes) / class k (column k).
        """
        check_is_fitted(self, "coef_")
        if is_dask_collection(X):
            return self._dask_rows(X, "decision_function")
        X = validate_X(self, X, reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        if is_dask_collection(X):
            check_is_fitted(self, "coef_")
            return self._dask_rows(X, "predict")
        scores = self.decision_function(X)
        idx = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]
