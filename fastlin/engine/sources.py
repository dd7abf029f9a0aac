"""Sources: where row blocks come from. One interface, three kinds of input.

Every full-data computation of fastlin is a reduction written once against this interface:

* ``source.map_reduce(fn, combine, *args)``: ``fn(piece, *args)`` on every piece, the partial
  results combined by ``combine(*parts)`` (which skips ``None``); returns None for a source without
  pieces;
* ``source.prepare(fn, *args)``: a source of ``fn(piece, *args)`` (per-piece set-up reused by every
  later pass: label codes, the kernels' view of X); kept in memory (arrays), on the workers (Dask),
  or recomputed on each pass (chunks, which cannot be held);
* ``source.pieces(order=None)``: the validated pieces one at a time (streaming fits); ``order``
  is a sequence of piece indices (indexable sources) or a :class:`ShuffleBuffer` (any source).

Kinds: :class:`ArraySource` (in-memory arrays, memmaps, CSR: one piece, validated with scikit-learn's
rules by the estimator, walked in row blocks by the statistic itself), :class:`ChunkSource`
(iterables of ``(X, y[, sample_weight])``) and :class:`fastlin.engine.dask.DaskSource` (blocks on the
workers, tree reduction). ``numeric_y`` selects the y rule of the pieces (regression or labels).
"""

from __future__ import annotations

import itertools

import numpy as np

from .._progress import progress_bar
from ..data.pieces import (Piece, check_piece_weight, check_piece_X, check_piece_y,
                           piece_name)

__all__ = ["Source", "ArraySource", "ChunkSource", "Prepared", "ShuffleBuffer", "fold"]


def fold(parts, combine):
    """Combine a sequence of partial results left to right (None parts skipped)."""
    acc = None
    for part in parts:
        if part is not None:
            acc = part if acc is None else combine(acc, part)
    return acc


class Source:
    """What every source offers (see the module docstring)."""

    #: whether the pieces can be walked more than once
    reiterable = True
    #: how y of a piece is checked: numbers (regression) or labels (classification)
    numeric_y = True
    #: column names (a dask DataFrame), else None
    feature_names = None

    def for_target(self, numeric):
        """Set the y rule of a regressor (``numeric=True``) or a classifier; returns the source."""
        self.numeric_y = bool(numeric)
        return self

    def map_reduce(self, fn, combine, *args):
        return fold((fn(p, *args) for p in self.pieces()), combine)

    def prepare(self, fn, *args):
        return _Lazy(self, fn, args)


class Prepared:
    """Prepared pieces held in memory: every pass reuses them."""

    def __init__(self, items):
        self.items = list(items)

    def map_reduce(self, fn, combine, *args):
        return fold((fn(item, *args) for item in self.items), combine)


class _Lazy:
    """Prepared pieces recomputed on every pass (the source cannot hold its pieces)."""

    def __init__(self, source, fn, args):
        self.source, self.fn, self.args = source, fn, args

    def map_reduce(self, fn, combine, *args):
        prep, pargs = self.fn, self.args
        return self.source.map_reduce(lambda p: fn(prep(p, *pargs), *args), combine)


class ShuffleBuffer:
    """A random piece order for a source that can only be read front to back.

    The pieces are read once, in the source's order, into a buffer of at most ``size`` pieces;
    once it is full, each step hands out a piece of the buffer drawn uniformly at random and reads
    the next one into its place; at the end of the source the rest of the buffer is handed out in
    random order (the "shuffle buffer" of TensorFlow's ``tf.data.Dataset.shuffle``).

    Every piece is handed out exactly once; the source is read once; memory is ``size`` pieces
    (a piece is handed out before the next one is read).
    The order is only *locally* random: a piece is handed out no earlier than ``size - 1`` places
    before its position in the source (``size >= n_pieces``: a uniform random permutation;
    ``size == 1``: the source order). Deterministic for a given ``rng`` state and source.

    Parameters
    ----------
    size : int
        Pieces held at most (>= 1).
    rng : numpy.random.Generator
        Drawn from at every step; keep one generator across epochs for a new order per epoch.
    """

    def __init__(self, size, rng):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"shuffle_buffer must be an integer >= 1, got {size!r}.")
        self.size, self.rng = int(size), rng

    def reorder(self, items):
        """Yield ``items`` (an iterable, read front to back) in the buffer's random order.

        A piece is handed out before the next one is read: ``size`` pieces are held at most.
        """
        it = iter(items)
        buf = list(itertools.islice(it, self.size))
        while buf:
            j = int(self.rng.integers(len(buf)))
            buf[j], buf[-1] = buf[-1], buf[j]
            out = buf.pop()
            yield out
            out = None
            buf.extend(itertools.islice(it, 1))


