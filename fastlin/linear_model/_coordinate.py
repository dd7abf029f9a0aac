"""Lasso and elastic net by coordinate descent on the Gram statistics.

``Lasso``, ``ElasticNet``, ``enet_path``/``lasso_path``, ``LassoCV`` and ``ElasticNetCV`` minimise
scikit-learn's objective

    (1 / 2n_w) Σᵢ sᵢ (yᵢ − xᵢᵀβ − b)² + α ρ ‖β‖₁ + ½ α (1 − ρ) ‖β‖²      (n_w = Σ sᵢ, ρ = l1_ratio)

from the centred statistics XᵀX, Xᵀy, yᵀy of ONE pass over the source (arrays, memmaps, CSR, chunks,
Dask; :func:`fastlin.engine.gram.gram_piece`), then coordinate descent on the D×D Gram
(:mod:`fastlin.solvers.cd`, :mod:`fastlin.kernels.cd`). The cross-validated estimators take one
pass too: per-fold statistics (:mod:`fastlin.engine.folds`), each fold's training Gram being the
total minus the fold, its validation error computed from the fold's statistics.

Whatever ``precompute`` says, the Gram is used; it costs 8·D² bytes per copy, so before any D×D
array is allocated the need is estimated and compared with the memory available, and a fit that
would not fit raises ``ValueError`` instead (use ``SGDRegressor(penalty="elasticnet")`` then).
With D > N the Gram route still gives the right answer (the kernel handles a singular Gram) but
costs N·D² to build where scikit-learn's X-based sweeps would cost O(N) per update.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import KFold
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_X_y

from .._warn import warn
from ..data.layout import available_memory
from ..engine.gram import gram_piece, merge_all
from ..engine.inputs import as_source
from ..engine.sources import ArraySource, Source
from ..solvers.cd import alpha_grid, check_alphas, enet_gram_path, path_seed
from ._base import LinearRegressorMixin, record_input

__all__ = ["Lasso", "ElasticNet", "LassoCV", "ElasticNetCV", "enet_path", "lasso_path"]

#: D×D float64 arrays alive at the peak of one Gram pass: the accumulator, ``np.triu`` and its
#: transpose in ``finalize_stats``, and the symmetric result (4, counted in engine/gram.py).
_GRAM_COPIES = 4
#: Refuse when the estimate exceeds this share of the available memory: the rest is for X's
#: blocks, the kernel and the other engineers on a shared 24 GiB machine.
_MEMORY_SHARE = 0.8




def check_gram_memory(n_features, n_grams=1):
    """Raise ValueError when ``n_grams`` D×D float64 statistics would not fit in memory.

    Parameters
    ----------
    n_features : int
    n_grams : int
        Gram matrices held at once (1 for a fit, n_folds + 2 for cross-validation).
    """
    need = 8.0 * n_features * n_features * (n_grams + _GRAM_COPIES - 1)
    avail = available_memory()
    if avail is not None and need > _MEMORY_SHARE * avail:
        raise ValueError(
            f"The Gram route needs about {need / 2**30:.1f} GiB ({n_grams} x {n_features}x"
            f"{n_features} float64 plus {_GRAM_COPIES - 1} working copies) but only "
            f"{avail / 2**30:.1f} GiB are available: reduce the number of features or use "
            "SGDRegressor(penalty='elasticnet'), which needs no D x D matrix.")


def _gram_piece_checked(piece, center):
    """:func:`gram_piece` after the memory estimate for this piece's width."""
    check_gram_memory(piece.X.shape[1])
    return gram_piece(piece, center)


def _statistics(source, fit_intercept):
    """Centred Gram statistics of the whole source (one pass), checked for emptiness."""
    stats = source.for_target(numeric=True).map_reduce(_gram_piece_checked, merge_all,
                                                       bool(fit_intercept))
    if stats is None:
        raise ValueError("The data contain no samples: nothing to fit.")
    if stats.weight_sum <= 0:
        raise ValueError("sample_weight is zero for every sample: nothing to fit.")
    return stats


