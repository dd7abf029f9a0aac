"""What is timed: the benchmark problem and the calls into fastlin's kernels.

* the data: every X of the run is a prefix of one random buffer (:class:`Data`), with
  y = X w + 0.5 + unit noise, ‖w‖ ≈ 1;
* the closed form: :func:`fastlin.engine.gram.gram` then
  :func:`fastlin.solvers.normal.solve_normal` (:func:`closed_form_task`), and the solve alone on a
  D × D matrix (:func:`cholesky_task`);
* SGD: the per-sample kernel :func:`fastlin.kernels.sgd.epoch` with squared error, L2 and a
  constant step 1 / (4 R²), averaged from the first sample (:class:`SGD`); one epoch
  (:func:`sgd_epoch_task`), and epochs until the objective is within ``tol`` of the closed-form
  optimum (:class:`ToTolerance`).

This module is the only place that knows the kernels' signatures. Each task returns the durations
it measured itself with :func:`fastlin.report.timing.clock` around exactly the work.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._registry import LOSSES, PENALTIES, SCHEDULES
from ..engine.gram import gram
from ..kernels import sgd as sgd_kernel
from ..solvers.normal import solve_normal
from .timing import clock, spread

__all__ = [
    "Data",
    "SGD",
    "ToTolerance",
    "closed_form_task",
    "sgd_epoch_task",
    "cholesky_task",
    "compile_kernels",
    "solve",
]

# The benchmark's SGD, by registry name: scikit-learn SGDRegressor's squared error with L2, and a
# constant step (1 / (4 R²), see :func:`step_for`).
_LOSS_CODE = LOSSES["squared_error"].code
_PENALTY_CODE = PENALTIES["l2"]
_SCHEDULE_CODE = SCHEDULES["constant"]


def solve(xtx, xty, alpha):
    """Coefficients of ``(xtx + alpha I) w = xty``, by :func:`fastlin.solvers.normal.solve_normal`.

    The adapter drops the name of the solver that was used.
    """
    coef, _solver = solve_normal(xtx, xty, alpha)
    return coef


class SGD:
    """One-epoch adapter over :func:`fastlin.kernels.sgd.epoch` (the SGD of :mod:`fastlin.report`).

    Squared error + L2, constant step ``eta``, averaging from the first sample, intercept fitted;
    the kernel's state arrays are owned here and reused across epochs.
    """

    def __init__(self, X, y, alpha, eta):
        self.X, self.y = X, y
        self.alpha, self.eta = float(alpha), float(eta)
        n, d = X.shape
        self.sw = np.ones(n, dtype=np.float64)
        self.w = np.zeros(d)
        self.avg_w = np.zeros(d)
        self.l1_q = np.zeros(d)
        self.state = sgd_kernel.new_state()

    def reset(self):
        """Back to w = 0, b = 0, t = 1 (every timed epoch starts from the same state)."""
        self.w[:] = 0.0
        self.avg_w[:] = 0.0
        self.l1_q[:] = 0.0
        self.state[:] = sgd_kernel.new_state()

    def epoch(self, order):
        """One pass over the rows in ``order`` (an int64 permutation)."""
        sgd_kernel.epoch(
            self.X, self.y, self.sw, order, self.w, self.avg_w, self.l1_q, self.state,
            loss_code=_LOSS_CODE, penalty_code=_PENALTY_CODE, schedule_code=_SCHEDULE_CODE,
            alpha=self.alpha, l1_ratio=0.0, eta0=self.eta, power_t=0.25, epsilon=0.1,
            opt_init=1.0, fit_intercept=True, average_start=1.0, want_loss=False)

    def averaged(self):
        """The averaged iterate: ``(coef, intercept)``."""
        return self.avg_w, float(self.state[sgd_kernel.STATE_AVG_INTERCEPT])


def objective(X, y, w, b, alpha):
    """mean((X w + b − y)²)/2 + alpha/2 ‖w‖², accumulated in float64."""
    r = X @ w.astype(X.dtype, copy=False)
    r = r.astype(np.float64) + (b - y)
    return 0.5 * float(r @ r) / len(y) + 0.5 * alpha * float(w @ w)


def step_for(X):
    """1 / (4 R²), R² = mean squared row norm (estimated on up to 4096 rows)."""
    head = np.asarray(X[: min(len(X), 4096)], dtype=np.float64)
    r2 = float(np.einsum("ij,ij->", head, head)) / len(head)
    return 1.0 / (4.0 * r2)


class Data:
    """Every X of the run is a contiguous prefix of one random buffer, reshaped: no copies."""

    def __init__(self, n_elements, dtype, rng):
        # float32 normals are ~3x faster to draw than float64 ones; the values' precision does not
        # matter for timings or for the objective (the closed form and SGD see the same X).
        self.buf = rng.standard_normal(n_elements, dtype=np.float32)
        if np.dtype(dtype) != np.float32:
            self.buf = self.buf.astype(dtype)

    def X(self, n, d):
        """The ``n`` × ``d`` matrix on the start of the buffer (a view)."""
        return self.buf[: n * d].reshape(n, d)

    def problem(self, n, d, seed):
        """(X, y): y = X w + 0.5 + noise, ‖w‖ ≈ 1, unit noise."""
        X = self.X(n, d)
        r = np.random.default_rng(seed)
        w = r.standard_normal(d) / math.sqrt(d)
        y = (X @ w.astype(X.dtype)).astype(np.float64) + 0.5 + r.standard_normal(n)
        return X, y


def compile_kernels(dtype, rng) -> float:
    """Compile (and warm) every kernel the sweep calls, on a 64 × 8 problem; return the seconds.

    Done before anything is timed so that no point includes Numba's compilation.
    """
    t0 = time.perf_counter()
    Xs = rng.standard_normal((64, 8)).astype(dtype)
    ys = rng.standard_normal(64)
    st = gram(Xs, ys)
    solve(st.xtx, st.xty, 1.0)
    SGD(Xs, ys, 1e-4, 0.01).epoch(np.arange(64, dtype=np.int64))
    return time.perf_counter() - t0


def closed_form_task(X, y, ridge_alpha, keep):
    """Time gram + solve; ``keep`` receives the solution (the SGD oracle reuses it)."""

    def task():
        w0 = time.perf_counter()
        t0 = clock()
        st = gram(X, y)
        t1 = clock()
        coef = solve(st.xtx, st.xty, ridge_alpha)
        t2 = clock()
        w2 = time.perf_counter()
        keep["coef"] = coef[:, 0]
        keep["intercept"] = float(st.y_mean[0] - st.x_mean @ coef[:, 0])
        return {"gram": t1 - t0, "solve": t2 - t1, "closed_form": t2 - t0, "wall": w2 - w0}

    return task


def sgd_epoch_task(sgd, order):
    """Time one epoch of ``sgd`` (an :class:`SGD`) over ``order``, from a reset state."""

    def task():
        sgd.reset()
        w0 = time.perf_counter()
        t0 = clock()
        sgd.epoch(order)
        t1 = clock()
        return {"sgd_epoch": t1 - t0, "wall": time.perf_counter() - w0}

    return task


def cholesky_task(M, b):
    """Time the solve of ``(M + I) w = b`` (M symmetric positive definite: the Cholesky path)."""

    def task():
        w0 = time.perf_counter()
        t0 = clock()
        solve(M, b, 1.0)
        t1 = clock()
        return {"cholesky": t1 - t0, "wall": time.perf_counter() - w0}

    return task


class ToTolerance:
    """SGD to a relative objective gap, in two phases so that the timed part can be interleaved.

    :meth:`explore` runs epochs from zero, checking the gap on the averaged iterate after each
    (the untimed oracle), and keeps the permutations; :meth:`task` replays exactly those epochs
    without checks, timed. ``optimum`` holds the closed-form ``coef``/``intercept`` of the same
    objective.
    """

    def __init__(self, X, y, plan, seed, optimum):
        self.X, self.y, self.plan, self.seed, self.optimum = X, y, plan, seed, optimum
        self.sgd = SGD(X, y, plan.alpha, step_for(X))

    def explore(self):
        """Run epochs until the gap is within ``plan.tol`` or ``plan.max_epochs`` have run.

        Sets ``orders``, ``gap``, ``reached``, ``first`` (the clock's seconds of the epochs alone:
        the first sample of the point) and ``explore_wall`` (wall seconds, checks included).
        """
        X, y, plan = self.X, self.y, self.plan
        w0 = time.perf_counter()
        f_star = objective(X, y, self.optimum["coef"], self.optimum["intercept"], plan.alpha)
        rng = np.random.default_rng(self.seed)
        self.orders, self.gap, self.reached, first = [], math.inf, False, 0.0
        sgd = self.sgd
        sgd.reset()
        while len(self.orders) < plan.max_epochs:
            order = rng.permutation(len(y)).astype(np.int64)
            self.orders.append(order)
            t = clock()
            sgd.epoch(order)
            first += clock() - t
            w, b_avg = sgd.averaged()
            self.gap = (objective(X, y, w, b_avg, plan.alpha) - f_star) / f_star
            if self.gap <= plan.tol:
                self.reached = True
                break
        self.first = first
        self.explore_wall = time.perf_counter() - w0

    def task(self):
        """A timing task replaying the explored epochs from zero, without the gap checks."""

        def run():
            self.sgd.reset()
            w0 = time.perf_counter()
            t = clock()
            for order in self.orders:
                self.sgd.epoch(order)
            t1 = clock()
            return {"sgd_to_tolerance": t1 - t, "wall": time.perf_counter() - w0}

        return run

    def point(self, timed, itemsize):
        """The report point: median over the exploring run and the timed replays (``timed``)."""
        n, d = self.X.shape
        samples = [self.first]
        if timed:
            samples += list(timed["_samples"].get("sgd_to_tolerance", []))
        sec = float(np.median(samples))
        e = len(self.orders)
        p = {"N": n, "D": d, "seconds": sec if self.reached else None, "epochs": e,
             "gap": float(self.gap), "reached": self.reached,
             "gbps": e * n * d * itemsize / sec / 1e9, "step": self.sgd.eta,
             "oracle_wall_seconds": self.explore_wall,
             "wall_seconds": timed.get("wall") if timed else None, "spread": spread(samples)}
        if not self.reached:
            p["seconds_to_max_epochs"] = sec
        return p
