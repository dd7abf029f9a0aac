"""THE epoch loop: every stochastic fit of fastlin (per-sample, mini-batch and full-batch SGD,
the stochastic solvers of LogisticRegression, ``partial_fit`` over chunks and Dask blocks).

The kernel does one epoch over arrays of state; this loop decides, once per epoch, everything that
is not per sample: the stopping rule (``tol``, ``n_iter_no_change``, on an objective to minimise or
a validation score to maximise), the ``adaptive`` schedule's step cuts, divergence, verbose output.
The caller's ``step(epoch)`` runs one epoch and returns an :class:`Epoch`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Stopping", "Epoch", "run_epochs", "check_finite_state"]


@dataclass(frozen=True)
class Stopping:
    """When the loop stops before ``max_iter``.

    Attributes
    ----------
    tol : float or None
        None (or -inf): never stop early. Otherwise an epoch "improves" when its value beats the
        best so far by at least ``tol`` (times ``max(1, |best|)`` when ``relative``).
    n_iter_no_change : int
        Stop (or, with ``on_stall``, cut the step) after this many epochs without improvement.
    maximize : bool
        The monitored value is a score to maximise (early stopping on held-out data).
    relative : bool
    """

    tol: float | None
    n_iter_no_change: int = 5
    maximize: bool = False
    relative: bool = False

    @property
    def active(self):
        return self.tol is not None and self.tol > -math.inf

    def improves(self, value, best):
        if not np.isfinite(best):
            return True
        margin = self.tol * (max(1.0, abs(best)) if self.relative else 1.0)
        return value >= best + margin if self.maximize else value <= best - margin


@dataclass
class Epoch:
    """What one epoch reports: the monitored value (NaN when not computed) and a verbose line."""

    value: float = math.nan
    message: str | None = None


def run_epochs(step, max_iter, stopping, *, verbose=False, on_stall=None, header=True):
    """Run ``step(epoch)`` for epochs 1..max_iter until the stopping rule says stop.

    Parameters
    ----------
    step : callable
        ``step(epoch) -> Epoch``; raises to abort (divergence, bad data).
    max_iter : int
    stopping : Stopping
    verbose : bool
        Print "-- Epoch k" (when ``header``), the epoch's message, and the total time.
    on_stall : callable, optional
        Called when ``n_iter_no_change`` epochs did not improve; returning True means "continue"
        (the adaptive schedule divided its step), False means stop.

    Returns
    -------
    n_epochs : int
        Epochs run.
    converged : bool
        False when ``max_iter`` stopped the loop while the stopping rule was active.
    """
    sign = -1.0 if stopping.maximize else 1.0
    best, stale, t0 = sign * math.inf, 0, time.time()
    for epoch in range(1, max_iter + 1):
        if verbose and header:
            print(f"-- Epoch {epoch}")
        result = step(epoch)
        if verbose and result.message:
            print(result.message)
            print(f"Total training time: {time.time() - t0:.2f} seconds.")
        if not stopping.active:
            continue
        if stopping.improves(result.value, best):
            stale = 0
        else:
            stale += 1
        best = (max if stopping.maximize else min)(best, result.value)
        if stale >= stopping.n_iter_no_change:
            if on_stall is not None and on_stall():
                stale = 0
                continue
            if verbose:
                print(f"Convergence after {epoch} epochs took {time.time() - t0:.2f} seconds")
            return epoch, True
    return max_iter, not stopping.active


def check_finite_state(epoch, hint, *arrays):
    """Raise ValueError when any state array became NaN or infinite (checked once per epoch)."""
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise ValueError(f"The fit diverged at epoch {epoch}: the weights became NaN or "
                             f"infinite. {hint}")
