"""``LogisticRegression``: binary and multinomial, exact (L-BFGS) and stochastic solvers.

The objective is scikit-learn's, in its "mean" form (scikit-learn 1.9, ``_logistic_regression_path``
with ``l2_reg_strength = 1 / (C * sum(sw))``)::

    objective(W, b) = 1 / S * [ sum_i sw_i * l(y_i, W x_i + b) + R(W) / C ],    S = sum_i sw_i

with ``sw`` the sample weights times the class weights, ``R(W) = ||W||_F^2 / 2`` (``"l2"``),
``||W||_1`` (``"l1"``) or 0 (``None``), and the intercept ``b`` unpenalized. It is
``C * sum_i sw_i l_i + R(W)`` (the form in scikit-learn's documentation) divided by ``C * S``, so both
have the same minimizer; the mean form keeps the gradient's scale independent of ``n_samples``,
which is what L-BFGS's tolerances (``gtol = tol``) are tuned for — with the same objective, the same
optimizer and the same options, fastlin stops where scikit-learn stops.

Solvers:

* ``"lbfgs"``: :func:`scipy.optimize.minimize` (L-BFGS-B, ``jac=True``) on
  :func:`fastlin.kernels.logistic.logistic_loss_grad`, which returns the objective and its gradient
  from one pass over X. ``"l2"`` or ``None`` only.
* ``"sgd"``, ``"minibatch"``, ``"gd"``: the epoch kernels of :mod:`fastlin.kernels.minibatch` with the
  log-loss (batch of 1 row, of ``batch_size`` rows, or all rows), ``"l1"`` available (proximal
  soft-threshold, exact zeros). In the SGD convention ``mean_i(sw_i l_i) + alpha R(W)`` the same
  minimizer has ``alpha = 1 / (C * n_samples)``.
"""

from __future__ import annotations

import numbers
import threading
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import assert_all_finite
from threadpoolctl import threadpool_limits

from .._registry import LOSSES, PENALTIES, SCHEDULES
from ..data import (check_sample_weight, class_weights, encode_classes, is_dask_collection, kernel_X,
                    validate_X_y)
from ..kernels import minibatch as _minibatch
from ..kernels import sgd as _sgd
from ..kernels.logistic import logistic_loss_grad, n_chunks_for
from ._base import LinearClassifierMixin

__all__ = ["LogisticRegression"]

_SOLVERS = ("lbfgs", "sgd", "minibatch", "gd")
_STOCHASTIC = ("sgd", "minibatch", "gd")
_PENALTIES = ("l2", "l1", None)

#: Numba's default "workqueue" threading layer aborts the process when two Python threads launch a
#: parallel kernel at once (e.g. a threaded grid search); the fused kernel is therefore entered by
#: one thread at a time. It uses every core itself, so little is lost.
_PARALLEL_KERNEL_LOCK = threading.Lock()

#: Power iterations for the largest eigenvalue of the weighted Gram matrix (step size of "gd"):
#: at most 30, stopped when the estimate moves by < 1e-3 relative (5-10 iterations on typical data).
_POWER_ITERATIONS = 30


def kernel_arrays(X):
    """Split X into the ``(X, data, indices, indptr)`` quadruple the kernels take.

    Dense X comes back as itself with empty CSR arrays; CSR X as an empty (0, 0) array of its dtype
    plus its three arrays. Dense and CSR of one dtype thus share one compiled specialisation.
    """
    if sp.issparse(X):
        # int32 indices whenever they fit: one compiled specialisation per dtype for every CSR input
        data, indices, indptr = kernel_X(X)
        return np.empty((0, 0), dtype=X.dtype), data, indices, indptr
    empty_idx = np.empty(0, dtype=np.int32)
    return X, np.empty(0, dtype=X.dtype), empty_idx, empty_idx


