"""Closed-form least squares: ``LinearRegression`` and ``Ridge``.

w = (XᵀX + αI)⁻¹ Xᵀy on centred data (the intercept is not penalised, as in scikit-learn), from one
pass over X that accumulates XᵀX and Xᵀy in row blocks (:func:`fastlin.engine.gram.gram`) and a
Cholesky solve of the D×D system (:func:`fastlin.solvers.normal.solve_normal`). When there are more
features than samples the N×N dual system (XXᵀ + αI) a = y is solved instead, w = Xᵀa.
Cost O(D²N + D³) (primal) or O(N²D + N³) (dual); memory O(D²) (or O(N²)) beyond X itself.

``positive=True`` solves non-negative least squares on the same D×D statistics
(:func:`fastlin.solvers.normal.solve_nnls`), so it too works on every source with one pass over X;
it always uses the primal system (the dual trick w = Xᵀa does not survive the constraint).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import assert_all_finite

from ..engine.gram import gram_piece, merge_all
from ..engine.inputs import as_source
from ..engine.sources import ArraySource
from ..solvers.normal import RCOND_MIN, ridge_alphas, solve_nnls, solve_normal
from ._base import LinearRegressorMixin, record_input

__all__ = ["LinearRegression", "Ridge"]

#: scikit-learn 1.9's ``Ridge(solver=...)`` values. Every one of them computes the same minimiser
#: (exactly, or iteratively to ``tol``), so all run fastlin's exact closed form and ``solver_``
#: records what ran; only the combinations scikit-learn itself rejects raise (``positive=True``
#: needs "auto" or "lbfgs", "lbfgs" needs ``positive=True``).
_SKLEARN_RIDGE_SOLVERS = {"auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga", "lbfgs"}

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


def _fit_dual(X, Y, sw, alphas, fit_intercept, name=None):
    """The N×N system for D > N, in memory: X has fewer entries than the D×D Gram, so its
    explicit finiteness pass is cheap here (scikit-learn's message, naming the estimator
    ``name``). Returns ``(W, x_mean, y_mean, solver)``."""
    n, d = X.shape
    assert_all_finite(X.data if sp.issparse(X) else X, input_name="X", estimator_name=name)
    w = np.ones(n) if sw is None else sw
    if fit_intercept:
        wsum = float(w.sum())
        x_mean = np.asarray(safe_sparse_dot(w, X, dense_output=True), dtype=np.float64).ravel() / wsum
        y_mean = (w @ Y) / wsum
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(Y.shape[1])
    W, solver = _dual_coef(X, Y, w, x_mean, y_mean, alphas)
    return W, x_mean, y_mean, solver


class _ClosedFormRegressor(LinearRegressorMixin, RegressorMixin, BaseEstimator):
    """Shared fit/predict of the closed-form least-squares estimators."""

    #: Checked by ``_validate_params`` at the start of ``fit`` (scikit-learn's InvalidParameterError).
    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "copy_X": ["boolean"],
        "positive": ["boolean"],
    }

    #: y of shape (n, 1) gives coef_ of shape (n_features,) (scikit-learn's Ridge) instead of
    #: (1, n_features) (scikit-learn's LinearRegression).
    _ravel_single_target = False

    #: scikit-learn's Ridge has ``n_iter_``, LinearRegression not. scikit-learn sets it to None for
    #: its direct solvers, but its own common check (check_non_transformer_estimators_n_iter, which
    #: scikit-learn's Ridge fails and skips) wants >= 1 from any estimator with ``max_iter``: the
    #: closed form reports 1 (one direct solve per target).
    _has_n_iter = False

    def _alpha(self):
        return 0.0

    def _rcond_min(self):
        return RCOND_MIN

    def _nnls_max_iter(self):
        return None

    def _check_solver(self):
        """Raise for a parameter combination fastlin does not run (Ridge's ``solver``)."""

    def fit(self, X, y, sample_weight=None):
        """Fit the model from one pass over X.

        Parameters
        ----------
        X : {ndarray, np.memmap, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. float32 or float64 arrays (C or F order, read-only, memmap) are used
            without a copy. Dask arrays are reduced block by block on the workers.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : float or ndarray of shape (n_samples,), default=None
            Weight of each sample; a float gives every sample that weight, None weight 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()  # a per-target alpha array is checked by ridge_alphas below
        self._check_solver()
        alpha = self._alpha()
        source = as_source(X, y, sample_weight, self._validate)
        piece = source.piece if isinstance(source, ArraySource) else None
        if not self.positive and piece is not None and piece.X.shape[1] > piece.X.shape[0]:
            Y = piece.y.reshape(piece.X.shape[0], -1)
            W, x_mean, y_mean, solver = _fit_dual(piece.X, Y, piece.sample_weight,
                                                  ridge_alphas(alpha, Y.shape[1]),
                                                  self.fit_intercept, type(self).__name__)
            return self._set_solution(W, x_mean, y_mean, solver, source, piece.y.ndim)
        stats = source.for_target(numeric=True).map_reduce(gram_piece, merge_all,
                                                           bool(self.fit_intercept))
        if stats is None:
            raise ValueError("The data contain no samples: nothing to fit.")
        if stats.weight_sum <= 0:
            raise ValueError("sample_weight is zero for every sample: nothing to fit.")
        alphas = ridge_alphas(alpha, stats.xty.shape[1])
        n_iter = None
        if self.positive:
            W, solver, n_iter = solve_nnls(stats.xtx, stats.xty, alphas,
                                           max_iter=self._nnls_max_iter())
        else:
            W, solver = solve_normal(stats.xtx, stats.xty, alphas, rcond_min=self._rcond_min())
        return self._set_solution(W, stats.x_mean, stats.y_mean, solver, source, source.y_ndim,
                                  n_iter)

    def _set_solution(self, W, x_mean, y_mean, solver, source, y_ndim, n_iter=None):
        """Store coef_/intercept_ in scikit-learn's shapes and types from the (D, T) solution ``W``.

        As scikit-learn 1.9: ``intercept_`` is a NumPy scalar of X's dtype for 1-D y, an array of
        shape (n_targets,) for 2-D y, and the Python float 0.0 without an intercept.
        """
        if not np.all(np.isfinite(W)):
            raise ValueError(
                "The solve produced non-finite coefficients; the data are too large or too "
                "ill-conditioned for float64 normal equations (scale the features)."
            )
        dtype = source.dtype
        coef = W.T.astype(dtype, copy=False)
        intercept = (y_mean - x_mean @ W).astype(dtype, copy=False) if self.fit_intercept else None
        if y_ndim == 1 or (coef.shape[0] == 1 and self._ravel_single_target):
            coef = coef[0]
        if y_ndim == 1 and intercept is not None:
            intercept = intercept[0]  # a NumPy scalar of X's dtype
        record_input(self, source)
        self.coef_ = np.ascontiguousarray(coef)
        self.intercept_ = 0.0 if intercept is None else intercept
        self.solver_ = solver
        if self._has_n_iter:  # None: one direct solve per target
            self.n_iter_ = np.ones(W.shape[1], dtype=np.int64) if n_iter is None else n_iter
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


_COPY_X = """
    copy_X : bool, default=True
        Accepted for scikit-learn compatibility. fastlin never copies X (it reads X in row blocks
        to form XᵀX and Xᵀy, and centres on the statistics), so True and False behave alike."""

_POSITIVE = """
    positive : bool, default=False
        Constrain the coefficients to be non-negative (the intercept stays free). Solved exactly
        by an active-set non-negative least squares on the same Gram statistics (Lawson–Hanson,
        :func:`fastlin.solvers.normal.solve_nnls`), so arrays, memmaps, sparse matrices, chunks
        and Dask arrays all work with one pass over X; coefficients at the bound are exact zeros
        and ``solver_`` is "nnls". It always solves the D×D system, also when D > N."""


class LinearRegression(_ClosedFormRegressor):
    __doc__ = """Ordinary least squares from the normal equations, solved by Cholesky.

    Minimises Σᵢ wᵢ (yᵢ − xᵢᵀw − b)². When XᵀX is singular (collinear or constant columns, or
    more features than samples) the minimum-norm solution is returned, a ``LinAlgWarning`` says
    why, and ``solver_`` records it.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept by centring X and y.""" + _COPY_X + """
    tol : float, default=1e-6
        Singular values of the centred, weighted X below ``tol × σmax`` count as zero, as
        scikit-learn's ``cond`` for LAPACK ``lstsq``: Cholesky of XᵀX is trusted while its
        estimated reciprocal condition number is at least ``tol²`` (1e-12 by default), otherwise
        the minimum-norm solution drops the eigenvalues of XᵀX below ``tol² × λmax``.
        Unused by ``positive=True``, whose active set is exact up to rounding.
    n_jobs : int or None, default=None
        Accepted for scikit-learn compatibility and unused: the work is BLAS (``syrk``/``gemm``
        per row block, LAPACK on the D×D system), whose threads are set with threadpoolctl
        (``threadpool_limits``) or ``OPENBLAS_NUM_THREADS``.""" + _POSITIVE + """

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Same dtype as X (float32 stays float32); (1, n_features) for y of shape (n_samples, 1),
        as scikit-learn's LinearRegression.
    intercept_ : NumPy scalar of X's dtype, ndarray of shape (n_targets,), or 0.0
        A scalar for 1-D y, an array for 2-D y, the float 0.0 when ``fit_intercept=False``.
    solver_ : str
        "cholesky", "eigh" (minimum norm), "cholesky_dual" or "eigh_dual" (N×N system, D > N),
        or "nnls" (``positive=True``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``; only when X has string column names
        (pandas).

    See Also
    --------
    Ridge : Least squares with an L2 penalty, from the same statistics.
    Lasso : Least squares with an L1 penalty.
    SGDRegressor : Least squares (and other losses) by stochastic gradient descent.
    fastlin.fit_chunks : Fit from data given as pieces, one piece in memory at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import LinearRegression
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = X @ np.array([2.0, -1.0]) + 0.5
    >>> reg = LinearRegression().fit(X, y)
    >>> np.round(reg.coef_, 6).tolist(), round(float(reg.intercept_), 6), reg.solver_
    ([2.0, -1.0], 0.5, 'cholesky')
    >>> LinearRegression(positive=True).fit(X, y).coef_.round(6).tolist()
    [2.0, 0.0]
    """

    _parameter_constraints: dict = {
        **_ClosedFormRegressor._parameter_constraints,
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [None, Integral],
    }

    def __init__(self, *, fit_intercept=True, copy_X=True, tol=1e-6, n_jobs=None,
                 positive=False):
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.tol = tol
        self.n_jobs = n_jobs
        self.positive = positive

    def _rcond_min(self):
        return float(self.tol) ** 2


class Ridge(_ClosedFormRegressor):
    __doc__ = """Least squares with an L2 penalty, w = (XᵀX + αI)⁻¹ Xᵀy on centred data.

    Minimises Σᵢ wᵢ (yᵢ − xᵢᵀw − b)² + α‖w‖² (scikit-learn's convention: α is not scaled by the
    number of samples and the intercept b is not penalised).

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Non-negative regularisation strength; one value per target is allowed.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept by centring X and y.""" + _COPY_X + """
    max_iter : int or None, default=None
        Unused by the closed form. With ``positive=True``: the cap on active-set steps per target
        (None: 3 × n_features); reaching it raises a ``ConvergenceWarning``.
    tol : float, default=1e-4
        Unused: the closed form and the active set are exact up to rounding (scikit-learn uses it
        to stop its iterative solvers).
    solver : {"auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga", "lbfgs"}, \
default="auto"
        Every value runs the closed form (Cholesky with a condition estimate, the minimum-norm
        ``eigh`` fallback, the N×N dual when D > N), recorded in ``solver_``. Reason: each of
        scikit-learn's solvers computes this same minimiser (exactly, or iteratively to
        ``tol``), so a scikit-learn Ridge's parameters give the same model here, also from
        chunks and Dask (``fit_chunks`` advises exactly that). As in scikit-learn, combinations
        it rejects raise a ``ValueError``: ``positive=True`` needs "auto" or "lbfgs" (both then
        run fastlin's exact active set), and "lbfgs" needs ``positive=True``.""" + _POSITIVE + """
    random_state : int, RandomState instance or None, default=None
        Unused (scikit-learn uses it for "sag"/"saga" only); accepted for compatibility.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        (n_features,) also for y of shape (n_samples, 1), as scikit-learn's Ridge.
    intercept_ : NumPy scalar of X's dtype, ndarray of shape (n_targets,), or 0.0
        A scalar for 1-D y, an array for 2-D y, the float 0.0 when ``fit_intercept=False``.
    solver_ : str
        "cholesky", "eigh", "cholesky_dual", "eigh_dual" or "nnls" (``positive=True``).
    n_iter_ : ndarray of shape (n_targets,)
        Active-set iterations per target with ``positive=True`` (entering steps + 1); 1 for the
        closed form (one direct solve; scikit-learn gives None there, which its own common check
        ``check_non_transformer_estimators_n_iter`` rejects).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``; only when X has string column names
        (pandas).

    See Also
    --------
    RidgeCV : Ridge with alpha chosen by cross-validation, from the same statistics.
    LinearRegression : Least squares without a penalty.
    ElasticNet : Least squares with combined L1 and L2 penalties.
    SGDRegressor : Ridge-penalised least squares by stochastic gradient descent.
    fastlin.fit_chunks : Fit from data given as pieces, one piece in memory at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import Ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> y = X @ np.array([1.0, 2.0, 3.0])
    >>> Ridge(alpha=1e-8).fit(X, y).coef_.round(6).tolist()
    [1.0, 2.0, 3.0]
    >>> Ridge(alpha=1e-8, positive=True).fit(X, -y).coef_.tolist()
    [0.0, 0.0, 0.0]
    """

    _parameter_constraints: dict = {
        **_ClosedFormRegressor._parameter_constraints,
        # [0, inf) rejects NaN and inf, as scikit-learn's Ridge does
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(_SKLEARN_RIDGE_SOLVERS)],
        "random_state": ["random_state"],
    }

    _ravel_single_target = True
    _has_n_iter = True

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True, max_iter=None, tol=1e-4,
                 solver="auto", positive=False, random_state=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def _alpha(self):
        return self.alpha

    def _nnls_max_iter(self):
        return self.max_iter

    def _check_solver(self):
        solver = self.solver
        if self.positive and solver not in ("auto", "lbfgs"):
            raise ValueError(
                f"solver={solver!r} does not support positive=True (as in scikit-learn); "
                "fastlin solves positive=True with its active-set non-negative least "
                "squares: use solver='auto' (or 'lbfgs')."
            )
        if not self.positive and solver == "lbfgs":
            raise ValueError("solver='lbfgs' can be used only when positive=True (as in "
                             "scikit-learn); use solver='auto' or 'cholesky'.")
