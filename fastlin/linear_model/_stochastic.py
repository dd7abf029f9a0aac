"""Per-sample SGD estimators: ``SGDClassifier`` and ``SGDRegressor`` (``Perceptron``, the same
machinery with fixed hyper-parameters, is in :mod:`fastlin.linear_model._perceptron`).

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
* ``Perceptron`` also takes ``average``;
* ``batch_size`` (mini-batch SGD and full-batch gradient descent) is fastlin's own.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from .._registry import CLASSIFICATION_LOSSES, LOSSES, REGRESSION_LOSSES
from .._warn import warn
from ..data import check_sample_weight, class_weights, encode_classes
from ._base import LinearClassifierMixin, SparseCoefMixin, predict_rows
from ._sgd_base import (
    BASE_CONSTRAINTS,
    CLASSIFIER_CONSTRAINTS,
    DEFAULT_EPSILON,
    MAX_INT,
    _BaseSGD,
    sgd_constraints,
)

__all__ = ["SGDClassifier", "SGDRegressor"]

# ------------------------------------------------------------------------------------------------
# Classifiers
# ------------------------------------------------------------------------------------------------


class _BaseSGDClassifier(LinearClassifierMixin, ClassifierMixin, _BaseSGD):
    _is_classifier = True

    def _validation_score(self, coef, intercept, X_val, y_val, sw_val):
        """Weighted accuracy of the binary problem (labels in {-1, +1}) on the held-out set."""
        pred = np.where(safe_sparse_dot(X_val, coef) + intercept > 0, 1.0, -1.0)
        return float(np.average(pred == y_val, weights=sw_val))

    def _class_weights(self, classes, y_idx, for_partial_fit):
        if self.class_weight == "balanced" and for_partial_fit:
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: compute the weights "
                "once with sklearn.utils.compute_class_weight('balanced', classes=classes, y=y) on "
                "a large enough sample and pass them as a dict.")
        # scikit-learn's SGD counts the classes without the sample weights. Only "balanced" reads
        # the counts: the bincount is skipped otherwise (1.2 ms of a 200 000-sample fit).
        counts = (np.bincount(y_idx, minlength=len(classes))
                  if isinstance(self.class_weight, str) and self.class_weight == "balanced"
                  else None)
        return class_weights(self.class_weight, classes, counts)

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
        cw = self._class_weights(all_classes, y_idx, for_partial_fit)
        self.classes_ = all_classes
        n_problems = 1 if n_classes == 2 else n_classes
        if first_call:
            self._init_arrays(n_problems, n_features, coef_init, intercept_init, prm)
        ys, sws = self._problem_targets(y_idx, sample_weight, cw)
        mask = self._validation_split(y, sample_weight)
        rs = check_random_state(self.random_state)
        seeds = rs.randint(MAX_INT, size=n_problems)
        max_iter = 1 if for_partial_fit else prm["max_iter"]
        self._fit_problems(X, ys, sws, prm, max_iter, mask, seeds, check_X)
        if not for_partial_fit:
            self._warn_convergence(prm)
        return self

    def _warn_convergence(self, prm):
        if prm["tol"] is not None and self.n_iter_ == prm["max_iter"]:
            warn("Maximum number of iteration reached before convergence. Consider "
                 "increasing max_iter to improve the fit.", ConvergenceWarning)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model by stochastic gradient descent, for up to ``max_iter`` epochs.

        Any previous fit is discarded: the weights start from zeros, from ``coef_init`` and
        ``intercept_init``, or (``warm_start``) from the previous solution, and ``t_`` restarts
        at 1. Ends with a ``ConvergenceWarning`` when ``tol`` is set and all ``max_iter`` epochs
        ran.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data; float32 input is kept float32 (``coef_`` too), sparse input is used as
            CSR. A dask array is streamed block by block through ``partial_fit`` (see
            :func:`fastlin.fit_sgd_dask`).
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
            The fitted estimator.
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight, classes=None)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing from the current state.

        The step count ``t_``, the running average and the cumulative L1 penalty carry over
        from call to call (and from a previous ``fit``): with ``shuffle=False`` and
        ``batch_size=1``, calls on consecutive chunks give, up to rounding, the model of one epoch
        over their concatenation. X is checked for NaN and infinity before any update, so a bad
        chunk leaves the model as it was. ``max_iter`` and ``tol`` play no part, no
        ``ConvergenceWarning`` is issued, and ``early_stopping=True`` or
        ``class_weight='balanced'`` raise a ValueError.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The samples of this step, with the features seen so far.
        y : ndarray of shape (n_samples,)
            Their class labels, each one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the problem; required on the first call, optional afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied by the class weights); None weighs every sample 1.

        Returns
        -------
        self : object
            The updated estimator.
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
            The samples to evaluate.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns ordered as ``classes_``.
        """
        return predict_rows(self, X, "predict_proba", self._proba)

    def _proba(self, X):
        d = self._decision(X)
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
            The samples to evaluate.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Natural logarithm of the probabilities, columns ordered as ``classes_``; ``-inf``
            where a probability is exactly 0 (modified_huber gives such zeros).
        """
        return predict_rows(self, X, "predict_log_proba", self._log_proba)

    def _log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self._proba(X))

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
        The regularizer ``R(w)``: half the squared L2 norm, the L1 norm, or their mix set by
        ``l1_ratio``; None fits without one. The L1 part uses the cumulative clipping of
        Tsuruoka, Tsujii and Ananiadou (2009), so weights it clips are exact zeros.
    alpha : float, default=0.0001
        Regularization strength (>= 0; > 0 with learning_rate='optimal').
    l1_ratio : float, default=0.15
        Elastic-net mixing (0 = L2, 1 = L1); used only with penalty='elasticnet'.
    fit_intercept : bool, default=True
        Whether to learn an intercept. It is never penalized, and its step is the same for dense
        and sparse X (scikit-learn shrinks it by a factor 0.01 on sparse input). When False the
        intercept is not updated: it stays at ``intercept_init`` (0 by default).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training samples) of ``fit``;
        ``partial_fit`` always runs exactly one.
    tol : float or None, default=1e-3
        Stop when the objective has not improved by ``tol`` for ``n_iter_no_change`` epochs. The
        objective is the weighted mean of the losses met during the epoch plus
        ``alpha R(w)`` at the end of the epoch (scikit-learn accumulates the penalty along the
        epoch); with ``early_stopping`` the held-out accuracy must rise by ``tol`` instead. None
        runs all ``max_iter`` epochs and never warns about convergence.
    shuffle : bool, default=True
        Shuffle the samples before each epoch (seeded by ``random_state``).
    verbose : int, default=0
        Any positive value prints to stdout, after each epoch, the weight norm, the number of
        non-zero weights, the intercept, the step count, the mean loss, the objective, the number
        of samples that changed the weights (and the validation score with early stopping), the
        time elapsed, and finally the epoch at which the fit stopped early, if it did.
    epsilon : float, default=0.1
        Epsilon of 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'.
    n_jobs : int or None, default=None
        Threads for the one-vs-rest problems (-1: all cores). Cores left over split each
        per-sample problem of at least 20 000 rows per core by iterative parameter mixing
        (:mod:`fastlin.solvers.parallel`): the model then depends on ``n_jobs`` (not on the
        threads that actually run), the same ``random_state`` and ``n_jobs`` give the same bits,
        and None or 1 is the sequential algorithm.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split. Each ``fit`` or ``partial_fit`` call
        draws one seed per binary problem from it, and each problem shuffles with its own NumPy
        ``Generator``; an int makes fits reproducible. The sample order, hence the model, is not
        the one scikit-learn produces with the same seed.
    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive', 'pa1', 'pa2'}, \
default='optimal'
        The step size at step ``t`` (1-based): ``'optimal'`` ``1 / (alpha (t0 + t - 1))`` with
        Bottou's offset ``t0``; ``'constant'`` ``eta0``; ``'invscaling'``
        ``eta0 / t ** power_t``; ``'adaptive'`` ``eta0``, divided by 5 whenever
        ``n_iter_no_change`` epochs pass without improvement. ``'pa1'``/``'pa2'``: the
        passive-aggressive steps (scikit-learn's, with ``loss='hinge'`` and ``batch_size=1``
        only); ``eta0`` is then the aggressiveness C.
    eta0 : float, default=0.01
        Step size of 'constant', first step of 'invscaling' and 'adaptive', aggressiveness C of
        'pa1' and 'pa2'; the default 'optimal' schedule ignores it. Must be > 0.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule; ignored by the others.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when its accuracy,
        weighted by the sample and class weights, stalls (see ``tol``). Refused by
        ``partial_fit``.
    validation_fraction : float, default=0.1
        Share of the samples held out when ``early_stopping`` is True, in (0, 1); the split is
        stratified by class and drawn with ``random_state``, and the held-out samples are never
        trained on. Unused otherwise.
    n_iter_no_change : int, default=5
        Epochs without improvement (see ``tol``) after which the fit stops; with
        learning_rate='adaptive' the step is divided by 5 instead, and the fit stops once the
        step is no longer above 1e-6.
    class_weight : dict, 'balanced' or None, default=None
        Per-class factors on the sample weights. A dict maps labels to factors (labels left out
        get 1); 'balanced' gives class k the factor ``n_samples / (n_classes * n_k)`` from the
        label counts of ``y``, sample weights not counted. With more than two classes, class k's
        factor weighs its own samples in its one-vs-rest problem only. ``partial_fit`` refuses
        'balanced': pass a dict.
    warm_start : bool, default=False
        When True, ``fit`` starts from the previous ``coef_`` and ``intercept_`` (unless
        ``coef_init`` or ``intercept_init`` are given) instead of zeros; the step count ``t_``,
        the average and the L1 bookkeeping start over, so the schedule restarts, as in
        scikit-learn. ``partial_fit`` continues from the current state whatever this flag.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` and ``intercept_`` are the mean of the iterates instead of the
        last one. True averages from the first step, an int ``k`` from the ``k``-th step on
        (before it, the last iterate is exposed). The mean is exact, also with an L1 penalty
        (scikit-learn averages before the L1 clip).

    batch_size : int or None, default=1
        1: per-sample SGD. ``k > 1``: mini-batch SGD, each step the mean gradient of ``k`` rows
        (the penalty by its proximal step, so L1 zeros stay exact). None: full-batch gradient
        descent, one step per epoch. ``t_``, ``average`` and the schedules count samples for every
        batch size. With ``learning_rate="constant"``/``"adaptive"`` every step is ``eta0``;
        under ``"optimal"``/``"invscaling"`` a batch takes ``k`` times the rate of its middle
        sample, capped at 2 / (the trace of the batch loss's Hessian) so the step stays stable:
        an epoch then moves the weights as far as per-sample SGD would
        (:mod:`fastlin.kernels.minibatch`).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights (averaged when averaging); float32 if X was float32.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (averaged when averaging), in the dtype of ``coef_``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_iter_ : int
        Epochs run (the maximum over the one-vs-rest problems).
    t_ : float
        Samples visited plus one, whatever the batch size (one ``fit``: ``n_iter_ * n_train + 1``,
        ``n_train`` the samples not held out), whether or not a step changed the weights.
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    See Also
    --------
    Perceptron : The same machinery with the perceptron loss and a constant step.
    LogisticRegression : Logistic regression by batch solvers.
    SGDRegressor : Linear regression by stochastic gradient descent.
    fastlin.fit_sgd_dask : Fit on Dask arrays block by block.

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

    #: Checked by ``_validate_params`` in ``_check_params`` (fit and partial_fit). As scikit-learn's
    #: SGDClassifier, ``loss`` also takes the regression losses (applied to targets in {-1, +1}).
    _parameter_constraints: dict = {
        **BASE_CONSTRAINTS,
        **CLASSIFIER_CONSTRAINTS,
        **sgd_constraints(CLASSIFICATION_LOSSES + REGRESSION_LOSSES),
    }

    def __init__(self, loss="hinge", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=DEFAULT_EPSILON, n_jobs=None, random_state=None, learning_rate="optimal",
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


# ------------------------------------------------------------------------------------------------
# Regressor
# ------------------------------------------------------------------------------------------------


class SGDRegressor(SparseCoefMixin, RegressorMixin, _BaseSGD):
    """Linear regression trained by per-sample SGD (squared, absolute, huber, epsilon-insensitive).

    The objective is ``mean(sample_weight * loss) + alpha R(w)`` with
    ``R = (1 - l1_ratio) ||w||^2 / 2 + l1_ratio ||w||_1`` and the intercept not penalized.

    Parameters
    ----------
    loss : str, default='squared_error'
        'squared_error', 'absolute_error', 'huber', 'epsilon_insensitive' or
        'squared_epsilon_insensitive'.
    penalty : {'l2', 'l1', 'elasticnet', None}, default='l2'
        The regularizer ``R(w)``: half the squared L2 norm, the L1 norm, or their mix set by
        ``l1_ratio``; None fits without one. The L1 part uses the cumulative clipping of
        Tsuruoka, Tsujii and Ananiadou (2009), so weights it clips are exact zeros.
    alpha : float, default=0.0001
        Regularization strength (>= 0; > 0 with learning_rate='optimal').
    l1_ratio : float, default=0.15
        Elastic-net mixing (0 = L2, 1 = L1); used only with penalty='elasticnet'.
    fit_intercept : bool, default=True
        Whether to learn an intercept. It is never penalized, and its step is the same for dense
        and sparse X (scikit-learn shrinks it by a factor 0.01 on sparse input). When False the
        intercept is not updated: it stays at ``intercept_init`` (0 by default).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training samples) of ``fit``;
        ``partial_fit`` always runs exactly one.
    tol : float or None, default=1e-3
        Stop when the objective has not improved by ``tol`` for ``n_iter_no_change`` epochs. The
        objective is the weighted mean of the losses met during the epoch plus
        ``alpha R(w)`` at the end of the epoch (scikit-learn accumulates the penalty along the
        epoch; the passive-aggressive schedules use the loss alone); with ``early_stopping`` the
        held-out R^2 must rise by ``tol`` instead. None runs all ``max_iter`` epochs and never
        warns about convergence.
    shuffle : bool, default=True
        Shuffle the samples before each epoch (seeded by ``random_state``).
    verbose : int, default=0
        Any positive value prints to stdout, after each epoch, the weight norm, the number of
        non-zero weights, the intercept, the step count, the mean loss, the objective, the number
        of samples that changed the weights (and the validation score with early stopping), the
        time elapsed, and finally the epoch at which the fit stopped early, if it did.
    epsilon : float, default=0.1
        For 'huber', the residual size at which the loss turns from quadratic to linear; for
        'epsilon_insensitive' and 'squared_epsilon_insensitive', the residual size below which a
        sample costs nothing. Unused by the other losses.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split. Each ``fit`` or ``partial_fit`` call
        draws a seed from it and shuffles with a NumPy ``Generator``; an int makes fits
        reproducible. The sample order, hence the model, is not the one scikit-learn produces
        with the same seed.
    learning_rate : {'invscaling', 'constant', 'optimal', 'adaptive', 'pa1', 'pa2'}, \
