"""``LogisticRegression``: binary and multinomial, exact (L-BFGS, FISTA) and stochastic solvers.

The objective is scikit-learn's, in its "mean" form (scikit-learn 1.9, ``_logistic_regression_path``
with ``l2_reg_strength = 1 / (C * sum(sw))``)::

    objective(W, b) = 1 / S * [ sum_i sw_i * l(y_i, W x_i + b) + R(W) / C ],    S = sum_i sw_i

with ``sw`` the sample weights times the class weights,
``R(W) = (1 - l1_ratio) / 2 ||W||_F^2 + l1_ratio ||W||_1`` (``C=np.inf``: no penalty), and the
intercept ``b`` unpenalized. It is ``C * sum_i sw_i l_i + R(W)`` (the form in scikit-learn's
documentation) divided by ``C * S``, so both have the same minimizer; the mean form keeps the
gradient's scale independent of ``n_samples``, which is what the tolerances (``gtol = tol``) are
tuned for — with the same objective, the same optimizer and the same options, fastlin stops where
scikit-learn stops.

Parameters follow scikit-learn 1.9: ``penalty`` is deprecated in favour of ``l1_ratio`` and ``C``
(an explicit ``penalty`` gives scikit-learn's FutureWarning and still works, as in 1.7 code);
``dual``, ``intercept_scaling``, ``n_jobs`` are accepted (see the class docstring for what each
does here).

Solvers:

* ``"lbfgs"``: scipy's L-BFGS-B (:func:`fastlin.solvers.lbfgs.minimize_lbfgs`) on the objective
  of :class:`fastlin.solvers.lbfgs.LogisticObjective`, whose sums come from one pass of the fused
  kernel over every piece of the source (:mod:`fastlin.engine.logistic`): one in-memory array,
  chunks, or Dask blocks on the workers — one code path. ``l1_ratio=0`` or no penalty only.
* ``"newton-cg"``: trust-region Newton-CG (Lin, Weng & Keerthi 2008;
  :func:`fastlin.solvers.newton.minimize_trust_ncg`) on the same objective: ``f``, ``g`` (and
  the rows' curvature) and Hessian-vector products from :mod:`fastlin.kernels.newton`; it stops
  when ``||g|| <= tol ||g(0)||`` (Euclidean norms, ``g(0)`` the gradient at zero coefficients).
  In-memory X only (the per-row curvature is kept between CG steps); ``l1_ratio=0`` or no penalty.
* ``"proximal"`` (and ``"saga"``, mapped to it): FISTA with backtracking and adaptive restart
  (:func:`fastlin.solvers.proximal.minimize_fista`) on the same map-reduce objective plus the L1
  term, so L1 and elastic-net run on arrays, chunks and Dask alike and reach the optimum (exact
  zeros, KKT violation <= tol).
* ``"sgd"``, ``"minibatch"``: SAGA (:func:`fastlin.solvers.stochastic.minimize_saga`, kernel
  :mod:`fastlin.kernels.saga`), one row or ``batch_size`` rows per step, binary or multinomial,
  dense or CSR (just-in-time updates of the features a sparse row does not store), any
  ``l1_ratio`` through its proximal map (exact zeros). Variance-reduced, so a constant step
  converges linearly to this objective's optimum; it stops on the same gradient test as lbfgs.
* ``"gd"``: proximal gradient descent on the map-reduce objective, Barzilai-Borwein steps with
  backtracking (:func:`fastlin.solvers.stochastic.minimize_gd`), any number of classes and
  ``l1_ratio``. The stochastic solvers and ``"gd"`` run on in-memory X only.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from threadpoolctl import threadpool_limits

from .._threads import limit_threads
from .._warn import warn
from ..data.labels import class_weights, merge_label_summaries
from ..data.pieces import check_finite_X
from ..data.validation import validate_X_y
from ..engine.inputs import as_source
from ..engine.logistic import (add_sums, label_pass, logistic_curvature_pass,
                               logistic_hessp_sums, logistic_line_sums, logistic_piece,
                               logistic_step_moved, logistic_step_scaled, logistic_sums,
                               logistic_sums_curvature, logistic_trial_sums, newton_state)
from ..engine.sources import ArraySource
from ..solvers.lbfgs import LogisticObjective, minimize_lbfgs
from ..solvers.newton import LogisticHessian, minimize_trust_ncg
from ..solvers.proximal import minimize_fista
from ..solvers.stochastic import intercept_scale, minimize_gd, minimize_saga
from ._base import LinearClassifierMixin, predict_rows, record_input

__all__ = ["LogisticRegression"]

#: Solvers fastlin implements; "saga" is an alias of "proximal" (both reach the optimum of the
#: same objective, and "saga" is scikit-learn's only solver for elastic-net and multinomial L1, so
#: code written for scikit-learn keeps working and gets the same model).
_SOLVERS = ("lbfgs", "newton-cg", "proximal", "saga", "sgd", "minibatch", "gd")
_STOCHASTIC_SOLVERS = ("sgd", "minibatch", "gd")
#: Map-reduce solvers: they run on chunks and Dask arrays, and detect NaN/inf in their first pass.
_EXACT_SOLVERS = ("lbfgs", "proximal")
#: Solvers whose first objective evaluation doubles as X's NaN/inf check (_CheckedObjective).
_CHECKED_SOLVERS = _EXACT_SOLVERS + ("newton-cg",)
#: Solvers of the smooth objective only (no L1 term).
_SMOOTH_SOLVERS = ("lbfgs", "newton-cg")
#: scikit-learn 1.9 solvers fastlin does not implement, and what to use instead.
_SKLEARN_ONLY_SOLVERS = {
    "liblinear": "it penalizes the intercept (intercept_scaling) and solves another objective; "
                 "solver='lbfgs' (l1_ratio=0) or 'proximal' (l1_ratio > 0) fit scikit-learn's "
                 "objective without that",
    "newton-cholesky": "it minimizes the same objective as solver='lbfgs'; use 'lbfgs'",
    "sag": "it minimizes the same objective as solver='lbfgs'; use 'lbfgs' (or 'sgd' for a "
           "stochastic fit)",
}

#: Power iterations for the largest eigenvalue of the weighted Gram matrix (step size of "gd"):
#: at most 30, stopped when the estimate moves by < 1e-3 relative (5-10 iterations on typical data).
_POWER_ITERATIONS = 30

#: SAGA's step is 1 / (factor (L + mu n)), factor 2: Defazio et al. 2014, Theorem 1. Measured on
#: standardized breast cancer / digits / 200 000 x 100 Gaussian: the step 1 / (3 L) of their
#: non-strongly-convex result needed 1.3-3x the epochs.
_SAGA_STEP_FACTOR = 2.0
#: Rows are drawn by smoothness when that makes SAGA's step at least this many times larger.
#: Measured (epochs to a 1e-3 gap): benchmark CSR, gain 1.5: 68 -> 42 epochs (1.72 -> 1.26 s);
#: 200 000 x 100 Gaussian, gain 1.36: 7 -> 8 epochs (0.63 -> 0.85 s). Hence 1.4.
_IMPORTANCE_MIN_GAIN = 1.4


class _CheckedObjective:
    """The objective whose first evaluation doubles as X's NaN/inf check.

    A non-finite x_ij makes the loss or the gradient non-finite (0 * inf = NaN at theta = 0), so X
    is scanned (piece by piece, naming the bad one) only when that happens, instead of a separate
    pass over X on every fit (13 ms of a 160 MB array, ~5 % of a 200 000 x 100 fit).
    """

    def __init__(self, objective, source):
        self.objective, self.source, self.checked = objective, source, False

    def __call__(self, theta):
        f, g = self.objective(theta)
        if not self.checked:
            self.checked = True
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                self.source.map_reduce(check_finite_X, lambda *parts: None)  # raises, naming it
                raise ValueError("The logistic loss overflowed at the initial coefficients: the "
                                 "features are too large; scale them (e.g. StandardScaler).")
        return f, g


#: Dense X with at most this many features: the top eigenvalue from the (D+1)^2 weighted Gram
#: (one BLAS-3 pass in row blocks, then LAPACK) instead of power iteration, whose 2 x 30 gemv
#: passes on clustered spectra cost 0.2-0.3 s on 40 000 x 100, more than the whole SAGA fit.
_GRAM_MAX_FEATURES = 1024
#: Rows per block of that pass (4096 x 1024 float64: 32 MiB at most).
_GRAM_BLOCK_ROWS = 4096


def _top_eigenvalue(X, sw, ones, rng):
    """Largest eigenvalue of ``sum_i sw_i x~_i x~_i^T / n`` (x~ = [x, ones]; ``ones = 0``: no
    intercept column, ``c``: the column scaled to ``c``, never a scaled copy of X).

    ``D <= _GRAM_MAX_FEATURES`` (dense or CSR): exact, from the weighted Gram; wider X: power
    iteration.
    """
    # One BLAS thread: right after a parallel fused-kernel fit, BLAS threads waiting on cores held
    # by Numba's spinning workers took this from 0.1 s to 4-7 s (200 000 x 100, 2 cores); the
    # same contention minimize_lbfgs avoids the same way.
    with threadpool_limits(1, user_api="blas"):
        if X.shape[1] <= _GRAM_MAX_FEATURES:  # dense and CSR alike: the same step for both
            return _gram_top_eigenvalue(X, sw, ones)
        return _power_top_eigenvalue(X, sw, ones, rng)


def _gram_top_eigenvalue(X, sw, ones):
    """``lambda_max(sum_i sw_i x~_i x~_i^T / n)`` from the Gram, accumulated in row blocks."""
    n, d = X.shape
    G = np.zeros((d + 1, d + 1))
    if sp.issparse(X):
        G[:d, :d] = (X.T @ sp.diags(sw) @ X).toarray()
        G[:d, d] = ones * np.asarray(X.T @ sw).ravel()
        G[d, d] = ones * ones * sw.sum()
    else:
        for lo in range(0, n, _GRAM_BLOCK_ROWS):
            B = np.asarray(X[lo:lo + _GRAM_BLOCK_ROWS], dtype=np.float64)
            w = sw[lo:lo + _GRAM_BLOCK_ROWS]
            WB = B * w[:, None]
            G[:d, :d] += B.T @ WB
            G[:d, d] += ones * WB.sum(axis=0)
            G[d, d] += ones * ones * w.sum()
    G[d, :d] = G[:d, d]
    if not ones:
        G = G[:d, :d]
    return float(np.linalg.eigvalsh(G / n)[-1])


def _power_top_eigenvalue(X, sw, ones, rng):
    """The same by power iteration, two BLAS passes over X per iteration; the returned value is
    the Rayleigh quotient of the last iterate times 1.01 (a lower bound of the top eigenvalue that
    converges from below; the 1 % margin keeps the step 1/L on the safe side when stopped early).
    """
    n, d = X.shape
    fit_intercept = bool(ones)
    v = rng.standard_normal(d + int(fit_intercept))
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(_POWER_ITERATIONS):
        z = np.asarray(safe_sparse_dot(X, v[:d]), dtype=np.float64).ravel()
        if fit_intercept:
            z += ones * v[d]
        z *= sw
        u = np.asarray(safe_sparse_dot(X.T, z), dtype=np.float64).ravel() / n
        if fit_intercept:
            u = np.append(u, ones * z.sum() / n)
        new = float(v @ u)
        norm = np.linalg.norm(u)
        if norm == 0.0:
            return 0.0
        v = u / norm
        if abs(new - lam) <= 1e-3 * new:
            lam = new
            break
        lam = new
    return 1.01 * lam



class LogisticRegression(LinearClassifierMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression (binary, or multinomial softmax over all classes).

    Minimizes ``1/S [sum_i sw_i l_i + R(W)/C]`` (``S = sum(sw)``), the same minimizer as
    scikit-learn's ``C sum_i sw_i l_i + R(W)``, with
    ``R(W) = (1 - l1_ratio)/2 ||W||^2 + l1_ratio ||W||_1``; the intercept is not penalized.
    Every parameter of scikit-learn 1.9's ``LogisticRegression`` is accepted, plus ``batch_size``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default="deprecated"
        Deprecated in scikit-learn 1.8, as here: setting it warns (FutureWarning) and then means
        ``l1_ratio=0``, ``1``, ``l1_ratio`` or ``C=np.inf`` respectively (``None`` with a
        non-default ``C`` also warns that ``C`` is ignored, as in scikit-learn).
    C : float, default=1.0
        Inverse regularization strength, in (0, inf]; ``C=np.inf`` means no penalty.
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing: 0 is L2, 1 is L1. ``l1_ratio > 0`` needs ``solver="proximal"``
        (``"saga"``) or a stochastic solver. ``None`` is deprecated (FutureWarning) and means 0.
    dual : bool, default=False
        Only ``False``: ``True`` is liblinear's dual formulation, which fastlin does not have
        (ValueError, as scikit-learn raises for every solver but liblinear).
    tol : float, default=1e-4
        Stop when the largest entry of the (minimum-norm sub)gradient of the objective is <= tol:
        scipy's ``gtol`` for ``"lbfgs"`` (as scikit-learn), the KKT violation for ``"proximal"``.
        The same test for "sgd"/"minibatch" (SAGA's gradient estimate after each epoch, confirmed
        by one exact pass) and "gd". ``"newton-cg"``: stop when the Euclidean norm of the
        gradient is <= tol times its norm at zero coefficients (liblinear's relative rule).
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        Accepted and ignored, as by every scikit-learn solver but liblinear (the only one that
        penalizes the intercept and so needs the scale of its synthetic feature).
    class_weight : dict or "balanced", default=None
        Multiplies the sample weights, as in scikit-learn (``"balanced"``: ``S / (K * S_k)``).
    random_state : int, RandomState instance or None, default=None
        Row order of "sgd"/"minibatch"; the same seed gives bit-identical coefficients.
    solver : {"lbfgs", "newton-cg", "proximal", "saga", "sgd", "minibatch", "gd"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B on the fused loss+gradient kernel (``l1_ratio=0``).
        ``"newton-cg"``: trust-region Newton-CG (Lin, Weng & Keerthi 2008) with Hessian-vector
        products, ``l1_ratio=0``, in-memory X only; few passes over X once near the optimum, so
        it pays for tight tolerances and ill-conditioned (e.g. sparse text) problems.
        ``"proximal"``: FISTA with backtracking and adaptive restart, any ``l1_ratio``, exact
        zeros; ``"saga"`` is mapped to it (same objective, same optimum). ``"sgd"``: SAGA with
        one row per step; ``"minibatch"``: SAGA with ``batch_size`` rows per step; ``"gd"``:
        proximal gradient descent (Barzilai-Borwein steps, backtracking). All of them minimize
        the same objective, for any number of classes. scikit-learn's ``"liblinear"``,
        ``"newton-cholesky"`` and ``"sag"`` raise a ValueError naming the fastlin solver to use.
    max_iter : int, default=100
        Iterations (L-BFGS, proximal steps, trust-region Newton steps) or epochs; ``n_iter_``
        never exceeds it.
    verbose : int, default=0
        > 0 prints the objective per iteration/epoch.
    warm_start : bool, default=False
        Start from the previous ``coef_``/``intercept_`` when their shapes match.
    n_jobs : int, default=None
        Threads of the fused kernel (``None``: unchanged, ``-1``: all cores). scikit-learn 1.8
        deprecated its ``n_jobs`` (no effect there, FutureWarning); here it has an effect and
        does not warn.
    batch_size : int, default=256
        Rows per step of ``solver="minibatch"`` (ignored by the other solvers).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        (1, n_features) for two classes (the positive class is ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,), int32
        Iterations or epochs run, at most ``max_iter`` (``"newton-cg"``: outer trust-region
        iterations, accepted or not; its inner CG steps are not counted).
    objective_ : float
        Final training objective, in the mean form above (comparable across solvers).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.
    """

    #: Per-parameter rules, checked by scikit-learn's ``_validate_params`` (InvalidParameterError);
    #: the cross-parameter rules are :meth:`_check_penalty_solver`. As in scikit-learn, C=inf
    #: (no penalty) is allowed and NaN is rejected by every interval.
    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None,
                    Hidden(StrOptions({"deprecated"}))],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "dual": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(_SOLVERS) | set(_SKLEARN_ONLY_SOLVERS))],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "n_jobs": [None, Integral],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, dual=False, tol=1e-4,
                 fit_intercept=True, intercept_scaling=1, class_weight=None, random_state=None,
                 solver="lbfgs", max_iter=100, verbose=0, warm_start=False, n_jobs=None,
                 batch_size=256):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.batch_size = batch_size

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        """All parameter checks (also called by fastlin.streaming and fastlin._dask)."""
        self._validate_params()
        self._check_penalty_solver()

    @property
    def _solver(self):
        """The solver that runs: ``"saga"`` is the proximal solver."""
        return "proximal" if self.solver == "saga" else self.solver

    def _penalty(self, warn=False):
        """``(C, l1_ratio)`` in effect (C=inf: no penalty), with scikit-learn 1.9's warnings.

        The same resolution as scikit-learn 1.9's ``fit``: with the default ``penalty``,
        ``l1_ratio`` and ``C`` decide; an explicit ``penalty`` warns (FutureWarning) and overrides them.
        """
        say = warnings.warn if warn else (lambda *a, **k: None)
        C, ratio, penalty = float(self.C), self.l1_ratio, self.penalty
        if penalty == "deprecated":
            if ratio is None:
                say("'l1_ratio=None' was deprecated in version 1.8 and will trigger an error in "
                    "1.10. Use 0<=l1_ratio<=1 instead.", FutureWarning, stacklevel=3)
            ratio = 0.0 if ratio is None else float(ratio)
            kind = (None if C == np.inf else "l2" if ratio == 0 else "l1" if ratio == 1
                    else "elasticnet")
        else:
            say("'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid "
                "this warning, leave 'penalty' set to its default value and use 'l1_ratio' or "
                "'C' instead. Use l1_ratio=0 instead of penalty='l2', l1_ratio=1 instead of "
                "penalty='l1', l1_ratio set to a float between 0 and 1 instead of "
                "penalty='elasticnet', and C=np.inf instead of penalty=None.",
                FutureWarning, stacklevel=3)
            kind = penalty
        if kind != "elasticnet" and ratio is not None and 0 < ratio < 1:
            say(f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={kind})", UserWarning, stacklevel=3)
        if (penalty == "l2" and ratio != 0) or (penalty == "l1" and ratio != 1):
            say(f"Inconsistent values: penalty={penalty} with l1_ratio={self.l1_ratio}. penalty "
                "is deprecated. Please use l1_ratio only.", UserWarning, stacklevel=3)
        if penalty == "elasticnet" and ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if penalty is None:
            if self.C != 1.0:
                say("Setting penalty=None will ignore the C and l1_ratio parameters",
                    UserWarning, stacklevel=3)
            return np.inf, 0.0
        if penalty in ("l2", "l1"):
            return C, float(penalty == "l1")
        return C, float(ratio)

    def _check_penalty_solver(self):
        """The cross-parameter rules that ``_parameter_constraints`` cannot express."""
        if self.solver in _SKLEARN_ONLY_SOLVERS:
            raise ValueError(
                f"solver={self.solver!r} is not implemented by fastlin: "
                f"{_SKLEARN_ONLY_SOLVERS[self.solver]}. fastlin's solvers: 'lbfgs', 'proximal' "
                "('saga' is mapped to it), 'newton-cg', 'sgd', 'minibatch', 'gd'.")
        if self.dual:
            raise ValueError(f"Solver {self.solver} supports only dual=False, got dual=True: the "
                             "dual formulation is liblinear's, which fastlin does not implement.")
        C, ratio = self._penalty()
        # as scikit-learn: an explicit "l1"/"elasticnet" is rejected even with C=inf
        nonsmooth = self.penalty in ("l1", "elasticnet") or (ratio > 0 and C != np.inf)
        if nonsmooth and self._solver in _SMOOTH_SOLVERS:
            raise ValueError(
                f"Solver {self.solver} supports only 'l2' or None penalties, got l1_ratio={ratio} "
                f"(penalty={self.penalty!r}): an L1 term is not smooth. Use solver='proximal' "
                "(or 'saga', mapped to it) for the exact optimum, or 'sgd', 'minibatch' or 'gd'.")

    # ------------------------------------------------------------------ fit
    def _validate(self, X, y):
        # exact solvers: X's NaN/inf check is fused into the first kernel pass (_CheckedObjective)
        return validate_X_y(self, X, y, accept_sparse="csr", order="C",
                            ensure_all_finite=self._solver not in _CHECKED_SOLVERS)

    def _check_source(self, source):
        """Chunks and Dask blocks: exact solvers only, and a source that can be walked per step."""
        if self._solver == "newton-cg":
            raise ValueError("On chunks and Dask arrays LogisticRegression(solver='newton-cg') "
                             "is not available: it keeps each row's curvature between its "
                             "Hessian-vector products, which needs X in memory. Use "
                             "solver='lbfgs' (same objective, same optimum) over chunks or "
                             "blocks.")
        if self._solver not in _EXACT_SOLVERS:
            raise ValueError("On chunks and Dask arrays LogisticRegression supports "
                             f"solver='lbfgs' and 'proximal' only, got solver={self.solver!r}; use "
                             "SGDClassifier(loss='log_loss') for a stochastic fit over chunks or "
                             "blocks.")
        if not source.reiterable:
            raise TypeError(f"LogisticRegression(solver={self.solver!r}) evaluates the objective "
                            "with one pass over the chunks per step, so it needs a re-iterable "
                            "source (a list, or a callable returning a fresh iterator); got a "
                            "one-shot iterator.")

    def _classes(self, summary):
        """``(classes, class weights, K, S)`` from the merged label summary of the data."""
        if summary is None:
            raise ValueError("The data contain no samples: nothing to fit.")
        classes, wcount = summary
        if classes.shape[0] < 2:
            raise ValueError("LogisticRegression needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {classes[0]!r}.")
        cw = class_weights(self.class_weight, classes, wcount)
        S = float(cw @ wcount)
        if not S > 0:
            raise ValueError("class_weight and sample_weight give every sample a zero weight.")
        return classes, cw, (1 if classes.shape[0] == 2 else classes.shape[0]), S

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            float32/float64 C-ordered arrays and CSR matrices are used without a copy; a dask
            array is fitted by distributed L-BFGS or FISTA (the blocks never leave the workers).
        y : array-like of shape (n_samples,)
            Any labels (numbers, strings); at least two classes.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self : LogisticRegression
        """
        self._check_params()
        C, l1_ratio = self._penalty(warn=True)
        with limit_threads(self.n_jobs):
            return self._fit(X, y, sample_weight, C, l1_ratio)

    def _fit(self, X, y, sample_weight, C, l1_ratio):
        source = as_source(X, y, sample_weight, self._validate).for_target(numeric=False)
        if not isinstance(source, ArraySource):
            self._check_source(source)
        classes, cw, K, S = self._classes(source.map_reduce(label_pass, merge_label_summaries))
        prepared = source.prepare(logistic_piece, classes, cw, K)
        # the penalty in the mean form's units: R(W) / (C S), split into its smooth and L1 parts
        l2, l1 = (1.0 - l1_ratio) / (C * S), l1_ratio / (C * S)
        objective = LogisticObjective(
            lambda coef, b: prepared.map_reduce(logistic_sums, add_sums, coef, b),
            K, source.n_features, S, l2, self.fit_intercept)
        theta0 = np.zeros(objective.size)
        if self.warm_start and np.shape(getattr(self, "coef_", None)) == (K, source.n_features):
            theta0 = objective.join(np.asarray(self.coef_, dtype=np.float64),
                                    np.asarray(self.intercept_, dtype=np.float64))
        checked = _CheckedObjective(objective, source)
        if self._solver == "lbfgs":
            theta, n_iter, value = self._fit_lbfgs(checked, theta0)
        elif self._solver == "newton-cg":
            theta, n_iter, value = self._fit_newton(checked, prepared.items[0], theta0)
        elif self._solver == "proximal":
            theta, n_iter, value = self._fit_proximal(checked, theta0, l1)
        else:
            theta, n_iter, value = self._fit_stochastic(prepared.items[0], objective, theta0,
                                                        C, l1_ratio)
        coef, b = objective.split(theta)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(b))):
            raise ValueError("The fit produced non-finite coefficients: scale the features "
                             "(e.g. StandardScaler) or lower the learning rate.")
        record_input(self, source)
        self.classes_ = classes
        # float32 X gives float32 coefficients (the optimisation itself runs in float64).
        self.coef_ = np.array(coef, dtype=source.dtype)
        self.intercept_ = np.array(b if self.fit_intercept else np.zeros(K), dtype=source.dtype)
        self.n_iter_ = np.array([min(n_iter, self.max_iter)], dtype=np.int32)
        self.objective_ = float(value)
        return self

    def _fit_lbfgs(self, objective, theta0):
        history = []

        def callback(intermediate_result):
            history.append(intermediate_result.fun)
            if self.verbose:
                print(f"lbfgs iteration {len(history)}: objective {intermediate_result.fun:.10g}")

        res = minimize_lbfgs(objective, theta0, max_iter=self.max_iter, tol=self.tol,
                             callback=callback)
        # scipy may report nit > maxiter (e.g. 1 for maxiter=0); scikit-learn caps it, so does fit
        return res.x, int(res.nit), float(res.fun)

    def _fit_newton(self, objective, prep, theta0):
        """Trust-region Newton-CG on the checked objective; warns at max_iter naming the ratio.

        The per-row curvature (:func:`fastlin.engine.logistic.newton_state`) is the state the
        Hessian-vector products share; it is set once per accepted Newton point.
        """
        obj = objective.objective
        state = newton_state(prep, obj.K)
        # f and g from the Newton kernel, which keeps the curvature for the products that follow
        obj.evaluate = lambda coef, b: logistic_sums_curvature(prep, state, coef, b)
        hessian = LogisticHessian(
            obj, lambda coef, b: logistic_curvature_pass(prep, state, coef, b),
            lambda V, c: logistic_hessp_sums(prep, state, V, c),
            lambda step: logistic_line_sums(prep, state, step),
            step_moved=lambda alpha: logistic_step_moved(state, alpha),
            step_scaled=lambda factor: logistic_step_scaled(state, factor),
            trial_sums=lambda coef, b: logistic_trial_sums(prep, state, coef, b))
        grad_ref = None
        if np.any(theta0):  # the stopping rule is relative to the gradient at zero coefficients
            grad_ref = float(np.linalg.norm(objective(np.zeros_like(theta0))[1]))

        def callback(it, value, ratio, n_cg):
            if self.verbose:
                print(f"newton-cg iteration {it}: objective {value:.10g}, gradient ratio "
                      f"{ratio:.3g}, {n_cg} CG steps")

        res = minimize_trust_ncg(objective, hessian, theta0, max_iter=self.max_iter,
                                 tol=self.tol, grad_ref=grad_ref, callback=callback)
        if not res.converged and self.max_iter > 0:
            warn(f"solver='newton-cg' reached max_iter={self.max_iter} iteration(s) with a "
                 f"gradient ratio ||g|| / ||g(0)|| of {res.ratio:.3g} > tol={self.tol:g}: "
                 "increase max_iter or scale the data (e.g. StandardScaler).",
                 ConvergenceWarning)
        return res.x, res.nit, res.fun

    def _fit_proximal(self, objective, theta0, l1):
        """FISTA on ``objective + l1 ||W||_1`` (intercepts unpenalised); warns at max_iter."""
        K, D = objective.objective.K, objective.objective.D
        weights = np.zeros(objective.objective.size)
        weights[: K * D] = l1

        def callback(it, value, optimality):
            if self.verbose:
                print(f"proximal iteration {it}: objective {value:.10g}, "
                      f"KKT violation {optimality:.3g}")

        res = minimize_fista(objective, theta0, weights, max_iter=self.max_iter, tol=self.tol,
                             callback=callback)
        if not res.converged:
            warnings.warn(
                f"The proximal solver reached max_iter={self.max_iter} iteration(s) with a KKT "
                f"violation of {res.optimality:.3g} > tol={self.tol:g}: increase max_iter or "
                "scale the data (e.g. StandardScaler).", ConvergenceWarning, stacklevel=4)
        return res.x, res.nit, res.fun

    def _stochastic_plan(self, X, sw, K, mu):
        """Step of the "sgd" / "minibatch" (SAGA) solvers, or the smoothness bound of "gd".

        The loss has curvature <= 1/4 (sigmoid) or <= 1/2 (softmax: the largest eigenvalue of
        ``diag(p) - p p^T``), so the smooth part of the mean-form objective is ``L``-smooth with
        ``L = c lambda_max(sum_i sw_i x~_i x~_i^T / S) + mu`` (x~ = [x, 1] with an intercept), the
        bound "gd" starts from. SAGA's terms ``u_i l_i`` (``u_i = n sw_i / S``) are ``L_i``-smooth
        with ``L_i = c u_i |x~_i|^2``; one row per step takes ``gamma = 1 / (2 (L_max + mu n))``,
        the step of Defazio et al. 2014's linear-rate theorem for mu-strongly convex terms (here
        the L2 part, ``mu = (1 - l1_ratio) / (C S)``, applied through its proximal map). ``b`` rows
        per step replace ``L_max`` by the expected smoothness of b-row sampling without
        replacement (Gazagnadou, Gower & Salmon 2019),
        ``L(b) = n (b - 1) / (b (n - 1)) L + (n - b) / (b (n - 1)) L_max``, and ``n`` (the steps
        between two visits of a row) by ``n / b``. Rows drawn by smoothness (below) replace
        ``L_max`` by ``max_i L_i / (n p_i)``.
        """
        n = X.shape[0]
        S = float(sw.sum())
        curv = 0.25 if K == 1 else 0.5
        fit_b = bool(self.fit_intercept)
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum(
            "ij,ij->i", X, X, dtype=np.float64)
        c = 1.0
        if self.solver == "gd" or (self.solver == "minibatch" and self.batch_size > 1 and n > 1):
            # the intercept's column of ones scaled to c: a diagonal preconditioner
            c = intercept_scale(sq, sw, X.shape[1]) if fit_b else 1.0
            # _top_eigenvalue is of sum_i sw_i x~ x~^T / n, x~ = [x, c]; the mean form divides by S
            L = curv * _top_eigenvalue(X, sw, c if fit_b else 0.0, check_random_state(0)) * n / S
        if self.solver == "gd":  # its objective holds the L2 part: L + mu
            return dict(lipschitz=L + mu, intercept_scale=c)
        L_i = curv * sw * (sq + fit_b * c * c) * (n / S)
        L_max = float(np.max(L_i))
        # rows drawn with p_i = 1/(2n) + L_i / (2 sum L) (half uniform, half by smoothness:
        # Schmidt et al. 2015), their terms reweighted by 1 / (n p_i) <= 2: the step is then set by
        # L_eff = max_i L_i / (n p_i) <= 2 mean(L_i) instead of L_max. Used when that makes the
        # step _IMPORTANCE_MIN_GAIN times larger (L_max / mean, measured: standardized breast
        # cancer 14, digits 38, where it cut the epochs to tol 7x and from > 1000 to 375; the
        # benchmarks' 200 000 x 100 Gaussian 1.7, CSR 2.0); otherwise an epoch is a permutation.
        probs = 0.5 / n + 0.5 * L_i / max(float(L_i.sum()), np.finfo(float).tiny)
        L_eff = float(np.max(L_i / (n * probs)))
        if L_eff * _IMPORTANCE_MIN_GAIN > L_max:
            probs, L_eff = None, L_max
        b = 1 if self.solver == "sgd" else min(int(self.batch_size), n)
        if b > 1:
            L_eff = n * (b - 1) / (b * (n - 1)) * L + (n - b) / (b * (n - 1)) * L_eff
        gamma = 1.0 / (_SAGA_STEP_FACTOR * (L_eff + mu * -(-n // b)))
        return dict(gamma=gamma, batch_size=b, probs=probs, gamma_b=gamma * c * c)

    def _fit_stochastic(self, prep, objective, theta0, C, l1_ratio):
        """The "sgd" / "minibatch" (SAGA) and "gd" (proximal gradient) solvers, in memory.

        Any number of classes, dense or CSR, any ``l1_ratio``; they stop as L-BFGS does, when the
        largest entry of the minimum-norm subgradient of the objective is ``<= tol``
        (:mod:`fastlin.solvers.stochastic`), and warn naming it when ``max_iter`` stops them.
        """
        X, sw = prep.piece.X, prep.weights
        plan = self._stochastic_plan(X, sw, objective.K, objective.l2)
        S = float(sw.sum())
        lam = l1_ratio / (C * S)  # the L1 strength in the mean form's units (0 for C=inf)
        if self.solver == "gd":
            hint = (f"The learning rate 1/L = {1.0 / plan['lipschitz']:.3g} (L from the power "
                    "iteration) is too large for these features: scale them (e.g. "
                    "StandardScaler).")
            weights = np.zeros(objective.size)
            weights[: objective.K * objective.D] = lam
            scale = np.ones(objective.size)
            scale[objective.K * objective.D:] = plan["intercept_scale"] ** 2
            res = minimize_gd(objective, theta0, weights, plan["lipschitz"], scale=scale,
                              max_iter=self.max_iter, tol=self.tol, verbose=bool(self.verbose),
                              hint=hint)
            what = "gradient norm"
        else:
            hint = (f"The learning rate gamma = {plan['gamma']:.3g} (1 / (2 (L + mu n)), L from "
                    "the rows' norms) is too large for these features: scale them (e.g. "
                    "StandardScaler).")
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            res = minimize_saga(objective, objective, prep.X, prep.codes, sw, theta0, lam=lam,
                                gamma=plan["gamma"], batch_size=plan["batch_size"], seed=seed,
                                probs=plan["probs"], gamma_b=plan["gamma_b"],
                                max_iter=self.max_iter, tol=self.tol, verbose=bool(self.verbose),
                                hint=hint)
            what = "gradient norm (largest entry of the minimum-norm subgradient)"
        if not np.isfinite(res.fun):
            raise ValueError(f"solver={self.solver!r} diverged: {hint}")
        if not res.converged and self.max_iter > 0:
            unit = "iterations" if self.solver == "gd" else "epochs"
            warnings.warn(
                f"solver={self.solver!r} reached max_iter={self.max_iter} {unit} with a {what} "
                f"of {res.optimality:.3g} > tol={self.tol:g}: increase max_iter or scale the "
                "data (e.g. StandardScaler).", ConvergenceWarning, stacklevel=4)
        return res.x, res.nit, res.fun

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X):
        """Class probabilities (sigmoid for two classes, softmax otherwise).

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return predict_rows(self, X, "predict_proba", self._proba)

    def _proba(self, X):
        scores = self._decision(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed without forming them (no log(0)).

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return predict_rows(self, X, "predict_log_proba", self._log_proba)

    def _log_proba(self, X):
        scores = self._decision(X)
        if scores.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
