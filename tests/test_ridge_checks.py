"""scikit-learn's common estimator checks for the closed-form estimators."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlin import LinearRegression, Ridge


@parametrize_with_checks([LinearRegression(), Ridge(), Ridge(alpha=0.5, fit_intercept=False)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
