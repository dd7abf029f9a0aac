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
