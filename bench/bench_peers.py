"""fastlin beside its peers: scikit-learn, scikit-learn-intelex (oneDAL) and PyTorch.

Table:   python bench/bench_peers.py --table        (full sizes; FASTLIN_BENCH_SCALE shrinks them)
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_peers.py --benchmark-disable
Peers:   pip install -e ".[peers]"   (scikit-learn-intelex; PyTorch separately, if wanted)

Every library runs in its own subprocess: oneDAL starts its own TBB thread pool and PyTorch its
own OpenMP one, and either would fight fastlin's BLAS threads for the cores if they shared a
process. Each fit is timed interleaved with a reference operation on the same X in the same
process and reported as the median ratio of the two, which is what makes figures from different
processes, loads and machines comparable: a bare ``X.T @ X`` for dense X (the floor of any
closed-form fit), a bare SciPy ``X.T @ (X @ v)`` for the text-like CSR workload (one pass of the
products every logistic solver is made of). A peer that is not installed is skipped, with the
reason; PyTorch is not timed on the CSR workload (its L-BFGS on a sparse CSR tensor took 99.8 s
for one fit on the 2-core Xeon, against about 1 s for the others).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from benchutil import peer_available, scaled

HERE = Path(__file__).resolve().parent
CLOSED_FORM_SHAPES = [(1_000_000, 100), (200_000, 512)]
LOGISTIC_SHAPE = (200_000, 100)
#: The text-like CSR of bench_sgd.py / bench_newton.py: rows x features, stored entries per row.
LOGISTIC_CSR_SHAPE = (200_000, 131_072, 50)
#: library -> (module whose presence decides whether it runs, estimators it is timed on)
LIBRARIES = {
    "fastlin": ("fastlin", ("Ridge", "LinearRegression", "LogisticRegression")),
    "sklearn": ("sklearn", ("Ridge", "LinearRegression", "LogisticRegression")),
    "sklearnex": ("sklearnex", ("Ridge", "LinearRegression", "LogisticRegression")),
    "torch": ("torch", ("Ridge", "LinearRegression", "LogisticRegression")),
}
ROUNDS = int(os.environ.get("FASTLIN_PEERS_ROUNDS", "3"))


def _workloads():
    """``(estimator, n, d, layout)`` of every timed fit, sizes scaled by FASTLIN_BENCH_SCALE."""
    out = [(est, scaled(n, 1000), d, "dense") for n, d in CLOSED_FORM_SHAPES
           for est in ("Ridge", "LinearRegression")]
    n, d, _ = LOGISTIC_CSR_SHAPE
    return out + [
        ("LogisticRegression", scaled(LOGISTIC_SHAPE[0], 1000), LOGISTIC_SHAPE[1], "dense"),
        ("LogisticRegression", scaled(n, 1000), max(1024, scaled(d)), "csr")]


# ----------------------------------------------------------------------------- the child process


def _torch_fit(est, X, y):
    """The closed form (centred normal equations, Cholesky) or L-BFGS logistic loss in PyTorch."""
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(X.dtype))
    if est == "LogisticRegression":
        w = torch.zeros(X.shape[1] + 1, dtype=Xt.dtype, requires_grad=True)
        opt = torch.optim.LBFGS([w], max_iter=100, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            z = Xt @ w[:-1] + w[-1]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, yt, reduction="sum")
            loss = loss + 0.5 * (w[:-1] @ w[:-1])  # C = 1, as the other libraries
            loss.backward()
            return loss

        opt.step(closure)
        return w
    xm, ym = Xt.mean(0), yt.mean()
    Xc = Xt - xm
    G = Xc.T @ Xc + (1.0 if est == "Ridge" else 0.0) * torch.eye(X.shape[1], dtype=Xt.dtype)
    return torch.cholesky_solve((Xc.T @ (yt - ym))[:, None], torch.linalg.cholesky(G))


def _estimator(lib, est):
    """A zero-argument fit factory for ``lib``'s ``est`` (same parameters in every library)."""
    kwargs = {"Ridge": {"alpha": 1.0}, "LinearRegression": {},
              "LogisticRegression": {"C": 1.0, "max_iter": 100}}[est]
    if lib == "fastlin":
        import fastlin as mod
    elif lib == "sklearn":
        from sklearn import linear_model as mod
    elif lib == "sklearnex":
        from sklearnex import linear_model as mod
    else:
        return None
    if lib == "sklearn" and est == "Ridge":
        kwargs = {**kwargs, "solver": "cholesky"}  # the normal equations, as fastlin's
    return lambda: getattr(mod, est)(**kwargs)


