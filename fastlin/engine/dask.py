"""The Dask source: blocks on the workers, tree reductions, streaming to the client.

dask is imported inside the functions, never by ``import fastlin``. Like Spark's normal-equation
and L-BFGS solvers, a statistic is computed *on the worker that holds the block* (O(D²) numbers per
block for the Gram statistic, K·(D + 1) for the logistic gradient), the partial results are combined
in a tree of fan-in :data:`SPLIT_EVERY`, and only the reduced result reaches the client. Validation
happens inside the block tasks and raises an error naming the block and its rows.

Fault tolerance: every task is a pure function of its block, so when a worker dies Dask recomputes
its tasks elsewhere and the tree (whose shape depends only on the chunking) combines the blocks in
the same order. The model is not guaranteed bit-identical: in the killed-worker test a recomputed
block's Xᵀy once differed in the last bit (cause not found), and the coefficients agreed to 1e-13.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._progress import progress_bar
from ..data.pieces import Piece, check_piece_weight, check_piece_y, piece_name
from ..data.validation import FLOAT_DTYPES, is_dask_collection
from .sources import Source

__all__ = ["DaskSource", "SPLIT_EVERY", "map_rows"]

#: Fan-in of the reduction tree: 8 statistics per merge task keeps the tree log8(n_blocks) deep
#: (3 levels for 512 blocks) while each merge task moves at most 8 D×D matrices (8 MB at D = 1000).
SPLIT_EVERY = 8


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


def _as_dask_array(a):
    if is_dask_collection(a) and hasattr(a, "to_dask_array"):  # dask DataFrame / Series
        return a.to_dask_array(lengths=True)
    return a


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


def _aligned(a, X, name):
    """``a`` (y or sample_weight; dask or in memory) as a dask array with X's row chunks."""
    import dask.array as da

    a = _as_dask_array(a)
    if not is_dask_collection(a):
        a = np.asarray(a) if name == "y" else np.asarray(a, dtype=np.float64)
        if a.shape[:1] != (X.shape[0],):
            raise ValueError(f"{name} has shape {a.shape} but X has {X.shape[0]} rows "
                             f"(misaligned {name}).")
        a = da.from_array(a, chunks=(X.chunks[0],) + tuple((s,) for s in a.shape[1:]))
    a = _known_chunks(a)
    if a.ndim == 2 and len(a.chunks[1]) > 1:
        a = a.rechunk({1: -1})
    _check_aligned(name, a, X)
    return a


