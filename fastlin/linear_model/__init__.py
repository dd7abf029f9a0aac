"""scikit-learn-compatible estimators: validation, label encoding, the epoch loop, attributes.

A thin layer over :mod:`fastlin.kernels`; no estimator loops over samples in Python.
"""

from __future__ import annotations

from .. import __getattr__ as _root_getattr  # noqa: F401  (same lazy table as the package)


def __getattr__(name: str):
    return _root_getattr(name)
