"""Pure Numba kernels: arrays and scalars in, arrays out.

Nothing in this package imports scikit-learn, takes a Python object, or calls back into Python.
Variants (loss, penalty, schedule) are chosen by the integer codes of :mod:`fastlin._registry`.
``X`` is a C-contiguous 2-D array or the CSR tuple of :func:`fastlin.data.kernel_X`, read through
the row accessors of :mod:`fastlin.kernels.rows`. Performance notes: ``docs/performance.md``.
"""
