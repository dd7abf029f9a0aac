"""LogisticRegression(solver="newton-cg"): time to the optimum, beside scikit-learn's lbfgs.

Timed (for people)::

    pytest bench/bench_newton.py --benchmark-only --benchmark-group-by=group -s

Untimed (CI, seconds)::

    FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_newton.py --benchmark-disable

Workloads (issue 13): the text-like CSR of ``bench_sgd.py`` (200 000 x 131 072, 50 stored entries
per row, float64 data, int32 indices) and a dense 200 000 x 100 float64 Gaussian problem, both
binary with C=1; and a 10-class softmax on 100 000 rows of the same CSR (many-topic text).
The goal: fastlin's newton-cg reaching the optimum to 1e-6 relative objective in
<= 0.5 x the time of scikit-learn's lbfgs with its defaults (which stops much further from it).
``test_newton_ratio`` times newton-cg, fastlin's lbfgs, scikit-learn's lbfgs (as installed, and
under one BLAS thread: its fastest setting on these fits, where OpenBLAS's threads only add
synchronisation to lbfgs's vector work) and liblinear interleaved, ``rounds`` times, and reports
medians and both ratios; the optimum
is a fastlin newton-cg fit at tol=1e-9, and the objective each fit reaches is in ``extra_info``
(scikit-learn's mean form, computed here with NumPy for both libraries). The JIT is warmed before
anything is timed; ``test_cold_compile_time`` measures the compile in a fresh process with the
disk cache off.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pytest
from benchutil import (cold_compile_seconds, make_classification_data,
                       make_csr_classification_data, scaled)
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from threadpoolctl import threadpool_limits

import fastlin

N = scaled(200_000)
D_DENSE = 100
D_CSR = max(1024, scaled(131_072))
NNZ = 50
#: newton-cg's tol (gradient-norm ratio to the gradient at zero) that reaches 1e-6 relative
#: objective on both workloads: the gap measured ~20 x ratio^2 on the CSR one (ratio 3.4e-3:
#: 2.4e-4, 1.5e-4: 3.7e-7), so 2e-4 stops one outer iteration (15 products) earlier than the
#: default 1e-4 would there; dense: ratio 4.2e-5, gap 1.0e-7 (3 iterations since the line search
#: of one-CG-step steps). Checked by the assertion of test_newton_ratio.
NEWTON_TOL = 2e-4


#: The multinomial workload: the CSR above with half the rows and this many classes, labelled by
#: the arg-max of a random linear map (text classification with many topics).
CLASSES = 10


def objective(est, X, y):
    """scikit-learn's LogisticRegression objective (binary, or softmax), mean form."""
    W = est.coef_.astype(np.float64)
    Z = np.asarray(X @ W.T) + est.intercept_.astype(np.float64)
    if W.shape[0] == 1:
        z = Z[:, 0]
        data = np.mean(np.logaddexp(0.0, z) - y * z)
    else:
        zmax = Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z - zmax).sum(axis=1)) + zmax[:, 0]
        data = np.mean(lse - Z[np.arange(len(y)), np.searchsorted(est.classes_, y)])
    return float(data + 0.5 * np.sum(W ** 2) / (est.C * X.shape[0]))


