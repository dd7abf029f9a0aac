"""SAGA epochs for (multinomial) logistic regression, dense or CSR, with just-in-time updates.

The objective, in the mean form that ``LogisticRegression.objective_`` reports, is written as an
average of ``n`` terms plus a separable penalty::

    F(W, b) = 1/n sum_i u_i l(y_i, W x_i + b) + mu/2 ||W||^2 + lam ||W||_1,   u_i = n sw_i / S

``l`` is the half-binomial loss (one output, y in {0, 1}) or the softmax loss (K >= 3 outputs).
Each term's gradient is ``a_i [x_i, 1]`` with the scalars ``a_i = u_i (p_i - e_yi)`` (K of them),
so SAGA's table of past gradients (Defazio, Bach & Lacoste-Julien 2014) is the (n, K) array
``memory`` of those scalars and their mean ``gbar = 1/n sum_i memory_i [x_i, 1]``. One step on
the rows ``B`` (one row for ``solver="sgd"``, ``batch_size`` rows for ``"minibatch"``)::

    v = 1/|B| sum_{i in B} (a_i(W) - memory_i) [x_i, 1] + gbar
    W <- prox(W - gamma v),  prox(w) = soft(w, gamma lam) / (1 + gamma mu)   (intercept: no prox)
    gbar += 1/n sum_{i in B} (a_i(W) - memory_i) [x_i, 1];  memory_i <- a_i(W)

For a CSR row, ``v_j`` of a feature no row of ``B`` stores is ``gbar_j``, constant until a row
storing ``j`` is visited; so those steps are deferred and applied in one go when ``j`` is next
read (:func:`lagged`: closed form, a few phases when L1 is on), and the cost of a step is the
stored entries of its rows, not ``n_features`` (Schmidt, Le Roux & Bach's just-in-time update).
Dense rows touch every feature, so dense steps apply ``v`` to all of them directly.

A CSR mini-batch step defers its own update as well: the batch's rows are read once for their
logits (bringing their features up to date) and once to add their terms to ``gbar`` and to the
scratch ``delta = v - gbar`` (``gbar`` after the step); the step ``W_j <- prox(W_j - gamma
(delta_j + gbar_j))`` of a feature is then applied when the feature is next read, as the first of
its deferred steps (:func:`_catch_up`), so a step costs two passes over its rows' stored entries,
like a one-row step, and no pass over the batch's features. Measured on the benchmark's
50 000 x 20 000 CSR (50 stored entries a row): a 256-row epoch took 45 ms when the step was
applied at its end (a third pass over the rows, with a "seen" test per entry), 30 ms now; a
one-row epoch 24 ms.

Accessors: :func:`row_logits`, :func:`row_step_one` and :func:`finish_step` are overloaded on
``X``'s type like the accessors of :mod:`fastlin.kernels.rows`, so :func:`saga_epoch` is written
once for both layouts. A one-row step reads its row twice (logits with the deferred steps, then the
step itself); a mini-batch step accumulates ``v`` in a scratch and applies it once per step
(dense: at the end of the step; CSR: when each feature is next read).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import overload

from .._jit import jit
from .rows import (OVERLOAD_OPTIONS, is_csr_type, is_dense_type, n_rows, row_axpy, row_axpy2,
                   row_dot)

#: CSR positions and columns as unsigned integers: no negative-index wrap-around per access (the
#: reason and the measurement are in :mod:`fastlin.kernels.rows`).
_U64 = np.uint64

__all__ = ["saga_epoch", "saga_init", "alias_table", "lagged", "lag_tables", "row_logits",
           "row_step_one", "finish_step"]


# ------------------------------------------------------------------------------------------------
# Deferred (just-in-time) steps of one weight
# ------------------------------------------------------------------------------------------------


def lag_tables(n_steps, gm):
    """``(pw, ge)`` of length ``n_steps + 1``: ``pw[k] = a^k`` and ``ge[k] = a (1 - a^k) / (1 - a)``
    with ``a = 1 / (1 + gm)``, so that ``k`` steps ``v <- a (v - shift)`` are
    ``pw[k] v - ge[k] shift``.

    With ``1 - a = gm a`` the geometric sum is ``-expm1(k log a) / gm``, accurate when ``gm`` is
    tiny (``gamma mu``, ``mu = 1 / (C S)``: ~1e-7 at C=1, S=200 000, where ``1 - a`` would lose
    most of its digits); ``gm = 0`` (no L2): ``ge[k] = k``. Tabulated once per fit because an
    exp/expm1 per deferred update made a CSR epoch 2-3x slower than scikit-learn's.
    """
    k = np.arange(n_steps + 1, dtype=np.float64)
    x = -k * np.log1p(gm)
    return np.exp(x), (-np.expm1(x) / gm if gm > 0.0 else k)


@jit(inline="always")
def _affine(v, shift, pw, ge, k):
    """``k`` applications of ``v <- a (v - shift)``, from the tables of :func:`lag_tables`."""
    return pw[k] * v - ge[k] * shift


@jit
def _steps_in_region(v, shift, log_a, gm, pw, ge, m):
    """How many of the next ``m`` steps of ``v <- a (v - shift)`` start from ``v > shift``.

    The first one does (the caller checked). The iterates move monotonically towards the fixed
    point ``p = -shift a / (1 - a)``; when ``shift <= 0``, ``p >= shift`` and they never leave.
    Otherwise the count solves ``a^k (v - p) > shift - p`` for k, and is corrected downwards by
    evaluating the closed form (log/exp rounding could put it one step across the boundary).
    """
    if shift <= 0.0:
        return m
    if gm == 0.0:
        x = (v - shift) / shift
    else:
        p = -shift / gm  # -shift a / (1 - a) with 1 - a = gm a
        x = math.log((shift - p) / (v - p)) / log_a
    k = m if x >= m else max(1, int(math.ceil(x)))
    while k > 1 and _affine(v, shift, pw, ge, k - 1) <= shift:
        k -= 1
    return k


@jit
def lagged(w, c, t, log_a, gm, pw, ge, m):
    """``m`` deferred steps ``w <- a * soft(w - c, t)`` of one weight, ``c = gamma gbar_j``.

    Without L1 (``t = 0``) one closed form. With L1 the map is affine on each side of the dead
    zone ``|w - c| <= t`` (and maps the dead zone to 0); it is a monotone contraction, so the
    iterates are monotone and cross a boundary at most twice: at most three closed-form phases.
    Mirroring (``soft`` is odd) turns the negative side into the positive one.
    """
    if t == 0.0:
        return _affine(w, c, pw, ge, m)
    while m > 0:
        u = w - c
        if u > t:
            s = 1.0
        elif u < -t:
            s = -1.0
        else:
            w = 0.0
            m -= 1
            if abs(c) <= t:  # 0 is the fixed point: it stays there
                return 0.0
            continue
        v = s * w
        shift = s * c + t
        k = _steps_in_region(v, shift, log_a, gm, pw, ge, m)
        w = s * _affine(v, shift, pw, ge, k)
        m -= k
    return w


# ------------------------------------------------------------------------------------------------
# Accessors overloaded on the layout
# ------------------------------------------------------------------------------------------------


def row_logits(X, i, W, b, z, gbar, delta, pend, last, k, c_scale, t, log_a, gm, pw, ge):
    """``z = W x_i + b``, after bringing every weight row ``i`` reads up to step ``k`` (CSR, as
    :func:`_catch_up`, the pending steps in ``delta`` read only when ``pend``; dense rows are
    always current). One pass over the row for both."""
    raise NotImplementedError("row_logits is only callable from jitted code")


def row_step_one(X, i, W, c1, c2, gbar, last, k1, gamma, a, t):
    """One-row step: ``W <- prox(W - gamma (c1 x_i + gbar))``, ``gbar += c2 x_i`` on the weights
    row ``i`` stores (dense: every weight), marked ``k1``. One pass, no scratch."""
    raise NotImplementedError("row_step_one is only callable from jitted code")


def finish_step(X, W, delta, gbar, last, k1, gamma, a, t):
    """Dense: apply the step ``delta + gbar`` to every weight, zero the scratch and mark the
    weights ``k1``. CSR: nothing (the step stays in ``delta`` until :func:`_catch_up`)."""
    raise NotImplementedError("finish_step is only callable from jitted code")


@jit(inline="always")
def _prox_step(w, v, gamma, a, t):
    """``a * soft(w - gamma v, t)``: the proximal gradient step of one weight."""
    z = w - gamma * v
    return a * (min(z + t, 0.0) + max(z - t, 0.0))


@jit
def _catch_up(W, delta, gbar, q, j, m, gamma, t, log_a, gm, pw, ge):
    """Apply the ``m >= 1`` steps weight ``(q, j)`` is behind: the first with ``v = delta + gbar``
    (a mini-batch step left pending; ``delta`` is zero otherwise), the others with ``v = gbar``;
    returns the weight and zeroes ``delta[q, j]``."""
    w = W[q, j]
    g = gbar[q, j]
    dl = delta[q, j]
    if dl != 0.0:
        w = _prox_step(w, dl + g, gamma, pw[1], t)
        delta[q, j] = 0.0
        m -= 1
        if m == 0:
            return w
    if t == 0.0:  # L2 only: the closed form, inline (no call per entry)
        return pw[m] * w - ge[m] * (gamma * g)
    return lagged(w, gamma * g, t, log_a, gm, pw, ge, m)


@overload(row_logits, jit_options=OVERLOAD_OPTIONS)
def _ol_row_logits(X, i, W, b, z, gbar, delta, pend, last, k, c_scale, t, log_a, gm, pw, ge):
    if is_dense_type(X):

        def impl(X, i, W, b, z, gbar, delta, pend, last, k, c_scale, t, log_a, gm, pw, ge):
            for q in range(W.shape[0]):
                z[q] = b[q] + row_dot(X, i, W[q])

        return impl
    if is_csr_type(X):

        def impl(X, i, W, b, z, gbar, delta, pend, last, k, c_scale, t, log_a, gm, pw, ge):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            K = W.shape[0]
            for q in range(K):
                z[q] = b[q]
            for p in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                j = _U64(indices[p])
                m = k - last[j]
                x = data[p]
                for q in range(K):
                    w = W[q, j]
                    if m > 0:
                        g = gbar[q, j]
                        dl = 0.0
                        if pend:  # (one-row steps leave no pending step)
                            dl = delta[q, j]
                            delta[q, j] = 0.0
                        if t == 0.0:
                            # L2 only: the pending step and m - 1 steps with v = gbar in one
                            # closed form, pw[m] (w - gamma dl) - ge[m] gamma g, branch-free
                            # (a test for a pending step, taken for about half the entries:
                            # 36 ms a 256-row epoch on the benchmark's CSR, against 30 ms)
                            w = pw[m] * (w - c_scale * dl) - ge[m] * (c_scale * g)
                        else:
                            mm = m
                            if dl != 0.0:  # the pending mini-batch step first
                                w = _prox_step(w, dl + g, c_scale, pw[1], t)
                                mm -= 1
                            if mm > 0:
                                w = lagged(w, c_scale * g, t, log_a, gm, pw, ge, mm)
                        W[q, j] = w
                    z[q] += x * w
                last[j] = k

        return impl
    return None


@overload(row_step_one, jit_options=OVERLOAD_OPTIONS)
def _ol_row_step_one(X, i, W, c1, c2, gbar, last, k1, gamma, a, t):
    if is_dense_type(X):

        def impl(X, i, W, c1, c2, gbar, last, k1, gamma, a, t):
            for q in range(W.shape[0]):
                s1 = c1[q]
                s2 = c2[q]
                for j in range(W.shape[1]):
                    x = X[i, j]
                    W[q, j] = _prox_step(W[q, j], s1 * x + gbar[q, j], gamma, a, t)
                    gbar[q, j] += s2 * x
            for j in range(W.shape[1]):
                last[j] = k1

        return impl
    if is_csr_type(X):

        def impl(X, i, W, c1, c2, gbar, last, k1, gamma, a, t):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            for p in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                j = _U64(indices[p])
                x = data[p]
                for q in range(W.shape[0]):
                    W[q, j] = _prox_step(W[q, j], c1[q] * x + gbar[q, j], gamma, a, t)
                    gbar[q, j] += c2[q] * x
                last[j] = k1

        return impl
    return None


@overload(finish_step, jit_options=OVERLOAD_OPTIONS)
def _ol_finish_step(X, W, delta, gbar, last, k1, gamma, a, t):
    if is_dense_type(X):

        def impl(X, W, delta, gbar, last, k1, gamma, a, t):
            for q in range(W.shape[0]):
                for j in range(W.shape[1]):
                    W[q, j] = _prox_step(W[q, j], delta[q, j] + gbar[q, j], gamma, a, t)
                    delta[q, j] = 0.0
            for j in range(W.shape[1]):
                last[j] = k1

        return impl
    if is_csr_type(X):

        def impl(X, W, delta, gbar, last, k1, gamma, a, t):
            pass

        return impl
    return None


# ------------------------------------------------------------------------------------------------
# Per-row gradient scalars
# ------------------------------------------------------------------------------------------------


@jit(inline="always")
def _scalars(z, yi, ui, out):
    """``out = u_i (p - e_y)`` from the logits ``z`` (K = 1: sigmoid, else softmax); returns the
    weighted loss ``u_i l_i`` (both without overflow, max factored out of the softmax)."""
    K = z.shape[0]
    if K == 1:
        zz = z[0]
        if zz > 0.0:
            e = math.exp(-zz)
            loss = math.log1p(e) + (1.0 - yi) * zz
            p = 1.0 / (1.0 + e)
        else:
            e = math.exp(zz)
            loss = math.log1p(e) - yi * zz
            p = e / (1.0 + e)
        out[0] = ui * (p - yi)
        return ui * loss
    y = int(yi)
    zmax = -np.inf
    for q in range(K):
        zmax = max(zmax, z[q])
    s = 0.0
    for q in range(K):
        e = math.exp(z[q] - zmax)
        out[q] = e
        s += e
    for q in range(K):
        out[q] = ui * (out[q] / s - (1.0 if q == y else 0.0))
    return ui * (zmax + math.log(s) - z[y])


@jit(inline="always")
def _logits(X, i, W, b, z):
    for q in range(W.shape[0]):
        z[q] = b[q] + row_dot(X, i, W[q])


@jit
def alias_table(probs):
    """Walker's alias table of ``probs`` (Vose's O(n) construction): draw ``i`` uniformly and a
    uniform ``f``; the row is ``i`` if ``f < accept[i]`` else ``alias[i]``.

    Two reads per draw instead of a binary search in the CDF: on 50 000 rows the searchsorted
    draws of an epoch took 5.2 ms of a 25-30 ms CSR SAGA epoch, these take ~1 ms.

    Parameters
    ----------
    probs : ndarray of shape (n,), float64
        Nonnegative, with a positive sum (normalised here).

    Returns
    -------
    accept : ndarray of shape (n,), float64
    alias : ndarray of shape (n,), int64
    """
    n = probs.shape[0]
    total = 0.0
    for i in range(n):
        total += probs[i]
    scaled = np.empty(n)
    for i in range(n):
        scaled[i] = probs[i] * n / total
    accept = np.ones(n)
    alias = np.arange(n)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:  # g moves to the small list
            nl -= 1
            small[ns] = g
            ns += 1
    return accept, alias  # leftovers (rounding) keep accept = 1


@jit
def saga_init(X, codes, u, W, b, memory, gbar):
    """Fill SAGA's table at ``(W, b)``: ``memory_i = a_i``, ``gbar = 1/n sum_i a_i [x_i, 1]``.

    Starting from the gradients at the initial point rather than zeros makes the first epoch a
    variance-reduced one too, and a warm start at the optimum stays there. Returns
    ``1/n sum_i u_i l_i`` (the loss part of F at ``(W, b)``).
    """
    n = n_rows(X)
    K, D = W.shape
    z = np.empty(K)
    a = np.empty(K)
    gbar[:, :] = 0.0
    loss = 0.0
    for i in range(n):
        _logits(X, i, W, b, z)
        loss += _scalars(z, codes[i], u[i], a)
        for q in range(K):
            memory[i, q] = a[q]
            row_axpy(X, i, a[q], gbar[q])
            gbar[q, D] += a[q]
    for q in range(K):
        for j in range(D + 1):
            gbar[q, j] /= n
    return loss / n


@jit
def saga_epoch(X, codes, u, order, batch, W, b, memory, gbar, delta, last, gamma, gamma_b, mu,
               lam, fit_intercept, rscale, pw, ge):
    """One epoch of SAGA over ``order`` in steps of ``batch`` rows (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n, D) or CSR tuple ``(data, indices, indptr)``
    codes : ndarray of shape (n,), float64
        0/1 (K = 1) or the class index (K >= 3).
    u : ndarray of shape (n,), float64
        ``n sw_i / S``.
    order : ndarray of shape (n,), int64
        The visiting order (a permutation).
    batch : int
        Rows per step.
    W : ndarray of shape (K, D); b : ndarray of shape (K,)
        Updated in place; ``b`` is left alone when ``fit_intercept`` is False.
    memory : ndarray of shape (n, K); gbar : ndarray of shape (K, D + 1)
        SAGA's table and its mean, from :func:`saga_init` or the previous epoch.
    delta : ndarray of shape (K, D + 1)
        Zeroed scratch (left zeroed): a mini-batch step's ``v - gbar``.
    last : ndarray of shape (D,), int64
        Zeros on entry and exit (steps applied to each feature in this epoch).
    gamma, gamma_b : float
        Step of the weights and of the intercepts. ``gamma_b = c^2 gamma`` is SAGA run with the
        intercept's column of ones replaced by ``c`` (the variable ``b / c``), a fixed diagonal
        preconditioner (:func:`fastlin.solvers.stochastic.intercept_scale`).
    mu, lam : float
        L2 strength, L1 strength (mean-form units).
    fit_intercept : bool
    rscale : ndarray of shape (n,), float64
        ``1 / (n p_i)`` for rows drawn with probabilities ``p_i``; ones for a permutation. Scales
        row i's term in ``v``, not in ``gbar``.
    pw, ge : ndarray of shape (n_steps + 1,)
        :func:`lag_tables` of ``(n_steps, gamma mu)``.

    Returns
    -------
    n_steps : int

    A mini-batch step moves ``gbar`` while its rows are summed, and keeps ``delta = v - gbar``
    after the step (terms ``(rscale_i / |B| - 1/n) diff_i x_i``), so that the step is
    ``prox(W - gamma (delta + gbar))`` with the ``gbar`` a deferred update reads later. A feature
    whose ``gbar`` moves in a step was brought up to date by the row that moved it, so later
    rows of the step never apply a deferred update with a moved ``gbar``.

    The hot loop is one function (~75 lines, over the ~80 guideline) so that the per-step
    scalars stay in registers and the one-row and mini-batch steps share the set-up and the
    end-of-epoch catch-up; its sub-steps are the accessors above.
    """
    n = n_rows(X)
    K, D = W.shape
    a = pw[1]  # 1 / (1 + gamma mu), the same number the deferred updates use
    log_a = -math.log1p(gamma * mu)
    gm = gamma * mu
    t = gamma * lam
    n_steps = (n + batch - 1) // batch
    inv_n = 1.0 / n
    z = np.empty(K)
    g = np.empty(K)
    c1 = np.empty(K)
    c2 = np.empty(K)
    for k in range(n_steps):
        lo = k * batch
        hi = min(n, lo + batch)
        if batch == 1:  # one pass to read the row, one to step: no scratch
            i = order[lo]
            row_logits(X, i, W, b, z, gbar, delta, False, last, k, gamma, t, log_a, gm, pw, ge)
            _scalars(z, codes[i], u[i], g)
            for q in range(K):
                diff = g[q] - memory[i, q]
                memory[i, q] = g[q]
                c1[q] = diff * rscale[i]
                c2[q] = diff * inv_n
            row_step_one(X, i, W, c1, c2, gbar, last, k + 1, gamma, a, t)
            for q in range(K):
                if fit_intercept:
                    b[q] -= gamma_b * (c1[q] + gbar[q, D])
                gbar[q, D] += c2[q]
            continue
        inv_b = 1.0 / (hi - lo)
        for r in range(lo, hi):
            i = order[r]
            row_logits(X, i, W, b, z, gbar, delta, True, last, k, gamma, t, log_a, gm, pw, ge)
            _scalars(z, codes[i], u[i], g)
            for q in range(K):
                diff = g[q] - memory[i, q]
                memory[i, q] = g[q]
                d = diff * (inv_b * rscale[i] - inv_n)
                row_axpy2(X, i, d, delta[q], diff * inv_n, gbar[q])
                delta[q, D] += d
                gbar[q, D] += diff * inv_n
        finish_step(X, W, delta, gbar, last, k + 1, gamma, a, t)
        for q in range(K):
            if fit_intercept:
                b[q] -= gamma_b * (delta[q, D] + gbar[q, D])
            delta[q, D] = 0.0
    for j in range(D):  # bring every weight to the end of the epoch
        m = n_steps - last[j]
        if m > 0:
            for q in range(K):
                W[q, j] = _catch_up(W, delta, gbar, q, j, m, gamma, t, log_a, gm, pw, ge)
        last[j] = 0
    return n_steps
