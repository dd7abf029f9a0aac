"""``fastlin compile``: fill Numba's disk cache ahead of time.

Each estimator family is fitted on tiny data of every dtype and layout the kernels are compiled
for, which compiles (and, with the cache on, writes to disk) exactly the specialisations a real
fit of that family would ask for: the kernels are compiled lazily per argument types, so fitting
is the one way to reach the same types without restating them here. A container image or a
cluster node runs it once at build time with ``NUMBA_CACHE_DIR`` set; every later process then
only loads machine code (see :mod:`fastlin._jit` for where the cache goes).

Covered: per-sample SGD (``SGDClassifier``, ``SGDRegressor``, ``Perceptron`` share one kernel),
mini-batch and full-batch SGD, the streaming driver's loss sum, the Gram pass of
``Ridge``/``LinearRegression`` (C and F order), ``LogisticRegression`` (binary and multinomial;
the serial and the parallel builds of the fused kernel; SAGA's Fortran-ordered state of wide
multi-class CSR), coordinate descent (``Lasso``,
``ElasticNet``) and the CSR structure check; float64 and float32; dense C-ordered and CSR with int32 indices
(scipy's default). Other index types (int64) compile on first use.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

__all__ = ["Job", "jobs", "run", "cached_specialisations"]

DTYPES = ("float64", "float32")
LAYOUTS = ("dense", "csr")

# 64 rows x 6 features: large enough for every code path a fit takes (several batches of 32,
# early-stopping splits are not used), small enough that the fits themselves take microseconds.
_N, _D = 64, 6


@dataclass(frozen=True)
class Job:
    """One fit that compiles one family's kernels for one dtype and layout."""

    family: str
    dtype: str
    layout: str
    fit: Callable[[object, np.ndarray, np.ndarray], object]


def _data(dtype, layout, offset=0.0):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((_N, _D))
    X[rng.random((_N, _D)) < 0.3] = 0.0
    y = (X[:, 0] + 0.1 * rng.standard_normal(_N) > 0).astype(np.int64)
    y3 = np.digitize(X[:, 1], [-0.5, 0.5])
    X = (X + offset).astype(dtype)
    return (sp.csr_matrix(X) if layout == "csr" else X), y, y3