def _dask_X(X, y):
    """X as a 2-D numeric dask array with one column chunk (a row block is the unit of work)."""
    import dask.array as da

    if not is_dask_collection(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
        X = da.from_array(X, chunks=(_known_chunks(_as_dask_array(y)).chunks[0], -1))
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D dask array (n_samples, n_features), got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    X = _known_chunks(X)
    if X.shape[0] == 0:
        raise ValueError("X has 0 samples: nothing to fit.")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def _scalar_weight(sw):
    sw = float(sw)
    if not (np.isfinite(sw) and sw > 0):
        raise ValueError(f"a scalar sample_weight must be finite and > 0, got {sw!r}.")
    return sw


def _tree(parts, combine):
    """Reduce a list of delayed values with ``combine(*values)`` in a tree of fan-in SPLIT_EVERY."""
    from dask import delayed

    while len(parts) > 1:
        parts = [delayed(combine, pure=True)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def block_piece(Xb, yb, wb, k, start, stop, n_features, numeric_y):
    """Validate one block (inside its task: declared chunk shapes can lie) and make it a Piece."""
    name, where = piece_name("block", k), piece_name("block", k, start, stop)
    Xb = np.asarray(Xb)
    if Xb.ndim != 2 or Xb.shape[1] != n_features:
        raise ValueError(f"{where}: X block has shape {Xb.shape}, expected ({stop - start}, "
                         f"{n_features}) (inconsistent width).")
    if Xb.shape[0] != stop - start:
        raise ValueError(f"{where}: X block has {Xb.shape[0]} rows, its chunk declares {stop - start}.")
    if Xb.dtype not in FLOAT_DTYPES:
        Xb = Xb.astype(np.float64)
    yb = check_piece_y(yb, Xb.shape[0], where, numeric=numeric_y)
    if isinstance(wb, float):
        wb = np.full(Xb.shape[0], wb)
    return Piece(np.ascontiguousarray(Xb), yb, check_piece_weight(wb, Xb.shape[0], where), name,
                 where, start)


def _on_block(fn, Xb, yb, wb, k, start, stop, n_features, numeric_y, *args):
    return fn(block_piece(Xb, yb, wb, k, start, stop, n_features, numeric_y), *args)


def _on_block_k(fn, Xb, yb, wb, k, start, stop, n_features, numeric_y, *args):
    return fn(block_piece(Xb, yb, wb, k, start, stop, n_features, numeric_y), k, *args)


class DaskSource(Source):
    """Dask arrays (or a dask DataFrame and Series): X, y and the weights aligned by row blocks.

    Parameters
    ----------
    X : dask.array.Array or dask DataFrame of shape (n_samples, n_features)
    y : dask.array.Array, dask Series or ndarray of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : None, float, ndarray or dask.array.Array of shape (n_samples,)
    shuffle_blocks : bool, default=True
        ``pieces`` visits the blocks in a new random order per pass (seeded by ``random_state``).
    verbose : bool, default=False
        ``pieces`` shows a progress bar (after 2 s).
    """

    def __init__(self, X, y, sample_weight=None, *, shuffle_blocks=True, random_state=None,
                 verbose=False):
        import dask

        if is_dask_collection(X) and hasattr(X, "columns"):
            self.feature_names = np.asarray([str(c) for c in X.columns], dtype=object)
        X = _dask_X(_as_dask_array(X), y)
        y = _aligned(y, X, "y")
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        sw = sample_weight
        if isinstance(sw, numbers.Number):
            sw = _scalar_weight(sw)
        elif sw is not None:
            sw = _aligned(sw, X, "sample_weight")
        self._y_unoptimized = y
        arrays = (X, y) if sw is None or isinstance(sw, float) else (X, y, sw)
        arrays = dask.optimize(*arrays)  # together: a task X and y share is fused once
        self.X, self.y = arrays[0], arrays[1]
        self.sample_weight = arrays[2] if len(arrays) == 3 else sw
        self.n_features = X.shape[1]
        self.y_ndim = y.ndim
        self.dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64)
        self.bounds = _row_bounds(X.chunks[0])
        self.shuffle_blocks = shuffle_blocks
        self.rng = np.random.default_rng(random_state)
        self.verbose = verbose

    def unique_labels(self):
        """The sorted distinct values of y, computed on the workers.

        From y's own graph, not the optimized one the blocks come from: a computation that shares
        task keys with the blocks being streamed can release them under the stream's feet.
        """
        import dask.array as da

        return np.unique(da.unique(self._y_unoptimized).compute())

    def _blocks(self):
        """Per block: (delayed X, delayed y, delayed weights / float / None, k, start, stop)."""
        xb = self.X.to_delayed(optimize_graph=False).ravel()
        yb = self.y.to_delayed(optimize_graph=False).ravel()
        sw = self.sample_weight
        wb = sw.to_delayed(optimize_graph=False).ravel() if hasattr(sw, "dask") else [sw] * len(xb)
        return [(xb[k], yb[k], wb[k], k, a, b) for k, (a, b) in enumerate(self.bounds)]

    def _tasks(self, fn, args):
        from dask import delayed

        d, numeric = self.n_features, self.numeric_y
        return [delayed(_on_block, pure=True)(fn, xb, yb, wb, k, a, b, d, numeric, *args)
                for xb, yb, wb, k, a, b in self._blocks()]

    def map_reduce(self, fn, combine, *args):
        import dask

        (out,) = dask.compute(_tree(self._tasks(fn, args), combine))
        return out

    def prepare(self, fn, *args):
        """Prepared blocks kept on the workers (with a ``distributed`` client) for every later pass.

        X, y and the weights are persisted first, so that the prepared tasks (and every later
        graph) refer to blocks in the workers' memory, not to the graph that made them: the client
        then holds O(n_blocks) task keys, whatever built X.
        """
        client = _client()
        if client is None:
            return _DaskPrepared(self._tasks(fn, args))
        keep = [self.X, self.y] + ([self.sample_weight] if hasattr(self.sample_weight, "dask")
                                   else [])
        kept = client.persist(keep)
        self.X, self.y = kept[0], kept[1]
        if len(kept) == 3:
            self.sample_weight = kept[2]
        return _DaskPrepared(client.persist(self._tasks(fn, args)))

    def map_blocks_list(self, fn, *args):
        """``[fn(piece_k, k, *args) for every block k]``, computed in parallel on the workers."""
        import dask
        from dask import delayed

        d, numeric = self.n_features, self.numeric_y
        tasks = [delayed(_on_block_k, pure=True)(fn, xb, yb, wb, k, a, b, d, numeric, *args)
                 for xb, yb, wb, k, a, b in self._blocks()]
        return list(dask.compute(*tasks))

    def pieces(self, order=None):
        """The blocks one at a time on the client, the next one computed on the workers meanwhile."""
        import dask

        blocks, client = self._blocks(), _client()
        if order is None:
            order = self.rng.permutation(len(blocks)) if self.shuffle_blocks else range(len(blocks))
        order = [int(k) for k in order]

        def fetch(k):
            handle = blocks[k][:3]
            return client.compute(list(handle)) if client is not None else handle

        pending = fetch(order[0]) if order else None
        bar = progress_bar(len(order), "pass over the dask blocks", self.verbose)
        try:
            for i, k in enumerate(order):
                Xb, yb, wb = client.gather(pending) if client is not None else dask.compute(*pending)
                pending = fetch(order[i + 1]) if i + 1 < len(order) else None
                _, _, _, _, a, b = blocks[k]
                bar.update(1)
                yield block_piece(Xb, yb, wb, k, a, b, self.n_features, self.numeric_y)
        finally:
            bar.close()


class _DaskPrepared:
    """Prepared blocks (persisted on the workers with a ``distributed`` client)."""

    def __init__(self, items):
        self.items = items

    def map_reduce(self, fn, combine, *args):
        import dask
        from dask import delayed

        terms = [delayed(fn, pure=True)(item, *args) for item in self.items]
        (out,) = dask.compute(_tree(terms, combine))
        return out


def _rows_2d(est, X):
    """X as a 2-D dask array with one chunk across the columns, checked against ``n_features_in_``."""
    import dask.array as da

    X = _as_dask_array(X)
    if not is_dask_collection(X):
        X = da.from_array(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}.")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


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
    dtype = X.dtype if X.dtype in FLOAT_DTYPES else np.float64
    probe = getattr(est, method)(np.zeros((1, X.shape[1]), dtype=dtype))
    if probe.ndim == 1:
        return X.map_blocks(_call_method, est, method, drop_axis=1, dtype=probe.dtype)
    return X.map_blocks(_call_method, est, method, chunks=(X.chunks[0], (probe.shape[1],)),
                        dtype=probe.dtype)