def _data(est, n, d, layout):
    """The workload's (X, y) and its reference operation (see the module docstring)."""
    sys.path.insert(0, str(HERE))
    from benchutil import (make_classification_data, make_csr_classification_data,
                           make_regression_data)

    if layout == "csr":
        X, y = make_csr_classification_data(n, d, LOGISTIC_CSR_SHAPE[2])
        v = np.random.default_rng(1).standard_normal(d)
        return X, y, lambda: X.T @ (X @ v)
    make = make_classification_data if est == "LogisticRegression" else make_regression_data
    X, y = make(n, d, seed=0)
    return X, y, lambda: X.T @ X


def child(lib, est, n, d, layout="dense"):
    """Time ``lib``'s ``est`` on an n x d problem against the reference; a JSON-able dict."""
    from benchutil import ratio_to_reference

    X, y, reference = _data(est, n, d, layout)
    factory = _estimator(lib, est)
    if factory is None:
        fit = lambda: _torch_fit(est, X, y)  # noqa: E731
        _torch_fit(est, X[:1000], y[:1000])
    else:
        fit = lambda: factory().fit(X, y)  # noqa: E731
        factory().fit(X[:1000], y[:1000])  # JIT, library and thread-pool start outside the timing
    ratio, fit_s, ref_s = ratio_to_reference(fit, reference, rounds=ROUNDS)
    return {"lib": lib, "est": est, "n": n, "d": d, "layout": layout, "ratio": ratio,
            "fit_s": fit_s, "reference_s": ref_s}


def _timed_here(lib, layout):
    """Whether ``lib`` is timed on ``layout`` (None) or why not."""
    if not peer_available(LIBRARIES[lib][0]):
        return "not installed"
    if lib == "torch" and layout == "csr":
        return "not timed"
    return None


def run_child(lib, est, n, d, layout="dense"):
    """:func:`child` in a fresh interpreter (its own thread pools); the parsed result."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", lib, est,
                           str(n), str(d), layout], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} {est} {n}x{d} {layout} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- pytest


def _reference_name(layout):
    return "a bare X.T @ (X @ v)" if layout == "csr" else "a bare X.T @ X"


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: f"{w[0]}-{w[1]}x{w[2]}-{w[3]}")
@pytest.mark.parametrize("lib", list(LIBRARIES))
def test_peer_ratio_to_reference(benchmark, lib, workload):
    est, n, d, layout = workload
    assert est in LIBRARIES[lib][1]
    why_not = _timed_here(lib, layout)
    if why_not:
        pytest.skip(f"{lib}: {why_not} (pip install -e '.[peers]'; torch separately)")
    benchmark.group = f"peers {est} {n}x{d} {layout} (ratio to {_reference_name(layout)})"
    res = run_child(lib, est, n, d, layout)
    benchmark.extra_info.update(res)
    print(f"\n{lib} {est} {n}x{d} {layout}: {res['ratio']:.2f}x {_reference_name(layout)} "
          f"({res['fit_s']:.3f} s)")
    assert res["ratio"] > 0 and res["reference_s"] > 0
    benchmark.pedantic(lambda: None, rounds=1)


# ----------------------------------------------------------------------------- the table


def table():
    """The markdown table of every library on every workload (missing peers as 'not installed')."""
    libs = list(LIBRARIES)
    lines = ["| estimator | shape | reference | " + " | ".join(libs) + " |",
             "|---|---|---|" + "---|" * len(libs)]
    for est, n, d, layout in _workloads():
        cells = []
        for lib in libs:
            why_not = _timed_here(lib, layout)
            if why_not:
                cells.append(why_not)
                continue
            res = run_child(lib, est, n, d, layout)
            cells.append(f"{res['ratio']:.2f}x ({res['fit_s']:.2f} s)")
        shape = f"{n:,} x {d}"
        if layout == "csr":
            shape += f" CSR, {LOGISTIC_CSR_SHAPE[2]} nnz/row"
        lines.append(f"| {est} | {shape} | {_reference_name(layout)} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    parser.add_argument("--child", nargs=5, metavar=("LIB", "EST", "N", "D", "LAYOUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        lib, est, n, d, layout = args.child
        print(json.dumps(child(lib, est, int(n), int(d), layout)))
    elif args.table:
        print(table())
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
