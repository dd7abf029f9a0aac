"""Per-fold Gram statistics in one pass: the engine of every cross-validated closed-form model.

One pass over a source gives the centred Gram statistics (:class:`~fastlin.engine.gram.GramStats`)
of each cross-validation fold's rows; everything a K-fold search needs is then O(D²) algebra on
them, never another pass over X:

* the whole data: the folds merged with Chan's pairwise update (:func:`~fastlin.engine.gram.merge`);
* the training rows of fold k, ``training_stats(fs, k)``: the whole minus fold k, Chan's update
  run backwards (the subtraction is exact in exact arithmetic; when it would cancel digits the
  training statistics are merged from the other folds instead, see :func:`training_stats`);
* the validation error of any coefficients on fold k, ``validation_sse(fs.folds[k], W, b)``: a
  quadratic form in the fold's statistics, Σ w (y − Xw − b)² without reading a row.

Cost: the flops of one Gram pass (every row enters exactly one fold's ``syrk``) plus K + 1 D×D
results; memory (K + 1)·D² floats beyond the Gram pass's own block buffer.

Which fold a row belongs to is decided by an *assigner*, ``assign(piece) -> fold ids`` of the
piece's rows, built by :func:`fold_assigner` from scikit-learn's ``cv`` conventions. It uses the
global row index of the piece (``Piece.start``), so the same rows land in the same folds whether X
is one array, a list of chunks or a Dask array.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..data.layout import block_rows_for
from ..data.validation import is_dask_collection
from .gram import GramStats, gram_piece, merge_all

__all__ = ["FoldStats", "fold_assigner", "fold_statistics", "training_stats", "validation_sse",
           "uncentred"]

#: Rows of a fold gathered into one contiguous batch when the fold's rows are scattered through a
#: piece (shuffled or interleaved folds): 4 Gram blocks (about 8 MiB). Each batch costs one D×D
#: finalisation (about 3·D² flops) against its rows·D² flops of ``syrk``, i.e. < 1 % at these sizes.
_GATHER_BLOCKS = 4

#: ``training_stats`` subtracts the fold from the whole only when the training rows keep at least
#: 1/16 of the whole scatter's trace: the subtraction then loses at most log10(16) ≈ 1.2 digits;
#: otherwise it merges the other folds, which loses none (O(K·D²) instead of O(D²)).
_SUBTRACT_MIN_TRACE_FRACTION = 1.0 / 16.0


class FoldStats(NamedTuple):
    """Gram statistics of the whole data and of each cross-validation fold.

    Attributes
    ----------
    total : GramStats
        The whole data (the folds merged).
    folds : tuple of (GramStats or None), length n_folds
        The rows of each fold (None for a fold without rows).
    """

    total: GramStats
    folds: tuple


# --------------------------------------------------------------------------------------------
# assigners (module-level classes: Dask ships them to the workers by pickling)


def _piece_rows(piece, n_samples):
    """The global indices ``[start, start + m)`` of a piece's rows, checked against n_samples."""
    m = piece.X.shape[0]
    if piece.start is None:
        raise ValueError("cross-validation folds need each piece's global row offset, but "
                         f"{piece.where or 'a piece'} was read out of order (no offset).")
    start = int(piece.start)
    if n_samples is not None and start + m > n_samples:
        raise ValueError(f"{piece.where or 'the data'} reaches row {start + m - 1}, but the folds "
                         f"were made for {n_samples} samples.")
    return start, start + m


class _ContiguousFolds:
    """Fold k = rows [stops[k-1], stops[k]): scikit-learn's ``KFold(K)`` without shuffling."""

    def __init__(self, n_folds, n_samples):
        sizes = np.full(n_folds, n_samples // n_folds, dtype=np.int64)
        sizes[: n_samples % n_folds] += 1  # KFold: the first n % K folds get one extra row
        self.stops, self.n_samples = np.cumsum(sizes), n_samples

    def __call__(self, piece):
        a, b = _piece_rows(piece, self.n_samples)
        return np.searchsorted(self.stops, np.arange(a, b), side="right").astype(np.intp)


class _InterleavedFolds:
    """Row i goes to fold i mod K: needs no length, for chunks whose total is unknown."""

    def __init__(self, n_folds):
        self.n_folds = n_folds

    def __call__(self, piece):
        a, b = _piece_rows(piece, None)
        return np.arange(a, b) % self.n_folds


class _TableFolds:
    """Fold ids looked up in a table of one id per row (from a splitter's test folds)."""

    def __init__(self, ids):
        self.ids = ids

    def __call__(self, piece):
        a, b = _piece_rows(piece, self.ids.shape[0])
        return self.ids[a:b].astype(np.intp)


def _index_array(idx, n, what, k):
    idx = np.asarray(idx)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ValueError(f"split {k}: boolean {what} mask has shape {idx.shape}, expected ({n},).")
        return np.flatnonzero(idx)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"split {k}: {what} indices must be a 1-D integer array.")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"split {k}: {what} indices outside [0, {n}).")
    return idx


