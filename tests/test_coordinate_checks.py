"""scikit-learn's common estimator checks for the coordinate-descent estimators."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastlin import ElasticNet, ElasticNetCV, Lasso, LassoCV


@parametrize_with_checks([Lasso(), ElasticNet(), Lasso(alpha=0.1, fit_intercept=False,
                                                       positive=True),
                          ElasticNet(selection="random", random_state=0),
                          LassoCV(cv=3), ElasticNetCV(l1_ratio=[0.2, 1.0], cv=3, alphas=10)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
