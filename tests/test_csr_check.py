"""The one-pass CSR/CSC structure check (fastlin.data.check_sparse_structure).

Every malformation a kernel could read out of bounds with is rejected with a "Malformed sparse ..."
ValueError, valid matrices pass untouched, and on random valid matrices the check agrees with
scipy's ``check_format(full_check=True)``, which it replaced.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastlin import SGDClassifier
from fastlin.data import check_sparse_structure


def _valid(fmt="csr", index_dtype=np.int32, shape=(5, 7), density=0.4, seed=0):
    X = sp.random(*shape, density=density, format=fmt, random_state=seed, dtype=np.float64)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


def _raw(X, data=None, indices=None, indptr=None):
    """A matrix of X's class and format holding exactly the given arrays (no constructor check)."""
    Y = X.copy()
    if data is not None:
        Y.data = data
    if indices is not None:
        Y.indices = indices
    if indptr is not None:
        Y.indptr = indptr
    return Y


def _malformed(fmt, index_dtype, case):
    X = _valid(fmt, index_dtype)
    n_minor = X.shape[1] if fmt == "csr" else X.shape[0]
    indices, indptr = X.indices.copy(), X.indptr.copy()
    assert X.nnz >= 4 and np.all(np.diff(indptr) >= 0)
    if case == "index_too_large":
        indices[X.nnz // 2] = n_minor
    elif case == "index_far_too_large":
        indices[-1] = np.iinfo(index_dtype).max
    elif case == "index_negative":
        indices[1] = -1
    elif case == "index_most_negative":
        indices[0] = np.iinfo(index_dtype).min
    elif case == "indptr_decreasing":
        assert indptr[2] < X.nnz
        indptr[1] = X.nnz  # then indptr[2] < indptr[1]
    elif case == "indptr_not_starting_at_0":
        indptr[0] = 1
    elif case == "indptr_too_short":
        indptr = indptr[:-1].copy()
        indptr[-1] = X.nnz
    elif case == "indptr_too_long":
        indptr = np.append(indptr, indptr[-1]).astype(index_dtype)
    elif case == "indptr_end_past_nnz":
        indptr[-1] = X.nnz + 1
    elif case == "data_indices_lengths_differ":
        return _raw(X, data=X.data[:-1].copy(), indices=indices, indptr=indptr)
    else:  # pragma: no cover
        raise AssertionError(case)
    return _raw(X, indices=indices, indptr=indptr)


CASES = [
    "index_too_large",
    "index_far_too_large",
    "index_negative",
    "index_most_negative",
    "indptr_decreasing",
    "indptr_not_starting_at_0",
    "indptr_too_short",
    "indptr_too_long",
    "indptr_end_past_nnz",
    "data_indices_lengths_differ",
]


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("case", CASES)
def test_malformed_is_rejected(case, fmt, index_dtype):
    X = _malformed(fmt, index_dtype, case)
    with pytest.raises(ValueError, match=f"Malformed sparse {fmt.upper()} matrix"):
        check_sparse_structure(X)
    # scipy's full check rejects these too (the message meaning is kept)
    with pytest.raises((ValueError, IndexError)):
        X.copy().check_format(full_check=True)


@pytest.mark.parametrize("case", ["index_too_large", "index_negative", "indptr_decreasing"])
def test_malformed_messages_name_the_problem(case):
    X = _malformed("csr", np.int32, case)
    expected = {"index_too_large": "indices must be < 7", "index_negative": "indices must be >= 0",
                "indptr_decreasing": "non-decreasing"}[case]
    with pytest.raises(ValueError, match=expected):
        check_sparse_structure(X)


@pytest.mark.parametrize("case", ["index_too_large", "index_negative", "indptr_decreasing"])
def test_malformed_is_rejected_by_the_estimator(case):
    X = _malformed("csr", np.int32, case)
    y = np.arange(X.shape[0]) % 2
    with pytest.raises(ValueError, match="Malformed sparse CSR matrix"):
        SGDClassifier(max_iter=1, tol=None).fit(X, y)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_valid_is_accepted_unchanged(fmt, index_dtype):
    X = _valid(fmt, index_dtype)
    arrays = (X.data, X.indices, X.indptr)
    assert check_sparse_structure(X) is X
    assert all(a is b for a, b in zip(arrays, (X.data, X.indices, X.indptr)))


def test_edge_cases_accepted():
    # empty matrix, matrix with no stored entries, last column / row used, sparse array class
    for X in (sp.csr_matrix((0, 3)), sp.csr_matrix((4, 3)), sp.csc_matrix((3, 0)),
              sp.csr_matrix(([1.0], ([3], [2])), shape=(4, 3)),
              sp.csc_matrix(([1.0], ([3], [2])), shape=(4, 3)),
              sp.csr_array(np.eye(3))):
        assert check_sparse_structure(X) is X


def test_empty_rows_with_decreasing_indptr_rejected():
    # nnz == 0 but indptr goes up and down: a kernel would read indices[0] of an empty array.
    X = _raw(sp.csr_matrix((3, 4)), indptr=np.array([0, 1, 0, 0], dtype=np.int32))
    with pytest.raises(ValueError, match="Malformed sparse CSR matrix"):
        check_sparse_structure(X)


def test_surplus_entries_are_pruned_like_scipy():
    # indptr[-1] < len(indices): scipy's check prunes the surplus; the fast path defers to it.
    X = _valid()
    Y = _raw(X, data=np.append(X.data, 1.0), indices=np.append(X.indices, 999).astype(np.int32))
    check_sparse_structure(Y)
    assert Y.indices.shape[0] == Y.data.shape[0] == Y.indptr[-1] == X.nnz


def test_unusual_dtypes_go_through_scipy():
    X = _valid(index_dtype=np.int64)
    Y = _raw(X, indptr=X.indptr.astype(np.int32))  # mixed index dtypes: scipy unifies them
    check_sparse_structure(Y)
    assert Y.indices.dtype == Y.indptr.dtype
    bad = _raw(X, indices=X.indices.copy())
    bad.indices[0] = X.shape[1]
    bad.indptr = bad.indptr.astype(np.int32)
    with pytest.raises(ValueError, match="Malformed sparse CSR matrix"):
        check_sparse_structure(bad)


def _scipy_accepts(X):
    try:
        X.copy().check_format(full_check=True)
    except (ValueError, IndexError):
        return False
    return True


def _fast_accepts(X):
    try:
        check_sparse_structure(X)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("seed", range(20))
def test_parity_with_scipy_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    fmt = ["csr", "csc"][seed % 2]
    index_dtype = [np.int32, np.int64][(seed // 2) % 2]
    shape = tuple(int(v) for v in rng.integers(1, 40, size=2))
    density = float(rng.uniform(0.0, 1.0))
    X = _valid(fmt, index_dtype, shape=shape, density=density, seed=seed)
    assert _scipy_accepts(X) and _fast_accepts(X)
    if X.nnz == 0:
        return
    # one random corruption of indices or indptr: both checks must agree
    indices, indptr = X.indices.copy(), X.indptr.copy()
    n_minor = X.shape[1] if fmt == "csr" else X.shape[0]
    for _ in range(5):
        what = rng.integers(3)
        if what == 0:
            indices[rng.integers(X.nnz)] = rng.integers(-3, n_minor + 3)
        elif what == 1 and indptr.shape[0] > 2:
            indptr[rng.integers(1, indptr.shape[0] - 1)] = rng.integers(0, X.nnz + 1)
        Y = _raw(X, indices=indices.copy(), indptr=indptr.copy())
        assert _fast_accepts(Y) == _scipy_accepts(Y)


def test_import_data_does_not_import_numba():
    code = "import sys, fastlin.data; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_negative_int32_index_with_huge_minor_axis_rejected():
    # More columns than int32 can index: -1 viewed as uint32 (2**32 - 1) is below n_cols, and must
    # still be rejected (the kernels sign-extend it).
    X = sp.csr_matrix((2, 3))
    X._shape = (2, 2**33)  # set directly: scipy would pick int64 indices for such a shape
    X.data = np.ones(2)
    X.indices = np.array([0, -1], dtype=np.int32)
    X.indptr = np.array([0, 1, 2], dtype=np.int32)
    with pytest.raises(ValueError, match="indices must be >= 0"):
        check_sparse_structure(X)