def _check_precompute(precompute):
    if not isinstance(precompute, (bool, np.bool_, str)) and precompute is not None:
        raise ValueError("precompute: a user-supplied Gram matrix is not supported; fastlin "
                         "computes the Gram itself in one pass over X (pass True/False/'auto').")


def _check_l1_ratio(l1_ratio):
    r = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64)).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any((r < 0) | (r > 1)):
        raise ValueError(f"l1_ratio must be a number (or list) in [0, 1], got {r.tolist()}.")
    return r


def _seed(est):
    return path_seed(check_random_state(est.random_state))


def _intercepts(stats, coefs, fit_intercept):
    """b = ȳ − x̄ᵀβ per column of ``coefs`` (D, K) for one target (0 without intercept)."""
    if not fit_intercept:
        return np.zeros(coefs.shape[1])
    return stats.y_mean[0] - stats.x_mean @ coefs


class _CoordinateBase(LinearRegressorMixin, RegressorMixin, BaseEstimator):
    """Validation, prediction and tags shared by the coordinate-descent estimators."""

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy.sparse CSR matrix of shape (1 or n_targets, n_features)."""
        return sp.csr_matrix(np.atleast_2d(self.coef_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def _store(self, coef, intercept, source, y_ndim):
        """coef_ (T, D) / intercept_ (T,) in scikit-learn's shapes and X's dtype."""
        record_input(self, source)
        dtype = source.dtype if source.dtype is not None else np.float64
        if y_ndim == 1:
            self.coef_ = coef[0].astype(dtype, copy=False)
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = coef.astype(dtype, copy=False)
            self.intercept_ = intercept.astype(dtype, copy=False)


def _solve_targets(est, stats, alpha, l1_ratio, coef_init):
    """One elastic-net fit per target column of ``stats`` at ``alpha``.

    Returns ``coef (T, D), intercept (T,), gaps (T,), n_iters (list of T)``.
    """
    t = stats.xty.shape[1]
    coef = np.zeros((t, stats.xtx.shape[0]))
    gaps, n_iters = np.zeros(t), []
    seed = _seed(est)
    for k in range(t):
        init = None if coef_init is None else coef_init[k]
        c, g, it = enet_gram_path(stats.xtx, stats.xty[:, k], stats.yty[k], stats.weight_sum,
                                  np.array([alpha]), l1_ratio, tol=est.tol, max_iter=est.max_iter,
                                  positive=est.positive, random=est.selection == "random",
                                  seed=seed, coef_init=init)
        coef[k], gaps[k] = c[:, 0], g[0]
        n_iters.append(it[0])
    intercept = (stats.y_mean - coef @ stats.x_mean) if est.fit_intercept else np.zeros(t)
    return coef, intercept, gaps, n_iters



#: numpydoc entries of the coordinate-descent estimators' parameters and attributes, joined in
#: each class's own order by :func:`_doc_entries` (numpydoc checks that order).
_DOC = {
    "alpha": """alpha : float, default=1.0
        Constant that multiplies the penalty terms; 0 is ordinary least squares (a warning then
        advises LinearRegression).""",
    "l1_ratio": """l1_ratio : float in [0, 1], default=0.5
        The elastic-net mix ρ: 1 is the L1 penalty alone (Lasso), 0 the L2 penalty alone.""",
    "l1_ratio_cv": """l1_ratio : float or array-like of shape (n_l1_ratio,), default=0.5
        The values of ρ tried, each in [0, 1]; the automatic alpha grid needs them all > 0.""",
    "fit_intercept": """fit_intercept : bool, default=True
        Fit an (unpenalised) intercept by centring X and y.""",
    "precompute": """precompute : bool or 'auto', default=False
        Accepted for compatibility; the Gram is always computed (a user Gram array is
        refused).""",
    "precompute_cv": """precompute : 'auto' or bool, default='auto'
        Accepted for compatibility; the Gram is always computed (a user Gram array is
        refused).""",
    "max_iter": """max_iter : int, default=1000
        Maximum coordinate-descent epochs per target.""",
    "max_iter_cv": """max_iter : int, default=1000
        Maximum coordinate-descent epochs per alpha of each path.""",
    "copy_X": """copy_X : bool, default=True
        Accepted for compatibility; X is never modified nor copied.""",
    "tol": """tol : float, default=1e-4
        Stop once the duality gap is <= tol · ‖y − ȳ‖²_w (scikit-learn's rule).""",
    "warm_start": """warm_start : bool, default=False
        Start from the previous ``coef_`` when its shape matches the new problem.""",
    "positive": """positive : bool, default=False
        Constrain the coefficients to be non-negative.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seed of ``selection="random"`` (the same seed gives bit-identical coefficients);
        unused by "cyclic".""",
    "selection": """selection : {"cyclic", "random"}, default="cyclic"
        Order of the coordinate updates: the features in turn, or a random feature at each
        update.""",
    "eps": """eps : float, default=1e-3
        The ratio alpha_min / alpha_max of the automatic alpha grid.""",
    "alphas": """alphas : int or array-like, default=100
        Grid size (scikit-learn's geometric grid from alpha_max, where every coefficient is
        zero, down to eps · alpha_max) or the alphas themselves.""",
    "cv": """cv : int, splitter or iterable, default=None
        None is 5 folds (scikit-learn's ``KFold(5)``), an int K is ``KFold(K)``; the test
        folds must partition the rows (see :func:`fastlin.engine.folds.fold_assigner`).""",
    "verbose": """verbose : bool or int, default=False
        Accepted for compatibility and unused: nothing is printed.""",
    "verbose_0": """verbose : bool or int, default=0
        Accepted for compatibility and unused: nothing is printed.""",
    "n_jobs": """n_jobs : int or None, default=None
        Accepted for compatibility and unused: the folds' statistics come from one pass over
        X, then each fold costs O(D²) per coordinate-descent epoch, one fold after the
        other.""",
    # attributes
    "coef_": """coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, of X's dtype.""",
    "intercept_": """intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).""",
    "dual_gap_": """dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap of the objective at the end of the fit.""",
    "n_iter_": """n_iter_ : int or list of int
        Coordinate-descent epochs run (one count per target for 2-D y).""",
    "sparse_coef_": """sparse_coef_ : scipy.sparse.csr_matrix of shape (1 or n_targets, n_features)
        ``coef_`` as a CSR matrix.""",
    "n_features_in_": """n_features_in_ : int
        Number of features seen during ``fit``.""",
    "feature_names_in_": """feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``; only when X has string column names
        (pandas).""",
    "alpha_": """alpha_ : float
        The alpha chosen by cross-validation (lowest mean validation error).""",
    "l1_ratio_": """l1_ratio_ : float
        The l1_ratio chosen with ``alpha_``.""",
    "alphas_": """alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The alphas tried (one grid per l1_ratio when the grid is automatic).""",
    "mse_path_": """mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, \
n_folds)
        Validation mean squared error of every alpha on every fold.""",
    "dual_gap_cv": """dual_gap_ : float
        Duality gap of the final fit with ``alpha_``.""",
    "n_iter_cv": """n_iter_ : int
        Coordinate-descent epochs of the final fit with ``alpha_``.""",
}


