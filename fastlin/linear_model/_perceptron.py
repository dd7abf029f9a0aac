"""``Perceptron``: the SGD machinery of :mod:`fastlin.linear_model._stochastic` with the
perceptron loss, a constant step ``eta0`` and (by default) no penalty.

Parameters, defaults, methods and attributes follow scikit-learn's ``Perceptron``; the deliberate
differences are those listed in :mod:`fastlin.linear_model._stochastic`, plus ``average`` (the
averaged perceptron), which scikit-learn's ``Perceptron`` does not take.
"""

from __future__ import annotations

from ._sgd_base import BASE_CONSTRAINTS, CLASSIFIER_CONSTRAINTS, DEFAULT_EPSILON
from ._stochastic import _BaseSGDClassifier

__all__ = ["Perceptron"]


class Perceptron(_BaseSGDClassifier):
    """The perceptron (Rosenblatt 1958): online, error-driven, one sample at a time.

    For each sample, with ``a = w . x + b``: if ``y a <= 0`` (a mistake; y in {-1, +1}) then
    ``w <- w + eta0 y x`` and ``b <- b + eta0 y``; otherwise nothing changes. It is the SGD kernel
    with loss='perceptron', a constant step ``eta0`` and (by default) no penalty, so it shares
    scikit-learn's ``Perceptron`` parameters, plus ``average`` (the averaged perceptron).

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', None}, default=None
        An optional regularizer ``R(w)``, applied at every sample (mistake or not): half the
        squared L2 norm, the L1 norm (cumulative clipping, exact zeros), or their mix set by
        ``l1_ratio``. None, the default, is the plain perceptron.
    alpha : float, default=0.0001
        Strength of the penalty; no effect with penalty=None.
    l1_ratio : float, default=0.15
        Elastic-net mixing (0 = L2, 1 = L1); used only with penalty='elasticnet'.
    fit_intercept : bool, default=True
        Whether to learn the bias ``b`` (never penalized). When False it is not updated: it stays
        at ``intercept_init`` (0 by default).
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training samples) of ``fit``;
        ``partial_fit`` always runs exactly one.
    tol : float or None, default=1e-3
        Stop when the objective, the weighted mean of ``max(0, -y a)`` over the epoch plus
        ``alpha R(w)`` at its end, has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        with ``early_stopping`` the held-out accuracy must rise by ``tol`` instead. None runs
        all ``max_iter`` epochs and never warns about convergence.
    shuffle : bool, default=True
        Shuffle the samples before each epoch (seeded by ``random_state``).
    verbose : int, default=0
        Any positive value prints to stdout, after each epoch, the weight norm, the number of
        non-zero weights, the bias, the step count, the mean loss, the objective, the number of
        updates (mistakes on samples of non-zero weight), the validation score with early
        stopping, the time elapsed, and finally the epoch at which the fit stopped early, if it
        did.
    eta0 : float, default=1.0
        The constant step: a mistake adds ``eta0 y x`` to ``w`` and ``eta0 y`` to ``b``. Must be
        > 0.
    n_jobs : int or None, default=None
        Threads for the one-vs-rest problems (-1: all cores). Cores left over split each problem
        of at least 20 000 rows per core by iterative parameter mixing
        (:mod:`fastlin.solvers.parallel`): the model then depends on ``n_jobs`` (never on the
        threads that actually run); None or 1 is the sequential algorithm.
    random_state : int, RandomState instance or None, default=0
        Seeds the shuffling and the early-stopping split; the default makes repeated fits
        identical. Each problem shuffles with its own NumPy ``Generator``, so the sample order is
        not scikit-learn's for the same seed.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when its accuracy,
        weighted by the sample and class weights, stalls (see ``tol``). Refused by
        ``partial_fit``.
    validation_fraction : float, default=0.1
        Share of the samples held out when ``early_stopping`` is True, in (0, 1); the split is
        stratified by class and drawn with ``random_state``, and the held-out samples are never
        trained on. Unused otherwise.
    n_iter_no_change : int, default=5
        Epochs without improvement (see ``tol``) after which the fit stops.
    class_weight : dict, 'balanced' or None, default=None
        Per-class factors on the sample weights, which scale the steps of the samples of each
        class. A dict maps labels to factors (labels left out get 1); 'balanced' gives class k
        the factor ``n_samples / (n_classes * n_k)`` from the label counts of ``y``. With more
        than two classes, class k's factor weighs its own samples in its one-vs-rest problem
        only. ``partial_fit`` refuses 'balanced': pass a dict.
    warm_start : bool, default=False
        When True, ``fit`` starts from the previous ``coef_`` and ``intercept_`` (unless
        ``coef_init`` or ``intercept_init`` are given) instead of zeros; ``t_`` and the average
        start over. ``partial_fit`` continues from the current state whatever this flag.
    average : bool or int, default=False
        The averaged perceptron, fastlin's addition (scikit-learn's ``Perceptron`` has no such
        parameter): ``coef_`` and ``intercept_`` are the mean of the iterates after each sample
        instead of the last one. True averages from the first sample, an int ``k`` from the
        ``k``-th sample on.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights ``w`` (averaged when averaging); float32 if X was float32.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Biases ``b`` (averaged when averaging), in the dtype of ``coef_``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    n_iter_ : int
        Epochs run (the maximum over the one-vs-rest problems).
    t_ : float
        Samples visited plus one (``n_iter_ * n_train + 1`` after one ``fit``, ``n_train`` the
        samples not held out), mistakes or not.
    n_features_in_ : int
        Number of features seen by ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string feature names.

    See Also
    --------
    SGDClassifier : Other losses and schedules with the same machinery.
    LogisticRegression : A probabilistic linear classifier.

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

    #: Only Perceptron's own parameters; ``_hyper`` fixes loss, learning_rate, epsilon and power_t.
    #: Checked by ``_validate_params`` in ``_check_params`` (fit and partial_fit).
    _parameter_constraints: dict = {**BASE_CONSTRAINTS, **CLASSIFIER_CONSTRAINTS}

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
        return dict(loss="perceptron", learning_rate="constant", epsilon=DEFAULT_EPSILON,
                    power_t=0.5, average=self.average)
