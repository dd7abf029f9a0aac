"""scikit-learn-compatible estimators: parameters, attributes, and the choice of source and solver.

A thin layer over :mod:`fastlin.engine` and :mod:`fastlin.solvers`; no estimator loops over samples
in Python. Names are resolved lazily, so that importing one estimator does not import the others
(a float64 ``Ridge`` fit needs no Numba).
"""

from __future__ import annotations

import importlib

#: public name -> module that defines it
ESTIMATORS = {
    "LinearRegression": "._ridge",
    "Ridge": "._ridge",
    "RidgeCV": "._ridge_cv",
    "Perceptron": "._perceptron",
    "SGDClassifier": "._stochastic",
    "SGDRegressor": "._stochastic",
    "LogisticRegression": "._logistic",
    "Lasso": "._coordinate",
    "ElasticNet": "._coordinate",
    "LassoCV": "._coordinate",
    "ElasticNetCV": "._coordinate",
    "enet_path": "._coordinate",
    "lasso_path": "._coordinate",
}

__all__ = sorted(ESTIMATORS)


def __getattr__(name: str):
    module = ESTIMATORS.get(name)
    if module is None:
        raise AttributeError(f"module 'fastlin.linear_model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
