"""Solve the regularised normal equations (G + αI) W = B on the small D×D (or N×N) system.

The first choice is LAPACK Cholesky (``potrf``/``potrs`` through scipy.linalg): D³/3 flops, no
pivoting, backward stable for a positive-definite matrix. Cholesky can "succeed" on a matrix that
is singular up to rounding (collinear columns with α = 0), returning coefficients of size 1e15, so
its reciprocal condition number is estimated from the factor (``pocon``, O(D²)); below
:data:`RCOND_MIN` the system is treated as singular and solved for the minimum-norm solution with a
symmetric eigendecomposition, discarding eigenvalues below ``RCOND_MIN × λmax``. A
``LinAlgWarning`` says why, and the caller records the solver that ran.

:func:`solve_nnls` solves the same system under w ≥ 0 (non-negative least squares on the Gram
statistics, Lawson and Hanson's active-set method, *Solving Least Squares Problems*, 1974, ch. 23):
each step solves the unconstrained system restricted to the free (passive) set by the Cholesky
above, so the result has exact zeros and needs no further pass over X.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack
from sklearn.exceptions import ConvergenceWarning

from .._warn import warn

__all__ = ["RCOND_MIN", "solve_normal", "solve_nnls", "ridge_alphas"]

#: Below this estimated reciprocal condition number of G + αI the Cholesky solution is not trusted.
#: 1e-12: a system that ill-conditioned has lost 12 of float64's 16 digits in forming G = XᵀX
#: alone, so the minimum-norm answer (which discards those directions) is the meaningful one.
RCOND_MIN = 1e-12


def ridge_alphas(alpha, n_targets):
    """Validate ``alpha`` (scalar or one value per target) and return it as an array of n_targets.

    Raises
    ------
    ValueError
        For a negative or non-finite value, or an array of the wrong length.
    """
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n_targets, float(a))
    elif a.ndim != 1 or a.shape[0] != n_targets:
        raise ValueError(
            f"alpha must be a scalar or have one value per target ({n_targets}), got shape {a.shape}."
        )
    if not np.all(np.isfinite(a)):
        raise ValueError("alpha must be finite.")
    if np.any(a < 0):
        raise ValueError(f"alpha must be >= 0, got {np.asarray(alpha).tolist()}.")
    return a


def _cholesky_solve(A, B, rcond_min=RCOND_MIN):
    """Return (X, rcond) with A X = B, or (None, rcond) when A is not (numerically) positive definite."""
    anorm = np.abs(A).sum(axis=0).max()
    c, info = lapack.dpotrf(A, lower=0, clean=0, overwrite_a=0)
    if info != 0:
        return None, 0.0
    rcond, info = lapack.dpocon(c, anorm)  # upper factor (uplo "U" default)
    if info != 0 or not rcond >= rcond_min:
        return None, float(rcond)
    X, info = lapack.dpotrs(c, B, lower=0)
    if info != 0:
        return None, float(rcond)
    return X, float(rcond)


def _min_norm_solve(A, B, rcond_min=RCOND_MIN):
    """Minimum-norm least-squares solution of A X = B for symmetric positive semi-definite A."""
    evals, evecs = linalg.eigh(A, check_finite=False)
    top = max(float(evals[-1]), 0.0)
    keep = evals > rcond_min * top
    if not np.any(keep):
        return np.zeros((A.shape[0], B.shape[1]))
    V = evecs[:, keep]
    return V @ ((V.T @ B) / evals[keep][:, None])


def solve_normal(G, B, alpha=0.0, *, kind="primal", rcond_min=RCOND_MIN):
    """Solve ``(G + alpha_t I) w_t = B[:, t]`` for every target t.

    Parameters
    ----------
    G : ndarray of shape (k, k)
        Symmetric positive semi-definite (a centred XᵀX, or the dual kernel X Xᵀ).
    B : ndarray of shape (k, n_targets) or (k,)
    alpha : float or ndarray of shape (n_targets,)
        Non-negative; targets sharing a value share one factorisation.
    kind : {"primal", "dual"}
        Only changes the recorded solver name ("cholesky" or "cholesky_dual", "eigh" or "eigh_dual").
    rcond_min : float, default=RCOND_MIN
        Cholesky is trusted down to this reciprocal condition number of G + αI, and the fallback
        drops eigenvalues below ``rcond_min × λmax``. G = XᵀX squares X's singular values, so
        ``rcond_min = tol²`` drops singular values of X below ``tol × σmax`` (LAPACK ``gelsd``'s
        ``cond``, which scikit-learn's ``LinearRegression(tol=...)`` passes).

    Returns
    -------
    W : ndarray of shape (k, n_targets) (or (k,) when B is 1-D)
    solver : str
        The solver that ran; if any target needed the fallback, the fallback's name.
    """
    G = np.asarray(G, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    one_d = B.ndim == 1
    B2 = B.reshape(-1, 1) if one_d else B
    t = B2.shape[1]
    alphas = ridge_alphas(alpha, t)
    suffix = "" if kind == "primal" else "_" + kind
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(B2))):
        raise ValueError(
            "The normal equations contain non-finite values: the data overflow float64 "
            "(check X and y for values near 1e154 or larger)."
        )
    W = np.empty((G.shape[0], t), dtype=np.float64)
    solver = "cholesky" + suffix
    for a in np.unique(alphas):
        cols = np.flatnonzero(alphas == a)
        A = G.copy()
        A.flat[:: A.shape[0] + 1] += a
        X, rcond = _cholesky_solve(A, B2[:, cols], rcond_min)
        if X is None:
            why = ("is not positive definite" if rcond == 0.0
                   else f"is too ill-conditioned for Cholesky (estimated rcond {rcond:.1e} "
                        f"< {rcond_min:.0e})")
            warn(
                f"The regularised Gram matrix (alpha={a:g}) {why}: collinear or constant features, or "
                "more features than samples, with too little regularisation. Falling back to the "
                "minimum-norm solution from a symmetric eigendecomposition.",
                linalg.LinAlgWarning,
            )
            X = _min_norm_solve(A, B2[:, cols], rcond_min)
            solver = "eigh" + suffix
        W[:, cols] = X
    return (W[:, 0] if one_d else W), solver


#: The KKT test "gradient component > 0" is made against this many units of rounding of that
#: component. Forming g_j = b_j − (A w)_j in float64 errs by at most ~k·eps·(|A||w| + |b|)_j over
#: k passive terms (Higham, *Accuracy and Stability*, §3.1); a factor 10 above that bound keeps a
#: variable whose true gradient is zero from being added and dropped in a loop, while still
#: admitting gradients of 1e-11 relative size, far below the 1e-6 parity asked of the result.
_KKT_SLACK = 10.0


def _passive_solve(A, b, idx):
    """Unconstrained solution on the passive set: Cholesky, else minimum norm (α = 0, collinear)."""
    sub = A[np.ix_(idx, idx)]
    s, _ = _cholesky_solve(sub, b[idx].reshape(-1, 1))
    if s is None:
        s = _min_norm_solve(sub, b[idx].reshape(-1, 1))
    return s[:, 0]


def _step_to_boundary(w, s, idx):
    """Move w[idx] towards s until the first passive coordinate hits 0; return the ones that did."""
    wi = w[idx]
    neg = s <= 0
    ratios = np.full(idx.size, np.inf)
    ratios[neg] = wi[neg] / (wi[neg] - s[neg])
    k = int(np.argmin(ratios))
    new = wi + ratios[k] * (s - wi)
    new[k] = 0.0
    new[new <= 0] = 0.0
    w[idx] = new
    return idx[new == 0.0]


def _nnls_one(A, b, max_iter):
    """Lawson–Hanson active set for min ½wᵀAw − bᵀw, w ≥ 0. Returns (w, outer iterations, ok)."""
    d = b.shape[0]
    w = np.zeros(d)
    passive = np.zeros(d, dtype=bool)
    blocked = np.zeros(d, dtype=bool)  # added with a non-positive trial value: rounding, skip
    absA = np.abs(A)
    eps = np.finfo(np.float64).eps
    n_iter = 0
    while True:
        g = b - A @ w  # minus the gradient: positive means increasing w_j lowers the objective
        slack = _KKT_SLACK * max(int(passive.sum()), 1) * eps * (absA @ np.abs(w) + np.abs(b))
        cand = np.where(~passive & ~blocked & (g > slack), g, -np.inf)
        j = int(np.argmax(cand))
        if not np.isfinite(cand[j]):
            return w, n_iter, True
        if n_iter >= max_iter:
            return w, n_iter, False
        n_iter += 1
        passive[j] = True
        first = True
        while True:
            idx = np.flatnonzero(passive)
            s = _passive_solve(A, b, idx)
            if np.all(s > 0):
                w[:] = 0.0
                w[idx] = s
                blocked[:] = False
                break
            if first and s[np.searchsorted(idx, j)] <= 0:
                passive[j] = False  # exact arithmetic gives s_j > 0 here (g_j > 0)
                blocked[j] = True
                break
            first = False
            passive[_step_to_boundary(w, s, idx)] = False


def solve_nnls(G, B, alpha=0.0, *, max_iter=None):
    """Solve ``min_w ½ wᵀ(G + α_t I)w − B[:, t]ᵀw`` subject to ``w ≥ 0`` for every target t.

    On the centred Gram statistics this is exactly non-negative (ridge) least squares,
    ``min ‖√s (y − Xw − b)‖² + α‖w‖²`` with w ≥ 0 and b free, so it runs on any source's
    statistics without another pass over X. Lawson–Hanson's active set: variables enter the passive
    set one at a time by largest gradient, each step an unconstrained Cholesky solve on the passive
    set (minimum norm if singular), stepping back to the feasible boundary when a passive value
    would turn non-positive. Coefficients outside the passive set are exact zeros. Cost per step
    O(k³) for k passive variables; at most ``max_iter`` entering steps.

    Parameters
    ----------
    G : ndarray of shape (d, d)
        Symmetric positive semi-definite (a centred XᵀX).
    B : ndarray of shape (d, n_targets) or (d,)
    alpha : float or ndarray of shape (n_targets,)
    max_iter : int or None, default=None
        Cap on entering steps per target; None means ``3 d`` (Lawson and Hanson's own cap, never
        reached in their experience nor in our tests: an active set rarely needs more than d).

    Returns
    -------
    W : ndarray of shape (d, n_targets) (or (d,) when B is 1-D), all entries ≥ 0
    solver : str
        "nnls".
    n_iter : ndarray of shape (n_targets,)
        Outer iterations per target: each evaluates the gradient and tests optimality, so this is
        the number of entering steps + 1 (at least 1, as scikit-learn's checks want of ``n_iter_``).
    """
    G = np.asarray(G, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    one_d = B.ndim == 1
    B2 = B.reshape(-1, 1) if one_d else B
    t = B2.shape[1]
    alphas = ridge_alphas(alpha, t)
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(B2))):
        raise ValueError(
            "The normal equations contain non-finite values: the data overflow float64 "
            "(check X and y for values near 1e154 or larger)."
        )
    cap = 3 * G.shape[0] if max_iter is None else int(max_iter)
    W = np.empty((G.shape[0], t), dtype=np.float64)
    n_iter = np.zeros(t, dtype=np.int64)
    for k in range(t):
        A = G.copy()
        A.flat[:: A.shape[0] + 1] += alphas[k]
        W[:, k], steps, ok = _nnls_one(A, B2[:, k], cap)
        n_iter[k] = steps + 1
        if not ok:
            warn(
                f"Non-negative least squares (target {k}) stopped after max_iter={cap} active-set "
                "steps before the optimality conditions held; increase max_iter.",
                ConvergenceWarning,
            )
    return (W[:, 0] if one_d else W), "nnls", n_iter