def _doc_entries(*names):
    """The numpydoc entries ``names`` of :data:`_DOC`, indented for a class docstring."""
    return "".join("\n    " + _DOC[name] for name in names)


_ENET_ATTRIBUTES = _doc_entries("coef_", "intercept_", "dual_gap_", "n_iter_", "sparse_coef_",
                                "n_features_in_", "feature_names_in_")
_CV_ATTRIBUTES = ("coef_", "intercept_", "dual_gap_cv", "n_iter_cv", "sparse_coef_",
                  "n_features_in_", "feature_names_in_")


class ElasticNet(_CoordinateBase):
    __doc__ = """Linear regression with L1 and L2 penalties, by coordinate descent on the Gram.

    Minimises (1 / 2n_w) Σᵢ sᵢ (yᵢ − xᵢᵀβ − b)² + α·l1_ratio‖β‖₁ + ½α(1 − l1_ratio)‖β‖² (n_w = Σ sᵢ,
    scikit-learn's objective; its sample-weight normalisation gives the same minimiser). One pass
    over X gives the centred Gram; coordinate descent with covariance updates runs on it.

    Parameters
    ----------""" + _doc_entries("alpha", "l1_ratio", "fit_intercept", "precompute", "max_iter",
                                 "copy_X", "tol", "warm_start", "positive", "random_state",
                                 "selection") + """

    Attributes
    ----------""" + _ENET_ATTRIBUTES + """

    See Also
    --------
    Lasso : The L1 penalty alone (``l1_ratio=1``).
    ElasticNetCV : Elastic net with alpha and l1_ratio chosen by cross-validation.
    enet_path : The coefficients along a grid of alphas.
    SGDRegressor : The elastic-net penalty by stochastic gradient descent (no D×D matrix).

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = 2.0 * X[:, 0]
    >>> ElasticNet(alpha=0.01, l1_ratio=0.5).fit(X, y).coef_.round(3).tolist()
    [1.988, 0.0]
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "precompute": ["boolean", StrOptions({"auto"}), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "copy_X": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
    }

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y, sample_weight=None):
        """Fit by coordinate descent on the statistics of one pass over X.

        Parameters
        ----------
        X : {ndarray, np.memmap, sparse matrix, dask array, Source} of shape \