def _fits():
    """family -> function(X, y, y3) that fits it (imports the estimators only when run)."""
    from .. import linear_model as lm
    from ..streaming import fit_chunks

    def sgd_classifier(X, y, y3):
        from ..solvers.parallel import mixing_weights

        lm.SGDClassifier(loss="log_loss", max_iter=2, tol=None).fit(X, y)
        lm.SGDClassifier(max_iter=2, tol=None).fit(X, y3)
        # n_jobs > 1 on large data calls the step size from Python (too large to fit here)
        mixing_weights(np.array([10, 10]), 1.0, dict(schedule_code=1, eta0=0.0, alpha=1e-4,
                                                     opt_init=1e3, power_t=0.5), 1.0)

    def sgd_regressor(X, y, y3):
        lm.SGDRegressor(max_iter=2, tol=None).fit(X, X[:, 0].toarray().ravel()
                                                  if sp.issparse(X) else X[:, 0])

    def minibatch(X, y, y3):
        lm.SGDRegressor(batch_size=32, max_iter=2, tol=None).fit(X, y.astype(float))

    def gd(X, y, y3):
        lm.SGDRegressor(batch_size=None, max_iter=2, tol=None).fit(X, y.astype(float))

    def perceptron(X, y, y3):
        lm.Perceptron(max_iter=2, tol=None).fit(X, y)

    def chunks(X, y, y3):
        fit_chunks(lm.SGDClassifier(), [(X, y)], classes=[0, 1], epochs=2)

    def ridge(X, y, y3):
        # an offset of 1e4 makes the mean large against the spread: the centring pass of the
        # Gram statistic (the Numba block kernel) runs for float64 too, in C and F order
        if sp.issparse(X):
            lm.Ridge().fit(X, y.astype(float))
            return
        for A in (X + 1e4, np.asfortranarray(X + 1e4)):
            lm.Ridge().fit(A.astype(X.dtype), y.astype(float))

    def logistic(X, y, y3):
        lm.LogisticRegression(max_iter=5).fit(X, y)
        lm.LogisticRegression(max_iter=5).fit(X, y3)
        lm.LogisticRegression(solver="newton-cg", max_iter=3).fit(X, y)
        lm.LogisticRegression(solver="newton-cg", max_iter=3).fit(X, y3)
        with warnings.catch_warnings():  # 2 epochs: the SAGA kernels, not a converged model
            warnings.simplefilter("ignore")
            lm.LogisticRegression(solver="sgd", max_iter=2).fit(X, y3)
            lm.LogisticRegression(solver="minibatch", batch_size=16, max_iter=2).fit(X, y)
            if sp.issparse(X):  # 8 classes on CSR: SAGA's state in Fortran order (kernels.classes)
                y8 = np.arange(_N) % 8
                lm.LogisticRegression(solver="sgd", max_iter=2).fit(X, y8)
                lm.LogisticRegression(solver="minibatch", batch_size=16, max_iter=2).fit(X, y8)

    def logistic_parallel(X, y, y3):
        # tiny data runs the serial build of the fused kernel; large fits use the parallel one,
        # compiled here by calling it directly (binary and multinomial)
        from ..data.layout import kernel_X
        from ..kernels.logistic import logistic_loss_grad

        for K, codes in ((1, y), (3, y3)):
            work, grad = np.empty((2, K, _D + 1)), np.empty((K, _D + 1))
            logistic_loss_grad(kernel_X(X), codes.astype(np.float64), np.ones(_N),
                               np.zeros((K, _D)), np.zeros(K), 0.0, 1.0, work, grad)
        # newton-cg's parallel kernels: a fit of a few chunks with the work threshold lifted
        from ..engine import logistic as engine_logistic
        from ..kernels.logistic import MIN_CHUNK_ROWS

        reps = -(-2 * MIN_CHUNK_ROWS // _N)
        Xr = sp.vstack([X] * reps, format="csr") if sp.issparse(X) else np.tile(X, (reps, 1))
        saved = engine_logistic.PARALLEL_MIN_WORK
        engine_logistic.PARALLEL_MIN_WORK = 0
        try:
            for codes in (y, y3):
                lm.LogisticRegression(solver="newton-cg", max_iter=2).fit(Xr, np.tile(codes, reps))
        finally:
            engine_logistic.PARALLEL_MIN_WORK = saved

    def lasso(X, y, y3):
        lm.Lasso(alpha=0.01).fit(X, y.astype(float))
        lm.ElasticNet(alpha=0.01, selection="random", random_state=0).fit(X, y.astype(float))

    return {
        "SGDClassifier": sgd_classifier,
        "SGDRegressor": sgd_regressor,
        "SGDRegressor(batch_size=k)": minibatch,
        "SGDRegressor(gd)": gd,
        "Perceptron": perceptron,
        "fit_chunks": chunks,
        "Ridge": ridge,
        "LogisticRegression": logistic,
        "LogisticRegression(parallel kernel)": logistic_parallel,
        "Lasso/ElasticNet": lasso,
    }


def jobs(families=None):
    """Every (family, dtype, layout) to compile, or those of ``families`` only.

    Returns
    -------
    list of Job
    """
    fits = _fits()
    out = []
    for family, fit in fits.items():
        if families is not None and family not in families:
            continue
        for dtype in DTYPES:
            for layout in LAYOUTS:
                out.append(Job(family, dtype, layout, fit))
    return out


def cached_specialisations():
    """``{kernel name: number of compiled specialisations}`` over :mod:`fastlin.kernels`."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    from .. import kernels

    counts = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for name, obj in vars(module).items():
            if (isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__
                    and obj.signatures):
                counts[f"{info.name}.{name}"] = len(obj.signatures)
    return counts


def run(todo=None, echo=print) -> int:
    """Run the jobs (all by default), echoing one line per job and a summary; return 0 or 1.

    A job that fails is reported and the others still run (exit code 1).
    """
    from .. import _jit

    todo = jobs() if todo is None else list(todo)
    where = {None: "off (nothing is written)", "numba": "Numba's default location"}.get(
        _jit.CACHE_DIR, _jit.CACHE_DIR)
    if _jit.CACHE_DIR == "numba":
        import numba

        if numba.config.CACHE_DIR:
            where = f"NUMBA_CACHE_DIR={numba.config.CACHE_DIR}"
    echo(f"fastlin compile: disk cache {'on' if _jit.CACHE else 'OFF'}, {where}")
    failed = 0
    start = time.perf_counter()
    for job in todo:
        X, y, y3 = _data(job.dtype, job.layout)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tiny fits do not converge; that is fine here
                job.fit(X, y, y3)
        except Exception as exc:  # noqa: BLE001 - report every failing job, then exit 1
            failed += 1
            echo(f"  FAILED   {job.family:28s} {job.dtype:8s} {job.layout:5s} "
                 f"{type(exc).__name__}: {exc}")
            continue
        echo(f"  compiled {job.family:28s} {job.dtype:8s} {job.layout:5s} "
             f"{time.perf_counter() - t0:6.2f} s")
    counts = cached_specialisations()
    echo(f"done in {time.perf_counter() - start:.1f} s; in memory now (compiled, or loaded "
         f"from the cache with their callees inside): {sum(counts.values())} specialisations "
         f"of {len(counts)} kernels: "
         + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    return 1 if failed else 0
