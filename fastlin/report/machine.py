"""What the report was measured on: CPU model, core count, BLAS libraries, software versions."""

from __future__ import annotations

import os
import platform

import numba
import numpy as np
import scipy

__all__ = ["describe_machine"]


def describe_machine() -> dict:
    """The machine and software of the run, as the report's ``machine`` keys.

    Returns
    -------
    dict
        ``cpu``, ``cores``, ``blas`` (one entry per BLAS library loaded, from threadpoolctl),
        ``platform``, ``python``, ``numpy``, ``scipy``, ``numba``.
    """
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "blas": _blas_info(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
    }


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: i.get(k) for k in keep} for i in threadpool_info() if i.get("user_api") == "blas"]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
