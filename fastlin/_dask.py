"""Dask backend: fits on ``dask.array`` inputs without bringing X to the client.

The estimators' ``fit``/``predict`` call into this module when they are given a dask collection;
dask is imported here, inside the functions, never by ``import fastlin``.

How each fit is distributed (the shape of Spark's normal-equation and L-BFGS solvers):

* :func:`fit_closed_form` (``LinearRegression``, ``Ridge``): each row block of X is reduced *on the
  worker that holds it* to its centred Gram statistics (:func:`fastlin.engine.gram.gram`, the
  same Numba/BLAS kernel as in memory: O(D²) numbers per block); the statistics are combined in a
  tree of fan-in :data:`SPLIT_EVERY` with Chan's pairwise update (:func:`fastlin.engine.gram.merge`);
  only the final D×D system reaches the client, which solves it by Cholesky. Two passes over the
  graph are never needed: validation (widths, NaN, y alignment) happens inside the block tasks and
  raises an error naming the block.
* :func:`fit_logistic_lbfgs` (``LogisticRegression(solver="lbfgs")``): X's blocks are persisted on
  the workers (with a ``distributed`` client); one validation pass collects the labels and their
  weighted counts; then every L-BFGS evaluation is a tree sum of per-block (loss, gradient) from the
  fused kernel :func:`fastlin.kernels.logistic.logistic_loss_grad`, computed on the workers. The
  client holds the parameters and L-BFGS's history, O(m·K·D).
* :func:`fit_sgd_blocks` (``partial_fit`` estimators): ``"stream"`` computes the blocks on the
  workers and sends them to the client one at a time (the next one is being prepared on the
  workers meanwhile) in a shuffled block order; ``"average"`` fits one SGD per block on the workers
  and averages the coefficients (Zinkevich et al. 2010).
* :func:`predict_linear`: a lazy ``X @ coef.T + intercept`` per block.

Fault tolerance: every task is a pure function of its block, so when a worker dies Dask recomputes
its tasks elsewhere and the tree (whose shape depends only on the chunking) combines the blocks in the
same order. The model is not guaranteed bit-identical: in the killed-worker test a recomputed
block's Xᵀy once differed in the last bit (cause not found), and the coefficients agreed to 1e-13.
"""

from __future__ import annotations

import numbers

import numpy as np

from .data import FLOAT_DTYPES
from .engine.gram import merge
from .streaming import (
    check_piece_weight,
    clear_fitted,
    encode_labels,
    finish_closed_form,
    fit_logistic_from_sums,
    label_summary,
    logistic_piece_sums,
    logistic_setup,
    merge_label_summaries,
    piece_name,
    progress_bar,
    raise_non_finite_X,
    run_sgd_epochs,
)

__all__ = ["fit_closed_form", "predict_linear", "map_rows", "fit_logistic_lbfgs", "fit_sgd_blocks",
           "SPLIT_EVERY"]

#: Fan-in of the reduction tree: 8 statistics per merge task keeps the tree log8(n_blocks) deep
#: (3 levels for 512 blocks) while each merge task moves at most 8 D×D matrices (8 MB at D = 1000).
SPLIT_EVERY = 8


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------


