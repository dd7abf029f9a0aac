"""One SGD problem on several cores, deterministically: iterative parameter mixing.

Per-sample SGD is a chain (each update reads the weights the previous one wrote), so one problem
cannot be split across cores without changing the algorithm. Hogwild-style shared weights (Niu et
al. 2011) change it *and* make the result depend on thread timing; fastlin does not race. Instead
this module runs the published alternative, iterative parameter mixing (Zinkevich, Weimer, Smola
and Li 2010, "Parallelized stochastic gradient descent"; McDonald, Hall and Mann 2010, "Distributed
training strategies for the structured perceptron"), with fixed partitions and a fixed reduction:

1. The epoch's visiting order (the same shuffled permutation the sequential fit draws from the
   problem's seed) is cut into ``sync_points`` consecutive rounds, and each round into ``n_parts``
   contiguous parts whose sizes differ by at most one.
2. In a round every part starts from a private copy of the round's state (``w``, ``avg_w``,
   ``l1_q``, ``state``) and runs the unchanged sequential epoch kernel over its rows, in its own
   thread (the kernels are compiled ``nogil``; each thread writes only its own copy).
3. The copies are mixed into the caller's arrays in part order (0, 1, ..., P-1), with weights
   that depend on the sizes, the clock and X only, so neither the number of threads nor their
   scheduling can change a bit of the result:

   * ``w``, ``l1_q`` and ``u`` (the cumulative L1 penalty of Tsuruoka et al. 2009): the start plus
     the parts' changes weighted by :func:`mixing_weights`, ``x0 + sum_k gamma_k (x_k - x0)``. One
     weight per part for all three, so ``u - l1_q`` stays the L1 penalty owed to ``w``. The
     weights average the copies (``gamma_k = n_k / n``, Zinkevich et al.) where the parts correct
     the same errors (dense X, the first steps), and sum their changes as far as the schedule's
     L2 shrink allows where a coordinate appears in few rows of a part (wide sparse X in later
     epochs): plain averaging there halves each epoch's progress;
   * the intercept, which every row updates: the mean of the copies;
   * the averaged weights ``avg_w`` and intercept (averaged SGD): the exact running mean of all the
     iterates of all the parts. A part that started with ``n0`` iterates in the average ``A0`` and
     averaged ``m_k`` more ends at ``A_k = (n0 A0 + S_k) / (n0 + m_k)``, so the mean over every
     iterate is ``(n0 A0 + sum_k S_k) / (n0 + sum_k m_k)`` with ``S_k = (n0 + m_k) A_k - n0 A0``;
   * ``t``, the step-size clock: every part starts the round at the round's ``t0`` (the parts are
     replicas of the same model at the same point of the schedule) and after mixing
     ``t = t0 + (rows in the round)``, so ``t`` keeps counting the samples that reached the model,
     as in the sequential fit: ``t_``, the ``optimal``/``invscaling`` schedules of the next epoch,
     ``average_start`` and ``partial_fit`` continuation keep their meaning. (In the round where
     averaging starts, the kernel of the next round counts ``t - average_start`` iterates in the
     average where the parts made fewer; from then on the count is exact.)

The mixed model is not the sequential one. On the workloads of ``bench/bench_parallel_sgd.py``
(200 000 rows, hinge and log_loss, 5 epochs) its held-out accuracy was within 0.001 of the
sequential model's on CSR (means of 4 seeds) and 0.004-0.007 higher on dense X, where averaging
also removes SGD noise. With ``n_parts = 1`` the driver is not used at all: :func:`epoch_function`
returns the sequential kernel itself, so ``n_jobs=1`` is bit for bit the sequential algorithm.
Problems below :data:`MIN_ROWS_PER_PART` rows per part (or too little work per round) stay
sequential whatever ``n_jobs``.

What is computed depends on ``n_parts`` only (the user's ``n_jobs``); how many threads run the
parts is the caller's thread policy (:func:`fastlin._threads.kernel_threads`: ``OMP_NUM_THREADS``,
``threadpool_limits``, :func:`fastlin._threads.limit_threads`). Under ``threadpool_limits(1)`` the
parts run one after the other in the calling thread and give the same bits.
"""

