"""fastlin: fast, trustworthy classic linear models.

Numba kernels (perceptron, per-sample and mini-batch SGD, full-batch gradient descent, one-pass Gram
accumulation + Cholesky, fused logistic loss and gradient) behind scikit-learn-compatible estimators.

The estimators are imported lazily, so ``import fastlin`` stays cheap: a name is resolved (and its
module imported) on first access.
"""

from __future__ import annotations

import importlib

from .linear_model import ESTIMATORS

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    **{name: "fastlin.linear_model" for name in ESTIMATORS},
    "fit_chunks": "fastlin.streaming",
    "fit_sgd_dask": "fastlin.streaming",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fastlin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
