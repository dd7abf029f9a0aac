"""Elastic-net paths by coordinate descent on the Gram statistics.

Input: the centred (or raw) statistics Q = Σ w x xᵀ (D×D), q = Σ w x y (D,), yy = Σ w y² and the
weight sum W — whatever source they came from. The objective is scikit-learn's

    (1 / 2W) ‖y − Xβ‖²_w + α ρ ‖β‖₁ + ½ α (1 − ρ) ‖β‖²

(ρ = ``l1_ratio``), handed to :func:`fastlin.kernels.cd.enet_gram_cd` multiplied by W, i.e. with
penalties l1 = α ρ W and l2 = α (1 − ρ) W. Scaling by W instead of scikit-learn's normalising the
weights to sum to n changes nothing: the gap and its tolerance tol · yy scale alike, and the gap is
reported divided by W (scikit-learn's ``dual_gap_``).

Paths run from the largest alpha down with warm starts. Each alpha's sweeps start from the
*sequential strong rule* of Tibshirani et al. (2012): coordinate j is left out when
|q_j − (Qβ̂_prev)_j| < 2λ_k − λ_{k−1} (λ = α ρ W); the kernel's KKT check re-admits any violator,
so the rule only ever saves work, never changes the answer.
"""

from __future__ import annotations

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._warn import warn as warn_user
from ..kernels.cd import enet_gram_cd

__all__ = ["alpha_grid", "check_alphas", "enet_gram_path", "path_seed"]


def alpha_grid(xty, weight_sum, l1_ratio, eps, n_alphas, positive=False):
    """scikit-learn's geometric grid from α_max (all coefficients zero) down to eps · α_max.

    Parameters
    ----------
    xty : ndarray of shape (n_features,) or (n_features, n_targets)
        Σ w x y of the (centred) data.
    weight_sum : float
    l1_ratio : float in (0, 1]
    eps : float
    n_alphas : int
    positive : bool

    Returns
    -------
    alphas : ndarray of shape (n_alphas,), decreasing
    """
    if l1_ratio == 0:
        raise ValueError("Automatic alpha grid generation is not supported for l1_ratio=0: pass "
                         "a list of alphas.")
    xty = np.asarray(xty, dtype=np.float64).reshape(xty.shape[0], -1)
    if positive:
        top = max(0.0, float(xty.max())) if xty.size else 0.0
    else:
        top = float(np.sqrt(np.max(np.sum(xty ** 2, axis=1)))) if xty.size else 0.0
    alpha_max = top / (weight_sum * l1_ratio)
    res = np.finfo(np.float64).resolution
    if alpha_max <= res:
        return np.full(n_alphas, res)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def check_alphas(alphas):
    """A user's alpha list as a float64 array sorted decreasingly; ValueError when empty, negative
    or non-finite (checked before any statistic is computed, so no partial model is left)."""
    a = np.asarray(alphas, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("alphas must be a non-empty list of non-negative numbers, got an "
                         "empty one.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"alphas must be finite, got {a.tolist()}.")
    if np.any(a < 0):
        raise ValueError(f"alphas must be >= 0, got {a.tolist()}.")
    return np.sort(a)[::-1].copy()


def path_seed(random_state):
    """The kernel's xorshift32 start state from a ``check_random_state`` generator (never 0)."""
    return int(random_state.randint(1, 2**31 - 1))


def _strong_set(c, lam, lam_prev, positive):
    """Working set of the sequential strong rule: 1 where the coordinate may be active."""
    g = c if positive else np.abs(c)
    return (g >= 2.0 * lam - lam_prev).astype(np.uint8)


def enet_gram_path(Q, q, yy, weight_sum, alphas, l1_ratio, *, tol=1e-4, max_iter=1000,
                   positive=False, random=False, seed=1, coef_init=None, strong_rules=False,
                   warn=True):
    """The elastic-net solutions along ``alphas`` (in the given order) with warm starts.

    Parameters
    ----------
    Q : ndarray of shape (n_features, n_features)
    q : ndarray of shape (n_features,)
    yy : float
    weight_sum : float
        W > 0, the n_w of the objective.
    alphas : ndarray of shape (n_alphas,)
    l1_ratio : float in [0, 1]
    tol, max_iter, positive : as scikit-learn's
    random : bool
        Random coordinate selection (``selection="random"``).
    seed : int
        xorshift32 state; the same seed gives bit-identical results.
    coef_init : ndarray of shape (n_features,), optional
        Start of the first alpha (``warm_start``).
    strong_rules : bool
        Start each alpha's sweeps from the strong set (the answer is the same either way).
    warn : bool
        Emit scikit-learn's ``ConvergenceWarning`` when an alpha hits ``max_iter``.

    Returns
    -------
    coefs : ndarray of shape (n_features, n_alphas)
    gaps : ndarray of shape (n_alphas,)
        Duality gaps divided by W (scikit-learn's scale).
    n_iters : list of int
    """
    Q = np.ascontiguousarray(Q, dtype=np.float64)
    q = np.ascontiguousarray(q, dtype=np.float64).ravel()
    d = Q.shape[0]
    alphas = np.asarray(alphas, dtype=np.float64)
    w = np.zeros(d) if coef_init is None else np.array(coef_init, dtype=np.float64).ravel()
    Qw = Q @ w
    coefs = np.empty((d, alphas.shape[0]))
    gaps = np.empty(alphas.shape[0])
    n_iters = []
    lam_prev = float(np.max(q if positive else np.abs(q))) if d else 0.0
    state = int(seed)
    for k, alpha in enumerate(alphas):
        l1 = float(alpha) * l1_ratio * weight_sum
        l2 = float(alpha) * (1.0 - l1_ratio) * weight_sum
        if strong_rules and l1 > 0:
            working = _strong_set(q - Qw, l1, max(lam_prev, l1), positive)
        else:
            working = np.ones(d, dtype=np.uint8)
        gap, n_iter, state = enet_gram_cd(Q, q, float(yy), w, Qw, l1, l2, int(max_iter),
                                          float(tol), bool(positive), bool(random), state, working)
        if warn and n_iter >= max_iter and gap > tol * yy:
            warn_user(f"Objective did not converge at alpha={alpha:.6g}: duality gap "
                      f"{gap / weight_sum:.3e} > tolerance {tol * yy / weight_sum:.3e} after "
                      f"{max_iter} epochs. Increase max_iter or tol.", ConvergenceWarning)
        coefs[:, k] = w
        gaps[k] = gap / weight_sum
        n_iters.append(int(n_iter))
        lam_prev = l1
    return coefs, gaps, n_iters