from __future__ import annotations

import math
import weakref
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from joblib import effective_n_jobs

from .._registry import PENALTIES, SCHEDULES
from .._threads import kernel_threads
from ..kernels.sgd import STATE_AVG_INTERCEPT, STATE_INTERCEPT, STATE_T, STATE_U, step_size

__all__ = ["ParallelEpoch", "epoch_function", "n_parts_for", "mixing_weights", "column_load",
           "mix", "MIN_ROWS_PER_PART", "MIN_WORK_PER_PART", "MIN_WORK_PER_FEATURE", "SYNC_POINTS"]

#: Fewest training rows a part may get, else the problem stays sequential. Statistical, not a
#: timing: a part's model is one core's SGD run on its share, and on small problems 5 epochs leave
#: both models far from converged, where they differ most. Held-out accuracy of log_loss, 5 epochs,
#: mean of 6 seeds, n_jobs=2 minus n_jobs=1, CSR 5 000 columns x 30 non-zeros per row: +0.000,
#: -0.010, -0.022, -0.010, +0.006 at 1 000, 2 500, 5 000, 10 000, 20 000 rows per part (dense 100
#: columns: always better, +0.014 to +0.026). 20 000 rows per part is where it stopped losing.
MIN_ROWS_PER_PART = 20_000

#: Fewest stored values (rows x non-zeros per row, or rows x columns for dense X) a part must read
#: per round, else the problem stays sequential. A round costs, beyond the kernel, one thread
#: hand-off (0.1-1 ms on a busy machine) and about ten passes over ``n_features`` float64 (copies
#: and the mix; 0.75 ms a round measured for 131 072 features) against ~1-3 ns per stored value
#: in the kernel: 10^6 values per part keep the hand-off below ~10 %.
MIN_WORK_PER_PART = 1_000_000

#: ... and at least this many stored values per feature, so the copies and the mix (~6 ns per
#: feature and round measured on the CSR workload, ~2 ns per stored value in its kernel) cost at
#: most ~30 % of a part's work (measured 5 % on the CSR workload: 38 values per feature and part).
MIN_WORK_PER_FEATURE = 10

#: Mixing rounds per epoch (McDonald et al.'s iterative parameter mixing, once per epoch). Two
#: rounds changed held-out accuracy on the CSR workload by less than 0.001 (means of 4 seeds,
#: hinge and log_loss, 3 and 5 epochs) and cost a second hand-off, copy and mix per epoch.
SYNC_POINTS = 1


def n_parts_for(n_jobs, n_problems, X, n_train, n_features, batch_size=1):
    """How many parts each problem's epochs are cut into (1: the sequential kernel).

    Parameters
    ----------
    n_jobs : int or None
        The estimator's ``n_jobs`` (joblib's convention: -1 all cores, -2 all but one, ...).
        None is 1: the parts change the coefficients, so only an explicit ``n_jobs`` may ask for
        them (a ``joblib.parallel_config`` context chooses resources, not results). A negative
        value depends on the machine's core count, and so does the model: pass a positive
        ``n_jobs`` for coefficients that are reproducible across machines.
    n_problems : int
        Binary problems of the fit (one-vs-rest) or 1. Each problem gets
        ``n_jobs // n_problems`` parts; with ``n_problems >= n_jobs`` the problems already occupy
        the cores (one thread each, in ``_BaseSGD._run_all``) and nothing is split.
    X : ndarray of shape (n_samples, n_features) or tuple ``(data, indices, indptr)``
        The kernel's view of X (:func:`fastlin.data.kernel_X`), for the work per row.
    n_train : int
        Rows visited per epoch.
    n_features : int
    batch_size : int or None
        Only per-sample SGD (1) is split; the mini-batch and full-batch kernels are not.

    Returns
    -------
    n_parts : int
        At least 1; above 1 only when every part gets :data:`MIN_ROWS_PER_PART` rows and reads
        :data:`MIN_WORK_PER_PART` stored values, and :data:`MIN_WORK_PER_FEATURE` per feature,
        per round.
    """
    if n_jobs is None or batch_size != 1:
        return 1
    parts = effective_n_jobs(n_jobs) // max(1, int(n_problems))
    if parts < 2:
        return 1
    rows_per_part = n_train // parts
    work = rows_per_part * _values_per_row(X) / SYNC_POINTS
    if (rows_per_part < MIN_ROWS_PER_PART or work < MIN_WORK_PER_PART
            or work < MIN_WORK_PER_FEATURE * n_features):
        return 1
    return parts