def minimize_lbfgs(fun, theta0, *, max_iter, tol, callback=None):
    """scipy's L-BFGS-B on ``fun(theta) -> (objective, gradient)`` with scikit-learn's options.

    The options are scikit-learn 1.9's lbfgs path, so that on the same objective both stop at the
    same point: maxls=50 (scipy's default 20 fails on badly scaled data), gtol=tol, and ftol=64 eps so
    that the stop is decided by the gradient, not by a stalled objective. Warns (ConvergenceWarning)
    when L-BFGS-B did not converge. Shared by the in-memory, chunked and Dask fits.

    L-BFGS-B's own vector work goes through scipy's OpenBLAS; its idle threads spin on the cores
    right when the (OpenMP) fused kernel starts. One BLAS thread for the optimiser's O(m D) updates
    removes that contention: measured 0.35 s -> 0.19 s for a binary 200 000 x 100 fit (12 kernel
    calls, 33 ms -> 13 ms each) on 2 cores.
    """
    with threadpool_limits(1, user_api="blas"):
        res = scipy.optimize.minimize(
            fun, theta0, method="L-BFGS-B", jac=True, callback=callback,
            options={"maxiter": max_iter, "maxls": 50, "gtol": tol,
                     "ftol": 64 * np.finfo(float).eps},
        )
    if res.status != 0:
        warnings.warn(
            f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}: "
            f"{res.message}). Increase max_iter or scale the data (e.g. StandardScaler).",
            ConvergenceWarning, stacklevel=4)
    return res


class _Problem:
    """The arrays of one fit, and the objective/gradient on a flat parameter vector.

    Parameter layout (what L-BFGS sees): ``coef`` of shape (K, D) in C order, then the K
    intercepts when ``fit_intercept``. K = 1 for a binary problem (sigmoid), the number of classes
    otherwise (softmax).
    """

    def __init__(self, X, y_code, sw, K, fit_intercept, l2, check_finite_X=False):
        self.X = X
        self.check_finite_X = check_finite_X
        self.arrays = kernel_arrays(X)
        self.y = y_code.astype(np.float64)
        self.sw = sw
        self.K = K
        self.D = X.shape[1]
        self.fit_intercept = fit_intercept
        self.scale = 1.0 / float(sw.sum())
        self.l2 = l2
        self.work = np.empty((n_chunks_for(X.shape[0], K, self.D), K, self.D + 1))
        self.grad = np.empty((K, self.D + 1))
        self.zero_b = np.zeros(K)

    @property
    def size(self):
        return self.K * self.D + (self.K if self.fit_intercept else 0)

    def split(self, theta):
        coef = theta[: self.K * self.D].reshape(self.K, self.D)
        b = theta[self.K * self.D:] if self.fit_intercept else self.zero_b
        return coef, b

    def join(self, coef, b):
        parts = [np.ravel(coef)] + ([np.ravel(b)] if self.fit_intercept else [])
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)

    def loss_grad(self, theta, l2=None):
        """Objective and flat gradient at ``theta`` (one pass over X)."""
        coef, b = self.split(theta)
        Xd, data, indices, indptr = self.arrays
        with _PARALLEL_KERNEL_LOCK:
            f = logistic_loss_grad(Xd, data, indices, indptr, self.y, self.sw,
                                   np.ascontiguousarray(coef), np.ascontiguousarray(b),
                                   self.l2 if l2 is None else l2, self.scale, self.work, self.grad)
        g = self.grad[:, : self.D].ravel()
        if self.fit_intercept:
            g = np.concatenate([g, self.grad[:, self.D]])
        if self.check_finite_X:
            # The first pass doubles as X's NaN/inf check: a non-finite x_ij makes the gradient
            # non-finite (0 * inf = NaN at theta = 0), so only then is X scanned for the message.
            self.check_finite_X = False
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                assert_all_finite(self.X.data if sp.issparse(self.X) else self.X, input_name="X")
                raise ValueError("The logistic loss overflowed at the initial coefficients: the "
                                 "features are too large; scale them (e.g. StandardScaler).")
        return f, g