def _fold_table(splits, n):
    """One fold id per row from ``(train, test)`` pairs whose test folds partition the rows and
    whose training rows are the complement of the test rows; ValueError otherwise."""
    ids = np.full(n, -1, dtype=np.int32)
    k = -1
    for k, split in enumerate(splits):
        train, test = split
        test = _index_array(test, n, "test", k)
        train = _index_array(train, n, "train", k)
        # bincount, not np.unique: linear in n (np.unique sorted every split: 1.8 s of a 2.65 s
        # LassoCV on 300 000 rows)
        if np.bincount(test, minlength=n).max(initial=0) > 1 or np.any(ids[test] >= 0):
            raise ValueError(f"the test folds must partition the rows, but split {k}'s test rows "
                             "repeat or overlap an earlier test fold (e.g. ShuffleSplit); "
                             "use KFold-like splitters.")
        ids[test] = k
        in_train = np.bincount(train, minlength=n)
        if (in_train.max(initial=0) > 1 or np.any(in_train[test])
                or train.size + test.size != n):
            raise ValueError(f"split {k}: the training rows must be every row outside the test "
                             "fold (e.g. TimeSeriesSplit trains on a prefix only); the fold "
                             "statistics can only drop one test fold from the whole.")
    if k + 1 < 2:
        raise ValueError(f"cross-validation needs at least 2 splits, got {k + 1}.")
    missing = np.flatnonzero(ids < 0)
    if missing.size:
        raise ValueError(f"the test folds must partition the rows, but {missing.size} rows (first "
                         f"{missing[0]}) are in no test fold.")
    return ids, k + 1


def fold_assigner(cv, *, n_samples=None, y=None, X=None, random_state=None):
    """Build ``assign(piece)``: the fold id in [0, n_folds) of each row of a piece.

    Parameters
    ----------
    cv : int, scikit-learn splitter, or iterable of (train, test) index arrays
        * int K >= 2: with ``n_samples`` known, contiguous folds exactly as ``KFold(K)`` (no
          shuffle; with ``random_state`` not None, as ``KFold(K, shuffle=True,
          random_state=random_state)``). With ``n_samples`` unknown (a stream of chunks whose
          length is not known before the pass), row i goes to fold i mod K: every fold gets
          every K-th row, so the folds are as balanced as KFold's but not the same rows.
        * a splitter (anything with ``split``) or an iterable of ``(train, test)``: its test
          folds must partition the rows and each training set must be the complement of its test
          fold (KFold, StratifiedKFold, GroupKFold-like); anything else is refused. Needs
          ``n_samples`` (or X).
    n_samples : int, optional
        Rows of the whole data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
        Passed to ``cv.split`` (stratified splitters need it).
    X : array-like of shape (n_samples, n_features), optional
        Passed to ``cv.split`` when in memory; its length is ``n_samples`` when that is None.
    random_state : int, RandomState or None
        Only for integer ``cv`` with known ``n_samples``: shuffle the rows before cutting folds.

    Returns
    -------
    assign : callable
        ``assign(piece) -> ndarray of shape (piece rows,)`` of int fold ids; uses ``piece.start``
        (the global index of the piece's first row). Picklable, for Dask workers.
    n_folds : int
        Attached as ``assign.n_folds``.

    Raises
    ------
    ValueError
        cv < 2 or cv > n_samples; a splitter without ``n_samples``; test folds that overlap, leave
        rows out, or training sets that are not the complement of their test fold.
    """
    if n_samples is None and X is not None:
        n_samples = int(X.shape[0])
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        k = int(cv)
        if k < 2:
            raise ValueError(f"cv must be at least 2 folds, got {k}.")
        if n_samples is None:
            assign = _InterleavedFolds(k)
        elif k > n_samples:
            raise ValueError(f"cv={k} folds is more than n_samples={n_samples}: every fold needs "
                             "at least one row.")
        elif random_state is None:
            assign = _ContiguousFolds(k, int(n_samples))
        else:
            from sklearn.model_selection import KFold

            cv = KFold(k, shuffle=True, random_state=random_state)
            return fold_assigner(cv, n_samples=n_samples, y=y, X=X)
        assign.n_folds = k
        return assign
    if n_samples is None:
        raise ValueError("a cross-validation splitter needs the number of samples, which this "
                         "source does not know before its pass; pass cv=int, or chunks as a list.")
    if hasattr(cv, "split"):
        X_like = X if X is not None and not is_dask_collection(X) else np.empty((n_samples, 0))
        y_like = None if y is None or is_dask_collection(y) else y
        splits = cv.split(X_like, y_like)
    elif hasattr(cv, "__iter__") and not isinstance(cv, (str, bytes)):
        splits = cv
    else:
        raise ValueError(f"cv must be an int, a splitter with a split method, or an iterable of "
                         f"(train, test) pairs, got {cv!r}.")
    ids, k = _fold_table(splits, int(n_samples))
    assign = _TableFolds(ids)
    assign.n_folds = k
    return assign


