"""Per-sample SGD and the perceptron: fastlin beside scikit-learn, one run, one group per workload.

Timed (for people)::

    pytest bench/bench_sgd.py --benchmark-only --benchmark-group-by=group

Untimed (CI, seconds)::

    FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_sgd.py --benchmark-disable

Workloads (issue 3): dense 200 000 x 100 float64, 5 epochs, ``shuffle=False``, ``tol=None`` for
Perceptron, hinge+L2, log+L2, log+L1, squared+L2 averaged; CSR 200 000 x 131 072 with 50 non-zeros
per row for hinge, log_loss (L2), log_loss + L1 and modified_huber; float32 against float64.
Every benchmark records ``ms_per_epoch`` (the whole fit, validation and setup included, divided
by the 5 epochs) and ``GBps`` (bytes of X read per epoch / that time) in ``extra_info``; the JIT is
warmed by a module fixture before anything is timed, and the cold compile time is measured apart
(in a subprocess with the disk cache off) by ``test_cold_compile_time``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from benchutil import (
    cold_compile_seconds,
    make_classification_data,
    make_csr_classification_data,
    make_regression_data,
    scaled,
)
from sklearn import linear_model as sk

import fastlin
from fastlin._registry import LOSSES

EPOCHS = 5
N = scaled(200_000)
D = 100
N_SPARSE = scaled(200_000)
D_SPARSE = 131_072
NNZ_PER_ROW = 50


def _common():
    return dict(max_iter=EPOCHS, tol=None, shuffle=False)


# name -> (fastlin estimator factory, scikit-learn estimator factory, task)
DENSE = {
    "perceptron": (lambda: fastlin.Perceptron(**_common()), lambda: sk.Perceptron(**_common()), "clf"),
    "hinge_l2": (lambda: fastlin.SGDClassifier(loss="hinge", **_common()),
                 lambda: sk.SGDClassifier(loss="hinge", **_common()), "clf"),
    "log_l2": (lambda: fastlin.SGDClassifier(loss="log_loss", **_common()),
               lambda: sk.SGDClassifier(loss="log_loss", **_common()), "clf"),
    "log_l1": (lambda: fastlin.SGDClassifier(loss="log_loss", penalty="l1", **_common()),
               lambda: sk.SGDClassifier(loss="log_loss", penalty="l1", **_common()), "clf"),
    "squared_l2_avg": (lambda: fastlin.SGDRegressor(average=True, **_common()),
                       lambda: sk.SGDRegressor(average=True, **_common()), "reg"),
}

SPARSE = {
    "hinge": (lambda: fastlin.SGDClassifier(loss="hinge", **_common()),
              lambda: sk.SGDClassifier(loss="hinge", **_common())),
    "log_loss": (lambda: fastlin.SGDClassifier(loss="log_loss", **_common()),
                 lambda: sk.SGDClassifier(loss="log_loss", **_common())),
    "log_loss_l1": (lambda: fastlin.SGDClassifier(loss="log_loss", penalty="l1", **_common()),
                    lambda: sk.SGDClassifier(loss="log_loss", penalty="l1", **_common())),
    "modified_huber": (lambda: fastlin.SGDClassifier(loss="modified_huber", **_common()),
                       lambda: sk.SGDClassifier(loss="modified_huber", **_common())),
}


@pytest.fixture(scope="module")
def dense_data():
    Xc, yc = make_classification_data(N, D)
    Xr, yr = make_regression_data(N, D, seed=1)
    return {"clf": (Xc, yc), "reg": (Xr, (yr - yr.mean()) / yr.std())}


@pytest.fixture(scope="module")
def sparse_data():
    """CSR with NNZ_PER_ROW distinct columns per row, standard-normal values."""
    return make_csr_classification_data(N_SPARSE, D_SPARSE, NNZ_PER_ROW)


@pytest.fixture(scope="module", autouse=True)
def warm_jit():
    """Compile (or load from the disk cache) every specialisation the benchmarks use."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 8))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for Xw in (X, X.astype(np.float32), sp.csr_matrix(X), sp.csr_matrix(X.astype(np.float32))):
            fastlin.SGDClassifier(max_iter=1, tol=None).fit(Xw, y)
            fastlin.SGDRegressor(max_iter=1, tol=None).fit(Xw, X[:, 1])
    yield


