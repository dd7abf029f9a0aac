"""Solve the regularised normal equations (G + αI) W = B on the small D×D (or N×N) system.

The first choice is LAPACK Cholesky (``potrf``/``potrs`` through scipy.linalg): D³/3 flops, no
pivoting, backward stable for a positive-definite matrix. Cholesky can "succeed" on a matrix that
is singular up to rounding (collinear columns with α = 0), returning coefficients of size 1e15, so
its reciprocal condition number is estimated from the factor (``pocon``, O(D²)); below
:data:`RCOND_MIN` the system is treated as singular and solved for the minimum-norm solution with a
symmetric eigendecomposition, discarding eigenvalues below ``RCOND_MIN × λmax``. A
``LinAlgWarning`` says why, and the caller records the solver that ran.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

__all__ = ["RCOND_MIN", "solve_normal", "ridge_alphas"]

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
        raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
    return a


def _cholesky_solve(A, B):
    """Return (X, rcond) with A X = B, or (None, rcond) when A is not (numerically) positive definite."""
    anorm = np.abs(A).sum(axis=0).max()
    c, info = lapack.dpotrf(A, lower=0, clean=0, overwrite_a=0)
    if info != 0:
        return None, 0.0
    rcond, info = lapack.dpocon(c, anorm)  # upper factor (uplo "U" default)
    if info != 0 or not rcond >= RCOND_MIN:
        return None, float(rcond)
    X, info = lapack.dpotrs(c, B, lower=0)
    if info != 0:
        return None, float(rcond)
    return X, float(rcond)


def _min_norm_solve(A, B):
    """Minimum-norm least-squares solution of A X = B for symmetric positive semi-definite A."""
    evals, evecs = linalg.eigh(A, check_finite=False)
    top = max(float(evals[-1]), 0.0)
    keep = evals > RCOND_MIN * top
    if not np.any(keep):
        return np.zeros((A.shape[0], B.shape[1]))
    V = evecs[:, keep]
    return V @ ((V.T @ B) / evals[keep][:, None])


def solve_normal(G, B, alpha=0.0, *, kind="primal"):
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
        X, rcond = _cholesky_solve(A, B2[:, cols])
        if X is None:
            why = ("is not positive definite" if rcond == 0.0
                   else f"is too ill-conditioned for Cholesky (estimated rcond {rcond:.1e} < {RCOND_MIN:.0e})")
            warnings.warn(
                f"The regularised Gram matrix (alpha={a:g}) {why}: collinear or constant features, or "
                "more features than samples, with too little regularisation. Falling back to the "
                "minimum-norm solution from a symmetric eigendecomposition.",
                linalg.LinAlgWarning,
                stacklevel=3,
            )
            X = _min_norm_solve(A, B2[:, cols])
            solver = "eigh" + suffix
        W[:, cols] = X
    return (W[:, 0] if one_d else W), solver