(n_samples, n_features)
            Training data. A :class:`~fastlin.engine.sources.ChunkSource` (with ``y=None``)
            fits chunks.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets), or None
            Target values; None when X is a source, which carries its own.
        sample_weight : float or ndarray of shape (n_samples,), default=None
            Weight of each sample; a float gives every sample that weight, None weight 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        _check_precompute(self.precompute)
        if self.max_iter is None:
            raise ValueError("max_iter=None is not supported by coordinate descent: pass an int.")
        if self.alpha == 0:
            warn("With alpha=0, this algorithm does not converge well. You are advised to use "
                 "the LinearRegression estimator", UserWarning)
        source = as_source(X, y, sample_weight, self._validate)
        stats = _statistics(source, self.fit_intercept)
        y_ndim = source.y_ndim
        init = None
        if self.warm_start and hasattr(self, "coef_"):
            init = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
            if init.shape != (stats.xty.shape[1], stats.xtx.shape[0]):
                init = None
        coef, intercept, gaps, n_iters = _solve_targets(self, stats, self.alpha,
                                                        float(self.l1_ratio), init)
        self._store(coef, intercept, source, y_ndim)
        self.dual_gap_ = float(gaps[0]) if y_ndim == 1 else gaps
        self.n_iter_ = n_iters[0] if y_ndim == 1 else n_iters
        return self


class Lasso(ElasticNet):
    __doc__ = """Linear regression with an L1 penalty: :class:`ElasticNet` with ``l1_ratio=1``.

    Minimises (1 / 2n_w) Σᵢ sᵢ (yᵢ − xᵢᵀβ − b)² + α‖β‖₁, scikit-learn's objective, by coordinate
    descent on the centred Gram statistics of one pass over X.

    Parameters
    ----------""" + _doc_entries("alpha", "fit_intercept", "precompute", "copy_X", "max_iter",
                                 "tol", "warm_start", "positive", "random_state",
                                 "selection") + """

    Attributes
    ----------""" + _ENET_ATTRIBUTES + """

    See Also
    --------
    ElasticNet : Combined L1 and L2 penalties.
    LassoCV : Lasso with alpha chosen by cross-validation, from one pass over X.
    lasso_path : The coefficients along a grid of alphas.
    SGDRegressor : The L1 penalty by stochastic gradient descent (no D×D matrix).

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import Lasso
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> Lasso(alpha=0.1).fit(X, 2.0 * X[:, 0]).coef_.round(3).tolist()
    [1.92, 0.0]
    """

    _parameter_constraints: dict = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False, random_state=None,
                 selection="cyclic"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive, random_state=random_state,
                         selection=selection)


