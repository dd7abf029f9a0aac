"""Fits over data that does not fit in memory, or that arrives in pieces.

Two kinds of large input are handled without ever holding all of X:

* **arrays on disk** (``np.memmap``, read-only arrays): every estimator's ``fit`` already walks them
  in row blocks through :func:`fastlin.data.iter_row_blocks`; nothing here is needed;
* **pieces** (files, generators, database cursors, the blocks of a Dask array): :func:`fit_chunks`
  fits an estimator from an iterable of ``(X, y)`` or ``(X, y, sample_weight)`` tuples, holding one
  piece at a time.

How each estimator uses the pieces:

=========================================  ==============================================================
estimator                                   passes over the pieces
=========================================  ==============================================================
``LinearRegression``, ``Ridge``             one pass: each piece's centred Gram statistics
                                            (:func:`fastlin.engine.gram.gram`) are merged with Chan's
                                            pairwise update (:func:`fastlin.engine.gram.merge`), then
                                            one D×D Cholesky solve. Same model as the in-memory fit.
``LogisticRegression(solver="lbfgs")``      one label pass (classes, weighted counts), then one pass
                                            per L-BFGS evaluation: the objective and gradient are sums
                                            of per-piece results of the fused kernel. Same model as
                                            the in-memory fit. Needs a re-iterable source.
``SGDClassifier``, ``SGDRegressor``,        ``epochs`` passes, one ``partial_fit`` per piece (one-shot
``Perceptron`` (anything with               iterators: one pass), optionally in a random piece order
``partial_fit``, scikit-learn's too)        per epoch. Early stop on the progressive loss when the
                                            estimator's ``loss`` is one fastlin knows; otherwise
                                            every epoch runs.
=========================================  ==============================================================

A *re-iterable* source is a sequence (list, tuple), any object whose ``__iter__`` returns a fresh
iterator each time, or a zero-argument callable returning a fresh iterable. A generator or an
iterator is *one-shot*: it can be walked once. With ``shuffle=True`` an indexable source is
visited in a random permutation of its indices; any other source is read front to back once per
epoch through a bounded shuffle buffer (:class:`~fastlin.engine.sources.ShuffleBuffer`).

Estimators that cannot be streamed (no ``partial_fit``, not one of fastlin's exact streaming
models: scikit-learn's Ridge, a Pipeline) raise a TypeError that names what to use instead.

Errors name the piece: a width different from the first piece's, NaN or infinity in piece k,
a ``y`` whose length differs from its ``X``'s. A fit that fails leaves no fitted attributes
behind (``check_is_fitted`` still raises on a fresh estimator).

The estimators' ``fit`` runs the same code on every source (:mod:`fastlin.engine.sources`): these
entry points only wrap the pieces in a :class:`~fastlin.engine.sources.ChunkSource` (or the dask
arrays in a :class:`~fastlin.engine.dask.DaskSource`). Dask arrays given to ``fit`` need nothing
from here; the SGD variants with the parameter-averaging option are reached through
:func:`fit_sgd_dask`.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.multiclass import unique_labels

from . import linear_model
from ._registry import LOSSES
from ._warn import warn
from .engine.sources import ChunkSource, ShuffleBuffer
from .linear_model import (ElasticNet, ElasticNetCV, Lasso, LassoCV, LinearRegression,
                           LogisticRegression, Perceptron, Ridge, RidgeCV)
from .linear_model._partial import fit_dask_sgd, fit_partial, warn_one_shot

__all__ = ["fit_chunks", "fit_sgd_dask"]

#: fastlin estimators whose ``fit`` takes a whole source (statistics in one pass, or one pass per
#: L-BFGS evaluation); everything else is streamed through ``partial_fit``.
WHOLE_SOURCE_ESTIMATORS = (LinearRegression, Ridge, RidgeCV, Lasso, ElasticNet, LassoCV,
                           ElasticNetCV, LogisticRegression)


#: estimators of other libraries that fastlin fits exactly from per-piece statistics
_FASTLIN_TWINS = {est.__name__: est.__name__ for est in WHOLE_SOURCE_ESTIMATORS}

_WHAT_FITS = ("fit_chunks fits fastlin's LinearRegression, Ridge, RidgeCV, Lasso, ElasticNet, "
              "LassoCV and ElasticNetCV (statistics from one pass, exact), fastlin's "
              "LogisticRegression (lbfgs, one pass per evaluation, exact) and any estimator with "
              "partial_fit (fastlin's or scikit-learn's SGDClassifier, SGDRegressor, Perceptron, "
              "PassiveAggressiveClassifier, MultinomialNB, ...: epochs of partial_fit).")


def _twin_advice(est, name):
    """What to do instead of a scikit-learn estimator fastlin has an exact streaming twin of."""
    twin = getattr(linear_model, _FASTLIN_TWINS[name])
    defaults = twin().get_params()
    params = est.get_params(deep=False)
    dropped = sorted(k for k in params if k not in defaults)
    kept = ", ".join(f"{k}={v!r}" for k, v in params.items()
                     if k in defaults and repr(v) != repr(defaults[k]))
    text = (f"use fastlin.{name}({kept}) instead: the same model and parameters, fitted from the "
            "pieces' statistics without holding X")
    if dropped:
        text += f" (parameters it has no use for: {', '.join(dropped)})"
    return text + "."


def cannot_stream(est):
    """The TypeError for an estimator fit_chunks cannot fit: what it can fit, what to do instead."""
    if isinstance(est, type):
        return TypeError(f"fit_chunks needs an estimator instance, got the class {est.__name__}: "
                         f"pass {est.__name__}(...).")
    name = type(est).__name__
    head = f"fit_chunks cannot fit {name}: it has no partial_fit and needs all of X at once. "
    if hasattr(est, "steps") and hasattr(est, "named_steps"):
        final = type(est.steps[-1][1]).__name__ if est.steps else "its final step"
        advice = ("A Pipeline cannot be fitted piece by piece (each step needs the output of the "
                  "fitted step before it). Fit the preprocessing on a sample that fits in memory "
                  "(prep = pipe[:-1].fit(X_sample, y_sample)), transform every piece with it "
                  "((prep.transform(X), y) for X, y in chunks), then fit_chunks(pipe[-1], "
                  f"transformed) for the final step ({final}); if a step must see all the data, "
                  "use a streamable one (e.g. StandardScaler.partial_fit in a first pass).")
    elif type(est).__module__.startswith("sklearn.") and name in _FASTLIN_TWINS:
        advice = f"For scikit-learn's {name}, {_twin_advice(est, name)}"
    else:
        advice = ("Use one of those (for a linear model: fastlin's estimator of the same kind, "
                  "or fastlin.SGDRegressor/SGDClassifier with the penalty you need, e.g. "
                  "penalty='l1'), or fit it on a sample of the data that fits in memory.")
    return TypeError(head + _WHAT_FITS + " " + advice)


def _early_stop_tol(est, epochs):
    """``est.tol`` when the progressive loss can be computed for ``est``, else None (+ warning).

    The progressive loss is evaluated with fastlin's formulas, so the estimator's ``loss`` must be
    a name of :data:`fastlin._registry.LOSSES` (fastlin's Perceptron has none: perceptron loss).
    """
    tol = getattr(est, "tol", None)
    if epochs <= 1 or tol is None:
        return None
    loss = getattr(est, "loss", "perceptron" if isinstance(est, Perceptron) else None)
    if isinstance(loss, str) and loss in LOSSES:
        return tol
    if loss is not None:
        warn(f"{type(est).__name__}(loss={loss!r}): fit_chunks cannot evaluate this loss, so it "
             f"runs all {epochs} epochs without the tol={tol!r} early stop.", UserWarning)
    return None


def _fit_sgd_chunks(est, source, epochs, classes, order):
    """``partial_fit`` estimators: ``epochs`` passes over the pieces (one for a one-shot source)."""
    epochs = 1 if epochs is None else epochs
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    epochs = warn_one_shot(source, epochs)
    classifier = is_classifier(est)
    if classifier and classes is None:
        raise ValueError("fit_chunks needs classes=... for a classifier: partial_fit must know "
                         "every class before the first chunk.")
    if classifier:
        classes = unique_labels(classes)  # sorted: the columns of decision_function
    return fit_partial(est, source.for_target(numeric=not classifier), epochs=epochs,
                       classes=classes if classifier else None, order_of=order,
                       tol=_early_stop_tol(est, epochs),
                       n_iter_no_change=getattr(est, "n_iter_no_change", 5))


def _piece_order(source, shuffle, shuffle_buffer, random_state):
    """``order_of(epoch)`` for :func:`fit_partial`: None (source order), a permutation of the
    indices (indexable sources), or a shuffle buffer (any other source)."""
    if not shuffle:
        return None
    rng = np.random.default_rng(random_state)
    if source.sequence is not None:
        return lambda epoch: rng.permutation(len(source.sequence))
    buffer = ShuffleBuffer(shuffle_buffer, rng)
    return lambda epoch: buffer


def fit_chunks(estimator, chunks, *, epochs=None, classes=None, shuffle=False, random_state=None,
               shuffle_buffer=8, verbose=None):
    """Fit ``estimator`` on data given as pieces, holding one piece in memory at a time.

    Parameters
    ----------
    estimator : LinearRegression, Ridge, LogisticRegression, or an estimator with ``partial_fit``
        Fitted in place (see the module docstring for how each uses the pieces). fastlin's
        closed-form models and LogisticRegression, or anything with ``partial_fit`` (fastlin's
        or scikit-learn's SGD estimators, Perceptron, PassiveAggressiveClassifier,
        MultinomialNB, ...). Anything else (scikit-learn's Ridge, a Pipeline) raises a
        TypeError saying what to use instead.
    chunks : iterable or callable
        Yields ``(X, y)`` or ``(X, y, sample_weight)`` tuples: ``X`` of shape
        (n_rows_k, n_features) (ndarray, ``np.memmap`` or sparse matrix; never copied when it is
        float32/float64), ``y`` of shape (n_rows_k,) or (n_rows_k, n_targets), ``sample_weight``
        of shape (n_rows_k,). A list, a re-iterable object or a zero-argument callable returning a
        fresh iterator can be walked several times; a generator only once.
    epochs : int, optional
        Passes over the pieces for the ``partial_fit`` estimators (default 1). With more than
        one epoch and ``estimator.tol`` set, the fit stops early as scikit-learn's SGD does:
        when the epoch's mean progressive training loss has not improved by ``tol`` for
        ``estimator.n_iter_no_change`` epochs.
        A one-shot iterator gets one pass (with a warning). Ignored by the closed form (one pass)
        and by lbfgs (as many passes as L-BFGS needs).
    classes : array-like of shape (n_classes,), optional
        Every class label; required for a ``partial_fit`` classifier (it cannot see them all
        before the first piece). LogisticRegression finds them in its validation pass.
    shuffle : bool, default=False
        ``partial_fit`` estimators: visit the pieces in a new random order each epoch, every
        piece exactly once per epoch. An indexable source (a list, or any sequence with
        ``__len__`` and ``__getitem__``) is visited in a uniform random permutation of its
        indices, one piece held at a time. Any other source (a re-iterable, a callable, a
        generator) is read once per epoch, front to back, through a shuffle buffer of
        ``shuffle_buffer`` pieces (:class:`~fastlin.engine.sources.ShuffleBuffer`): locally
        random order, at most ``shuffle_buffer`` pieces in memory.
    random_state : int, numpy Generator or None
        Seed of the piece order when ``shuffle``: the same seed and source give the same orders;
        one generator runs across the epochs, so each epoch gets a new order.
    shuffle_buffer : int, default=8
        Pieces held by the shuffle buffer (non-indexable sources with ``shuffle=True``); a
        value at least the number of pieces gives a uniform random permutation, 1 the source
        order.
    verbose : bool, optional
        Show a tqdm progress bar (pieces, epochs or L-BFGS evaluations) once the fit has run for
        more than 2 seconds. Default: the estimator's ``verbose`` attribute, if any.

    Returns
    -------
    estimator : object
        The fitted estimator.

    Raises
    ------
    ValueError
        Naming the piece: inconsistent width, NaN or infinity in piece k, a y whose length differs
        from its X's. The estimator is then left as it was (no partial model).
    TypeError
        lbfgs on a one-shot iterator; an estimator that can be fitted neither way (the message
        says what fit_chunks fits and what to do instead: ``fastlin.Ridge`` with the same
        parameters for scikit-learn's Ridge; for a Pipeline, fit the preprocessing on a sample,
        transform the pieces, then ``fit_chunks`` the final step).

    See Also
    --------
    fit_sgd_dask : Fit a ``partial_fit`` estimator on Dask arrays.
    fastlin.engine.sources.ChunkSource : The source of pieces ``fit_chunks`` wraps ``chunks`` in.

    Examples
    --------
    >>> import numpy as np
    >>> from fastlin import Ridge
    >>> from fastlin.streaming import fit_chunks
    >>> rng = np.random.default_rng(0)
    >>> pieces = [(rng.standard_normal((50, 3)), rng.standard_normal(50)) for _ in range(4)]
    >>> a = fit_chunks(Ridge(alpha=0.1), pieces)
    >>> b = Ridge(alpha=0.1).fit(np.vstack([p[0] for p in pieces]), np.hstack([p[1] for p in pieces]))
    >>> bool(np.allclose(a.coef_, b.coef_, rtol=0, atol=1e-12))
    True
    """
    if isinstance(estimator, type) or not (isinstance(estimator, WHOLE_SOURCE_ESTIMATORS)
                                           or hasattr(estimator, "partial_fit")):
        raise cannot_stream(estimator)
    if verbose is None:
        verbose = bool(getattr(estimator, "verbose", 0))
    source = ChunkSource(chunks, verbose=verbose)
    if isinstance(estimator, WHOLE_SOURCE_ESTIMATORS):
        return estimator.fit(source, None)
    order = _piece_order(source, shuffle, shuffle_buffer, random_state)
    return _fit_sgd_chunks(estimator, source, epochs, classes, order)


def fit_sgd_dask(estimator, X, y, sample_weight=None, *, mode="stream", classes=None, epochs=None,
                 shuffle_blocks=True, random_state=None, verbose=None):
    """Fit a ``partial_fit`` estimator on dask arrays (dask is imported only when this is called).

    Parameters
    ----------
    estimator : SGDClassifier, SGDRegressor, Perceptron (or any estimator with ``partial_fit``)
        Fitted in place.
    X : dask.array.Array of shape (n_samples, n_features)
        Training data; each block is validated where it is computed, errors naming the block.
    y : dask.array.Array or ndarray of shape (n_samples,)
        Target values or class labels. Row chunks must match X's.
    sample_weight : dask.array.Array or ndarray of shape (n_samples,), optional
        Weight of each sample (None: weight 1).
    mode : {"stream", "average"}, default="stream"
        ``"stream"``: the blocks are computed on the workers and sent to this process one at a
        time, in a new random block order each epoch; ``partial_fit`` runs on each. Same model as
        ``partial_fit`` over the same blocks in memory.
        ``"average"``: parameter averaging (Zinkevich, Weimer, Smola & Li, 2010, "Parallelized
        stochastic gradient descent"): an independent SGD runs on each block, in parallel on the
        workers, for ``epochs`` epochs; the coefficients are averaged (weighted by block size).
        One round trip instead of ``epochs × n_blocks``, at an accuracy cost measured in
        ``docs/large-data.md`` (each model has seen 1/n_blocks of the data).
    classes : array-like, optional
        All class labels (classifiers); computed with one pass on the workers when omitted.
    epochs : int, optional
        Default: ``estimator.max_iter``, with the progressive-loss ``tol`` stop of
        :func:`fit_chunks` (``"stream"``), or ``estimator.max_iter`` epochs per block (``"average"``).
    shuffle_blocks : bool, default=True
        ``"stream"``: random block order per epoch (rows within a block are shuffled by the
        estimator's own ``shuffle``).
    random_state : int, optional
        Seed of the block order; default the estimator's ``random_state``.
    verbose : bool, optional
        Progress bar after 2 s (default: the estimator's ``verbose``).

    Returns
    -------
    estimator : object
        The fitted estimator, with ``n_iter_`` the epochs run (and ``averaged_blocks_``, the
        number of blocks averaged, with ``mode="average"``).

    See Also
    --------
    fit_chunks : Fit from pieces given as an iterable.
    """
    return fit_dask_sgd(estimator, X, y, sample_weight, mode=mode, classes=classes, epochs=epochs,
                        shuffle_blocks=shuffle_blocks, random_state=random_state, verbose=verbose)