default='invscaling'
        The step size at step ``t`` (1-based): ``'invscaling'`` ``eta0 / t ** power_t``;
        ``'constant'`` ``eta0``; ``'optimal'`` ``1 / (alpha (t0 + t - 1))`` with Bottou's
        offset ``t0``; ``'adaptive'`` ``eta0``, divided by 5 whenever ``n_iter_no_change``
        epochs pass without improvement.
        ``'pa1'``/``'pa2'``: the passive-aggressive steps (scikit-learn's, with
        ``loss='epsilon_insensitive'`` and ``batch_size=1`` only); ``eta0`` is then the
        aggressiveness C. A sample with ``x = 0`` makes no ``pa1`` step but still counts in ``t_``
        (scikit-learn skips it entirely).
    eta0 : float, default=0.01
        First step of 'invscaling' (the default) and 'adaptive', step size of 'constant',
        aggressiveness C of 'pa1' and 'pa2'; 'optimal' ignores it. Must be > 0.
    power_t : float, default=0.25
        Exponent of the 'invscaling' schedule; ignored by the others.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its R^2, weighted by the
        sample weights, stalls (see ``tol``). Refused by ``partial_fit``.
    validation_fraction : float, default=0.1
        Share of the samples held out when ``early_stopping`` is True, in (0, 1); the split is
        drawn at random with ``random_state`` (not stratified), and the held-out samples are
        never trained on. Unused otherwise.
    n_iter_no_change : int, default=5
        Epochs without improvement (see ``tol``) after which the fit stops; with
        learning_rate='adaptive' the step is divided by 5 instead, and the fit stops once the
        step is no longer above 1e-6.
    warm_start : bool, default=False
        When True, ``fit`` starts from the previous ``coef_`` and ``intercept_`` (unless
        ``coef_init`` or ``intercept_init`` are given) instead of zeros; the step count ``t_``,
        the average and the L1 bookkeeping start over, so the schedule restarts, as in
        scikit-learn. ``partial_fit`` continues from the current state whatever this flag.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` and ``intercept_`` are the mean of the iterates instead of the
        last one. True averages from the first step, an int ``k`` from the ``k``-th step on
        (before it, the last iterate is exposed). The mean is exact, also with an L1 penalty
        (scikit-learn averages before the L1 clip).
    batch_size : int or None, default=1
        1: per-sample SGD. ``k > 1``: mini-batch SGD, each step the mean gradient of ``k`` rows
        (the penalty by its proximal step, so L1 zeros stay exact). None: full-batch gradient
        descent, one step per epoch. ``t_``, ``average`` and the schedules count samples for every
        batch size. With ``learning_rate="constant"``/``"adaptive"`` every step is ``eta0``;
        under ``"optimal"``/``"invscaling"`` a batch takes ``k`` times the rate of its middle
        sample, capped at 2 / (the trace of the batch loss's Hessian) so the step stays stable:
        an epoch then moves the weights as far as per-sample SGD would
        (:mod:`fastlin.kernels.minibatch`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights (averaged when averaging); float32 if X was float32.
    intercept_ : ndarray of shape (1,)
        Intercept (averaged when averaging), in the dtype of ``coef_``.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 after ``partial_fit``).
    t_ : float
        Samples visited plus one, whatever the batch size (one ``fit``: ``n_iter_ * n_train + 1``,
        ``n_train`` the samples not held out), whether or not a step changed the weights.
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    See Also
    --------
    Ridge : Least squares with an L2 penalty, with no learning rate to tune.
    ElasticNet : Least squares with L1 and L2 penalties, by coordinate descent.
    SGDClassifier : Linear classifiers by stochastic gradient descent.
    fastlin.fit_sgd_dask : Fit on Dask arrays block by block.

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

    #: Checked by ``_validate_params`` in ``_check_params`` (fit and partial_fit).
    _parameter_constraints: dict = {**BASE_CONSTRAINTS, **sgd_constraints(REGRESSION_LOSSES)}

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=0.0001, l1_ratio=0.15,
                 fit_intercept=True, max_iter=1000, tol=1e-3, shuffle=True, verbose=0,
                 epsilon=DEFAULT_EPSILON, random_state=None, learning_rate="invscaling",
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
        seeds = rs.randint(MAX_INT, size=1)
        max_iter = 1 if for_partial_fit else prm["max_iter"]
        self._fit_problems(X, [y], [sample_weight], prm, max_iter, mask, seeds, check_X)
        self.coef_ = self.coef_.ravel()
        if not for_partial_fit and prm["tol"] is not None and self.n_iter_ == prm["max_iter"]:
            warn("Maximum number of iteration reached before convergence. Consider "
                 "increasing max_iter to improve the fit.", ConvergenceWarning)
        return self

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the linear model by stochastic gradient descent, for up to ``max_iter`` epochs.

        Any previous fit is discarded: the weights start from zeros, from ``coef_init`` and
        ``intercept_init``, or (``warm_start``) from the previous solution, and ``t_`` restarts
        at 1. Ends with a ``ConvergenceWarning`` when ``tol`` is set and all ``max_iter`` epochs
        ran.

        Parameters
        ----------
        X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data; float32 input is kept float32 (``coef_`` too), sparse input is used as
            CSR. A dask array is streamed block by block through ``partial_fit`` (see
            :func:`fastlin.fit_sgd_dask`).
        y : ndarray of shape (n_samples,)
            Target values (converted to float64).
        coef_init : ndarray of shape (n_features,), default=None
            Initial weights; None starts from zeros.
        intercept_init : ndarray of shape (1,), default=None
            Initial intercept; None starts from 0.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; None weighs every sample 1.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, coef_init, intercept_init, sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of SGD over the given samples, continuing from the current state.

        The step count ``t_``, the running average and the cumulative L1 penalty carry over
        from call to call (and from a previous ``fit``): with ``shuffle=False`` and
        ``batch_size=1``, calls on consecutive chunks give, up to rounding, the model of one epoch
        over their concatenation. X is checked for NaN and infinity before any update, so a bad
        chunk leaves the model as it was. ``max_iter`` and ``tol`` play no part, no
        ``ConvergenceWarning`` is issued, and ``early_stopping=True`` raises a ValueError.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The samples of this step, with the features seen so far.
        y : ndarray of shape (n_samples,)
            Their target values (converted to float64).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; None weighs every sample 1.

        Returns
        -------
        self : object
            The updated estimator.
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
            ``X @ coef_ + intercept_``, one value per row (lazy for a dask array).
        """
        return predict_rows(self, X, "predict", self._predict)

    def _predict(self, X):
        return safe_sparse_dot(X, self.coef_, dense_output=True) + self.intercept_[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