def _path_source(X, y, sample_weight):
    """The source of a path function's (X, y): validated in-memory arrays, Dask, or a Source."""
    if isinstance(X, Source):
        return as_source(X, y, sample_weight, None)

    def validate(X, y):
        X, y = check_X_y(X, y, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
                         ensure_all_finite=False, y_numeric=True, multi_output=True)
        return X, y.astype(np.float64, copy=False)

    return as_source(X, y, sample_weight, validate)


_PATH_X = """
    X : {ndarray, sparse matrix, dask array, Source} of shape (n_samples, n_features)
        Training data, used as given (no centring).
    y : ndarray of shape (n_samples,), or None
        Target values, one target (scikit-learn's 2-D ``y`` means the multi-task penalty, not
        supported here); None when X is a source, which carries its own."""

_PATH_REST = """
    eps : float, default=1e-3
        The ratio alpha_min / alpha_max of the automatic grid.
    alphas : int or array-like, default=100
        Number of alphas of the automatic grid, or the alphas (solved from the largest down).
    coef_init : ndarray of shape (n_features,), default=None
        Start of the first alpha's coordinate descent (None: zeros).
    return_n_iter : bool, default=False
        Also return the coordinate-descent epochs of every alpha.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each sample (None: weight 1).
    tol : float, default=1e-4
        Stop an alpha once its duality gap is <= tol · ‖y‖²_w.
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per alpha.
    random_state : int, RandomState instance or None, default=None
        Seed of ``selection="random"`` (the same seed gives bit-identical coefficients).
    selection : {"cyclic", "random"}, default="cyclic"
        Order of the coordinate updates: the features in turn, or a random feature at each
        update.
    strong_rules : bool, default=False
        Start each alpha's sweeps from the sequential strong set (speed only: the solutions
        are the same)."""

_PATH_RETURNS = """
    alphas : ndarray of shape (n_alphas,)
        The alphas of the path, decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        The coefficients at every alpha.
    dual_gaps : ndarray of shape (n_alphas,)
        The duality gap at the end of every alpha's coordinate descent.
    n_iters : list of int
        Coordinate-descent epochs of every alpha; only with ``return_n_iter=True``."""


def _path_doc(func):
    """Fill the ``{X}``, ``{rest}`` and ``{returns}`` slots of a path function's docstring."""
    func.__doc__ = (func.__doc__.replace("{X}", _PATH_X).replace("{rest}", _PATH_REST)
                    .replace("{returns}", _PATH_RETURNS))
    return func


@_path_doc
def enet_path(X, y=None, *, l1_ratio=0.5, eps=1e-3, alphas=100, coef_init=None,
              return_n_iter=False, positive=False, sample_weight=None, tol=1e-4, max_iter=1000,
              random_state=None, selection="cyclic", strong_rules=False):
    """Elastic-net path by coordinate descent on the Gram (scikit-learn's ``enet_path``).

    Like scikit-learn's, X and y are used as given (no centring, no intercept); the objective is
    (1 / 2n_w) ‖y − Xβ‖²_w + α·l1_ratio‖β‖₁ + ½α(1 − l1_ratio)‖β‖². One pass over X gives the
    Gram; the alphas are then solved from the largest down, each starting from the previous
    one's coefficients.

    Parameters
    ----------{X}
    l1_ratio : float in [0, 1], default=0.5
        The elastic-net mix ρ: 1 is the L1 penalty alone (:func:`lasso_path`), 0 the L2 penalty
        alone (then ``alphas`` must be given: the automatic grid needs l1_ratio > 0).{rest}

    Returns
    -------{returns}

    See Also
    --------
    lasso_path : The path with ``l1_ratio=1``.
    ElasticNet : One alpha, with an intercept.
    ElasticNetCV : The alpha (and l1_ratio) chosen by cross-validation.
    """
    ratio = _check_l1_ratio(l1_ratio)
    if ratio.size != 1:
        raise ValueError(f"l1_ratio must be one number in [0, 1], got {ratio.tolist()}.")
    ratio = float(ratio[0])
    grid = _grid_request(alphas, eps)
    if selection not in ("cyclic", "random"):
        raise ValueError(f"selection must be 'cyclic' or 'random', got {selection!r}.")
    source = _path_source(X, y, sample_weight)
    if isinstance(source, ArraySource) and np.ndim(source.piece.y) == 2:
        if source.piece.y.shape[1] != 1:
            raise ValueError("enet_path fits one target: a 2-D y is the multi-task problem "
                             f"(got y of shape {source.piece.y.shape}); positive=True is not "
                             "defined for it either.")
    stats = _statistics(source, False)
    if stats.xty.shape[1] != 1:
        raise ValueError("enet_path fits one target: got several.")
    if isinstance(grid, int):
        grid = alpha_grid(stats.xty, stats.weight_sum, ratio, eps, grid, positive)
    coefs, gaps, n_iters = enet_gram_path(
        stats.xtx, stats.xty[:, 0], stats.yty[0], stats.weight_sum, grid, ratio, tol=tol,
        max_iter=max_iter, positive=positive, random=selection == "random",
        seed=path_seed(check_random_state(random_state)), coef_init=coef_init,
        strong_rules=strong_rules)
    if return_n_iter:
        return grid, coefs, gaps, n_iters
    return grid, coefs, gaps