class ArraySource(Source):
    """An in-memory X (ndarray, np.memmap, CSR/CSC), already validated: a single piece.

    Parameters
    ----------
    X : ndarray, np.memmap or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
    estimator : str or None
        Class name of the estimator being fitted: scikit-learn's message for NaN in X names it.
    """

    def __init__(self, X, y, sample_weight=None, estimator=None):
        self.piece = Piece(X, y, sample_weight, estimator=estimator)
        self.n_features = X.shape[1]
        self.dtype = X.dtype
        self.y_ndim = np.ndim(y)

    def pieces(self, order=None):
        yield self.piece

    def prepare(self, fn, *args):
        return Prepared([fn(self.piece, *args)])


class ChunkSource(Source):
    """Pieces from an iterable of ``(X, y)`` / ``(X, y, sample_weight)`` tuples, one at a time.

    A *re-iterable* source is a sequence, an object whose ``__iter__`` returns a fresh iterator
    each time, or a zero-argument callable returning a fresh iterable; a generator or an iterator
    is *one-shot*. Sequences can also be visited in any order of indices (``pieces(order)``);
    any source in the locally random order of a :class:`ShuffleBuffer` (``pieces(buffer)``, one
    read of the source, ``buffer.size`` pieces held). Each piece is validated as it is read
    (:mod:`fastlin.data.pieces`); ``n_features`` and ``dtype`` are known
    once a piece has been read (float64 as soon as one piece is float64).
    """

    def __init__(self, chunks, *, verbose=False):
        self.verbose = verbose
        if callable(chunks) and not hasattr(chunks, "__iter__"):
            self._factory, self._first = chunks, None
            self.reiterable = True
        else:
            try:
                it = iter(chunks)
            except TypeError:
                raise TypeError("chunks must be an iterable of (X, y[, sample_weight]) tuples or a "
                                f"callable returning one, got {type(chunks).__name__}.") from None
            self.reiterable = it is not chunks
            self._factory = (lambda: iter(chunks)) if self.reiterable else None
            self._first = it
        indexable = hasattr(chunks, "__getitem__") and hasattr(chunks, "__len__")
        self.sequence = chunks if indexable and not callable(chunks) else None
        self.n_features = None
        self.dtype = None
        self._y_shape = None

    def _raw(self, order):
        if order is not None and not isinstance(order, ShuffleBuffer):
            if self.sequence is None:
                raise TypeError("visiting the chunks in a chosen order (shuffle=True) needs chunks "
                                "that can be indexed, such as a list.")
            self._first = None
            return ((int(k), self.sequence[int(k)]) for k in order)
        if self._first is not None:
            it, self._first = self._first, None
        elif self._factory is not None:
            it = iter(self._factory())
        else:
            raise RuntimeError("a one-shot iterator of chunks cannot be walked twice")
        return enumerate(it)

    def pieces(self, order=None):
        """The validated pieces: in the source's order, by index (``order`` a sequence of
        indices; indexable sources only) or in a :class:`ShuffleBuffer`'s order."""
        bar = progress_bar(None, "pass over the chunks", self.verbose, unit="chunk")
        try:
            if isinstance(order, ShuffleBuffer):
                yield from order.reorder(self._pieces(None, bar))
            else:
                yield from self._pieces(order, bar)
        finally:
            bar.close()

    @property
    def y_ndim(self):
        """1 or 2, known once a piece has been read."""
        return None if self._y_shape is None else 1 + len(self._y_shape)

    def _check_targets(self, y, name):
        if self._y_shape is None:
            self._y_shape = y.shape[1:]
        elif y.shape[1:] != self._y_shape:
            raise ValueError(f"{name}: y has shape {y.shape}, but the first chunk's y had "
                             f"{len(self._y_shape) + 1} dimension(s) of shape (n, *{self._y_shape}).")

    def _pieces(self, order, bar):
        start = 0
        for k, item in self._raw(order):
            if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
                raise TypeError(f"chunk {k}: expected an (X, y) or (X, y, sample_weight) tuple, "
                                f"got {type(item).__name__}.")
            name = piece_name("chunk", k)
            X = check_piece_X(item[0], name, self.n_features)
            m = X.shape[0]
            y = check_piece_y(item[1], m, name, numeric=self.numeric_y)
            sw = check_piece_weight(item[2] if len(item) == 3 else None, m, name)
            self._check_targets(y, name)
            self.n_features = X.shape[1]
            self.dtype = X.dtype if self.dtype is None else np.promote_types(self.dtype, X.dtype)
            where = piece_name("chunk", k, start, start + m) if order is None else name
            start += m
            bar.update(1)
            yield Piece(X, y, sw, name, where, start - m if order is None else None)