# --------------------------------------------------------------------------------------------
# the pass


def _row_slice(X, a, b):
    """Rows [a, b) of X without copying the values (dense: a view; CSR: views of data/indices)."""
    if not sp.issparse(X):
        return X[a:b]
    p0, p1 = int(X.indptr[a]), int(X.indptr[b])
    return type(X)((X.data[p0:p1], X.indices[p0:p1], X.indptr[a:b + 1] - p0),
                   shape=(b - a, X.shape[1]), copy=False)


def _sub_piece(piece, X, rows):
    sw = None if piece.sample_weight is None else piece.sample_weight[rows]
    return piece._replace(X=X, y=piece.y[rows], sample_weight=sw, start=None)


def _fold_rows_stats(piece, X, rows, center):
    """Gram statistics of the given rows (sorted indices into the piece) of one piece."""
    a, b = int(rows[0]), int(rows[-1]) + 1
    if b - a == rows.size:  # one contiguous run (KFold): views, no copy
        return gram_piece(_sub_piece(piece, _row_slice(X, a, b), slice(a, b)), center)
    batch = _GATHER_BLOCKS * block_rows_for(X.shape[1], 8)
    parts = (gram_piece(_sub_piece(piece, X[r], r), center)
             for r in (rows[i:i + batch] for i in range(0, rows.size, batch)))
    return merge_all(*parts)


def piece_fold_stats(piece, assign, n_folds, center):
    """Per-fold Gram statistics of one piece: a tuple of n_folds (GramStats or None)."""
    m = piece.X.shape[0]
    out = [None] * n_folds
    if m == 0:
        return tuple(out)
    ids = np.asarray(assign(piece))
    if ids.shape != (m,) or (m and (ids.min() < 0 or ids.max() >= n_folds)):
        raise ValueError(f"the fold assigner must give {m} fold ids in [0, {n_folds}), got shape "
                         f"{ids.shape}.")
    X = piece.X
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()  # row slices of CSC are not views; the Gram pass converts CSC alike
    order = np.argsort(ids, kind="stable")
    bounds = np.searchsorted(ids[order], np.arange(n_folds + 1))
    for k in range(n_folds):
        rows = order[bounds[k]:bounds[k + 1]]
        if rows.size:
            out[k] = _fold_rows_stats(piece, X, rows, center)
    return tuple(out)