@_path_doc
def lasso_path(X, y=None, *, eps=1e-3, alphas=100, coef_init=None, return_n_iter=False,
               positive=False, sample_weight=None, tol=1e-4, max_iter=1000, random_state=None,
               selection="cyclic", strong_rules=False):
    """Lasso path by coordinate descent on the Gram (scikit-learn's ``lasso_path``).

    :func:`enet_path` with ``l1_ratio=1``: X and y are used as given (no centring, no
    intercept); the objective is (1 / 2n_w) ‖y − Xβ‖²_w + α‖β‖₁.

    Parameters
    ----------{X}{rest}

    Returns
    -------{returns}

    See Also
    --------
    enet_path : The elastic-net path.
    Lasso : One alpha, with an intercept.
    LassoCV : The alpha chosen by cross-validation.
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, alphas=alphas, coef_init=coef_init,
                     return_n_iter=return_n_iter, positive=positive, sample_weight=sample_weight,
                     tol=tol, max_iter=max_iter, random_state=random_state, selection=selection,
                     strong_rules=strong_rules)


def _grid_request(alphas, eps):
    """An int (grid size, >= 1) or the checked, decreasing user alphas."""
    if isinstance(alphas, Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas as a count must be >= 1, got {alphas}.")
        if not (isinstance(eps, Real) and eps > 0):
            raise ValueError(f"eps must be > 0, got {eps!r}.")
        return int(alphas)
    return check_alphas(alphas)


class _CheckedAssign:
    """A fold assigner that first checks the memory of ``n_grams`` Grams of the piece's width
    (module level: Dask ships it to the workers by pickling)."""

    def __init__(self, assign, n_grams):
        self.assign, self.n_grams, self.n_folds = assign, n_grams, assign.n_folds

    def __call__(self, piece):
        check_gram_memory(piece.X.shape[1], self.n_grams)
        return self.assign(piece)


def _n_samples(source):
    """Rows of the whole data when known without a pass (arrays, Dask, a list of chunks)."""
    if isinstance(source, ArraySource):
        return int(source.piece.X.shape[0])
    X = getattr(source, "X", None)  # DaskSource
    if X is not None and np.isfinite(X.shape[0]):
        return int(X.shape[0])
    seq = getattr(source, "sequence", None)  # ChunkSource over a list: shapes only, no data read
    if seq is not None:
        try:
            return int(sum(np.shape(chunk[0])[0] for chunk in seq))
        except (TypeError, IndexError):
            return None
    return None


class _CoordinateCV(_CoordinateBase):
    """Shared fit of LassoCV and ElasticNetCV: one pass for every fold's statistics."""

    _parameter_constraints: dict = {
        "eps": [Interval(Real, 0, None, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "precompute": [StrOptions({"auto"}), "array-like", "boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "copy_X": ["boolean"],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "positive": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
    }

    def _ratios(self):
        return np.array([1.0])

    def _validate(self, X, y):
        X, y = super()._validate(X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            warn("A column-vector y was passed when a 1d array was expected. Please change the "
                 "shape of y to (n_samples, ), for example using ravel().", DataConversionWarning)
            y = y.ravel()
        elif y.ndim == 2:
            raise ValueError(f"For multi-task outputs, use MultiTask{type(self).__name__} "
                             f"(y has shape {y.shape}).")
        return X, y

    def _fold_stats(self, source):
        """``(FoldStats, n_folds)`` from one pass over the source."""
        from ..engine.folds import fold_assigner, fold_statistics

        piece = source.piece if isinstance(source, ArraySource) else None
        cv = 5 if self.cv is None else self.cv
        if isinstance(cv, KFold) and not cv.shuffle:
            # The same contiguous folds from the count alone: the splitter route checks that its
            # index arrays partition the rows (np.unique per split), 6 of the 9 s measured for
            # LassoCV(cv=KFold(5)) on 1 000 000 x 100, against 1 s for the Gram pass.
            cv = cv.n_splits
        assign = fold_assigner(cv, n_samples=_n_samples(source),
                               y=None if piece is None else piece.y,
                               X=None if piece is None else piece.X)
        checked = _CheckedAssign(assign, assign.n_folds + 2)
        fs = fold_statistics(source.for_target(numeric=True), checked, assign.n_folds,
                             bool(self.fit_intercept))
        if fs.total.xty.shape[1] != 1:
            raise ValueError(f"For multi-task outputs, use MultiTask{type(self).__name__}.")
        return fs, assign.n_folds

    def _fold_mse(self, fs, k, grid, ratio, seed):
        """Validation MSE of fold k along ``grid`` (one path on the fold's training stats)."""
        from ..engine.folds import training_stats, validation_sse

        st = training_stats(fs, k)
        coefs, _, _ = enet_gram_path(st.xtx, st.xty[:, 0], st.yty[0], st.weight_sum, grid, ratio,
                                     tol=self.tol, max_iter=self.max_iter,
                                     positive=self.positive, random=self.selection == "random",
                                     seed=seed)
        b = _intercepts(st, coefs, self.fit_intercept)
        val = fs.folds[k]
        sse = validation_sse(val, coefs.T[:, :, None], b[:, None])[:, 0]
        return sse / val.weight_sum

    def fit(self, X, y, sample_weight=None):
        """Fit the paths of every fold from one pass, choose alpha (and l1_ratio), refit.

        Parameters
        ----------
        X : {ndarray, np.memmap, sparse matrix, dask array, Source} of shape \
(n_samples, n_features)
            Training data. A :class:`~fastlin.engine.sources.ChunkSource` (with ``y=None``)
            fits chunks.
        y : ndarray of shape (n_samples,), or None
            Target values; None when X is a source, which carries its own.
        sample_weight : float or ndarray of shape (n_samples,), default=None
            Weight of each sample; a float gives every sample that weight, None weight 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        _check_precompute(self.precompute)
        ratios = self._ratios()
        grid = _grid_request(self.alphas, self.eps)
        if isinstance(grid, int) and np.any(ratios == 0):
            raise ValueError("Automatic alpha grid generation is not supported for l1_ratio=0: "
                             "pass a list of alphas.")
        source = as_source(X, y, sample_weight, self._validate)
        fs, n_folds = self._fold_stats(source)
        tot = fs.total
        grids = [alpha_grid(tot.xty, tot.weight_sum, r, self.eps, grid, self.positive)
                 if isinstance(grid, int) else grid for r in ratios]
        seed = _seed(self)
        mse = np.array([[self._fold_mse(fs, k, g, float(r), seed) for k in range(n_folds)]
                        for r, g in zip(ratios, grids)])  # (n_l1, n_folds, n_alphas)
        mean = mse.mean(axis=1)
        best = (np.inf, None, None)
        for r, g, m in zip(ratios, grids, mean):
            i = int(np.argmin(m))
            if m[i] < best[0]:
                best = (m[i], float(g[i]), float(r))
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1))
        self.alpha_, self.l1_ratio_ = best[1], best[2]
        self.alphas_ = np.asarray(grids)[0] if len(ratios) == 1 or not isinstance(grid, int) \
            else np.asarray(grids)
        coef, intercept, gaps, n_iters = _solve_targets(self, tot, self.alpha_, self.l1_ratio_,
                                                        None)
        self._store(coef, intercept, source, 1)
        self.dual_gap_, self.n_iter_ = float(gaps[0]), n_iters[0]
        return self


class LassoCV(_CoordinateCV):
    __doc__ = """Lasso with the alpha chosen by K-fold cross-validation, from ONE pass over X.

    The pass accumulates every fold's centred Gram statistics; fold k's path runs on the whole
    minus fold k, and its validation error is a quadratic form in fold k's statistics. The best
    alpha is refitted on the whole statistics (no second pass).

    Parameters
    ----------""" + _doc_entries("eps", "alphas", "fit_intercept", "precompute_cv", "max_iter_cv",
                                 "tol", "copy_X", "cv", "verbose", "n_jobs", "positive",
                                 "random_state", "selection") + """

    Attributes
    ----------""" + _doc_entries("alpha_", "alphas_", "mse_path_", *_CV_ATTRIBUTES) + """

    See Also
    --------
    Lasso : Lasso with a given alpha.
    ElasticNetCV : Alpha and l1_ratio chosen by cross-validation.
    RidgeCV : Ridge regression with alpha chosen by cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> y = X @ np.array([1.0, 0.0, 2.0, 0.0, 3.0]) + 0.1 * rng.standard_normal(200)
    >>> reg = LassoCV(cv=5).fit(X, y)
    >>> reg.mse_path_.shape, bool(reg.alpha_ < 0.1)
    ((100, 5), True)
    """

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 positive=False, random_state=None, selection="cyclic"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.copy_X = copy_X
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y, sample_weight=None):
        """Fit the path of every fold from one pass, choose alpha, refit on all the data.

        Parameters
        ----------
        X : {ndarray, np.memmap, sparse matrix, dask array, Source} of shape \
(n_samples, n_features)
            Training data. A :class:`~fastlin.engine.sources.ChunkSource` (with ``y=None``)
            fits chunks.
        y : ndarray of shape (n_samples,), or None
            Target values; None when X is a source, which carries its own.
        sample_weight : float or ndarray of shape (n_samples,), default=None
            Weight of each sample; a float gives every sample that weight, None weight 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        super().fit(X, y, sample_weight)
        del self.l1_ratio_  # scikit-learn's LassoCV has no l1_ratio_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags


class ElasticNetCV(_CoordinateCV):
    __doc__ = """Elastic net with alpha and l1_ratio chosen by K-fold cross-validation, one pass.

    As :class:`LassoCV`, for every l1_ratio: one pass over X gives every fold's statistics, each
    (l1_ratio, fold) pair runs one path on them, and the best pair is refitted on the whole
    statistics.

    Parameters
    ----------""" + _doc_entries("l1_ratio_cv", "eps", "alphas", "fit_intercept",
                                 "precompute_cv", "max_iter_cv", "tol", "cv", "copy_X",
                                 "verbose_0", "n_jobs", "positive", "random_state",
                                 "selection") + """

    Attributes
    ----------""" + _doc_entries("alpha_", "l1_ratio_", "alphas_", "mse_path_",
                                 *_CV_ATTRIBUTES) + """

    See Also
    --------
    ElasticNet : Elastic net with given alpha and l1_ratio.
    LassoCV : The L1 penalty alone, alpha chosen by cross-validation.
    enet_path : The coefficients along a grid of alphas.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> y = X @ np.array([1.0, 0.0, 2.0, 0.0, 3.0]) + 0.1 * rng.standard_normal(200)
    >>> reg = ElasticNetCV(l1_ratio=[0.5, 1.0], cv=5).fit(X, y)
    >>> reg.mse_path_.shape, reg.alphas_.shape, reg.l1_ratio_ in (0.5, 1.0)
    ((2, 100, 5), (2, 100), True)
    """

    _parameter_constraints: dict = {
        **_CoordinateCV._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True, verbose=0,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _ratios(self):
        return _check_l1_ratio(self.l1_ratio)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags
