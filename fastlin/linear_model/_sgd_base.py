"""The machinery the SGD estimators share: parameter checks, the data the kernels see, one
problem's epochs inside THE epoch loop (:func:`fastlin.solvers.epochs.run_epochs`), threads over
the one-vs-rest problems, and the state bookkeeping that ``partial_fit`` continues from."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import assert_all_finite

from .._registry import LOSSES, PA_LOSSES, PA_SCHEDULES, PENALTIES, SCHEDULES
from .._warn import warn
from ..data import is_dask_collection, kernel_X, validate_X_y
from ..kernels import minibatch as _minibatch
from ..kernels import sgd as _sgd
from ..solvers import parallel as _parallel  # issue 13 part 4: one problem on several cores
from ..solvers.epochs import Epoch, Stopping, check_finite_state, run_epochs
from ._partial import fit_dask_sgd

__all__ = ["_BaseSGD", "BASE_CONSTRAINTS", "CLASSIFIER_CONSTRAINTS", "DEFAULT_EPSILON", "MAX_INT",
           "sgd_constraints"]

MAX_INT = np.iinfo(np.int32).max
DEFAULT_EPSILON = 0.1


# ------------------------------------------------------------------------------------------------
# Declared parameter constraints (scikit-learn's ``_validate_params``: InvalidParameterError)
# ------------------------------------------------------------------------------------------------


class _IntervalNoBool(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that rejects ``True``/``False``.

    scikit-learn's ``Interval(Integral, ...)`` accepts booleans (``True`` is an ``int``); fastlin's
    ``batch_size``, which scikit-learn's SGD has no counterpart for, never did.
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


#: The parameters of all three estimators (Perceptron included), as scikit-learn declares them.
#: ``average=0`` is accepted (it means False), a superset of scikit-learn's ``(0, inf)``.
BASE_CONSTRAINTS: dict = {
    "penalty": [StrOptions(set(PENALTIES) - {"none"}), Hidden(StrOptions({"none"})), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "shuffle": ["boolean"],
    "verbose": ["verbose"],
    "eta0": [Interval(Real, 0, None, closed="neither")],
    "random_state": ["random_state"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "warm_start": ["boolean"],
    "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
}

#: The classifiers' own parameters (SGDClassifier and Perceptron).
CLASSIFIER_CONSTRAINTS: dict = {
    "n_jobs": [Integral, None],
    "class_weight": [StrOptions({"balanced"}), dict, None],
}


def sgd_constraints(losses):
    """The parameters SGDClassifier and SGDRegressor have and Perceptron fixes (or lacks)."""
    return {
        "loss": [StrOptions(set(losses))],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "batch_size": [_IntervalNoBool(Integral, 1, None, closed="left"), None],
    }


def _penalty(w, penalty_code, l1_ratio):
    """R(w) of scikit-learn's SGD objective: (1 - l1_ratio) ||w||^2 / 2 + l1_ratio ||w||_1."""
    if penalty_code == PENALTIES["none"]:
        return 0.0
    return (1.0 - l1_ratio) * 0.5 * float(w @ w) + l1_ratio * float(np.abs(w).sum())


class _Problem:
    """The training state of one binary (or regression) problem: arrays the kernel updates."""

    __slots__ = ("y", "sw", "w", "avg_w", "l1_q", "state", "seed", "n_iter")

    def __init__(self, y, sw, w, avg_w, l1_q, state, seed):
        self.y, self.sw, self.w, self.avg_w, self.l1_q = y, sw, w, avg_w, l1_q
        self.state, self.seed, self.n_iter = state, seed, 0


# ------------------------------------------------------------------------------------------------
# Shared machinery
# ------------------------------------------------------------------------------------------------


