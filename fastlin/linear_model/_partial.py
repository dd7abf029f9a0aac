"""A driver that knows no model: ``partial_fit`` over the pieces of a source, epoch after epoch.

The block loop of dask-ml's incremental fits, written once for chunk iterables and Dask blocks:
any estimator with ``partial_fit`` is driven over :meth:`Source.pieces`, inside THE epoch loop
(:func:`fastlin.solvers.epochs.run_epochs`), which stops as scikit-learn's SGD does when the epoch's
mean progressive loss (the loss of each piece at the weights it met, before ``partial_fit`` saw it)
has not improved by ``tol`` for ``n_iter_no_change`` epochs. :func:`fit_averaged` is the other
Dask mode: one independent SGD per block on the workers, the coefficients averaged (Zinkevich,
Weimer, Smola & Li 2010, "Parallelized stochastic gradient descent").
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.base import clone, is_classifier

from .._registry import LOSSES
from .._warn import warn
from ..data.pieces import check_finite_X
from ..engine.dask import DaskSource
from ..kernels.losses import weighted_loss_sum
from ..solvers.epochs import Epoch, Stopping, run_epochs

__all__ = ["fit_partial", "fit_averaged", "fit_dask_sgd", "clear_fitted"]


def clear_fitted(est):
    """Forget a previous fit so that ``partial_fit`` starts from scratch (``fit`` semantics)."""
    for key in list(vars(est)):
        if key.endswith("_") and not key.startswith("__"):
            delattr(est, key)


def progressive_loss(est, piece, classes):
    """``(Σ w·loss, Σ w)`` of a piece at the *current* weights, before ``partial_fit`` sees it.

    One BLAS product per piece; None before the first piece or for a loss outside the registry.
    """
    row = LOSSES.get(getattr(est, "loss", "perceptron"))
    if row is None or not hasattr(est, "coef_"):
        return None
    sw = piece.sample_weight
    w = np.ones(piece.X.shape[0]) if sw is None else np.asarray(sw, dtype=np.float64)
    if classes is None:
        P = np.asarray(est.predict(piece.X), dtype=np.float64).reshape(-1, 1)
        Y = np.asarray(piece.y, dtype=np.float64).reshape(-1, 1)
    else:
        P = np.asarray(est.decision_function(piece.X), dtype=np.float64)
        y = np.asarray(piece.y)
        if P.ndim == 1:
            P, Y = P[:, None], np.where(y == classes[1], 1.0, -1.0)[:, None]
        else:
            Y = np.where(y[:, None] == np.asarray(classes)[None, :], 1.0, -1.0)
    eps = float(getattr(est, "epsilon", 0.1))
    total = weighted_loss_sum(row.code, np.ascontiguousarray(P), np.ascontiguousarray(Y), eps, w)
    return float(total), float(w.sum())


def fit_partial(est, source, *, epochs, classes=None, tol=None, n_iter_no_change=5,
                order_of=None, verbose=False):
    """Fit ``est`` by ``partial_fit`` over the pieces of ``source`` (restored on failure).

    Parameters
    ----------
    est : estimator with ``partial_fit``
    source : Source
        Its ``pieces(order)`` are read once per epoch.
    epochs : int
    classes : array-like, optional
        Every class label (classifiers).
    tol : float, optional
        Progressive-loss stop (see the module docstring); None runs every epoch.
    order_of : callable, optional
        ``order_of(epoch)``: the piece order of an epoch (None: the source's own order).

    Returns
    -------
    est
        With ``n_iter_`` the number of epochs run.
    """
    classifier = bool(is_classifier(est))
    saved = dict(vars(est))
    clear_fitted(est)

    def step(epoch):
        loss_sum = weight_sum = 0.0
        for piece in source.pieces(None if order_of is None else order_of(epoch)):
            if piece.X.shape[0] == 0:
                continue
            check_finite_X(piece)
            lw = None if tol is None else progressive_loss(est, piece, classes if classifier else None)
            if lw is not None:
                loss_sum, weight_sum = loss_sum + lw[0], weight_sum + lw[1]
            kwargs = {} if piece.sample_weight is None else {"sample_weight": piece.sample_weight}
            if classifier:
                kwargs["classes"] = classes
            try:
                est.partial_fit(piece.X, piece.y, **kwargs)
            except ValueError as exc:
                raise ValueError(f"{piece.name}: {exc}") from exc
        value = loss_sum / weight_sum if weight_sum > 0 else math.nan
        return Epoch(value, f"-- Epoch {epoch}: mean progressive loss {value:.6g}")

    try:
        n_epochs, _ = run_epochs(step, epochs, Stopping(tol, n_iter_no_change), verbose=verbose,
                                 header=False)
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(saved)
        raise
    est.n_iter_ = n_epochs
    return est


def _fit_block(piece, k, template, seed, classes, epochs):
    """Independent SGD on one block, on the worker (parameter averaging)."""
    check_finite_X(piece)
    model = clone(template)
    if "random_state" in model.get_params():
        model.set_params(random_state=None if seed is None else seed + k)
    kwargs = {} if piece.sample_weight is None else {"sample_weight": piece.sample_weight}
    if classes is not None:
        kwargs["classes"] = classes
    for _ in range(epochs):
        try:
            model.partial_fit(piece.X, piece.y, **kwargs)
        except ValueError as exc:
            raise ValueError(f"{piece.where}: {exc}") from exc
    weight = float(piece.X.shape[0] if piece.sample_weight is None else piece.sample_weight.sum())
    return model, weight


def fit_averaged(est, source, *, epochs, classes=None, seed=None):
    """One SGD per Dask block on the workers, coefficients averaged by the blocks' weight sums."""
    fitted = source.map_blocks_list(_fit_block, clone(est), seed, classes, epochs)
    weights = np.array([w for _, w in fitted])
    if not weights.sum() > 0:
        raise ValueError("sample_weight is zero for every sample: nothing to fit.")
    weights = weights / weights.sum()
    coef = sum(w * np.asarray(m.coef_, dtype=np.float64) for (m, _), w in zip(fitted, weights))
    intercept = sum(w * np.asarray(m.intercept_, dtype=np.float64)
                    for (m, _), w in zip(fitted, weights))
    first = fitted[0][0]
    clear_fitted(est)
    est.__dict__.update({k: v for k, v in vars(first).items() if k not in est.get_params()})
    est.coef_ = coef.astype(np.asarray(first.coef_).dtype, copy=False)
    est.intercept_ = (intercept.astype(np.asarray(first.intercept_).dtype, copy=False)
                      if np.ndim(first.intercept_) else float(intercept))
    est.n_iter_ = epochs
    est.averaged_blocks_ = len(fitted)
    return est


def _seed_of(random_state):
    if random_state is None or isinstance(random_state, numbers.Integral):
        return random_state
    return int(random_state.randint(np.iinfo(np.int32).max))  # a RandomState instance


def fit_dask_sgd(est, X, y, sample_weight=None, *, mode="stream", classes=None, epochs=None,
                 shuffle_blocks=True, random_state=None, verbose=None):
    """Fit a ``partial_fit`` estimator on dask arrays (see :func:`fastlin.streaming.fit_sgd_dask`)."""
    if mode not in ("stream", "average"):
        raise ValueError(f"mode must be 'stream' or 'average', got {mode!r}.")
    classifier = bool(is_classifier(est))
    seed = _seed_of(random_state if random_state is not None else getattr(est, "random_state", None))
    verbose = bool(getattr(est, "verbose", 0)) if verbose is None else verbose
    source = DaskSource(X, y, sample_weight, shuffle_blocks=shuffle_blocks, random_state=seed,
                        verbose=verbose).for_target(numeric=not classifier)
    if source.y_ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {source.y.shape}.")
    if classifier and classes is None:
        classes = source.unique_labels()
    if epochs is None:
        epochs = int(getattr(est, "max_iter", 5) or 5)
    if not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if mode == "average":
        fit_averaged(est, source, epochs=epochs, classes=classes, seed=seed)
    else:
        fit_partial(est, source, epochs=epochs, classes=classes if classifier else None,
                    tol=getattr(est, "tol", None), verbose=verbose,
                    n_iter_no_change=getattr(est, "n_iter_no_change", 5))
    if source.feature_names is not None:
        est.feature_names_in_ = source.feature_names
    return est


def warn_one_shot(source, epochs):
    """A one-shot iterator is read once: one epoch instead of ``epochs``, with a warning."""
    if not source.reiterable and epochs > 1:
        warn(
            f"chunks is a one-shot iterator (e.g. a generator): it can be read once, so only 1 "
            f"epoch is run instead of epochs={epochs}. Pass a list, or a callable that returns a "
            "fresh iterator, to run several epochs.", UserWarning)
        return 1
    return epochs
