"""Pure Numba kernels: arrays and scalars in, arrays out.

Nothing in this package imports scikit-learn, takes a Python object, or calls back into Python.
Variants (loss, penalty, schedule) are chosen by the integer codes of :mod:`fastlin._registry`.
"""
