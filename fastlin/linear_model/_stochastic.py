"""Perceptron and per-sample SGD estimators: ``Perceptron``, ``SGDClassifier``, ``SGDRegressor``.

The estimators validate the input, encode the labels, and run the epoch loop in Python; every
epoch is one call to a Numba kernel (:func:`fastlin.kernels.sgd.sgd_epoch`) that releases the GIL.
Tolerance, ``n_iter_no_change``, early stopping on a held-out fraction, the ``adaptive`` schedule,
verbose output and the divergence check are decided here, once per epoch.

Parameters, defaults, methods and attributes follow scikit-learn's estimators of the same names.
Deliberate differences (documented in each class):

* dense and CSR input give the same model (scikit-learn decays the intercept step by 0.01 on sparse
  input); the L1 clip touches the features with ``x_ij != 0`` in both layouts;
* the weights are kept in float64 whatever the dtype of X (``coef_`` is cast back to X's dtype);
* the averaged weights are the exact running mean of the iterates, also with an L1 penalty;
* the convergence test uses ``sum(sample_weight * loss) / n + alpha R(w_end_of_epoch)``;
* the cumulative-L1 state persists across ``partial_fit`` calls, so ``partial_fit`` over chunks in
  order equals one epoch over their concatenation;
* a divergent fit (non-finite weights) raises a ``ValueError`` naming the learning rate and the
  feature scaling; iterates kept finite only by the 1e12 derivative clip give a
  ``ConvergenceWarning`` saying the same (scikit-learn returns both silently);
* ``fit`` checks X for NaN/inf during the first epoch instead of in a separate pass (same error
  message; ``partial_fit`` checks up front);
* ``Perceptron`` also takes ``average``.
"""

from __future__ import annotations

import functools
import numbers
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import assert_all_finite, check_is_fitted

from .._registry import LOSSES, PENALTIES, SCHEDULES, lookup
from ..data import (check_sample_weight, encode_classes, is_dask_collection, kernel_X, validate_X,
                    validate_X_y)
from ..kernels import minibatch as _minibatch
from ..kernels import sgd as _sgd
from ._base import LinearClassifierMixin

__all__ = ["Perceptron", "SGDClassifier", "SGDRegressor"]

_MAX_INT = np.iinfo(np.int32).max
_DEFAULT_EPSILON = 0.1


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------


def _is_bool(x):
    return isinstance(x, (bool, np.bool_))


def _check_real(name, value, low=None, high=None, low_open=False, high_open=False):
    if _is_bool(value) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    if low is not None and (value < low or (low_open and value == low)):
        bound = ">" if low_open else ">="
        raise ValueError(f"{name} must be {bound} {low}, got {value!r}.")
    if high is not None and (value > high or (high_open and value == high)):
        bound = "<" if high_open else "<="
        raise ValueError(f"{name} must be {bound} {high}, got {value!r}.")
    return float(value)