def _nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def _run(benchmark, make, X, y, *, rounds=3):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make().fit(X, y)

    est = benchmark.pedantic(fit, rounds=rounds, iterations=1, warmup_rounds=0)
    if est is None:  # --benchmark-disable still runs the body once and returns its value
        return None
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        seconds = stats.stats.min
        benchmark.extra_info["ms_per_epoch"] = round(1e3 * seconds / EPOCHS, 2)
        benchmark.extra_info["GBps"] = round(_nbytes(X) * EPOCHS / seconds / 1e9, 2)
    return est


@pytest.mark.parametrize("impl", ["fastlin", "sklearn"])
@pytest.mark.parametrize("workload", list(DENSE))
def test_dense(benchmark, dense_data, workload, impl):
    make_fl, make_sk, task = DENSE[workload]
    X, y = dense_data[task]
    benchmark.group = f"dense {N}x{D} f64 {EPOCHS} epochs: {workload}"
    est = _run(benchmark, make_fl if impl == "fastlin" else make_sk, X, y)
    assert np.isfinite(est.coef_).all()


@pytest.mark.parametrize("impl", ["fastlin", "sklearn"])
@pytest.mark.parametrize("workload", list(SPARSE))
def test_sparse(benchmark, sparse_data, workload, impl):
    make_fl, make_sk = SPARSE[workload]
    X, y = sparse_data
    benchmark.group = f"csr {N_SPARSE}x{D_SPARSE} nnz/row={NNZ_PER_ROW} {EPOCHS} epochs: {workload}"
    est = _run(benchmark, make_fl if impl == "fastlin" else make_sk, X, y)
    assert np.isfinite(est.coef_).all()


@pytest.mark.parametrize("impl", ["fastlin", "sklearn"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dtype(benchmark, dense_data, dtype, impl):
    X, y = dense_data["clf"]
    X = X.astype(dtype)
    benchmark.group = f"dtype {N}x{D} {EPOCHS} epochs: hinge_l2"
    make_fl, make_sk, _ = DENSE["hinge_l2"]
    est = _run(benchmark, make_fl if impl == "fastlin" else make_sk, X, y)
    assert est.coef_.dtype == (np.dtype(dtype) if impl == "fastlin" else est.coef_.dtype)


@pytest.mark.parametrize("impl", ["fastlin", "sklearn"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_every_registry_loss(benchmark, dense_data, loss, impl):
    """One group per loss of the registry: the default penalty and schedule, beside scikit-learn."""
    row = LOSSES[loss]
    if impl == "sklearn" and loss == "absolute_error":
        pytest.skip("scikit-learn's SGDRegressor has no absolute_error (the lecture's MAE) loss")
    task = "clf" if row.task == "classification" else "reg"
    X, y = dense_data[task]
    lib = fastlin if impl == "fastlin" else sk
    cls = lib.SGDClassifier if task == "clf" else lib.SGDRegressor
    benchmark.group = f"registry loss {N}x{D} f64 {EPOCHS} epochs: {loss}"
    est = _run(benchmark, lambda: cls(loss=loss, **_common()), X, y, rounds=1)
    assert est is None or est.coef_.shape[-1] == D


_COLD = r"""
import time, numpy as np
t0 = time.perf_counter()
import fastlin
from fastlin.linear_model import _stochastic
t1 = time.perf_counter()
X = np.random.default_rng(0).standard_normal((50, 4)); y = (X[:, 0] > 0).astype(int)
fastlin.SGDClassifier(max_iter=1, tol=None).fit(X, y)
t2 = time.perf_counter()
fastlin.SGDClassifier(max_iter=1, tol=None).fit(X, y)
t3 = time.perf_counter()
print(t1 - t0, (t2 - t1) - (t3 - t2))
"""


def test_cold_compile_time(benchmark):
    """Compile time of the dense float64 specialisation, disk cache off, in a fresh process."""
    t0 = time.perf_counter()
    out = cold_compile_seconds(benchmark, _COLD, import_s=0, compile_s=1)
    benchmark.extra_info["process_s"] = round(time.perf_counter() - t0, 3)
    print(f"\ncold compile, dense float64 SGD kernel: {float(out[1]):.2f} s "
          f"(import {float(out[0]):.2f} s)")