def _client():
    """The active ``distributed`` client, or None (local scheduler, or distributed not installed)."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover
        return None
    try:
        return get_client()
    except ValueError:
        return None


def _known_chunks(a):
    if any(not np.isfinite(c) for c in a.chunks[0]):
        a = a.compute_chunk_sizes()  # one pass on the workers (e.g. arrays from dataframes)
    return a


def _row_bounds(chunks):
    stops = np.cumsum(chunks)
    return [(int(s - c), int(s)) for s, c in zip(stops, chunks)]


def _check_aligned(name, a, X):
    if a.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {a.shape[0]} rows but X has {X.shape[0]} (misaligned {name}).")
    if a.chunks[0] != X.chunks[0]:
        k = next(i for i, (p, q) in enumerate(zip(a.chunks[0], X.chunks[0])) if p != q)
        xr, ar = _row_bounds(X.chunks[0])[k], _row_bounds(a.chunks[0])[k]
        raise ValueError(
            f"{name}'s chunks do not align with X's row blocks: block {k} of X holds rows "
            f"{xr[0]}-{xr[1] - 1} but block {k} of {name} holds rows {ar[0]}-{ar[1] - 1}. "
            f"Rechunk it, e.g. {name}.rechunk({{0: X.chunks[0]}}).")


def _prepare(X, y, sample_weight, *, numeric_y=True):
    """Return ``(X, y, sample_weight, feature_names)`` as aligned dask arrays.

    X gets one column chunk (a row block is the unit of work); ``sample_weight`` is None, a float,
    or a dask array aligned with X. Raises ValueError for a wrong ndim, non-numeric X, or y /
    sample_weight whose length or row chunks differ from X's.
    """
    import dask.array as da

    from .data import is_dask_collection

    names = None
    if is_dask_collection(X) and hasattr(X, "to_dask_array"):  # dask DataFrame
        names = [str(c) for c in X.columns]
        X = X.to_dask_array(lengths=True)
    if is_dask_collection(y) and hasattr(y, "to_dask_array"):  # dask Series/DataFrame
        y = y.to_dask_array(lengths=True)
    if not is_dask_collection(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
        y = _known_chunks(y)
        X = da.from_array(X, chunks=(y.chunks[0], -1))
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D dask array (n_samples, n_features), got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    X = _known_chunks(X)
    if X.shape[0] == 0:
        raise ValueError("X has 0 samples: nothing to fit.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if not is_dask_collection(y):
        y = np.asarray(y)
        if y.shape[:1] != (X.shape[0],):
            raise ValueError(f"y has shape {y.shape} but X has {X.shape[0]} rows (misaligned y).")
        y = da.from_array(y, chunks=(X.chunks[0],) + tuple((s,) for s in y.shape[1:]))
    y = _known_chunks(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    if numeric_y and y.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric, got dtype {y.dtype}.")
    if y.ndim == 2 and len(y.chunks[1]) > 1:
        y = y.rechunk({1: -1})
    _check_aligned("y", y, X)
    sw = sample_weight
    if sw is not None and not isinstance(sw, numbers.Number):
        if is_dask_collection(sw) and hasattr(sw, "to_dask_array"):
            sw = sw.to_dask_array(lengths=True)
        if not is_dask_collection(sw):
            sw = np.asarray(sw, dtype=np.float64)
            if sw.shape != (X.shape[0],):
                raise ValueError(f"sample_weight has shape {sw.shape}, expected ({X.shape[0]},).")
            sw = da.from_array(sw, chunks=(X.chunks[0],))
        sw = _known_chunks(sw)
        _check_aligned("sample_weight", sw, X)
    elif sw is not None:
        sw = float(sw)
        if not (np.isfinite(sw) and sw > 0):
            raise ValueError(f"a scalar sample_weight must be finite and > 0, got {sw!r}.")
    return X, y, sw, names


def _blocks(X, y, sw):
    """Per block k: (delayed X block, delayed y block, delayed/float/None weight, start, stop).

    The collections are optimized together, once: optimizing X and y apart (as ``to_delayed`` does
    by default) fuses a task they share (y computed from X) under two different specs, which the
    distributed scheduler reports as conflicting keys.
    """
    import dask

    if sw is None or isinstance(sw, float):
        X, y = dask.optimize(X, y)
    else:
        X, y, sw = dask.optimize(X, y, sw)
    xb = X.to_delayed(optimize_graph=False).ravel()
    yb = y.to_delayed(optimize_graph=False).ravel()
    if sw is None or isinstance(sw, float):
        wb = [sw] * len(xb)
    else:
        wb = list(sw.to_delayed(optimize_graph=False).ravel())
    return [(xb[k], yb[k], wb[k], a, b) for k, (a, b) in enumerate(_row_bounds(X.chunks[0]))]


def _check_block(Xb, yb, k, start, stop, n_features):
    """Shape checks inside a block task: declared chunk shapes can lie (map_blocks, from_delayed)."""
    where = piece_name("block", k, start, stop)
    Xb = np.asarray(Xb)
    if Xb.ndim != 2 or Xb.shape[1] != n_features:
        raise ValueError(f"{where}: X block has shape {Xb.shape}, expected ({stop - start}, "
                         f"{n_features}) (inconsistent width).")
    if Xb.shape[0] != stop - start:
        raise ValueError(f"{where}: X block has {Xb.shape[0]} rows, its chunk declares {stop - start}.")
    yb = np.asarray(yb)
    if yb.shape[0] != Xb.shape[0]:
        raise ValueError(f"{where}: y block has {yb.shape[0]} rows but the X block has "
                         f"{Xb.shape[0]} (misaligned y).")
    if Xb.dtype not in FLOAT_DTYPES:
        Xb = Xb.astype(np.float64)
    return Xb, yb, where


def _weights_of(wb, m, k, start, stop):
    if wb is None:
        return None
    if isinstance(wb, float):
        return np.full(m, wb)
    try:
        return check_piece_weight(wb, m, k, kind="block")
    except ValueError as exc:
        raise ValueError(str(exc).replace(f"block {k}", piece_name("block", k, start, stop))) from None


def _tree(parts, combine):
    """Reduce a list of delayed values with ``combine(*values)`` in a tree of fan-in SPLIT_EVERY."""
    from dask import delayed

    while len(parts) > 1:
        parts = [delayed(combine, pure=True)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


# ------------------------------------------------------------------------------------------------
# Closed form
# ------------------------------------------------------------------------------------------------


def _gram_block(Xb, yb, wb, center, k, start, stop, n_features):
    """Centred Gram statistics of one block, on the worker (None for an empty block)."""
    from .engine.gram import gram

    Xb, yb, where = _check_block(Xb, yb, k, start, stop, n_features)
    if Xb.shape[0] == 0:
        return None
    if yb.dtype.kind not in "biuf" or not np.all(np.isfinite(yb)):
        raise ValueError(f"{where}: y contains NaN or infinity.")
    sw = _weights_of(wb, Xb.shape[0], k, start, stop)
    with np.errstate(over="ignore", invalid="ignore"):
        stats = gram(Xb, yb, sw, center=center)
    if not (np.all(np.isfinite(np.diagonal(stats.xtx))) and np.all(np.isfinite(stats.x_mean))):
        raise_non_finite_X(Xb, where)
    return stats


def _merge_stats(*parts):
    acc = None
    for p in parts:
        if p is not None:
            acc = p if acc is None else merge(acc, p)
    return acc


def fit_closed_form(est, X, y, sample_weight, alpha):
    """Fit ``LinearRegression``/``Ridge`` on dask arrays (see the module docstring).

    Parameters
    ----------
    est : LinearRegression or Ridge
    X : dask.array.Array (or dask DataFrame) of shape (n_samples, n_features)
    y : dask.array.Array or ndarray of shape (n_samples,) or (n_samples, n_targets)
        Row chunks must match X's.
    sample_weight : None, float, ndarray or dask.array.Array of shape (n_samples,)
    alpha : float or ndarray of shape (n_targets,)

    Returns
    -------
    est
        Fitted; ``coef_``/``intercept_`` equal the in-memory fit's to rounding (the merge order
        differs from the single pass).
    """
    import dask
    from dask import delayed

    from .solvers.normal import ridge_alphas

    X, y, sw, names = _prepare(X, y, sample_weight)
    n_targets = 1 if y.ndim == 1 else y.shape[1]
    ridge_alphas(alpha, n_targets)  # fail before any work on a bad alpha
    d = X.shape[1]
    parts = [delayed(_gram_block, pure=True)(xb, yb, wb, bool(est.fit_intercept), k, a, b, d)
             for k, (xb, yb, wb, a, b) in enumerate(_blocks(X, y, sw))]
    (stats,) = dask.compute(_tree(parts, _merge_stats))
    if stats is None:
        raise ValueError("X has 0 samples: nothing to fit.")
    dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)
    finish_closed_form(est, stats, alpha, d, dtype, y.ndim)
    if names is not None:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    return est


def _predict_block(Xb, coef, intercept):
    Xb = np.asarray(Xb)
    return Xb @ coef.T.astype(Xb.dtype if Xb.dtype in FLOAT_DTYPES else np.float64, copy=False) + intercept


def _rows_2d(est, X):
    """X as a 2-D dask array with one chunk across the columns, checked against ``n_features_in_``."""
    import dask.array as da

    from .data import is_dask_collection

    if is_dask_collection(X) and hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    if not is_dask_collection(X):
        X = da.from_array(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def predict_linear(est, X):
    """Lazy ``X @ coef_.T + intercept_`` on a dask array, one task per row block.

    Returns
    -------
    y_pred : dask.array.Array of shape (n_samples,) or (n_samples, n_targets)
    """
    X = _rows_2d(est, X)
    coef = np.asarray(est.coef_)
    intercept = np.asarray(est.intercept_)
    dtype = np.result_type(X.dtype if X.dtype in FLOAT_DTYPES else np.float64, coef.dtype)
    if coef.ndim == 1:
        return X.map_blocks(_predict_block, coef, intercept, drop_axis=1, dtype=dtype)
    return X.map_blocks(_predict_block, coef, intercept, chunks=(X.chunks[0], (coef.shape[0],)),
                        dtype=dtype)


def _call_method(Xb, est, method):
    return getattr(est, method)(np.asarray(Xb))


def map_rows(est, X, method):
    """Lazy ``est.<method>(X)`` on a dask array: the fitted estimator is shipped to the workers and
    applied to each row block (``predict``, ``decision_function``, ``predict_proba``, ...).

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, k), k from a one-row probe on the client.
    """
    X = _rows_2d(est, X)
    probe = getattr(est, method)(np.zeros((1, X.shape[1]), dtype=X.dtype if X.dtype in FLOAT_DTYPES
                                          else np.float64))
    if probe.ndim == 1:
        return X.map_blocks(_call_method, est, method, drop_axis=1, dtype=probe.dtype)
    return X.map_blocks(_call_method, est, method, chunks=(X.chunks[0], (probe.shape[1],)),
                        dtype=probe.dtype)


# ------------------------------------------------------------------------------------------------
# LogisticRegression, distributed L-BFGS
# ------------------------------------------------------------------------------------------------


def _c_block(Xb):
    Xb = np.asarray(Xb)
    return np.ascontiguousarray(Xb if Xb.dtype in FLOAT_DTYPES else Xb.astype(np.float64))


def _label_block(Xb, yb, wb, k, start, stop, n_features):
    """Validation pass on the worker: shapes, NaN, and the block's weighted label counts."""
    Xb, yb, where = _check_block(Xb, yb, k, start, stop, n_features)
    if yb.ndim != 1:
        raise ValueError(f"{where}: y must be 1-D for a classifier, got shape {yb.shape}.")
    if not np.all(np.isfinite(Xb)):
        raise ValueError(f"{where}: X contains NaN or infinity.")
    if yb.dtype.kind == "f" and not np.all(np.isfinite(yb)):
        raise ValueError(f"{where}: y contains NaN or infinity.")
    sw = _weights_of(wb, Xb.shape[0], k, start, stop)
    return label_summary(yb, sw) if Xb.shape[0] else {}