def _check_int(name, value, low):
    if _is_bool(value) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _penalty(w, penalty_code, l1_ratio):
    """R(w) of scikit-learn's SGD objective: (1 - l1_ratio) ||w||^2 / 2 + l1_ratio ||w||_1."""
    if penalty_code == 0:
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
        """Validate the parameters; return the integer codes and numbers the kernel takes."""
        h = self._hyper()
        loss = lookup(LOSSES, h["loss"], "loss")
        if not self._is_classifier and loss.task != "regression":
            valid = ", ".join(repr(k) for k, v in LOSSES.items() if v.task == "regression")
            raise ValueError(f"Unknown loss={h['loss']!r} for a regressor. Valid values are: {valid}.")
        penalty_code = lookup(PENALTIES, self.penalty, "penalty")
        schedule_code = lookup(SCHEDULES, h["learning_rate"], "learning_rate")
        alpha = _check_real("alpha", self.alpha, low=0.0)
        if schedule_code == SCHEDULES["optimal"] and alpha == 0.0:
            raise ValueError("alpha must be > 0 with learning_rate='optimal': the optimal schedule "
                             "eta = 1 / (alpha (t0 + t)) divides by alpha.")
        if penalty_code == PENALTIES["elasticnet"]:
            if self.l1_ratio is None:
                raise ValueError("l1_ratio must be set when penalty is 'elasticnet'.")
            l1_ratio = _check_real("l1_ratio", self.l1_ratio, 0.0, 1.0)
        elif penalty_code == PENALTIES["l1"]:
            l1_ratio = 1.0
        else:
            l1_ratio = 0.0
        eta0 = _check_real("eta0", self.eta0, low=0.0, low_open=True)
        power_t = _check_real("power_t", h["power_t"])
        epsilon = _check_real("epsilon", h["epsilon"], low=0.0)
        max_iter = _check_int("max_iter", self.max_iter, 1)
        tol = None if self.tol is None else _check_real("tol", self.tol, low=0.0)
        n_iter_no_change = _check_int("n_iter_no_change", self.n_iter_no_change, 1)
        _check_real("validation_fraction", self.validation_fraction, 0.0, 1.0, True, True)
        for name in ("fit_intercept", "shuffle", "early_stopping", "warm_start"):
            if not _is_bool(getattr(self, name)):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}.")
        average = h["average"]
        if _is_bool(average):
            average_start = 1.0 if average else 0.0
        elif isinstance(average, numbers.Integral) and average >= 0:
            average_start = float(average)
        else:
            raise ValueError(f"average must be a bool or an integer >= 0, got {average!r}.")
        _check_int("verbose", int(self.verbose) if _is_bool(self.verbose) else self.verbose, 0)
        self._batch_size()  # validated here, before any state is touched
        if for_partial_fit and self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit.")
        return dict(loss_code=loss.code, penalty_code=penalty_code, schedule_code=schedule_code,
                    alpha=alpha, l1_ratio=l1_ratio, eta0=eta0, power_t=power_t, epsilon=epsilon,
                    max_iter=max_iter, tol=tol, n_iter_no_change=n_iter_no_change,
                    average_start=average_start, fit_intercept=self.fit_intercept)

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
            from .._dask import fit_sgd_blocks

            return fit_sgd_blocks(self, X, y, sample_weight, coef_init=coef_init,
                                  intercept_init=intercept_init)
        if self.warm_start and hasattr(self, "coef_"):
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        return self._fit_impl(X, y, sample_weight=sample_weight, coef_init=coef_init,
                              intercept_init=intercept_init, first_call=True, for_partial_fit=False,
                              **impl_kwargs)

    # -- the epoch kernel: per-sample (batch_size=1), mini-batch (k) or full-batch GD (None) ----

    def _batch_size(self):
        """Validated ``batch_size`` (Perceptron, which has no such parameter, is per-sample)."""
        bs = getattr(self, "batch_size", 1)
        if bs is None:
            return None
        if isinstance(bs, numbers.Integral) and not _is_bool(bs) and bs >= 1:
            return int(bs)
        raise ValueError(f"batch_size must be an integer >= 1 or None (full-batch gradient "
                         f"descent), got {bs!r}.")

    def _epoch_function(self):
        """Return the one-epoch kernel: ``f(X, y, sw, order, w, avg_w, l1_q, state, **params)``.

        ``batch_size=1`` is the per-sample kernel (:func:`fastlin.kernels.sgd.epoch`); ``k > 1``
        mini-batches of k rows and ``None`` full-batch gradient descent
        (:func:`fastlin.kernels.minibatch.epoch`). All share the signature, the return value
        ``(sumloss, n_updates, n_clipped)`` and the state conventions; ``t`` counts steps.
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

    def _run_problem(self, Xk, prob, train_idx, prm, max_iter, val, verbose, check_X=None):
        """The Python epoch loop for one problem; returns the number of epochs run.

        ``check_X``, when given, is called after the first epoch if the kernel met a non-finite
        prediction: X's finiteness was not checked up front (see :meth:`_validate_fit_X`).
        """
        kernel = self._epoch_function()
        rng = np.random.default_rng(prob.seed)
        tol = -np.inf if prm["tol"] is None else prm["tol"]
        early = val is not None
        want_loss = bool(verbose) or (not early and tol > -np.inf)
        n_train = max(train_idx.shape[0], 1)
        eta = prm["eta0"]
        adaptive = prm["schedule_code"] == SCHEDULES["adaptive"]
        opt_init = (_sgd.optimal_init(prm["loss_code"], prm["alpha"], prm["epsilon"])
                    if prm["schedule_code"] == SCHEDULES["optimal"] else 0.0)
        best_obj, best_score, no_improvement = np.inf, -np.inf, 0
        warned = False
        t_start = time.time()
        epoch = 0
        for epoch in range(max_iter):
            if verbose:
                print(f"-- Epoch {epoch + 1}")
            order = rng.permutation(train_idx) if self.shuffle else train_idx
            sumloss, n_updates, n_clipped = kernel(
                Xk, prob.y, prob.sw, order, prob.w, prob.avg_w, prob.l1_q, prob.state,
                loss_code=prm["loss_code"], penalty_code=prm["penalty_code"],
                schedule_code=prm["schedule_code"], alpha=prm["alpha"], l1_ratio=prm["l1_ratio"],
                eta0=eta, power_t=prm["power_t"], epsilon=prm["epsilon"], opt_init=opt_init,
                fit_intercept=prm["fit_intercept"], average_start=prm["average_start"],
                want_loss=want_loss)
            if n_clipped and epoch == 0 and check_X is not None:
                check_X()  # raises "Input X contains NaN/infinity" if that was the cause
            # Divergence: checked once per epoch (O(n_features)), never per sample.
            if not (np.isfinite(prob.state[:2]).all() and np.isfinite(prob.w).all()
                    and np.isfinite(prob.avg_w).all()):
                raise ValueError(
                    f"SGD diverged at epoch {epoch + 1}: the weights became NaN or infinite. "
                    + self._divergence_hint())
            if n_clipped and not warned:
                # A derivative clipped at 1e12 means a prediction 1e12 off its target: the clip
                # (scikit-learn's) kept the weights finite, but the iterates have exploded. Warn
                # rather than raise, as scikit-learn returns such weights silently.
                warned = True
                warnings.warn(
                    f"SGD is diverging at epoch {epoch + 1}: the loss derivative reached 1e12 on "
                    f"{n_clipped} samples and was clipped. " + self._divergence_hint(),
                    ConvergenceWarning, stacklevel=2)
            coef, intercept = self._current(prob, prm)
            objective = np.nan
            if want_loss:
                objective = sumloss / n_train + prm["alpha"] * _penalty(
                    coef, prm["penalty_code"], prm["l1_ratio"])
            if early:
                score = self._validation_score(coef, intercept, *val)
                if tol > -np.inf and score < best_score + tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                best_score = max(best_score, score)
            else:
                if tol > -np.inf and objective > best_obj - tol:
                    no_improvement += 1
                else:
                    no_improvement = 0
                best_obj = min(best_obj, objective)
            if verbose:
                msg = (f"Norm: {np.linalg.norm(coef):.2f}, NNZs: {np.count_nonzero(coef)}, "
                       f"Bias: {intercept:.6f}, T: {int(prob.state[_sgd.STATE_T]) - 1}, "
                       f"Avg. loss: {sumloss / n_train:.6f}, Objective: {objective:.6f}, "
                       f"Updates: {n_updates}")
                if early:
                    msg += f", Validation score: {score:.6f}"
                print(msg)
                print(f"Total training time: {time.time() - t_start:.2f} seconds.")
            if no_improvement >= prm["n_iter_no_change"]:
                if adaptive and eta > 1e-6:
                    eta /= 5.0
                    no_improvement = 0
                else:
                    if verbose:
                        print(f"Convergence after {epoch + 1} epochs took "
                              f"{time.time() - t_start:.2f} seconds")
                    break
        prob.n_iter = epoch + 1
        return prob.n_iter

    def _run_all(self, Xk, problems, train_idx, prm, max_iter, val_of, check_X=None):
        """Run every problem, in threads when ``n_jobs`` allows (the kernels release the GIL).

        Each problem owns its arrays and its seed (drawn up front), so the result does not depend on
        the number of threads or their scheduling.
        """
        verbose = int(self.verbose)
        n_jobs = min(effective_n_jobs(getattr(self, "n_jobs", None)), len(problems))

        def run(k):
            return self._run_problem(Xk, problems[k], train_idx, prm, max_iter, val_of(k), verbose,
                                     check_X)

        if n_jobs <= 1:
            return [run(k) for k in range(len(problems))]
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            return list(pool.map(run, range(len(problems))))

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
        self._avg_w = np.zeros_like(w)
        self._l1_q = np.zeros_like(w)
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
        train_idx = np.flatnonzero(~mask).astype(np.int64)
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
        # t counts steps: one per sample (per-sample SGD), one per batch, or one per epoch (GD).
        bs = self._batch_size()
        n_train = train_idx.shape[0]
        steps = n_train if bs == 1 else (1 if bs is None else -(-n_train // bs))
        self.t_ = t0 + self.n_iter_ * steps
        # Every problem saw the same number of samples per epoch; keep their clocks equal so that a
        # later partial_fit continues all of them from t_ (scikit-learn shares one t_ too).
        self._state[:, _sgd.STATE_T] = self.t_
        self._publish(prm, X.dtype)


# ------------------------------------------------------------------------------------------------
# Classifiers
# ------------------------------------------------------------------------------------------------


class _BaseSGDClassifier(LinearClassifierMixin, ClassifierMixin, _BaseSGD):
    _is_classifier = True

    def _validation_score(self, coef, intercept, X_val, y_val, sw_val):
        """Weighted accuracy of the binary problem (labels in {-1, +1}) on the held-out set."""
        pred = np.where(safe_sparse_dot(X_val, coef) + intercept > 0, 1.0, -1.0)
        return float(np.average(pred == y_val, weights=sw_val))

    def _class_weights(self, classes, y, for_partial_fit):
        if self.class_weight == "balanced" and for_partial_fit:
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: compute the weights "
                "once with sklearn.utils.compute_class_weight('balanced', classes=classes, y=y) on "
                "a large enough sample and pass them as a dict.")
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError("class_weight must be None, 'balanced' or a dict, got "
                             f"{self.class_weight!r}.")
        if self.class_weight is None:
            return np.ones(len(classes))  # (compute_class_weight would re-encode y: 3 ms per 2e5)
        return compute_class_weight(self.class_weight, classes=classes, y=y)

    def _problem_targets(self, y_idx, sample_weight, cw):
        """Per problem: targets in {-1, +1} and sample weight x class weight (float64)."""
        n_classes = len(self.classes_)
        ys, sws = [], []
        if n_classes == 2:
            ys.append(2.0 * y_idx - 1.0)
            if cw[0] == 1.0 and cw[1] == 1.0:
                sws.append(sample_weight)  # shared, read-only in the kernel
            else:
                sws.append(sample_weight * np.where(y_idx == 1, cw[1], cw[0]))
        else:
            for k in range(n_classes):
                pos = y_idx == k
                ys.append(np.where(pos, 1.0, -1.0))
                # One-vs-rest: the class weight of class k weighs its positives; the rest keep 1
                # (as scikit-learn).
                sws.append(sample_weight if cw[k] == 1.0 else sample_weight * np.where(pos, cw[k], 1.0))
        return ys, sws

    def _fit_impl(self, X, y, *, classes, sample_weight, coef_init, intercept_init, first_call,
                  for_partial_fit):
        prm = self._check_params(for_partial_fit=for_partial_fit)
        X, y, check_X = self._validate_fit_X(X, y, first_call, for_partial_fit)
        if for_partial_fit:
            check_classification_targets(y)
            if first_call:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit.")
                all_classes = unique_labels(classes)
            else:
                all_classes = self.classes_
                if classes is not None and not np.array_equal(all_classes, unique_labels(classes)):
                    raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                     f"partial_fit, was: {all_classes!r}")
        else:
            all_classes = None
        if all_classes is None:
            # fit: classes and codes in one O(n) pass for integer labels (LabelEncoder sorts y:
            # 11 ms of a 200 000-sample fit against 0.6 ms)
            all_classes, y_idx = encode_classes(y)
        else:
            encoder = LabelEncoder().fit(all_classes)
            try:
                y_idx = encoder.transform(y)
            except ValueError as exc:
                raise ValueError(f"y contains labels not in classes {all_classes!r}: {exc}") from exc
        n_classes = len(all_classes)
        if n_classes < 2:
            raise ValueError("The number of classes has to be greater than one; got "
                             f"{n_classes} class. A classifier needs samples of at least 2 classes.")
        n_samples, n_features = X.shape
        sample_weight = check_sample_weight(sample_weight, n_samples)
        cw = self._class_weights(all_classes, y, for_partial_fit)
        self.classes_ = all_classes
        n_problems = 1 if n_classes == 2 else n_classes
        if first_call:
            self._init_arrays(n_problems, n_features, coef_init, intercept_init, prm)
        ys, sws = self._problem_targets(y_idx, sample_weight, cw)
        mask = self._validation_split(y, sample_weight)
        rs = check_random_state(self.random_state)
        seeds = rs.randint(_MAX_INT, size=n_problems)
        max_iter = 1 if for_partial_fit else prm["max_iter"]
        self._fit_problems(X, ys, sws, prm, max_iter, mask, seeds, check_X)
        if not for_partial_fit:
            self._warn_convergence(prm)
        return self

    def _warn_convergence(self, prm):
        if prm["tol"] is not None and self.n_iter_ == prm["max_iter"]:
            warnings.warn("Maximum number of iteration reached before convergence. Consider "
                          "increasing max_iter to improve the fit.", ConvergenceWarning)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model with per-sample stochastic gradient descent.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input is kept float32 (``coef_`` too), sparse input is used as CSR.
        y : ndarray of shape (n_samples,)
            Class labels (any hashable, sortable labels: ints, strings, ...).
        coef_init : ndarray of shape (n_classes, n_features) or (n_features,), default=None
            Initial coefficients (``(n_features,)`` or ``(1, n_features)`` for two classes).
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied by the class weights).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight, classes=None)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing from the current state.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem; required on the first call, optional afterwards.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        first_call = not hasattr(self, "classes_")
        return self._fit_impl(X, y, classes=classes, sample_weight=sample_weight, coef_init=None,
                              intercept_init=None, first_call=first_call, for_partial_fit=True)

    def _check_proba(self):
        loss = self._hyper()["loss"]
        if not (loss in LOSSES and LOSSES[loss].proba):
            raise AttributeError(f"probability estimates are not available for loss={loss!r}")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Probability estimates (loss='log_loss' or 'modified_huber').

        Two classes: ``expit(d)`` for log_loss, ``(clip(d, -1, 1) + 1) / 2`` for modified_huber;
        more classes: the one-vs-rest estimates normalized to sum to 1 (Zadrozny and Elkan 2002).

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns ordered as ``classes_``.
        """
        if is_dask_collection(X):
            return self._dask_rows(X, "predict_proba")
        d = self.decision_function(X)
        if self._hyper()["loss"] == "log_loss":
            p = expit(d)
        else:
            p = (np.clip(d, -1.0, 1.0) + 1.0) / 2.0
        if p.ndim == 1:
            return np.stack([1.0 - p, p], axis=1)
        s = p.sum(axis=1)
        zero = s == 0
        if np.any(zero):
            # Every one-vs-rest estimate is 0 (modified_huber): fall back to uniform.
            p[zero, :] = 1.0
            s[zero] = p.shape[1]
        return p / s[:, None]

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class SGDClassifier(_BaseSGDClassifier):
    """Linear classifiers (SVM, logistic regression, perceptron, ...) trained by per-sample SGD.

    One-vs-rest for more than two classes, the binary problems fitted in parallel threads
    (``n_jobs``) with the same result whatever the number of threads. Each epoch is one call to a
    Numba kernel; the objective is ``mean(sample_weight * loss) + alpha R(w)`` with
    ``R = (1 - l1_ratio) ||w||^2 / 2 + l1_ratio ||w||_1`` and the intercept not penalized.

    Parameters
    ----------
    loss : str, default='hinge'
        'hinge', 'log_loss', 'squared_hinge', 'modified_huber', 'perceptron', or a regression loss
        ('squared_error', 'absolute_error', 'huber', 'epsilon_insensitive',
        'squared_epsilon_insensitive') applied to targets in {-1, +1}.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    alpha : float, default=0.0001
        Regularization strength (>= 0; > 0 with learning_rate='optimal').
    l1_ratio : float, default=0.15
        Elastic-net mixing (0 = L2, 1 = L1); used only with penalty='elasticnet'.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Maximum number of epochs.
    tol : float or None, default=1e-3
        Stop when the objective has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    shuffle : bool, default=True
        Shuffle the samples before each epoch (seeded by ``random_state``).
    verbose : int, default=0
    epsilon : float, default=0.1
        Epsilon of 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'.
    n_jobs : int or None, default=None
        Threads for the one-vs-rest problems (-1: all cores).
    random_state : int, RandomState instance or None, default=None
    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive'}, default='optimal'
    eta0 : float, default=0.01
    power_t : float, default=0.5
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when its accuracy stalls.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    class_weight : dict, 'balanced' or None, default=None
    warm_start : bool, default=False
    average : bool or int, default=False
        Averaged SGD: True averages from the first sample, an int ``k`` from the ``k``-th.

    batch_size : int or None, default=1
        1: per-sample SGD. ``k > 1``: mini-batch SGD, each step the mean gradient of ``k`` rows
        (L1 by a proximal soft-threshold, so zeros stay exact). None: full-batch gradient descent,
        one step per epoch. With ``k != 1``, ``t_`` and the schedules count steps, not samples.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights (averaged when averaging); float32 if X was float32.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Epochs run (the maximum over the one-vs-rest problems).
    t_ : float
        Number of weight updates performed plus one.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import SGDClassifier
    >>> X = np.array([[-1.0, -1.0], [-2.0, -1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = np.array([1, 1, 2, 2])
    >>> clf = SGDClassifier(max_iter=1000, tol=1e-3, random_state=0).fit(X, y)
    >>> clf.predict([[-0.8, -1.0]])
    array([1])
    """

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=_DEFAULT_EPSILON, n_jobs=None, random_state=None, learning_rate="optimal",
                 eta0=0.01, power_t=0.5, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, average=False,
                 batch_size=1):
        self.batch_size = batch_size
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average


