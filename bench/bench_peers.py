"""fastlin beside its peers: scikit-learn, scikit-learn-intelex (oneDAL) and PyTorch.

Table:   python bench/bench_peers.py --table        (full sizes; FASTLIN_BENCH_SCALE shrinks them)
Untimed: FASTLIN_BENCH_SCALE=0.02 pytest bench/bench_peers.py --benchmark-disable
Peers:   pip install -e ".[peers]"   (scikit-learn-intelex; PyTorch separately, if wanted)

Every library runs in its own subprocess: oneDAL starts its own TBB thread pool and PyTorch its
own OpenMP one, and either would fight fastlin's BLAS threads for the cores if they shared a
process. Each fit is timed interleaved with a bare ``X.T @ X`` on the same X in the same process
(the floor of any closed-form fit) and reported as the median ratio of the two, which is what
makes figures from different processes, loads and machines comparable. A peer that is not
installed is skipped, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchutil import peer_available, scaled

HERE = Path(__file__).resolve().parent
CLOSED_FORM_SHAPES = [(1_000_000, 100), (200_000, 512)]
LOGISTIC_SHAPE = (200_000, 100)
#: library -> (module whose presence decides whether it runs, estimators it is timed on)
LIBRARIES = {
    "fastlin": ("fastlin", ("Ridge", "LinearRegression", "LogisticRegression")),
    "sklearn": ("sklearn", ("Ridge", "LinearRegression", "LogisticRegression")),
    "sklearnex": ("sklearnex", ("Ridge", "LinearRegression", "LogisticRegression")),
    "torch": ("torch", ("Ridge", "LinearRegression", "LogisticRegression")),
}
ROUNDS = int(os.environ.get("FASTLIN_PEERS_ROUNDS", "3"))


def _workloads():
    """``(estimator, n, d)`` of every timed fit, sizes scaled by FASTLIN_BENCH_SCALE."""
    out = [(est, scaled(n, 1000), d) for n, d in CLOSED_FORM_SHAPES
           for est in ("Ridge", "LinearRegression")]
    return out + [("LogisticRegression", scaled(LOGISTIC_SHAPE[0], 1000), LOGISTIC_SHAPE[1])]


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


def child(lib, est, n, d):
    """Time ``lib``'s ``est`` on an n x d problem against a bare XᵀX; returns a JSON-able dict."""
    sys.path.insert(0, str(HERE))
    from benchutil import make_classification_data, make_regression_data, ratio_to_bare_gram

    make = make_classification_data if est == "LogisticRegression" else make_regression_data
    X, y = make(n, d, seed=0)
    factory = _estimator(lib, est)
    if factory is None:
        fit = lambda: _torch_fit(est, X, y)  # noqa: E731
        _torch_fit(est, X[:1000], y[:1000])
    else:
        fit = lambda: factory().fit(X, y)  # noqa: E731
        factory().fit(X[:1000], y[:1000])  # JIT, library and thread-pool start outside the timing
    ratio, fit_s, bare_s = ratio_to_bare_gram(fit, X, rounds=ROUNDS)
    return {"lib": lib, "est": est, "n": n, "d": d, "ratio": ratio, "fit_s": fit_s,
            "bare_s": bare_s}


def run_child(lib, est, n, d):
    """:func:`child` in a fresh interpreter (its own thread pools); the parsed result."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", lib, est,
                           str(n), str(d)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} {est} {n}x{d} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- pytest


@pytest.mark.parametrize("workload", _workloads(), ids=lambda w: f"{w[0]}-{w[1]}x{w[2]}")
@pytest.mark.parametrize("lib", list(LIBRARIES))
def test_peer_ratio_to_bare_gram(benchmark, lib, workload):
    module, estimators = LIBRARIES[lib]
    if not peer_available(module):
        pytest.skip(f"{module} is not installed (pip install -e '.[peers]'; torch separately)")
    est, n, d = workload
    assert est in estimators
    benchmark.group = f"peers {est} {n}x{d} (ratio to a bare X.T @ X)"
    res = run_child(lib, est, n, d)
    benchmark.extra_info.update(res)
    print(f"\n{lib} {est} {n}x{d}: {res['ratio']:.2f}x a bare X.T @ X ({res['fit_s']:.3f} s)")
    assert res["ratio"] > 0 and res["bare_s"] > 0
    benchmark.pedantic(lambda: None, rounds=1)


# ----------------------------------------------------------------------------- the table


def table():
    """The markdown table of every library on every workload (missing peers as 'not installed')."""
    libs = list(LIBRARIES)
    lines = ["| estimator | shape | " + " | ".join(libs) + " |",
             "|---|---|" + "---|" * len(libs)]
    for est, n, d in _workloads():
        cells = []
        for lib in libs:
            if not peer_available(LIBRARIES[lib][0]):
                cells.append("not installed")
                continue
            res = run_child(lib, est, n, d)
            cells.append(f"{res['ratio']:.2f}x ({res['fit_s']:.2f} s)")
        lines.append(f"| {est} | {n:,} x {d} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    parser.add_argument("--child", nargs=4, metavar=("LIB", "EST", "N", "D"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        lib, est, n, d = args.child
        print(json.dumps(child(lib, est, int(n), int(d))))
    elif args.table:
        print(table())
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
