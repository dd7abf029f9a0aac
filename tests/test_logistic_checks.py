"""scikit-learn's estimator checks for LogisticRegression."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlin import LogisticRegression

ESTIMATORS = [LogisticRegression()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