def _encode_block(yb, wb, classes, cw):
    sw = None if wb is None else (np.full(len(yb), wb) if isinstance(wb, float) else np.asarray(wb, np.float64))
    codes, w = encode_labels(np.asarray(yb), classes, sw, cw)
    return np.stack([codes, w])  # (2, m): contiguous rows for the kernel


def _loss_block(Xb, enc, coef, b):
    if Xb.shape[0] == 0:
        return 0.0, np.zeros((coef.shape[0], coef.shape[1] + 1))
    return logistic_piece_sums(Xb, enc[0], enc[1], coef, b)


def _sum_loss(*parts):
    loss = sum(p[0] for p in parts)
    grad = parts[0][1].copy()
    for p in parts[1:]:
        grad += p[1]
    return loss, grad


def fit_logistic_lbfgs(est, X, y, sample_weight=None):
    """Fit ``LogisticRegression(solver="lbfgs")`` on dask arrays by distributed L-BFGS.

    Each objective/gradient evaluation is a tree sum of per-block results of the fused kernel,
    computed on the workers; L-BFGS itself (scipy, the same options as the in-memory fit) runs
    on the client on vectors of K·(D + 1) numbers. With a ``distributed`` client the blocks of X
    are persisted on the workers for the duration of the fit (never gathered); without one, each
    evaluation recomputes the blocks from their source through the local scheduler.

    Parameters
    ----------
    est : LogisticRegression
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array or ndarray of shape (n_samples,)
    sample_weight : None, float, ndarray or dask.array.Array of shape (n_samples,)

    Returns
    -------
    est
    """
    import dask
    import dask.array as da
    from dask import delayed

    est._check_params()
    if est.solver != "lbfgs":
        raise ValueError(f"On dask arrays LogisticRegression supports solver='lbfgs' only (got "
                         f"solver={est.solver!r}); for a stochastic fit use "
                         "SGDClassifier(loss='log_loss'), which streams the blocks.")
    X, y, sw, names = _prepare(X, y, sample_weight, numeric_y=False)
    d = X.shape[1]
    X = X.map_blocks(_c_block, dtype=X.dtype if X.dtype in FLOAT_DTYPES else np.float64)
    client = _client()
    if client is not None:
        # The blocks stay in the workers' memory for every evaluation (y and the weights too, so
        # the label pass and the encoding read the same persisted blocks).
        if sw is None or isinstance(sw, float):
            X, y = client.persist([X, y])
        else:
            X, y, sw = client.persist([X, y, sw])
    blocks = _blocks(X, y, sw)
    parts = [delayed(_label_block, pure=True)(xb, yb, wb, k, a, b, d)
             for k, (xb, yb, wb, a, b) in enumerate(blocks)]
    (summary,) = dask.compute(_tree(parts, merge_label_summaries))
    classes, cw, K, S = logistic_setup(est, summary)
    enc_parts = [da.from_delayed(delayed(_encode_block, pure=True)(yb, wb, classes, cw),
                                 shape=(2, b - a), dtype=np.float64)
                 for (xb, yb, wb, a, b) in blocks]
    if client is not None:
        enc_parts = client.persist(enc_parts)
    xbs = [blk[0] for blk in blocks]
    ebs = [e.to_delayed(optimize_graph=False).ravel()[0] for e in enc_parts]

    def evaluate(coef, b):
        terms = [delayed(_loss_block, pure=True)(xb, eb, coef, b) for xb, eb in zip(xbs, ebs)]
        (out,) = dask.compute(_tree(terms, _sum_loss))
        return out

    verbose = bool(getattr(est, "verbose", 0))
    bar = progress_bar(None, "lbfgs evaluations (dask)", verbose, unit="eval")
    try:
        fit_logistic_from_sums(est, evaluate, classes, K, S, d, bar=bar)
    finally:
        bar.close()
        del X, enc_parts  # release the persisted blocks on the workers
    if names is not None:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    return est