class Perceptron(_BaseSGDClassifier):
    """The perceptron (Rosenblatt 1958): online, error-driven, one sample at a time.

    For each sample, with ``a = w . x + b``: if ``y a <= 0`` (a mistake; y in {-1, +1}) then
    ``w <- w + eta0 y x`` and ``b <- b + eta0 y``; otherwise nothing changes. It is the SGD kernel
    with loss='perceptron', a constant step ``eta0`` and (by default) no penalty, so it shares
    scikit-learn's ``Perceptron`` parameters, plus ``average`` (the averaged perceptron).

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', None}, default=None
    alpha : float, default=0.0001
    l1_ratio : float, default=0.15
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float or None, default=1e-3
    shuffle : bool, default=True
    verbose : int, default=0
    eta0 : float, default=1.0
    n_jobs : int or None, default=None
    random_state : int, RandomState instance or None, default=0
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    class_weight : dict, 'balanced' or None, default=None
    warm_start : bool, default=False
    average : bool or int, default=False

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    t_ : float
    n_features_in_ : int

    Examples
    --------
    The lecture's exercise: six points, no bias, ``w0 = (1/2, -1/2)``, ``eta = 1``, one pass in
    order. The first point (2, 1; -1) gives ``a = 1/2``: a mistake, so ``w1 = w0 - (2, 1) =
    (-3/2, -3/2)``; the second (1, 2; +1) gives ``a = -9/2``, another mistake, ``w2 = (-1/2, 1/2)``;
    the four remaining points are classified correctly, so the perceptron has converged.

    >>> import numpy as np
    >>> from fastlin import Perceptron
    >>> X = np.array([[2, 1], [1, 2], [3, 1], [3, 2], [1, 3], [2, 3]], dtype=float)
    >>> y = np.array([-1, 1, -1, -1, 1, 1])
    >>> clf = Perceptron(fit_intercept=False, shuffle=False, max_iter=1, tol=None)
    >>> clf.fit(X, y, coef_init=[0.5, -0.5]).coef_
    array([[-0.5,  0.5]])
    >>> clf.score(X, y)
    1.0

    XOR is not linearly separable, so no line classifies all four points:

    >>> X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> Perceptron(shuffle=False, max_iter=100, tol=None).fit(X_xor, [0, 1, 1, 0]).score(X_xor, [0, 1, 1, 0]) < 1
    True
    """

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, verbose=0, eta0=1.0, n_jobs=None,
                 random_state=0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False, average=False):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average

    def _hyper(self):
        return dict(loss="perceptron", learning_rate="constant", epsilon=_DEFAULT_EPSILON,
                    power_t=0.5, average=self.average)