def _values_per_row(X):
    """Stored values per row: the mean non-zeros of a CSR tuple, the columns of a dense X."""
    if isinstance(X, tuple):
        data, _, indptr = X
        return data.shape[0] / max(1, indptr.shape[0] - 1)
    return X.shape[1]


def epoch_function(kernel, n_parts, sync_points=None):
    """The sequential ``kernel`` itself for one part, else a :class:`ParallelEpoch` around it."""
    if n_parts <= 1:
        return kernel
    return ParallelEpoch(kernel, n_parts, sync_points=sync_points)


def _bounds(n, k):
    """``k + 1`` offsets cutting ``range(n)`` into ``k`` contiguous pieces (sizes differ by 1 at
    most)."""
    return (np.arange(k + 1, dtype=np.int64) * n) // k


class ParallelEpoch:
    """An epoch function with the kernel's signature that runs ``n_parts`` mixed copies.

    ``ParallelEpoch(kernel, P)(X, y, sw, order, w, avg_w, l1_q, state, **params)`` does what
    ``kernel(...)`` does to the state arrays (updates them in place, returns
    ``(sumloss, n_updates, n_clipped)``), by iterative parameter mixing over ``P`` parts (module
    docstring). Part 0 runs in the calling thread on the caller's arrays, parts 1..P-1 on private
    copies in helper threads (with ``T`` threads, thread ``j`` runs parts ``j, j + T, ...`` in
    order); an array the kernel leaves alone in this configuration (``avg_w`` without averaging,
    ``l1_q`` without an L1 penalty: :mod:`fastlin.kernels.sgd`) is neither copied nor mixed, which
    keeps a round's overhead at two copies and one weighted sum of ``w`` (0.75 ms a round measured
    for 131 072 features, P = 2). One instance per problem (the copies and the helper threads are
    kept between epochs; the threads end with the instance or :meth:`close`).

    Parameters
    ----------
    kernel : callable
        The sequential epoch, e.g. :func:`fastlin.kernels.sgd.epoch` (must release the GIL for the
        parts to overlap).
    n_parts : int
        Parts per round, >= 1. Fixes the result.
    sync_points : int, optional
        Mixing rounds per epoch (default :data:`SYNC_POINTS`). Fixes the result.
    n_threads : int, optional
        Threads running the parts, the caller's included (default: ``n_parts`` capped by
        :func:`fastlin._threads.kernel_threads` of the calling thread). Never changes the result.
    """

    def __init__(self, kernel, n_parts, sync_points=None, n_threads=None):
        self.kernel = kernel
        self.n_parts = int(n_parts)
        self.sync_points = int(SYNC_POINTS if sync_points is None else sync_points)
        if self.n_parts < 1 or self.sync_points < 1:
            raise ValueError("n_parts and sync_points must be >= 1")
        self.n_threads = n_threads
        self._copies = None
        self._pool = None
        self._pool_size = 0
        self._load = None

    # -- resources ---------------------------------------------------------------------------------

    def _helpers(self):
        """``(pool, T)``: ``T - 1`` helper threads besides the caller (pool None when T = 1)."""
        n = kernel_threads() if self.n_threads is None else int(self.n_threads)
        n = max(1, min(self.n_parts, n))
        if n == 1:
            return None, 1
        if self._pool is None or self._pool_size != n - 1:
            self.close()
            self._pool = ThreadPoolExecutor(max_workers=n - 1,
                                            thread_name_prefix="fastlin-sgd-part")
            self._pool_size = n - 1
            # the helper threads end when this instance is collected, if close() was not called
            self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False)
        return self._pool, n

    def close(self):
        """End the helper threads (a later call starts new ones)."""
        if self._pool is not None:
            self._finalizer.detach()
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _scratch(self, w, state):
        """The private arrays of parts 1..P-1 (``(P - 1, 3, n_features)`` and
        ``(P - 1, STATE_SIZE)``) and the round's starting arrays (``(3, n_features)``), allocated
        once."""
        shape = (self.n_parts - 1, 3, w.shape[0])
        if self._copies is None or self._copies[0].shape != shape:
            self._copies = (np.zeros(shape), np.zeros((self.n_parts - 1, state.shape[0])),
                            np.zeros((3, w.shape[0])))
        return self._copies

    def _column_load(self, X, n_features):
        """:func:`column_load` of ``X``, computed once per X."""
        key = id(X[0]) if isinstance(X, tuple) else id(X)
        if self._load is None or self._load[0] != key:
            self._load = (key, column_load(X, n_features))
        return self._load[1]

    # -- the epoch ---------------------------------------------------------------------------------

    def __call__(self, X, y, sample_weight, order, w, avg_w, l1_q, state, **params):
        """One epoch over ``order`` (see :func:`fastlin.kernels.sgd.sgd_epoch`), mixed per round.

        Returns
        -------
        sumloss : float
            Summed over the parts, each at its own copy's predictions.
        n_updates, n_clipped : int
            Summed over the parts.
        """
        helpers = self._helpers()
        rounds = _bounds(order.shape[0], self.sync_points)
        totals = [0.0, 0, 0]
        for r in range(self.sync_points):
            piece = order[rounds[r]:rounds[r + 1]]
            out = self._round(helpers, X, y, sample_weight, piece, (w, avg_w, l1_q), state, params)
            for j in range(3):
                totals[j] += out[j]
        return totals[0], totals[1], totals[2]

    def _round(self, helpers, X, y, sample_weight, piece, arrays, state, params):
        """Run the parts of one round from the caller's state, then mix them into it."""
        copies, states, start_arrays = self._scratch(arrays[0], state)
        active = _active(params)
        for j in range(3):
            if active[j]:
                copies[:, j] = arrays[j]
                start_arrays[j] = arrays[j]
        start = state.copy()
        states[:] = state
        cuts = _bounds(piece.shape[0], self.n_parts)

        def run(k):
            own = arrays if k == 0 else copies[k - 1]
            return self.kernel(X, y, sample_weight, piece[cuts[k]:cuts[k + 1]], own[0], own[1],
                               own[2], state if k == 0 else states[k - 1], **params)

        results = _run_parts(helpers, run, self.n_parts)
        sizes = np.diff(cuts)
        load = self._column_load(X, arrays[0].shape[0])
        gamma = mixing_weights(sizes, float(start[STATE_T]), params, load)
        mix(arrays, state, copies, states, start_arrays, start, sizes, active, gamma,
            float(params.get("average_start", 0.0)))
        return (sum(float(r[0]) for r in results), sum(int(r[1]) for r in results),
                sum(int(r[2]) for r in results))