def merge_fold_tuples(*parts):
    """Merge per-fold tuples of statistics fold by fold (None parts and entries skipped)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return tuple(merge_all(*(p[k] for p in parts)) for k in range(len(parts[0])))


def fold_statistics(source, assign, n_folds, center) -> FoldStats:
    """The Gram statistics of every fold and of the whole data, in ONE pass over the source.

    Parameters
    ----------
    source : Source
        ArraySource, ChunkSource or DaskSource (pieces carry their global row offset).
    assign : callable
        ``assign(piece) -> fold ids`` (:func:`fold_assigner`).
    n_folds : int
    center : bool
        Centre each fold on its own weighted means (GramStats' convention).

    Returns
    -------
    FoldStats
        ``total`` is the merge of the folds (the same statistics a Gram pass gives, up to
        rounding). Non-finite X raises the Gram pass's ValueError, naming the piece.

    Raises
    ------
    ValueError
        For a source without rows or with zero total weight.
    """
    folds = source.map_reduce(piece_fold_stats, merge_fold_tuples, assign, int(n_folds),
                              bool(center))
    if folds is None or all(f is None for f in folds):
        raise ValueError("The data contain no samples: nothing to fit.")
    total = merge_all(*folds)
    if total.weight_sum <= 0:
        raise ValueError("sample_weight is zero for every sample: nothing to fit.")
    return FoldStats(total, tuple(folds))


# --------------------------------------------------------------------------------------------
# algebra on the statistics


def _unmerge(t, b):
    """Statistics A with merge(A, b) == t (Chan's update solved for A); weights known positive."""
    wa = t.weight_sum - b.weight_sum
    fb = b.weight_sum / wa
    x_mean = t.x_mean + fb * (t.x_mean - b.x_mean)
    y_mean = t.y_mean + fb * (t.y_mean - b.y_mean)
    dx, dy = b.x_mean - x_mean, b.y_mean - y_mean
    f = wa * b.weight_sum / t.weight_sum
    return GramStats(t.n_samples - b.n_samples, wa, x_mean, y_mean,
                     t.xtx - b.xtx - f * np.outer(dx, dx), t.xty - b.xty - f * np.outer(dx, dy),
                     t.yty - b.yty - f * dy * dy)


def training_stats(fs: FoldStats, k: int) -> GramStats:
    """The statistics of every row outside fold k: the whole minus fold k.

    Chan's pairwise update solved for the other part (O(D²)). The subtraction cancels digits only
    when fold k holds most of the scatter; then (training trace below 1/16 of the whole's, more
    than about 1.2 digits at stake) the other folds are merged instead, as accurate as a pass.

    Parameters
    ----------
    fs : FoldStats
    k : int
        Fold index in [0, n_folds).

    Returns
    -------
    GramStats
        Same centring as ``fs``.

    Raises
    ------
    ValueError
        When no row (or no weight) lies outside fold k.
    """
    b, t = fs.folds[k], fs.total
    if b is None:
        return t
    others = [f for j, f in enumerate(fs.folds) if j != k and f is not None]
    if not others or sum(f.weight_sum for f in others) <= 0:
        raise ValueError(f"fold {k} holds every row with a positive weight: no training rows.")
    if t.weight_sum - b.weight_sum > 0:
        a = _unmerge(t, b)
        total_trace = np.trace(t.xtx) + float(np.sum(t.yty))
        kept = np.trace(a.xtx) + float(np.sum(a.yty))
        if kept >= _SUBTRACT_MIN_TRACE_FRACTION * total_trace:
            return a
    return merge_all(*others)


def uncentred(stats: GramStats) -> GramStats:
    """Uncentred statistics (Σ w x xᵀ, Σ w x yᵀ, Σ w y², zero means) from centred ones.

    The rank-one terms are added to positive semi-definite sums, so nothing cancels.
    """
    w = stats.weight_sum
    return GramStats(stats.n_samples, w, np.zeros_like(stats.x_mean), np.zeros_like(stats.y_mean),
                     stats.xtx + w * np.outer(stats.x_mean, stats.x_mean),
                     stats.xty + w * np.outer(stats.x_mean, stats.y_mean),
                     stats.yty + w * stats.y_mean * stats.y_mean)


def validation_sse(stats: GramStats, W, intercept) -> np.ndarray:
    """Σ w (y − xᵀw_t − b_t)² over the rows of ``stats``, per target: a quadratic form, no pass.

    With residuals split at the rows' own means (centred statistics), the cross terms vanish:
    SSE_t = yty_t − 2 w_tᵀ xty_t + w_tᵀ xtx w_t + W (ȳ_t − x̄ᵀ w_t − b_t)².

    Parameters
    ----------
    stats : GramStats
        Centred statistics of the validation rows (uncentred ones, with zero means, are exact for
        ``intercept`` = 0 only).
    W : ndarray of shape (n_features, n_targets) or (n_features,), or (n_models, n_features,
        n_targets) for several candidate models at once
    intercept : float or ndarray of shape (n_targets,) (or (n_models, n_targets))

    Returns
    -------
    sse : ndarray of shape (n_targets,) (or (n_models, n_targets))
        Clipped at 0 (rounding can make a perfect fit's form slightly negative).
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 1:
        W = W[:, None]
    if W.shape[-2:] != stats.xty.shape:
        raise ValueError(f"W has shape {W.shape}; the statistics need (..., {stats.xty.shape[0]}, "
                         f"{stats.xty.shape[1]}).")
    b = np.asarray(intercept, dtype=np.float64)
    c = stats.y_mean - np.einsum("d,...dt->...t", stats.x_mean, W) - b
    sse = (stats.yty - 2.0 * np.einsum("dt,...dt->...t", stats.xty, W)
           + np.einsum("...dt,...dt->...t", W, np.matmul(stats.xtx, W))
           + stats.weight_sum * c * c)
    return np.maximum(sse, 0.0)