def _sk(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SkLogisticRegression(**kw)


def _fit(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X, y)


@pytest.fixture(scope="module")
def csr():
    return make_csr_classification_data(N, D_CSR, NNZ)


@pytest.fixture(scope="module")
def dense():
    return make_classification_data(N, D_DENSE)


@pytest.fixture(scope="module")
def csr_multinomial():
    X, _ = make_csr_classification_data(N // 2, D_CSR, NNZ, seed=1)
    W = np.random.default_rng(2).standard_normal((CLASSES, D_CSR))
    return X, np.asarray((X @ W.T).argmax(axis=1)).ravel()


@pytest.fixture(scope="module", autouse=True)
def warm_jit():
    """Compile (or load from the disk cache) the dense and CSR specialisations used below."""
    Xd, yd = make_classification_data(3000, 8)
    Xs, ys = make_csr_classification_data(3000, 64, 5)
    for X, y in ((Xd, yd), (Xs, ys)):
        _fit(lambda: fastlin.LogisticRegression(solver="newton-cg"), X, y)
    yield


def _newton(tol=NEWTON_TOL):
    return lambda: fastlin.LogisticRegression(solver="newton-cg", tol=tol, max_iter=200)


def _run(benchmark, make, X, y, rounds=3):
    est = benchmark.pedantic(lambda: _fit(make, X, y), rounds=rounds, iterations=1,
                             warmup_rounds=0)
    if est is None:
        est = _fit(make, X, y)
    benchmark.extra_info["objective"] = objective(est, X, y)
    benchmark.extra_info["n_iter"] = int(np.max(est.n_iter_))
    return est


@pytest.mark.parametrize("impl", ["newton-cg", "sklearn-lbfgs"])
def test_csr(benchmark, csr, impl):
    X, y = csr
    benchmark.group = f"binary CSR {N}x{D_CSR}, {NNZ} nnz/row, C=1"
    est = _run(benchmark, _newton() if impl == "newton-cg" else _sk, X, y)
    assert est.coef_.shape == (1, D_CSR)


@pytest.mark.parametrize("impl", ["newton-cg", "sklearn-lbfgs"])
def test_dense(benchmark, dense, impl):
    X, y = dense
    benchmark.group = f"binary dense {N}x{D_DENSE} f64, C=1"
    est = _run(benchmark, _newton() if impl == "newton-cg" else _sk, X, y)
    assert est.coef_.shape == (1, D_DENSE)


def _one_blas_thread(make):
    """``make``'s estimator fitted under one BLAS thread: scikit-learn's fastest setting for these
    fits here (its OpenBLAS threads only add synchronisation to the O(D) vector work of lbfgs)."""
    class Limited:
        def __init__(self):
            self.est = make()

        def fit(self, X, y):
            with threadpool_limits(1):
                return self.est.fit(X, y)
    return Limited


#: The contenders of :func:`test_newton_ratio`: name -> estimator factory.
CONTENDERS = {
    "newton-cg": _newton(),
    "fastlin lbfgs": lambda: fastlin.LogisticRegression(),
    "sklearn lbfgs": _sk,
    "sklearn lbfgs, 1 BLAS thread": _one_blas_thread(_sk),
    "sklearn liblinear": lambda: _sk(solver="liblinear"),
}


@pytest.mark.parametrize("workload", ["csr", "dense", "csr_multinomial"])
def test_newton_ratio(benchmark, request, workload):
    """Issue 13's goal, interleaved: newton-cg (to 1e-6 of the optimum) / scikit-learn lbfgs, with
    scikit-learn both as installed and limited to one BLAS thread; fastlin lbfgs and liblinear
    beside them (time and gap)."""
    X, y = request.getfixturevalue(workload)
    rounds = 1 if getattr(benchmark, "disabled", False) else (3 if "multi" in workload else 5)
    opt = objective(_fit(_newton(1e-9), X, y), X, y)
    # liblinear fits one-vs-rest, another model than the softmax: not on the multinomial workload
    contenders = {k: v for k, v in CONTENDERS.items()
                  if "multi" not in workload or "liblinear" not in k}
    times = {name: [] for name in contenders}
    models = {}
    for _ in range(rounds):  # interleaved: all see the same machine load
        for name, make in contenders.items():
            t0 = time.perf_counter()
            models[name] = _fit(make, X, y)
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    gap = {k: (objective(getattr(m, "est", m), X, y) - opt) / abs(opt) for k, m in models.items()}
    ratio = med["newton-cg"] / med["sklearn lbfgs"]
    ratio_1t = med["newton-cg"] / med["sklearn lbfgs, 1 BLAS thread"]
    benchmark.group = "ratios (extra_info)"
    benchmark.extra_info.update(ratio=round(ratio, 3), ratio_one_blas_thread=round(ratio_1t, 3),
                                seconds={k: round(v, 4) for k, v in med.items()}, gap=gap)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    print(f"\n{workload}:")
    for name in contenders:
        print(f"  {name:30s} {med[name]:7.3f} s, objective {gap[name]:.1e} above the optimum")
    print(f"  newton-cg / scikit-learn lbfgs: {ratio:.2f}; / lbfgs with one BLAS thread: "
          f"{ratio_1t:.2f} (goal <= 0.5)")
    assert gap["newton-cg"] <= 1e-6


_COLD = r"""
import time, numpy as np, scipy.sparse as sp
import fastlin
X = np.random.default_rng(0).standard_normal((200, 4)); y = (X[:, 0] > 0).astype(int)
fastlin.LogisticRegression().fit(X, y)   # the fused kernel: compiled before the clock starts
t0 = time.perf_counter()
fastlin.LogisticRegression(solver="newton-cg").fit(X, y)
t1 = time.perf_counter()
fastlin.LogisticRegression(solver="newton-cg").fit(sp.csr_matrix(X), y)
t2 = time.perf_counter()
fastlin.LogisticRegression(solver="newton-cg").fit(X, y)
t3 = time.perf_counter()
print((t1 - t0) - (t3 - t2), t2 - t1)
"""


def test_cold_compile_time(benchmark):
    """Compile time of the curvature and Hessian-vector kernels (disk cache off, fresh process):
    dense float64 (the serial compilations a small problem uses), then CSR (which also compiles
    the fused kernel's CSR specialisation)."""
    out = cold_compile_seconds(benchmark, _COLD, compile_newton_dense_s=0, compile_csr_s=1)
    print(f"\ncold compile: newton kernels dense f64 {float(out[0]):.2f} s, CSR f64 (newton + "
          f"fused) {float(out[1]):.2f} s")
