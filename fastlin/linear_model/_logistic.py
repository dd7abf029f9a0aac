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

* ``"lbfgs"``: scipy's L-BFGS-B (:func:`fastlin.solvers.lbfgs.minimize_lbfgs`) on the objective
  of :class:`fastlin.solvers.lbfgs.LogisticObjective`, whose sums come from one pass of the fused
  kernel over every piece of the source (:mod:`fastlin.engine.logistic`): one in-memory array,
  chunks, or Dask blocks on the workers — one code path. ``"l2"`` or ``None`` only.
* ``"sgd"``, ``"minibatch"``, ``"gd"``: the epoch kernels of :mod:`fastlin.kernels.minibatch` with the
  log-loss (batch of 1 row, of ``batch_size`` rows, or all rows), ``"l1"`` available (proximal
  soft-threshold, exact zeros). In the SGD convention ``mean_i(sw_i l_i) + alpha R(W)`` the same
  minimizer has ``alpha = 1 / (C * n_samples)``.
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
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot

from .._registry import LOSSES, PENALTIES, SCHEDULES
from ..data.labels import class_weights, merge_label_summaries
from ..data.pieces import check_finite_X
from ..data.validation import validate_X_y
from ..engine.inputs import as_source
from ..engine.logistic import add_sums, label_pass, logistic_piece, logistic_sums
from ..engine.sources import ArraySource
from ..kernels import minibatch as _minibatch
from ..kernels import sgd as _sgd
from ..solvers.epochs import Epoch, Stopping, check_finite_state, run_epochs
from ..solvers.lbfgs import LogisticObjective, minimize_lbfgs
from ._base import LinearClassifierMixin, predict_rows, record_input

__all__ = ["LogisticRegression"]

_SOLVERS = ("lbfgs", "sgd", "minibatch", "gd")
_STOCHASTIC_SOLVERS = ("sgd", "minibatch", "gd")