# ------------------------------------------------------------------------------------------------
# Regressor
# ------------------------------------------------------------------------------------------------


class SGDRegressor(RegressorMixin, _BaseSGD):
    """Linear regression trained by per-sample SGD (squared, absolute, huber, epsilon-insensitive).

    The objective is ``mean(sample_weight * loss) + alpha R(w)`` with
    ``R = (1 - l1_ratio) ||w||^2 / 2 + l1_ratio ||w||_1`` and the intercept not penalized.

    Parameters
    ----------
    loss : str, default='squared_error'
        'squared_error', 'absolute_error', 'huber', 'epsilon_insensitive' or
        'squared_epsilon_insensitive'.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
    alpha : float, default=0.0001
    l1_ratio : float, default=0.15
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float or None, default=1e-3
    shuffle : bool, default=True
    verbose : int, default=0
    epsilon : float, default=0.1
    random_state : int, RandomState instance or None, default=None
    learning_rate : {'invscaling', 'constant', 'optimal', 'adaptive'}, default='invscaling'
    eta0 : float, default=0.01
    power_t : float, default=0.25
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its R^2 stalls.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    warm_start : bool, default=False
    average : bool or int, default=False
    batch_size : int or None, default=1
        1: per-sample SGD. ``k > 1``: mini-batch SGD, each step the mean gradient of ``k`` rows
        (L1 by a proximal soft-threshold, so zeros stay exact). None: full-batch gradient descent,
        one step per epoch. With ``k != 1``, ``t_`` and the schedules count steps, not samples.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
    t_ : float
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import SGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> reg = SGDRegressor(random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 1), np.round(reg.intercept_, 1)
    (array([ 1. , -2. ,  0.5]), array([3.]))
    """

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=_DEFAULT_EPSILON, random_state=None, learning_rate="invscaling",
                 eta0=0.01, power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average=False, batch_size=1):
        self.batch_size = batch_size
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average

    def _validation_score(self, coef, intercept, X_val, y_val, sw_val):
        """Weighted R^2 on the held-out set."""
        pred = safe_sparse_dot(X_val, coef) + intercept
        resid = np.average((y_val - pred) ** 2, weights=sw_val)
        mean = np.average(y_val, weights=sw_val)
        total = np.average((y_val - mean) ** 2, weights=sw_val)
        return float(1.0 - resid / total) if total > 0 else (1.0 if resid == 0 else 0.0)

    def _fit_impl(self, X, y, *, sample_weight, coef_init, intercept_init, first_call,
                  for_partial_fit):
        prm = self._check_params(for_partial_fit=for_partial_fit)
        X, y, check_X = self._validate_fit_X(X, y, first_call, for_partial_fit, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        n_samples, n_features = X.shape
        sample_weight = check_sample_weight(sample_weight, n_samples)
        if first_call:
            self._init_arrays(1, n_features, coef_init, intercept_init, prm)
        mask = self._validation_split(y, sample_weight)
        rs = check_random_state(self.random_state)
        seeds = rs.randint(_MAX_INT, size=1)
        max_iter = 1 if for_partial_fit else prm["max_iter"]
        self._fit_problems(X, [y], [sample_weight], prm, max_iter, mask, seeds, check_X)
        self.coef_ = self.coef_.ravel()
        if not for_partial_fit and prm["tol"] is not None and self.n_iter_ == prm["max_iter"]:
            warnings.warn("Maximum number of iteration reached before convergence. Consider "
                          "increasing max_iter to improve the fit.", ConvergenceWarning)
        return self

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model with per-sample stochastic gradient descent.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        coef_init : ndarray of shape (n_features,), default=None
        intercept_init : ndarray of shape (1,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing from the current state.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        first_call = not hasattr(self, "coef_")
        return self._fit_impl(X, y, sample_weight=sample_weight, coef_init=None,
                              intercept_init=None, first_call=first_call, for_partial_fit=True)

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array gives a lazy dask array, computed block by block.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "coef_")
        if is_dask_collection(X):
            from .._dask import map_rows

            return map_rows(self, X, "predict")
        X = validate_X(self, X, reset=False)
        return safe_sparse_dot(X, self.coef_, dense_output=True) + self.intercept_[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