def _run_parts(helpers, run, n_parts):
    """``[run(0), ..., run(P - 1)]``: with ``T`` threads, thread ``j`` runs parts ``j, j + T, ...``
    (thread 0 is the caller; ``helpers = (pool, T)``).

    Every submitted part is waited for, also when one raises, so no helper is still writing to
    the copies when the caller continues.
    """
    pool, n_threads = helpers
    if pool is None:
        return [run(k) for k in range(n_parts)]

    def run_many(j):
        return [run(k) for k in range(j, n_parts, n_threads)]

    futures = [pool.submit(run_many, j) for j in range(1, n_threads)]
    try:
        mine = run_many(0)
    finally:
        wait(futures)
    per_thread = [mine] + [f.result() for f in futures]
    return [per_thread[k % n_threads][k // n_threads] for k in range(n_parts)]


def _active(params):
    """Which of ``(w, avg_w, l1_q)`` the kernel reads and writes with these parameters."""
    averaging = float(params.get("average_start", 0.0)) > 0.0
    l1 = int(params.get("penalty_code", 0)) in (PENALTIES["l1"], PENALTIES["elasticnet"])
    return (True, averaging, l1)


#: Curvature bound of the regime test in :func:`mixing_weights`: 1/4, the largest second derivative
#: of log_loss (the smooth classification losses are below it near the margin).
CURVATURE = 0.25

#: Rows sampled (evenly spaced) to estimate X's mean squared row norm in :func:`column_load`.
LOAD_SAMPLE = 1024


def column_load(X, n_features):
    """Mean over the columns of ``sum_i x_ij^2`` per row: ``mean ||x_i||^2 / n_features``.

    The part of a row's curvature that one coordinate receives on average: 1 for standardized
    dense X, ``nnz_per_row / n_features`` for standard-normal CSR values (3.8e-4 on the CSR
    workload). Estimated from :data:`LOAD_SAMPLE` evenly spaced rows (dense) or values (CSR).
    """
    if isinstance(X, tuple):
        data, _, indptr = X
        n_rows = max(1, indptr.shape[0] - 1)
        if data.shape[0] == 0:
            return 0.0
        step = max(1, data.shape[0] // LOAD_SAMPLE)
        sample = np.asarray(data[::step], dtype=np.float64)
        mean_sq = float(sample @ sample) / sample.shape[0]
        return mean_sq * (data.shape[0] / n_rows) / max(1, n_features)
    n_rows = X.shape[0]
    rows = np.asarray(X[::max(1, n_rows // LOAD_SAMPLE)], dtype=np.float64)
    return float(np.einsum("ij,ij->", rows, rows)) / max(1, rows.shape[0]) / max(1, n_features)


def mixing_weights(sizes, t0, params, load):
    """The weight ``gamma_k`` of each part's change in :func:`mix`: averaging or summing.

    Two regimes, told apart by ``F = CURVATURE * eta(t0) * n_k * load``, the step times the
    curvature one coordinate accumulates over a part's rows (``load``: :func:`column_load`):

    * ``F > 1``, the correction regime (dense X, where every row touches every coordinate; the
      first steps of the first epoch): within its part each copy has already corrected the same
      errors, so the changes overlap and summing them would overshoot (measured: dense
      200 000 x 100 hinge lost 0.03-0.15 of held-out accuracy). The copies are averaged,
      ``gamma_k = n_k / n`` (Zinkevich et al.; McDonald et al.'s uniform mixing).
    * ``F <= 1``, the linear regime (wide sparse X: a coordinate appears in a few rows of a part,
      e.g. F = 0.5 in the second epoch of the CSR workload): ``gamma_k = max(n_k / n, R_k)`` with
      ``R_k`` the L2 shrink a sequential run would still apply after ``n_k`` steps (the product of
      the kernel's factors ``max(0, 1 - (1 - l1_ratio) eta_t alpha)`` over
      ``t0 + n_k <= t < t0 + n``; 1 without an L2 part). For the ``optimal`` schedule with L2
      (``eta_t alpha = 1 / tau_t``) the iterate is ``w = -(1 / (alpha tau)) sum(g)``, the uniform
      mean of every ``-g / alpha`` seen, and ``R_k = (tau0 + n_k) / (tau0 + n)`` makes the mixed
      ``w`` that mean over all the round's rows, each gradient with the sequential epoch's weight
      (only the points where they are evaluated differ). It tends to 1 (summing the changes, the
      sequential epoch to first order in the step) as the epochs go by; plain averaging instead
      halves every later epoch's progress on such data (log_loss on the CSR workload: -0.008 of
      held-out accuracy after 3 epochs, -0.004 after 5; with these weights -0.001 and 0.000,
      means of 4 seeds).

    Parameters
    ----------
    sizes : int ndarray of shape (P,)
    t0 : float
        The clock at the start of the round.
    params : dict
        The kernel's keyword arguments.
    load : float
        :func:`column_load` of X.

    Returns
    -------
    gamma : float64 ndarray of shape (P,)
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    n = float(sizes.sum())
    if n == 0:
        return np.zeros_like(sizes)
    share = sizes / n
    eta = float(step_size(int(params["schedule_code"]), float(params["eta0"]),
                          float(params["alpha"]), float(params.get("opt_init", 0.0)),
                          float(params.get("power_t", 0.5)), float(t0)))
    if CURVATURE * eta * float(sizes.max()) * load > 1.0:
        return share
    rest = [_shrink(t0 + n_k, t0 + n, params) for n_k in sizes]
    return np.maximum(share, np.array(rest))


def _shrink(a, b, params):
    """Product of the kernel's L2 shrink factors over the steps ``a <= t < b`` (closed forms)."""
    penalty = int(params.get("penalty_code", 0))
    if penalty not in (PENALTIES["l2"], PENALTIES["elasticnet"]) or b <= a:
        return 1.0
    r = 1.0 - float(params.get("l1_ratio", 0.0))
    alpha, eta0 = float(params["alpha"]), float(params["eta0"])
    schedule = int(params["schedule_code"])
    if schedule == SCHEDULES["optimal"]:
        # eta_t alpha = 1 / tau, tau = opt_init + t - 1: prod (tau - r) / tau over m = b - a steps
        # is Gamma(A - r + m) Gamma(A) / (Gamma(A - r) Gamma(A + m)), A = opt_init + a - 1.
        A, m = float(params["opt_init"]) + a - 1.0, b - a
        if A - r <= 0.0:
            return 0.0  # a factor clamped at 0: the start is forgotten
        return math.exp(math.lgamma(A - r + m) - math.lgamma(A - r) + math.lgamma(A)
                        - math.lgamma(A + m))
    if schedule == SCHEDULES["invscaling"]:
        t = np.arange(a, b, dtype=np.float64)
        f = 1.0 - r * alpha * eta0 * t ** -float(params["power_t"])
        return 0.0 if np.any(f <= 0.0) else math.exp(float(np.log(f).sum()))
    f = 1.0 - r * alpha * eta0  # constant, adaptive, passive-aggressive: eta0 drives the penalty
    return 0.0 if f <= 0.0 else f ** (b - a)


def mix(arrays, state, copies, states, start_arrays, start, sizes, active, gamma, average_start):
    """Mix the parts into part 0's arrays (one round of parameter mixing), in part order.

    ``x <- x0 + sum_k gamma_k (x_k - x0)`` for ``w``, ``l1_q``, the intercept and ``u`` (one weight
    per part for all four, so ``u - l1_q`` stays the L1 penalty owed to ``w``); the averaged
    weights and intercept become the exact running mean of every part's iterates; the clock
    advances by the round's rows.

    Parameters
    ----------
    arrays : tuple of 3 float64 ndarrays of shape (n_features,)
        ``(w, avg_w, l1_q)``: part 0's after its run; overwritten with the mix.
    state : float64 ndarray of shape (STATE_SIZE,)
        Part 0's ``[intercept, avg_intercept, u, t]`` after its run; overwritten with the mix.
    copies : float64 ndarray of shape (P - 1, 3, n_features)
        Parts 1..P-1's ``w``, ``avg_w``, ``l1_q`` after their runs (used as scratch).
    states : float64 ndarray of shape (P - 1, STATE_SIZE)
        Parts 1..P-1's ``state`` after their runs.
    start_arrays : float64 ndarray of shape (3, n_features)
        The round's starting ``w``, ``avg_w``, ``l1_q`` (the active ones).
    start : float64 ndarray of shape (STATE_SIZE,)
        The round's starting ``state``.
    sizes : int ndarray of shape (P,)
        Rows each part visited.
    active : tuple of 3 bool
        Which of ``arrays`` the kernel used (the others are left as they are).
    gamma : float64 ndarray of shape (P,)
        :func:`mixing_weights`.
    average_start : float
        The kernel's ``average_start`` (0: not averaging).
    """
    for j in (0, 2):
        if active[j]:
            _combine(arrays[j], copies[:, j], start_arrays[j], gamma)
    state[STATE_U] = _combine_scalar(state[STATE_U], states[:, STATE_U], start[STATE_U], gamma)
    share = np.asarray(sizes, dtype=np.float64) / max(1.0, float(np.sum(sizes)))
    state[STATE_INTERCEPT] = _combine_scalar(state[STATE_INTERCEPT], states[:, STATE_INTERCEPT],
                                             start[STATE_INTERCEPT], share)
    t0 = float(start[STATE_T])
    counts = _averaged_counts(t0, sizes, average_start)
    if active[1] and counts.sum() > 0:
        n0 = max(0.0, t0 - average_start)
        _mix_average(arrays[1], copies[:, 1], start_arrays[1], n0, counts)
        b = np.array([state[STATE_AVG_INTERCEPT]])
        _mix_average(b, states[:, STATE_AVG_INTERCEPT:STATE_AVG_INTERCEPT + 1],
                     start[STATE_AVG_INTERCEPT:STATE_AVG_INTERCEPT + 1], n0, counts)
        state[STATE_AVG_INTERCEPT] = b[0]
    state[STATE_T] = t0 + float(np.sum(sizes))


def _combine(first, others, x0, gamma):
    """``first <- x0 + gamma_0 (first - x0) + sum_k gamma_k (others[k-1] - x0)``, in this order
    (``others`` is overwritten)."""
    first -= x0
    first *= gamma[0]
    for k in range(others.shape[0]):
        others[k] -= x0
        others[k] *= gamma[k + 1]
        first += others[k]
    first += x0


def _combine_scalar(first, others, x0, gamma):
    x0 = float(x0)
    total = (float(first) - x0) * float(gamma[0])
    for k in range(len(others)):
        total += (float(others[k]) - x0) * float(gamma[k + 1])
    return total + x0


def _averaged_counts(t0, sizes, average_start):
    """Iterates each part added to the average: steps ``t`` in ``[t0, t0 + n_k)`` with
    ``t >= average_start`` (the kernel's rule), as float64 of shape (P,)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if average_start <= 0:
        return np.zeros_like(sizes)
    return np.maximum(0.0, t0 + sizes - max(t0, average_start))


def _mix_average(first, others, avg0, n0, counts):
    """The running mean of every part's iterates: ``(n0 A0 + sum_k S_k) / (n0 + sum_k m_k)``.

    ``S_k = (n0 + m_k) A_k - n0 A0`` is the sum of part k's ``m_k = counts[k]`` new iterates, from
    its average ``A_k`` (``first`` for part 0, ``others[k - 1]`` after) and the round's starting
    average ``A0 = avg0`` of ``n0`` iterates (ignored when ``n0 = 0``: the kernel restarts the
    average then). Written into ``first``; summed in part order.
    """
    acc = np.zeros_like(first)
    for k in range(counts.shape[0]):
        if counts[k] > 0:
            acc += (n0 + counts[k]) * (first if k == 0 else others[k - 1])
            if n0 > 0:
                acc -= n0 * avg0
    if n0 > 0:
        acc += n0 * avg0
    np.divide(acc, n0 + counts.sum(), out=first)