def _top_eigenvalue(X, sw, fit_intercept, rng):
    """Largest eigenvalue of ``sum_i sw_i x~_i x~_i^T / n`` (x~ = [x, 1] with an intercept).

    Power iteration, two BLAS passes over X per iteration; the returned value is the Rayleigh
    quotient of the last iterate times 1.01 (a lower bound of the top eigenvalue that converges from
    below; the 1 % margin keeps the step 1/L on the safe side when stopped early).
    """
    n, d = X.shape
    v = rng.standard_normal(d + int(fit_intercept))
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(_POWER_ITERATIONS):
        z = np.asarray(safe_sparse_dot(X, v[:d]), dtype=np.float64).ravel()
        if fit_intercept:
            z += v[d]
        z *= sw
        u = np.asarray(safe_sparse_dot(X.T, z), dtype=np.float64).ravel() / n
        if fit_intercept:
            u = np.append(u, z.sum() / n)
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
    scikit-learn's ``C sum_i sw_i l_i + R(W)``; the intercept is not penalized.

    Parameters
    ----------
    penalty : {"l2", "l1", None}, default="l2"
        ``R(W) = ||W||^2 / 2``, ``||W||_1`` or 0. ``"l1"`` needs a stochastic solver.
    C : float, default=1.0
        Inverse regularization strength, > 0. Ignored when ``penalty=None``.
    fit_intercept : bool, default=True
    tol : float, default=1e-4
        ``"lbfgs"``: stop when the largest gradient component is <= tol (scipy's ``gtol``), as in
        scikit-learn. Stochastic solvers: stop when an epoch lowers the objective by less than
        ``tol * max(1, objective)``.
    max_iter : int, default=100
        L-BFGS iterations, or epochs for the stochastic solvers.
    class_weight : dict or "balanced", default=None
        Multiplies the sample weights, as in scikit-learn (``"balanced"``: ``S / (K * S_k)``).
    random_state : int, RandomState instance or None, default=None
        Shuffling of the stochastic solvers; the same seed gives bit-identical coefficients.
    solver : {"lbfgs", "sgd", "minibatch", "gd"}, default="lbfgs"
        ``"lbfgs"``: exact, scipy's L-BFGS-B on the fused loss+gradient kernel (``"l2"``/``None``).
        ``"sgd"``: one row per step; ``"minibatch"``: ``batch_size`` rows per step; ``"gd"``:
        full-batch gradient descent. The stochastic solvers accept ``"l1"``.
    verbose : int, default=0
        > 0 prints the objective per iteration/epoch.
    warm_start : bool, default=False
        Start from the previous ``coef_``/``intercept_`` when their shapes match.
    batch_size : int, default=256
        Rows per step of ``solver="minibatch"`` (ignored by the other solvers).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        (1, n_features) for two classes (the positive class is ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,), int32
        L-BFGS iterations or epochs run.
    objective_ : float
        Final training objective, in the mean form above (comparable across solvers).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.
    """

    def __init__(self, penalty="l2", *, C=1.0, fit_intercept=True, tol=1e-4, max_iter=100,
                 class_weight=None, random_state=None, solver="lbfgs", verbose=0, warm_start=False,
                 batch_size=256):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.verbose = verbose
        self.warm_start = warm_start
        self.batch_size = batch_size

    # ------------------------------------------------------------------ validation
    def _check_params(self):
        if self.solver not in _SOLVERS:
            raise ValueError(f"Unknown solver={self.solver!r}. Valid values are: "
                             + ", ".join(repr(s) for s in _SOLVERS) + ".")
        if self.penalty not in _PENALTIES:
            raise ValueError(f"Unknown penalty={self.penalty!r}. Valid values are: 'l2', 'l1', None.")
        if self.penalty == "l1" and self.solver == "lbfgs":
            raise ValueError("penalty='l1' is not supported by solver='lbfgs' (smooth penalties 'l2' "
                             "and None only). Use solver='sgd', 'minibatch' or 'gd', which accept "
                             "penalty='l1'.")
        C = self.C
        if (not isinstance(C, numbers.Real) or isinstance(C, bool) or not np.isfinite(C)
                or C <= 0):
            raise ValueError(f"C must be a positive finite number, got C={C!r}.")
        tol = self.tol
        if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got tol={tol!r}.")
        mi = self.max_iter
        if not isinstance(mi, numbers.Integral) or isinstance(mi, bool) or mi < 0:
            raise ValueError(f"max_iter must be an integer >= 0, got max_iter={mi!r}.")
        bs = self.batch_size
        if not isinstance(bs, numbers.Integral) or isinstance(bs, bool) or bs < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got batch_size={bs!r}.")
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError("class_weight must be None, 'balanced' or a dict {class: weight}, "
                             f"got {self.class_weight!r}.")

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            float32/float64 C-ordered arrays and CSR matrices are used without a copy.
        y : array-like of shape (n_samples,)
            Any labels (numbers, strings); at least two classes.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self : LogisticRegression
        """
        self._check_params()
        if is_dask_collection(X) or is_dask_collection(y):
            from .._dask import fit_logistic_lbfgs

            return fit_logistic_lbfgs(self, X, y, sample_weight)
        # lbfgs: X's NaN/inf check is fused into the first kernel pass (see _Problem.loss_grad)
        # instead of a separate pass over X (13 ms of a 160 MB array, ~5 % of a 200 000 x 100 fit).
        lbfgs = self.solver == "lbfgs"
        X, y = validate_X_y(self, X, y, accept_sparse="csr", order="C",
                            ensure_all_finite=not lbfgs)
        classes, y_code = encode_classes(y)
        if classes.shape[0] < 2:
            raise ValueError("LogisticRegression needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {classes[0]!r}.")
        n, d = X.shape
        sw = check_sample_weight(sample_weight, n)
        if self.class_weight is not None:
            cw = class_weights(self.class_weight, classes,
                               np.bincount(y_code, weights=sw, minlength=classes.shape[0]))
            sw = sw * cw[y_code]
            if not np.any(sw > 0):
                raise ValueError("class_weight and sample_weight give every sample a zero weight.")
        K = 1 if classes.shape[0] == 2 else classes.shape[0]
        C = float(self.C)
        penalty = self.penalty

        warm = None
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (K, d):
            warm = (np.asarray(self.coef_, dtype=np.float64),
                    np.asarray(self.intercept_, dtype=np.float64))

        # l2 in the kernel's units: the objective's R(W)/(C S) with R = ||W||^2/2.
        l2 = 0.0 if penalty != "l2" else 1.0 / (C * float(sw.sum()))
        prob = _Problem(X, y_code, sw, K, self.fit_intercept, l2, check_finite_X=lbfgs)
        theta0 = np.zeros(prob.size) if warm is None else prob.join(warm[0], warm[1])

        if self.solver == "lbfgs":
            theta, n_iter, objective = self._fit_lbfgs(prob, theta0)
        else:
            theta, n_iter, objective = self._fit_stochastic(X, prob, theta0, penalty, C)

        coef, b = prob.split(theta)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(b))):
            raise ValueError("The fit produced non-finite coefficients: scale the features "
                             "(e.g. StandardScaler) or lower the learning rate.")
        self.classes_ = classes
        # float32 X gives float32 coefficients (the optimisation itself runs in float64).
        self.coef_ = np.array(coef, dtype=X.dtype)
        self.intercept_ = np.array(b if self.fit_intercept else np.zeros(K), dtype=X.dtype)
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        self.objective_ = float(objective)
        return self

    def _fit_lbfgs(self, prob, theta0):
        history = []

        def callback(intermediate_result):
            history.append(intermediate_result.fun)
            if self.verbose:
                print(f"lbfgs iteration {len(history)}: objective {intermediate_result.fun:.10g}")

        res = minimize_lbfgs(prob.loss_grad, theta0, max_iter=self.max_iter, tol=self.tol,
                             callback=callback)
        return res.x, int(res.nit), float(res.fun)

    def _fit_stochastic(self, X, prob, theta0, penalty, C):
        """Epoch loop of the "sgd" / "minibatch" / "gd" solvers (binary problems).

        Step size: the log-loss has curvature <= 1/4, so ``eta = 1 / L`` with
        ``L = max_i s_i (||x_i||^2 + 1) / 4 + alpha`` (per row; SAG's choice) for "sgd" and
        "minibatch", and ``L = lambda_max(sum_i s_i x~_i x~_i^T / n) / 4 + alpha`` (x~ = [x, 1]) for
        "gd". With this constant step the stochastic iterates hover around the optimum at a distance
        O(eta), so "sgd" and "minibatch" return the average of the iterates after the first epoch
        (Polyak-Ruppert averaging), which removes most of that noise. With ``"l1"`` they return the
        last (sparse) iterate instead, with the step ``eta / sqrt(t)``.

        Stopping: the epoch's objective (running loss, penalty at the epoch's start) has not
        decreased by ``tol * max(1, best)`` for 5 epochs (1 epoch for "gd", whose objective is exact
        and monotone).
        """
        if prob.K != 1:
            raise ValueError(f"solver={self.solver!r} fits binary problems only (its kernels update one "
                             f"weight vector); for {prob.K} classes use solver='lbfgs' (multinomial).")
        n, d = X.shape
        Xk = kernel_X(X)
        y_pm = 2.0 * prob.y - 1.0
        sw = prob.sw
        S = float(sw.sum())
        # mean_i(sw_i l_i) + alpha R(w) has the minimizer of (sum_i sw_i l_i + R(w) / C) / S
        alpha = 0.0 if penalty is None else 1.0 / (C * n)
        penalty_code = PENALTIES["none" if penalty is None else penalty]
        l1_ratio = 1.0 if penalty == "l1" else 0.0
        fit_b = bool(self.fit_intercept)
        if self.solver == "gd":
            L = 0.25 * _top_eigenvalue(X, sw, fit_b, check_random_state(0)) + alpha
            batch_size, average_start, patience = None, 0.0, 1
        else:
            sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum(
                "ij,ij->i", X, X, dtype=np.float64)
            L = 0.25 * float(np.max(sw * (sq + fit_b))) + alpha
            batch_size = 1 if self.solver == "sgd" else int(self.batch_size)
            steps_per_epoch = -(-n // batch_size)
            average_start, patience = float(steps_per_epoch + 1), 5
        eta0 = 1.0 / L
        schedule = SCHEDULES["constant"]
        if penalty == "l1" and batch_size is not None:
            # An average of iterates that keep entering and leaving zero is not sparse, so with L1
            # the last iterate is returned, its noise damped by eta0 / sqrt(t) (measured on 600 x 8
            # standardized data, C=0.01: within 1.4 % of saga's optimum after 10 epochs, batch 1
            # or 32; a constant step stayed 6-17 % off with batch 1).
            average_start, schedule = 0.0, SCHEDULES["invscaling"]

        coef0, b0 = prob.split(theta0)
        w = np.array(coef0[0], dtype=np.float64)
        avg_w = np.zeros(d)
        l1_q = np.zeros(d)
        state = _sgd.new_state(t=1.0, intercept=float(b0[0]))
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        rows = np.arange(n, dtype=np.int64)

        def current():
            if average_start > 0 and state[_sgd.STATE_T] - 1.0 >= average_start:
                return avg_w, state[_sgd.STATE_AVG_INTERCEPT]
            return w, state[_sgd.STATE_INTERCEPT]

        def penalty_of(v):
            if penalty == "l2":
                return 0.5 * float(v @ v)
            return float(np.abs(v).sum()) if penalty == "l1" else 0.0

        best, bad, epoch = np.inf, 0, 0
        for epoch in range(1, self.max_iter + 1):
            order = rng.permutation(rows) if batch_size is not None else rows
            # the penalty at the weights the epoch starts from: for "gd" sumloss is the exact loss
            # there, so loss + penalty is the exact objective of the previous iterate
            pen_start = penalty_of(w)
            sumloss, _, n_clipped = _minibatch.epoch(
                Xk, y_pm, sw, order, w, avg_w, l1_q, state, loss_code=LOSSES["log_loss"].code,
                penalty_code=penalty_code, schedule_code=schedule, alpha=alpha,
                l1_ratio=l1_ratio, eta0=eta0, power_t=0.5, epsilon=0.0, opt_init=0.0,
                fit_intercept=fit_b, average_start=average_start, want_loss=True,
                batch_size=batch_size)
            if n_clipped or not (np.all(np.isfinite(w)) and np.all(np.isfinite(state[:2]))):
                raise ValueError(f"solver={self.solver!r} diverged at epoch {epoch}: scale the features "
                                 "(e.g. StandardScaler).")
            # the epoch's running objective, in the mean form of objective_
            obj = (sumloss + pen_start / C) / S if penalty is not None else sumloss / S
            if self.verbose:
                print(f"{self.solver} epoch {epoch}: running objective {obj:.10g}")
            bad = bad + 1 if obj > best - self.tol * max(1.0, abs(best)) else 0
            best = min(best, obj)
            if bad >= patience:
                break
        else:
            if self.max_iter > 0 and self.tol > 0:
                warnings.warn(f"solver={self.solver!r} reached max_iter={self.max_iter} epochs before "
                              "the objective stopped decreasing; increase max_iter.",
                              ConvergenceWarning, stacklevel=3)
        coef, b = current()
        theta = prob.join(coef[None, :], np.array([b]))
        objective, _ = prob.loss_grad(theta)
        if penalty == "l1":
            objective += penalty_of(coef) / (C * S)
        return theta, epoch, objective

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X):
        """Class probabilities (sigmoid for two classes, softmax otherwise).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return self._dask_rows(X, "predict_proba")
        scores = self.decision_function(X)
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
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        if is_dask_collection(X):
            return self._dask_rows(X, "predict_log_proba")
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
