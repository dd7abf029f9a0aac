"""scikit-learn's estimator checks for Perceptron, SGDClassifier and SGDRegressor.

Instance parameters and expected failures are those scikit-learn uses for its own estimators of the
same names (``sklearn/utils/_test_common/instance_generator.py``): ``max_iter=5`` for speed, and
only the two sample-weight equivalence checks declared as failing, with scikit-learn's reason.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlin.linear_model._perceptron import Perceptron
from fastlin.linear_model._stochastic import SGDClassifier, SGDRegressor

# max_iter=5 stops before convergence on purpose (speed), as in scikit-learn's own checks.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# scikit-learn declares exactly these for Perceptron, SGDClassifier and SGDRegressor.
_SKLEARN_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples (per-sample SGD; "
        "scikit-learn declares the same failure for its own estimator)."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples (per-sample SGD; "
        "scikit-learn declares the same failure for its own estimator)."
    ),
}


def _expected_failed_checks(estimator):
    return dict(_SKLEARN_XFAIL)


@parametrize_with_checks(
    [Perceptron(max_iter=5), SGDClassifier(max_iter=5), SGDRegressor(max_iter=5)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
