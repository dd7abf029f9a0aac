"""Loss values and derivatives, switched by the integer codes of :data:`fastlin._registry.LOSSES`.

``p`` is the prediction (decision value), ``y`` the target (in {-1, +1} for the classification
losses) and ``eps`` the ``epsilon`` parameter (used by huber and the epsilon-insensitive losses).
The derivative is with respect to ``p``. The switch costs one predictable branch per sample,
not per feature, and it keeps one compiled specialisation for all losses.
"""

from __future__ import annotations

import math

from .._jit import jit
from .._registry import LOSSES

# Codes, read from the registry (Numba freezes module globals as compile-time constants, so the
# switch below compiles exactly as with literals).
SQUARED_ERROR = LOSSES["squared_error"].code
ABSOLUTE_ERROR = LOSSES["absolute_error"].code
HUBER = LOSSES["huber"].code
EPSILON_INSENSITIVE = LOSSES["epsilon_insensitive"].code
SQUARED_EPSILON_INSENSITIVE = LOSSES["squared_epsilon_insensitive"].code
HINGE = LOSSES["hinge"].code
LOG_LOSS = LOSSES["log_loss"].code
SQUARED_HINGE = LOSSES["squared_hinge"].code
MODIFIED_HUBER = LOSSES["modified_huber"].code
PERCEPTRON = LOSSES["perceptron"].code

# exp(-18) < 2e-8 relative to 1: beyond |z| = 18 the log-loss formulas switch to their asymptotes,
# which are exact to double precision there and never overflow.
_LOG_CUT = 18.0


@jit
def loss(code, p, y, eps):
    """Value of loss ``code`` at prediction ``p`` for target ``y``."""
    if code == SQUARED_ERROR:
        r = p - y
        return 0.5 * r * r
    elif code == ABSOLUTE_ERROR:
        return abs(p - y)
    elif code == HUBER:
        r = abs(p - y)
        if r <= eps:
            return 0.5 * r * r
        return eps * r - 0.5 * eps * eps
    elif code == EPSILON_INSENSITIVE:
        r = abs(y - p) - eps
        return r if r > 0.0 else 0.0
    elif code == SQUARED_EPSILON_INSENSITIVE:
        r = abs(y - p) - eps
        return r * r if r > 0.0 else 0.0
    elif code == HINGE:
        z = p * y
        return 1.0 - z if z <= 1.0 else 0.0
    elif code == LOG_LOSS:
        z = p * y
        if z > _LOG_CUT:
            return math.exp(-z)
        if z < -_LOG_CUT:
            return -z
        return math.log1p(math.exp(-z))
    elif code == SQUARED_HINGE:
        z = 1.0 - p * y
        return z * z if z > 0.0 else 0.0
    elif code == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    else:  # PERCEPTRON
        z = p * y
        return -z if z <= 0.0 else 0.0


@jit
def dloss(code, p, y, eps):
    """Derivative of loss ``code`` with respect to the prediction ``p``."""
    if code == SQUARED_ERROR:
        return p - y
    elif code == ABSOLUTE_ERROR:
        r = p - y
        if r > 0.0:
            return 1.0
        if r < 0.0:
            return -1.0
        return 0.0
    elif code == HUBER:
        r = p - y
        if abs(r) <= eps:
            return r
        return eps if r > 0.0 else -eps
    elif code == EPSILON_INSENSITIVE:
        z = y - p
        if z > eps:
            return -1.0
        if z < -eps:
            return 1.0
        return 0.0
    elif code == SQUARED_EPSILON_INSENSITIVE:
        z = y - p
        if z > eps:
            return -2.0 * (z - eps)
        if z < -eps:
            return -2.0 * (z + eps)
        return 0.0
    elif code == HINGE:
        return -y if p * y <= 1.0 else 0.0
    elif code == LOG_LOSS:
        z = p * y
        if z > _LOG_CUT:
            return -y * math.exp(-z)
        if z < -_LOG_CUT:
            return -y
        return -y / (math.exp(z) + 1.0)
    elif code == SQUARED_HINGE:
        z = 1.0 - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    elif code == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return -2.0 * y * (1.0 - z)
        return -4.0 * y
    else:  # PERCEPTRON
        return -y if p * y <= 0.0 else 0.0


@jit
def d2loss(code, p, y, eps, g):
    """Second derivative of loss ``code`` with respect to ``p`` (0 at and beyond a kink).

    ``g`` is the derivative at ``p`` (:func:`dloss`), from which log_loss reads its curvature
    without a second ``exp``: ``sigma (1 - sigma) = |g| (1 - |g|)``. The losses with a kink
    (absolute, epsilon-insensitive, hinge, perceptron) are piecewise linear: 0. Used as the local
    curvature that caps a batch's step (:mod:`fastlin.kernels.minibatch`).
    """
    if code == SQUARED_ERROR:
        return 1.0
    elif code == HUBER:
        return 1.0 if abs(p - y) <= eps else 0.0
    elif code == SQUARED_EPSILON_INSENSITIVE:
        return 2.0 if abs(y - p) > eps else 0.0
    elif code == LOG_LOSS:
        a = abs(g)
        return a * (1.0 - a)
    elif code == SQUARED_HINGE:
        return 2.0 if p * y < 1.0 else 0.0
    elif code == MODIFIED_HUBER:
        z = p * y
        return 2.0 if -1.0 <= z < 1.0 else 0.0
    return 0.0


@jit
def weighted_loss_sum(code, P, Y, eps, w):
    """Σ_i w_i Σ_k loss(code, P[i, k], Y[i, k]).

    ``P`` and ``Y`` are C-ordered of shape (n, k), ``w`` of shape (n,).
    """
    s = 0.0
    for i in range(P.shape[0]):
        for k in range(P.shape[1]):
            s += w[i] * loss(code, P[i, k], Y[i, k], eps)
    return s
