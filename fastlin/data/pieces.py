"""Validation of data that arrives in pieces (chunks of an iterable, blocks of a Dask array).

An in-memory array is validated whole by :mod:`fastlin.data.validation` (scikit-learn's messages);
a piece is validated here, on its own, and every error names it ("chunk 2 (rows 2000-2999): ...").
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import assert_all_finite

from .validation import FLOAT_DTYPES, check_sparse_structure

__all__ = ["Piece", "piece_name", "check_piece_X", "check_piece_y", "check_piece_weight",
           "check_finite_X", "raise_non_finite_X"]


class Piece(NamedTuple):
    """One validated piece of a source.

    Attributes
    ----------
    X : ndarray, np.memmap or sparse matrix of shape (m, n_features)
        float32 or float64, never copied when it already is one of them.
    y : ndarray of shape (m,) or (m, n_targets)
    sample_weight : ndarray of shape (m,) or None
    name : str or None
        How errors name the piece ("chunk 3"); None for a whole in-memory array, whose errors are
        scikit-learn's own.
    where : str or None
        The name with the rows when they are known ("chunk 3 (rows 300-399)").
    start : int or None
        The index of the piece's first row in the whole data, when known (None for a piece read
        out of order).
    estimator : str or None
        The class name of the estimator being fitted, for scikit-learn's message about NaN in a
        whole in-memory X ("Ridge does not accept missing values encoded as NaN natively. ...").
    """

    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None
    name: str | None = None
    where: str | None = None
    start: int | None = 0
    estimator: str | None = None


def piece_name(kind, k, start=None, stop=None):
    """``"chunk 3 (rows 300-399)"``: how errors name a piece (``start``/``stop`` when known)."""
    rows = "" if start is None else f" (rows {start}-{stop - 1})"
    return f"{kind} {k}{rows}"


def check_piece_X(X, where, n_features, *, first="the first chunk"):
    """Validate the X of one piece (no copy for float32/float64 arrays and memmaps).

    Raises ValueError naming the piece for ndim != 2, a width different from ``n_features``
    (``None`` on the first piece), non-numeric data, a malformed sparse matrix; finiteness is
    checked by the caller (:func:`check_finite_X`), usually on the statistics instead of on X.
    """
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        try:
            check_sparse_structure(X)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
    elif not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{where}: X must be numeric, got dtype {X.dtype}.")
    if X.dtype not in FLOAT_DTYPES:
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"{where}: X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{where}: X has {X.shape[1]} features but {first} had {n_features} "
                         "(inconsistent width).")
    return X


def check_piece_y(y, n_rows, where, *, numeric=True):
    """Validate the y of one piece against its X's number of rows (numeric: finite numbers)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not numeric:
        y = y.ravel()
    if y.ndim not in (1, 2) or y.shape[0] != n_rows:
        raise ValueError(f"{where}: y has shape {y.shape} but its X has {n_rows} rows "
                         "(misaligned y).")
    if numeric:
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{where}: y must be numeric, got dtype {y.dtype}.")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{where}: y contains NaN or infinity.")
    elif y.ndim != 1:
        raise ValueError(f"{where}: y must be 1-D for a classifier, got shape {y.shape}.")
    elif y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{where}: y contains NaN or infinity.")
    return y


def check_piece_weight(sw, n_rows, where):
    """Validate one piece's sample weights (a piece whose weights are all zero is allowed)."""
    if sw is None:
        return None
    if isinstance(sw, numbers.Number):
        sw = float(sw)
        if not (np.isfinite(sw) and sw >= 0):
            raise ValueError(f"{where}: a scalar sample_weight must be finite and >= 0, got {sw!r}.")
        return np.full(n_rows, sw)
    sw = np.asarray(sw, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_rows:
        raise ValueError(f"{where}: sample_weight has shape {sw.shape}, expected ({n_rows},).")
    if not np.all(np.isfinite(sw)):
        raise ValueError(f"{where}: sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError(f"{where}: sample_weight contains negative values.")
    return sw


def _data_of(X):
    return X.data if sp.issparse(X) else X


def check_finite_X(piece):
    """Raise if the piece's X holds NaN or infinity: scikit-learn's message for a whole array
    (with its advice on missing values, naming ``piece.estimator``), one naming the piece
    otherwise."""
    if piece.where is None:
        assert_all_finite(_data_of(piece.X), input_name="X", estimator_name=piece.estimator)
    elif not np.all(np.isfinite(_data_of(piece.X))):
        raise ValueError(f"{piece.where}: X contains NaN or infinity.")


def raise_non_finite_X(piece):
    """Raise the error for a piece whose statistics came out non-finite (NaN/inf, or overflow)."""
    check_finite_X(piece)
    prefix = "" if piece.where is None else f"{piece.where}: "
    raise ValueError(f"{prefix}X is finite but its Gram matrix overflows float64 (values of "
                     "about 1e154 or more): scale the features.")