class _BaseSGD(BaseEstimator):
    """Parameter checks, the epoch loop and the state bookkeeping shared by the three estimators."""

    _is_classifier = False

    # -- parameters -------------------------------------------------------------------------------

    def _hyper(self):
        """The effective hyper-parameters (Perceptron fixes some of them)."""
        return dict(loss=self.loss, learning_rate=self.learning_rate, epsilon=self.epsilon,
                    power_t=self.power_t, average=self.average)

    def _check_params(self, for_partial_fit=False):
        """Validate the parameters; return the integer codes and numbers the kernel takes.

        Each parameter is checked against ``_parameter_constraints`` by scikit-learn's
        ``_validate_params`` (called here rather than through ``_fit_context``, whose behaviour
        differs across scikit-learn 1.7-1.9); what remains are the cross-parameter rules.
        """
        self._validate_params()
        h = self._hyper()
        penalty_code = PENALTIES["none" if self.penalty is None else self.penalty]
        schedule_code = SCHEDULES[h["learning_rate"]]
        alpha = float(self.alpha)
        if schedule_code == SCHEDULES["optimal"] and alpha == 0.0:
            raise ValueError("alpha must be > 0 with learning_rate='optimal': the optimal schedule "
                             "eta = 1 / (alpha (t0 + t)) divides by alpha.")
        if h["learning_rate"] in PA_SCHEDULES:
            self._check_passive_aggressive(h)
        if penalty_code == PENALTIES["elasticnet"]:
            if self.l1_ratio is None:
                raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
            l1_ratio = float(self.l1_ratio)
        else:
            l1_ratio = 1.0 if penalty_code == PENALTIES["l1"] else 0.0
        if for_partial_fit and self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit.")
        return dict(loss_code=LOSSES[h["loss"]].code, penalty_code=penalty_code,
                    schedule_code=schedule_code, alpha=alpha, l1_ratio=l1_ratio,
                    eta0=float(self.eta0), power_t=float(h["power_t"]),
                    epsilon=float(h["epsilon"]), max_iter=int(self.max_iter),
                    tol=None if self.tol is None else float(self.tol),
                    n_iter_no_change=int(self.n_iter_no_change),
                    average_start=float(h["average"]), fit_intercept=bool(self.fit_intercept))

    def _check_passive_aggressive(self, h):
        """``pa1``/``pa2``: scikit-learn's loss rule, and per-sample steps only.

        The passive-aggressive step is defined from one sample's loss and ``||x||^2``; a batch rule
        would be fastlin's invention with no reference to match, so batches are refused.
        """
        lr = h["learning_rate"]
        want = PA_LOSSES["classification" if self._is_classifier else "regression"]
        if h["loss"] != want:
            raise ValueError(f"Learning rate {lr!r} only works with loss {want!r}.")
        if self._batch_size() != 1:
            supported = ", ".join(repr(k) for k in SCHEDULES if k not in PA_SCHEDULES)
            raise ValueError(
                f"learning_rate={lr!r} is a per-sample rule (a step from one sample's loss and "
                f"||x||^2) and needs batch_size=1, got batch_size={self._batch_size()!r}; "
                f"mini-batch and full-batch steps support learning_rate in {supported}.")

    # -- data -------------------------------------------------------------------------------------

    @staticmethod
    def _kernel_X(X):
        """The kernel's view of X: C-contiguous ndarray, or the CSR ``(data, indices, indptr)``."""
        if sp.issparse(X):
            if X.format != "csr":
                X = X.tocsr()
            return kernel_X(X)
        return np.ascontiguousarray(X)

    def _validate_fit_X(self, X, y, first_call, for_partial_fit, **kwargs):
        """Validate X and y; for ``fit``, defer X's finiteness check to the first epoch.

        The first epoch reads every training row anyway, and a NaN or infinity in a row makes its
        prediction non-finite (no ``nnan``/``ninf`` fast-math flags: ``0 * inf`` stays NaN), which
        the kernel counts. Only then is X scanned again to raise scikit-learn's usual error
        ("Input X contains NaN."). This saves one full read of X per ``fit`` (about 10 ms, 1/8 of a
        5-epoch fit, on 200 000 x 100 float64). ``partial_fit`` checks up front, so that a bad
        batch cannot touch the state. Returns ``(X, y, check_X)`` with ``check_X`` None when X was
        checked.
        """
        if for_partial_fit:
            X, y = validate_X_y(self, X, y, reset=first_call, **kwargs)
            return X, y, None
        X, y = validate_X_y(self, X, y, reset=first_call, ensure_all_finite=False, **kwargs)
        name = type(self).__name__

        def check_X(rows=None):
            A = X if rows is None else X[np.flatnonzero(rows)]
            assert_all_finite(A.data if sp.issparse(A) else A, input_name="X", estimator_name=name)

        return X, y, check_X

    def _validation_split(self, y, sw):
        """Boolean mask of the held-out samples (all False without early stopping)."""
        n = y.shape[0]
        mask = np.zeros(n, dtype=bool)
        if not self.early_stopping:
            return mask
        splitter = StratifiedShuffleSplit if self._is_classifier else ShuffleSplit
        cv = splitter(test_size=self.validation_fraction, random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros((n, 1)), y))
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                f"Splitting {n} samples into a train set and a validation set with "
                f"validation_fraction={self.validation_fraction!r} led to an empty set "
                f"({idx_train.shape[0]} and {idx_val.shape[0]} samples). Please either change "
                "validation_fraction, increase number of samples, or disable early_stopping.")
        if not np.any(sw[idx_val] > 0):
            raise ValueError("The sample weights for the validation set are all zero, consider "
                             "using a different random_state.")
        mask[idx_val] = True
        return mask

    def _fit(self, X, y, coef_init, intercept_init, sample_weight, **impl_kwargs):
        """The body of every SGD estimator's ``fit``: Dask dispatch, warm start, then the epochs."""
        if is_dask_collection(X) or is_dask_collection(y):
            self._validate_params()  # before any dask work (partial_fit validates again)
            if coef_init is not None or intercept_init is not None:
                raise ValueError("coef_init/intercept_init are not supported with dask input; fit "
                                 "on a first block with them, then continue with partial_fit.")
            return fit_dask_sgd(self, X, y, sample_weight)
        if self.warm_start and hasattr(self, "coef_"):
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        return self._fit_impl(X, y, sample_weight=sample_weight, coef_init=coef_init,
                              intercept_init=intercept_init, first_call=True, for_partial_fit=False,
                              **impl_kwargs)

    # -- the epoch kernel: per-sample (batch_size=1), mini-batch (k) or full-batch GD (None) ----

    def _batch_size(self):
        """``batch_size`` as an int or None (Perceptron, which has no such parameter: 1).

        Checked by the declared constraints in :meth:`_check_params`.
        """
        bs = getattr(self, "batch_size", 1)
        return None if bs is None else int(bs)

    def _epoch_function(self):
        """Return the one-epoch kernel: ``f(X, y, sw, order, w, avg_w, l1_q, state, **params)``.

        ``batch_size=1`` is the per-sample kernel (:func:`fastlin.kernels.sgd.epoch`); ``k > 1``
        mini-batches of k rows and ``None`` full-batch gradient descent
        (:func:`fastlin.kernels.minibatch.epoch`). All share the signature, the return value
        ``(sumloss, n_updates, n_clipped)`` and the state conventions; ``t`` counts samples.
        """
        bs = self._batch_size()
        if bs == 1:
            return _sgd.epoch
        return functools.partial(_minibatch.epoch, batch_size=bs)

    # -- the epoch loop ---------------------------------------------------------------------------

    def _divergence_hint(self):
        return (f"The learning rate is probably too large for this data "
                f"(learning_rate={self._hyper()['learning_rate']!r}, eta0={self.eta0!r}, "
                f"alpha={self.alpha!r}), or the features are not scaled: standardize X (e.g. "
                "sklearn.preprocessing.StandardScaler) or lower eta0.")

    def _averaging_active(self, prm, t):
        return prm["average_start"] > 0 and prm["average_start"] <= t - 1.0

    def _current(self, prob, prm):
        """(coef, intercept) the model would expose now: averaged once averaging has started."""
        if self._averaging_active(prm, prob.state[_sgd.STATE_T]):
            return prob.avg_w, prob.state[_sgd.STATE_AVG_INTERCEPT]
        return prob.w, prob.state[_sgd.STATE_INTERCEPT]

    def _run_problem(self, Xk, prob, train_idx, prm, max_iter, val, verbose, check_X=None,
                     report=warn, n_parts=1):
        """One problem's epochs, inside THE epoch loop; returns the number of epochs run.

        ``check_X``, when given, is called after the first epoch if the kernel met a non-finite
        prediction: X's finiteness was not checked up front (see :meth:`_validate_fit_X`).
        ``report(message, category)`` issues the problem's warnings (see :meth:`_run_all`).
        ``n_parts > 1``: each epoch by parameter mixing over that many parts, in threads
        (:mod:`fastlin.solvers.parallel`); 1 is the sequential kernel itself.
        """
        kernel = _parallel.epoch_function(self._epoch_function(), n_parts)
        rng = np.random.default_rng(prob.seed)
        early = val is not None
        stopping = Stopping(prm["tol"], prm["n_iter_no_change"], maximize=early)
        want_loss = bool(verbose) or (not early and stopping.active)
        n_train = max(train_idx.shape[0], 1)
        eta = [prm["eta0"]]
        opt_init = (_sgd.optimal_init(prm["loss_code"], prm["alpha"], prm["epsilon"])
                    if prm["schedule_code"] == SCHEDULES["optimal"] else 0.0)
        warned = [False]
        passive_aggressive = prm["schedule_code"] in {SCHEDULES[k] for k in PA_SCHEDULES}

        def step(epoch):
            order = rng.permutation(train_idx) if self.shuffle else train_idx
            sumloss, n_updates, n_clipped = kernel(
                Xk, prob.y, prob.sw, order, prob.w, prob.avg_w, prob.l1_q, prob.state,
                loss_code=prm["loss_code"], penalty_code=prm["penalty_code"],
                schedule_code=prm["schedule_code"], alpha=prm["alpha"], l1_ratio=prm["l1_ratio"],
                eta0=eta[0], power_t=prm["power_t"], epsilon=prm["epsilon"], opt_init=opt_init,
                fit_intercept=prm["fit_intercept"], average_start=prm["average_start"],
                want_loss=want_loss)
            if n_clipped and epoch == 1 and check_X is not None:
                check_X()  # raises "Input X contains NaN/infinity" if that was the cause
            # A sum is finite iff every term is (or it overflowed: then the full check, which
            # passes): one read of w per epoch instead of isfinite's temporary (0.35 -> 0.05 ms
            # an epoch for 131 072 weights, cProfile).
            with np.errstate(over="ignore", invalid="ignore"):  # inf - inf: NaN, no warning
                total = prob.w.sum() + prob.state[0] + prob.state[1]
                if prm["average_start"] > 0:  # avg_w stays zero without averaging
                    total += prob.avg_w.sum()
            if not np.isfinite(total):
                check_finite_state(epoch, self._divergence_hint(), prob.state[:2], prob.w,
                                   prob.avg_w)
            if n_clipped and not warned[0]:
                # A derivative clipped at 1e12 means a prediction 1e12 off its target: the clip
                # (scikit-learn's) kept the weights finite, but the iterates have exploded. Warn
                # rather than raise, as scikit-learn returns such weights silently.
                warned[0] = True
                report(f"SGD is diverging at epoch {epoch}: the loss derivative reached 1e12 on "
                       f"{n_clipped} samples and was clipped. " + self._divergence_hint(),
                       ConvergenceWarning)
            coef, intercept = self._current(prob, prm)
            objective = np.nan
            if want_loss:
                # passive-aggressive: the loss alone, as scikit-learn's stopping test
                objective = sumloss / n_train
                if not passive_aggressive:
                    objective += prm["alpha"] * _penalty(coef, prm["penalty_code"],
                                                         prm["l1_ratio"])
            score = self._validation_score(coef, intercept, *val) if early else None
            message = None
            if verbose:
                message = (f"Norm: {np.linalg.norm(coef):.2f}, NNZs: {np.count_nonzero(coef)}, "
                           f"Bias: {intercept:.6f}, T: {int(prob.state[_sgd.STATE_T]) - 1}, "
                           f"Avg. loss: {sumloss / n_train:.6f}, Objective: {objective:.6f}, "
                           f"Updates: {n_updates}")
                if early:
                    message += f", Validation score: {score:.6f}"
            return Epoch(score if early else objective, message)

        def on_stall():
            # the adaptive schedule divides its step by 5 instead of stopping, down to 1e-6
            if prm["schedule_code"] == SCHEDULES["adaptive"] and eta[0] > 1e-6:
                eta[0] /= 5.0
                return True
            return False

        prob.n_iter, _ = run_epochs(step, max_iter, stopping, verbose=bool(verbose),
                                    on_stall=on_stall)
        return prob.n_iter

    def _run_all(self, Xk, problems, train_idx, prm, max_iter, val_of, check_X=None):
        """Run every problem, in threads when ``n_jobs`` allows (the kernels release the GIL).

        Each problem owns its arrays and its seed (drawn up front), so the result does not depend on
        the number of threads or their scheduling.
        """
        verbose = int(self.verbose)
        n_jobs = min(effective_n_jobs(getattr(self, "n_jobs", None)), len(problems))
        # -- issue 13 part 4: cores left over by the problems split each one (solvers/parallel.py)
        n_parts = _parallel.n_parts_for(getattr(self, "n_jobs", None), len(problems), Xk,
                                        train_idx.shape[0], problems[0].w.shape[0],
                                        self._batch_size())

        def run(k, report=warn):
            return self._run_problem(Xk, problems[k], train_idx, prm, max_iter, val_of(k), verbose,
                                     check_X, report, n_parts)

        if n_jobs <= 1:
            return [run(k) for k in range(len(problems))]
        # A worker thread's stack holds no frame of the caller's, so a warning issued there would
        # name the thread pool: the workers collect theirs, issued here in problem order once every
        # worker is done (also when one of them raised).
        pending = [[] for _ in problems]

        def run_collecting(k):
            return run(k, lambda *args: pending[k].append(args))

        try:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                return list(pool.map(run_collecting, range(len(problems))))
        finally:
            for args in (args for collected in pending for args in collected):
                warn(*args)

    # -- state bookkeeping ------------------------------------------------------------------------

    def _init_arrays(self, n_problems, n_features, coef_init, intercept_init, prm):
        """Fresh float64 state for ``n_problems`` problems, optionally from initial values."""
        w = np.zeros((n_problems, n_features))
        if coef_init is not None:
            c = np.asarray(coef_init, dtype=np.float64)
            if n_problems == 1:
                c = c.ravel()
                if c.shape != (n_features,):
                    raise ValueError(f"coef_init has shape {np.shape(coef_init)}, expected "
                                     f"({n_features},) or (1, {n_features}).")
            elif c.shape != (n_problems, n_features):
                raise ValueError(f"coef_init has shape {np.shape(coef_init)}, expected "
                                 f"({n_problems}, {n_features}).")
            if not np.isfinite(c).all():
                raise ValueError("coef_init contains NaN or infinity.")
            w[:] = c.reshape(w.shape)
        b = np.zeros(n_problems)
        if intercept_init is not None:
            i0 = np.asarray(intercept_init, dtype=np.float64).ravel()
            if i0.shape != (n_problems,):
                raise ValueError(f"intercept_init has shape {np.shape(intercept_init)}, expected "
                                 f"({n_problems},).")
            if not np.isfinite(i0).all():
                raise ValueError("intercept_init contains NaN or infinity.")
            b[:] = i0
        state = np.zeros((n_problems, _sgd.STATE_SIZE))
        state[:, _sgd.STATE_INTERCEPT] = b
        state[:, _sgd.STATE_T] = 1.0
        self._w = w
        # np.zeros, not zeros_like: its pages are mapped lazily, and most fits never touch l1_q or
        # avg_w (0.42 -> 0.04 ms for 131 072 weights, docs/performance.md)
        self._avg_w = np.zeros(w.shape)
        self._l1_q = np.zeros(w.shape)
        self._state = state
        self.t_ = 1.0

    def _publish(self, prm, dtype):
        """Set ``coef_`` / ``intercept_`` from the state (averaged once averaging has started)."""
        if self._averaging_active(prm, self.t_):
            coef, intercept = self._avg_w, self._state[:, _sgd.STATE_AVG_INTERCEPT]
        else:
            coef, intercept = self._w, self._state[:, _sgd.STATE_INTERCEPT]
        self.coef_ = np.array(coef, dtype=dtype, order="C")
        self.intercept_ = np.array(intercept, dtype=dtype)

    def _fit_problems(self, X, ys, sws, prm, max_iter, mask, seeds, check_X=None):
        """Build the problems over the shared state arrays, run them, publish the attributes."""
        Xk = self._kernel_X(X)
        # Without held-out rows an arange, not flatnonzero of the mask and an int64 copy of it
        # (4 ms of a 200 000-sample CSR fit, cProfile).
        train_idx = (np.flatnonzero(~mask).astype(np.int64, copy=False) if mask.any()
                     else np.arange(mask.shape[0], dtype=np.int64))
        t0 = self.t_
        problems = []
        for k in range(len(ys)):
            self._state[k, _sgd.STATE_T] = t0
            problems.append(_Problem(ys[k], sws[k], self._w[k], self._avg_w[k], self._l1_q[k],
                                     self._state[k], int(seeds[k])))
        if mask.any():
            val_rows = np.flatnonzero(mask)
            X_val = (X.tocsr() if sp.issparse(X) else X)[val_rows]

            def val_of(k):
                return (X_val, ys[k][val_rows], sws[k][val_rows])
        else:
            def val_of(k):
                return None
        if check_X is not None and mask.any():
            check_X(mask)  # held-out rows are never visited by the kernel: check them now
        n_iters = self._run_all(Xk, problems, train_idx, prm, max_iter, val_of, check_X)
        self.n_iter_ = int(max(n_iters))
        # t counts samples for every batch size (fastlin.kernels.minibatch), as scikit-learn's t_.
        self.t_ = t0 + self.n_iter_ * train_idx.shape[0]
        # Every problem saw the same number of samples per epoch; keep their clocks equal so that a
        # later partial_fit continues all of them from t_ (scikit-learn shares one t_ too).
        self._state[:, _sgd.STATE_T] = self.t_
        self._publish(prm, X.dtype)