# ------------------------------------------------------------------------------------------------
# SGD over blocks
# ------------------------------------------------------------------------------------------------


def _sgd_on_block(est, Xb, yb, wb, classes, epochs, k, start, stop, n_features):
    """Independent SGD on one block, on the worker (parameter averaging)."""
    Xb, yb, where = _check_block(Xb, yb, k, start, stop, n_features)
    if not np.all(np.isfinite(Xb)):
        raise ValueError(f"{where}: X contains NaN or infinity.")
    sw = _weights_of(wb, Xb.shape[0], k, start, stop)
    kwargs = {} if sw is None else {"sample_weight": sw}
    if classes is not None:
        kwargs["classes"] = classes
    for _ in range(epochs):
        try:
            est.partial_fit(Xb, yb, **kwargs)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
    weight = float(Xb.shape[0] if sw is None else sw.sum())
    return est, weight


def _seed_of(random_state):
    if random_state is None or isinstance(random_state, numbers.Integral):
        return random_state
    return int(random_state.randint(np.iinfo(np.int32).max))  # a RandomState instance


def fit_sgd_blocks(est, X, y, sample_weight=None, *, mode="stream", classes=None, epochs=None,
                   shuffle_blocks=True, random_state=None, verbose=None, coef_init=None,
                   intercept_init=None):
    """Fit a ``partial_fit`` estimator on dask arrays; see :func:`fastlin.streaming.fit_sgd_dask`.

    ``"stream"`` holds one block on the client at a time (the next block is computed on the
    workers while the current one is fitted); ``"average"`` runs one SGD per block on the workers
    and averages the coefficients weighted by the blocks' weight sums (Zinkevich et al. 2010).
    """
    import dask
    import dask.array as da
    from dask import delayed
    from sklearn.base import clone, is_classifier

    if coef_init is not None or intercept_init is not None:
        raise ValueError("coef_init/intercept_init are not supported with dask input; fit on a "
                         "first block with them, then continue with partial_fit.")
    if mode not in ("stream", "average"):
        raise ValueError(f"mode must be 'stream' or 'average', got {mode!r}.")
    classifier = bool(is_classifier(est))
    X, y, sw, names = _prepare(X, y, sample_weight, numeric_y=not classifier)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}.")
    d = X.shape[1]
    if classifier and classes is None:
        classes = np.unique(da.unique(y).compute())
    if epochs is None:
        epochs = int(getattr(est, "max_iter", 5) or 5)
    if not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if verbose is None:
        verbose = bool(getattr(est, "verbose", 0))
    seed = _seed_of(random_state if random_state is not None else getattr(est, "random_state", None))
    blocks = _blocks(X, y, sw)
    nb = len(blocks)

    if mode == "average":
        base = clone(est)
        parts = []
        for k, (xb, yb, wb, a, b) in enumerate(blocks):
            model = clone(base)
            if "random_state" in model.get_params():
                model.set_params(random_state=None if seed is None else seed + k)
            parts.append(delayed(_sgd_on_block, pure=True)(model, xb, yb, wb, classes, epochs,
                                                           k, a, b, d))
        fitted = dask.compute(*parts)
        weights = np.array([w for _, w in fitted])
        if not weights.sum() > 0:
            raise ValueError("sample_weight is zero for every sample: nothing to fit.")
        weights = weights / weights.sum()
        coef = sum(w * np.asarray(m.coef_, dtype=np.float64) for (m, _), w in zip(fitted, weights))
        intercept = sum(w * np.asarray(m.intercept_, dtype=np.float64) for (m, _), w in zip(fitted, weights))
        first = fitted[0][0]
        clear_fitted(est)
        est.__dict__.update({k: v for k, v in vars(first).items() if k not in est.get_params()})
        est.coef_ = coef.astype(np.asarray(first.coef_).dtype, copy=False)
        est.intercept_ = intercept.astype(np.asarray(first.intercept_).dtype, copy=False) \
            if np.ndim(first.intercept_) else float(intercept)
        est.n_iter_ = epochs
        est.averaged_blocks_ = nb
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        return est

    client = _client()
    rng = np.random.default_rng(seed)

    def fetch(k):
        xb, yb, wb, a, b = blocks[k]
        wb_d = wb if (wb is None or isinstance(wb, float)) else wb
        if client is not None:
            return client.compute([xb, yb, wb_d])  # futures: the block waits on a worker
        return (xb, yb, wb_d)

    def gather(handle):
        if client is not None:
            return client.gather(handle)
        return dask.compute(*handle)

    def epoch_pieces(e):
        order = rng.permutation(nb) if shuffle_blocks else np.arange(nb)
        pending = fetch(order[0])
        for i, k in enumerate(order):
            Xb, yb, wb = gather(pending)
            pending = fetch(order[i + 1]) if i + 1 < nb else None  # prefetch on the workers
            a, b = blocks[k][3], blocks[k][4]
            Xb, yb, where = _check_block(Xb, yb, int(k), a, b, d)
            if not np.all(np.isfinite(Xb)):
                raise ValueError(f"{where}: X contains NaN or infinity.")
            yield where, Xb, yb, _weights_of(wb, Xb.shape[0], int(k), a, b)
            del Xb, yb

    clear_fitted(est)
    tol = getattr(est, "tol", None)
    run_sgd_epochs(est, epoch_pieces, epochs, classes=classes if classifier else None,
                   n_pieces=nb, verbose=verbose, tol=tol,
                   n_iter_no_change=getattr(est, "n_iter_no_change", 5), desc="SGD blocks (dask)")
    if names is not None:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    return est