#: Power iterations for the largest eigenvalue of the weighted Gram matrix (step size of "gd"):
#: at most 30, stopped when the estimate moves by < 1e-3 relative (5-10 iterations on typical data).
_POWER_ITERATIONS = 30


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
        Inverse regularization strength, in (0, inf]; ``C=np.inf`` means no penalty. Ignored
        when ``penalty=None``.
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

    #: Per-parameter rules, checked by scikit-learn's ``_validate_params`` (InvalidParameterError);
    #: the one cross-parameter rule is :meth:`_check_penalty_solver`. As in scikit-learn, C=inf
    #: (no penalty) is allowed and NaN is rejected by every interval.
    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1"}), None],
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "solver": [StrOptions(set(_SOLVERS))],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

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
        """All parameter checks (also called by fastlin.streaming and fastlin._dask)."""
        self._validate_params()
        self._check_penalty_solver()

    def _check_penalty_solver(self):
        """The cross-parameter rule that ``_parameter_constraints`` cannot express."""
        if self.penalty == "l1" and self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError("penalty='l1' is not supported by solver='lbfgs' (smooth penalties 'l2' "
                             "and None only). Use solver='sgd', 'minibatch' or 'gd', which accept "
                             "penalty='l1'.")

    # ------------------------------------------------------------------ fit
    def _validate(self, X, y):
        # lbfgs: X's NaN/inf check is fused into the first kernel pass (see _CheckedObjective)
        return validate_X_y(self, X, y, accept_sparse="csr", order="C",
                            ensure_all_finite=self.solver != "lbfgs")

    def _check_source(self, source):
        """Chunks and Dask blocks: lbfgs only, and a source that can be walked once per step."""
        if self.solver != "lbfgs":
            raise ValueError(f"On chunks and Dask arrays LogisticRegression supports solver='lbfgs' "
                             f"only, got solver={self.solver!r}; use SGDClassifier(loss='log_loss') "
                             "for a stochastic fit over chunks or blocks.")
        if not source.reiterable:
            raise TypeError("LogisticRegression(solver='lbfgs') evaluates the objective with one "
                            "pass over the chunks per L-BFGS step, so it needs a re-iterable source "
                            "(a list, or a callable returning a fresh iterator); got a one-shot "
                            "iterator.")

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
            array is fitted by distributed L-BFGS (the blocks never leave the workers).
        y : array-like of shape (n_samples,)
            Any labels (numbers, strings); at least two classes.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self : LogisticRegression
        """
        self._check_params()
        source = as_source(X, y, sample_weight, self._validate).for_target(numeric=False)
        if not isinstance(source, ArraySource):
            self._check_source(source)
        classes, cw, K, S = self._classes(source.map_reduce(label_pass, merge_label_summaries))
        prepared = source.prepare(logistic_piece, classes, cw, K)
        l2 = 1.0 / (float(self.C) * S) if self.penalty == "l2" else 0.0
        objective = LogisticObjective(
            lambda coef, b: prepared.map_reduce(logistic_sums, add_sums, coef, b),
            K, source.n_features, S, l2, self.fit_intercept)
        theta0 = np.zeros(objective.size)
        if self.warm_start and np.shape(getattr(self, "coef_", None)) == (K, source.n_features):
            theta0 = objective.join(np.asarray(self.coef_, dtype=np.float64),
                                    np.asarray(self.intercept_, dtype=np.float64))
        checked = _CheckedObjective(objective, source)
        if self.solver == "lbfgs":
            theta, n_iter, value = self._fit_lbfgs(checked, theta0)
        else:
            theta, n_iter, value = self._fit_stochastic(prepared.items[0], objective, theta0)
        coef, b = objective.split(theta)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(b))):
            raise ValueError("The fit produced non-finite coefficients: scale the features "
                             "(e.g. StandardScaler) or lower the learning rate.")
        record_input(self, source)
        self.classes_ = classes
        # float32 X gives float32 coefficients (the optimisation itself runs in float64).
        self.coef_ = np.array(coef, dtype=source.dtype)
        self.intercept_ = np.array(b if self.fit_intercept else np.zeros(K), dtype=source.dtype)
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
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
        return res.x, int(res.nit), float(res.fun)

    def _stochastic_plan(self, X, sw):
        """Step size, batch, averaging and schedule of the "sgd" / "minibatch" / "gd" solvers.

        The log-loss has curvature <= 1/4, so ``eta = 1 / L`` with
        ``L = max_i s_i (||x_i||^2 + 1) / 4 + alpha`` (per row; SAG's choice) for "sgd" and
        "minibatch", and ``L = lambda_max(sum_i s_i x~_i x~_i^T / n) / 4 + alpha`` (x~ = [x, 1]) for
        "gd". With this constant step the stochastic iterates hover around the optimum at a distance
        O(eta), so "sgd" and "minibatch" return the average of the iterates after the first epoch
        (Polyak-Ruppert averaging), which removes most of that noise. With ``"l1"`` they return the
        last (sparse) iterate instead, with the step ``eta / sqrt(t)``: an average of iterates that
        keep entering and leaving zero is not sparse (measured on 600 x 8 standardized data,
        C=0.01: within 1.4 % of saga's optimum after 10 epochs, batch 1 or 32; a constant step
        stayed 6-17 % off with batch 1).
        """
        n = X.shape[0]
        # mean_i(sw_i l_i) + alpha R(w) has the minimizer of (sum_i sw_i l_i + R(w) / C) / S
        alpha = 0.0 if self.penalty is None else 1.0 / (float(self.C) * n)
        fit_b = bool(self.fit_intercept)
        plan = dict(alpha=alpha, schedule=SCHEDULES["constant"])
        if self.solver == "gd":
            L = 0.25 * _top_eigenvalue(X, sw, fit_b, check_random_state(0)) + alpha
            plan.update(batch_size=None, average_start=0.0, patience=1)
        else:
            sq = np.asarray(X.multiply(X).sum(axis=1)).ravel() if sp.issparse(X) else np.einsum(
                "ij,ij->i", X, X, dtype=np.float64)
            L = 0.25 * float(np.max(sw * (sq + fit_b))) + alpha
            batch_size = 1 if self.solver == "sgd" else int(self.batch_size)
            plan.update(batch_size=batch_size, patience=5,
                        average_start=float(-(-n // batch_size) + 1))
            if self.penalty == "l1":
                plan.update(average_start=0.0, schedule=SCHEDULES["invscaling"])
        plan["eta0"] = 1.0 / L
        return plan

    def _fit_stochastic(self, prep, objective, theta0):
        """Epoch loop of the "sgd" / "minibatch" / "gd" solvers (binary problems, in memory).

        Stopping: the epoch's objective (running loss, penalty at the epoch's start) has not
        decreased by ``tol * max(1, best)`` for 5 epochs (1 epoch for "gd", whose objective is exact
        and monotone). See :meth:`_stochastic_plan` for the steps.
        """
        if objective.K != 1:
            raise ValueError(f"solver={self.solver!r} fits binary problems only (its kernels update one "
                             f"weight vector); for {objective.K} classes use solver='lbfgs' "
                             "(multinomial).")
        X, sw = prep.piece.X, prep.weights
        n, d = X.shape
        plan = self._stochastic_plan(X, sw)
        penalty, C, S = self.penalty, float(self.C), float(sw.sum())
        coef0, b0 = objective.split(theta0)
        w, avg_w, l1_q = np.array(coef0[0], dtype=np.float64), np.zeros(d), np.zeros(d)
        state = _sgd.new_state(t=1.0, intercept=float(b0[0]))
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        rng, rows = np.random.default_rng(seed), np.arange(n, dtype=np.int64)
        y_pm = 2.0 * prep.codes - 1.0

        def penalty_of(v):
            if penalty == "l2":
                return 0.5 * float(v @ v)
            return float(np.abs(v).sum()) if penalty == "l1" else 0.0

        def step(epoch):
            order = rng.permutation(rows) if plan["batch_size"] is not None else rows
            # the penalty at the weights the epoch starts from: for "gd" sumloss is the exact loss
            # there, so loss + penalty is the exact objective of the previous iterate
            pen_start = penalty_of(w)
            sumloss, _, n_clipped = _minibatch.epoch(
                prep.X, y_pm, sw, order, w, avg_w, l1_q, state, loss_code=LOSSES["log_loss"].code,
                penalty_code=PENALTIES["none" if penalty is None else penalty],
                schedule_code=plan["schedule"], alpha=plan["alpha"],
                l1_ratio=1.0 if penalty == "l1" else 0.0, eta0=plan["eta0"], power_t=0.5,
                epsilon=0.0, opt_init=0.0, fit_intercept=bool(self.fit_intercept),
                average_start=plan["average_start"], want_loss=True,
                batch_size=plan["batch_size"])
            if n_clipped:
                raise ValueError(f"solver={self.solver!r} diverged at epoch {epoch}: scale the "
                                 "features (e.g. StandardScaler).")
            check_finite_state(epoch, "Scale the features (e.g. StandardScaler).", w, state[:2])
            # the epoch's running objective, in the mean form of objective_
            obj = (sumloss + pen_start / C) / S if penalty is not None else sumloss / S
            return Epoch(obj, f"{self.solver} epoch {epoch}: running objective {obj:.10g}")

        stopping = Stopping(self.tol, plan["patience"], relative=True)
        n_epochs, converged = run_epochs(step, self.max_iter, stopping, verbose=bool(self.verbose),
                                         header=False)
        if not converged and self.max_iter > 0 and self.tol > 0:
            warnings.warn(f"solver={self.solver!r} reached max_iter={self.max_iter} epochs before "
                          "the objective stopped decreasing; increase max_iter.",
                          ConvergenceWarning, stacklevel=3)
        averaged = plan["average_start"] > 0 and state[_sgd.STATE_T] - 1.0 >= plan["average_start"]
        coef, b = ((avg_w, state[_sgd.STATE_AVG_INTERCEPT]) if averaged
                   else (w, state[_sgd.STATE_INTERCEPT]))
        theta = objective.join(coef[None, :], np.array([b]))
        value, _ = objective(theta)
        if penalty == "l1":
            value += penalty_of(coef) / (C * S)
        return theta, n_epochs, value

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
