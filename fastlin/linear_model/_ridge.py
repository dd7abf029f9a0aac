"""Closed-form least squares: ``LinearRegression`` and ``Ridge``.

w = (XᵀX + αI)⁻¹ Xᵀy on centred data (the intercept is not penalised, as in scikit-learn), from one
pass over X that accumulates XᵀX and Xᵀy in row blocks (:func:`fastlin.engine.gram.gram`) and a
Cholesky solve of the D×D system (:func:`fastlin.solvers.normal.solve_normal`). When there are more
features than samples the N×N dual system (XXᵀ + αI) a = y is solved instead, w = Xᵀa.
Cost O(D²N + D³) (primal) or O(N²D + N³) (dual); memory O(D²) (or O(N²)) beyond X itself.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import assert_all_finite

from ..data.validation import validate_X_y
from ..engine.gram import gram_piece, merge_all
from ..engine.inputs import as_source
from ..engine.sources import ArraySource
from ..solvers.normal import ridge_alphas, solve_normal
from ._base import predict_rows, record_input

__all__ = ["LinearRegression", "Ridge"]

#: Column-block width for the dual system's passes over X (N x 256 float64 per block).
_DUAL_COLUMN_BLOCK = 256


def _dual_coef(X, Y, sw, x_mean, y_mean, alphas):
    """Solve the dual ridge system for D > N without copying X whole.

    Z = diag(√w)(X − 1 x_meanᵀ) is built one column block at a time: the first walk accumulates
    K = Z Zᵀ (N×N, BLAS syrk), the second forms W = Zᵀ A with A = (K + αI)⁻¹ diag(√w)(Y − ȳ).
    """
    n, d = X.shape
    r = np.sqrt(sw)
    K = np.zeros((n, n), dtype=np.float64, order="F")

    def column_block(j0, j1):
        Xb = X[:, j0:j1]
        Xb = Xb.toarray() if sp.issparse(Xb) else np.asarray(Xb, dtype=np.float64)
        return np.ascontiguousarray((Xb - x_mean[j0:j1]) * r[:, None])

    for j0 in range(0, d, _DUAL_COLUMN_BLOCK):
        Zb = column_block(j0, min(j0 + _DUAL_COLUMN_BLOCK, d))
        K = blas.dsyrk(1.0, Zb, beta=1.0, c=K, trans=0, lower=0, overwrite_c=1)
    K = np.triu(K) + np.triu(K, 1).T
    A, solver = solve_normal(K, (Y - y_mean) * r[:, None], alphas, kind="dual")
    W = np.empty((d, Y.shape[1]), dtype=np.float64)
    for j0 in range(0, d, _DUAL_COLUMN_BLOCK):
        j1 = min(j0 + _DUAL_COLUMN_BLOCK, d)
        W[j0:j1] = column_block(j0, j1).T @ A
    return W, solver


def _fit_dual(X, Y, sw, alphas, fit_intercept):
    """The N×N system for D > N, in memory: X has fewer entries than the D×D Gram, so its
    explicit finiteness pass is cheap here. Returns ``(W, x_mean, y_mean, solver)``."""
    n, d = X.shape
    assert_all_finite(X.data if sp.issparse(X) else X, input_name="X")
    w = np.ones(n) if sw is None else sw
    if fit_intercept:
        wsum = float(w.sum())
        x_mean = np.asarray(safe_sparse_dot(w, X, dense_output=True), dtype=np.float64).ravel() / wsum
        y_mean = (w @ Y) / wsum
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(Y.shape[1])
    W, solver = _dual_coef(X, Y, w, x_mean, y_mean, alphas)
    return W, x_mean, y_mean, solver


class _ClosedFormRegressor(RegressorMixin, BaseEstimator):
    """Shared fit/predict of the closed-form least-squares estimators."""

    #: Checked by ``_validate_params`` at the start of ``fit`` (scikit-learn's InvalidParameterError).
    _parameter_constraints: dict = {"fit_intercept": ["boolean"]}

    def _alpha(self):
        return 0.0

    def _validate(self, X, y):
        # X's finiteness is checked on the Gram statistics (see fastlin.engine.gram.gram_piece).
        X, y = validate_X_y(self, X, y, multi_output=True, y_numeric=True, ensure_all_finite=False)
        return X, y.astype(np.float64, copy=False)

    def fit(self, X, y, sample_weight=None):
        """Fit the model from one pass over X.

        Parameters
        ----------
        X : {ndarray, np.memmap, sparse matrix, dask array} of shape (n_samples, n_features)
            float32 or float64 arrays (C or F order, read-only, memmap) are used without a copy.
            Dask arrays are reduced block by block on the workers.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or ndarray of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._validate_params()  # a per-target alpha array is checked by ridge_alphas below
        alpha = self._alpha()
        source = as_source(X, y, sample_weight, self._validate)
        piece = source.piece if isinstance(source, ArraySource) else None
        if piece is not None and piece.X.shape[1] > piece.X.shape[0]:
            Y = piece.y.reshape(piece.X.shape[0], -1)
            W, x_mean, y_mean, solver = _fit_dual(piece.X, Y, piece.sample_weight,
                                                  ridge_alphas(alpha, Y.shape[1]),
                                                  self.fit_intercept)
            return self._set_solution(W, x_mean, y_mean, solver, source, piece.y.ndim)
        stats = source.for_target(numeric=True).map_reduce(gram_piece, merge_all,
                                                           bool(self.fit_intercept))
        if stats is None:
            raise ValueError("The data contain no samples: nothing to fit.")
        if stats.weight_sum <= 0:
            raise ValueError("sample_weight is zero for every sample: nothing to fit.")
        W, solver = solve_normal(stats.xtx, stats.xty, ridge_alphas(alpha, stats.xty.shape[1]))
        return self._set_solution(W, stats.x_mean, stats.y_mean, solver, source, source.y_ndim)

    def _set_solution(self, W, x_mean, y_mean, solver, source, y_ndim):
        """Store coef_/intercept_ in scikit-learn's shapes from the (D, T) solution ``W``."""
        if not np.all(np.isfinite(W)):
            raise ValueError(
                "The solve produced non-finite coefficients; the data are too large or too "
                "ill-conditioned for float64 normal equations (scale the features)."
            )
        intercept = (y_mean - x_mean @ W) if self.fit_intercept else np.zeros(W.shape[1])
        coef = W.T
        if y_ndim == 1:
            coef = coef[0]
            intercept = float(intercept[0]) if self.fit_intercept else 0.0
        dtype = source.dtype
        record_input(self, source)
        self.coef_ = coef.astype(dtype, copy=False)
        self.intercept_ = intercept if np.isscalar(intercept) else intercept.astype(dtype, copy=False)
        self.solver_ = solver
        return self

    def _predict(self, X):
        coef = self.coef_.astype(X.dtype, copy=False)
        return safe_sparse_dot(X, coef.T, dense_output=True) + self.intercept_

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array gives a lazy dask array, computed block by block.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return predict_rows(self, X, "predict", self._predict)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class LinearRegression(_ClosedFormRegressor):
    """Ordinary least squares from the normal equations, solved by Cholesky.

    Minimises Σᵢ wᵢ (yᵢ − xᵢᵀw − b)². When XᵀX is singular (collinear or constant columns, or
    more features than samples) the minimum-norm solution is returned, a ``LinAlgWarning`` says
    why, and ``solver_`` records it.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept by centring X and y.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Same dtype as X (float32 stays float32).
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str
        "cholesky", "eigh" (minimum norm), "cholesky_dual" or "eigh_dual" (N×N system, D > N).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names (pandas).

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import LinearRegression
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = X @ np.array([2.0, -1.0]) + 0.5
    >>> reg = LinearRegression().fit(X, y)
    >>> np.round(reg.coef_, 6).tolist(), round(reg.intercept_, 6), reg.solver_
    ([2.0, -1.0], 0.5, 'cholesky')
    """

    def __init__(self, *, fit_intercept=True):
        self.fit_intercept = fit_intercept


class Ridge(_ClosedFormRegressor):
    """Least squares with an L2 penalty, w = (XᵀX + αI)⁻¹ Xᵀy on centred data.

    Minimises Σᵢ wᵢ (yᵢ − xᵢᵀw − b)² + α‖w‖² (scikit-learn's convention: α is not scaled by the
    number of samples and the intercept b is not penalised).

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Non-negative regularisation strength; one value per target is allowed.
    fit_intercept : bool, default=True

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str
        "cholesky", "eigh", "cholesky_dual" or "eigh_dual".
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> y = X @ np.array([1.0, 2.0, 3.0])
    >>> Ridge(alpha=1e-8).fit(X, y).coef_.round(6).tolist()
    [1.0, 2.0, 3.0]
    """

    _parameter_constraints: dict = {
        **_ClosedFormRegressor._parameter_constraints,
        # [0, inf) rejects NaN and inf, as scikit-learn's Ridge does
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def _alpha(self):
        return self.alpha
