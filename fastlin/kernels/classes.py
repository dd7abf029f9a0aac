"""The layout of K-class blocks (coefficients, gradient partials) in the softmax kernels.

A softmax pass reads K coefficient vectors and adds to K gradient vectors for every entry of a
row. Dense rows read each class's coefficients as one contiguous row, so those blocks stay
class-major, ``(K, width)``, as the solvers hold them. A CSR entry touches one feature of every
class: class-major, those K values lie ``width`` apart (K cache lines an entry, every one a miss
once ``K x width`` outgrows the cache); feature-major, ``(width, K)``, they share one or two lines.
On CSR 100 000 x 2**17, 50 entries a row, 10 classes, fastlin's lbfgs fit took 2x scikit-learn's
(which multiplies by the feature-major ``coef.T``) until these kernels went feature-major; with
few classes the class-major rows stay faster (:func:`feature_major` says when).

Kernels address a block through flat views and these accessors, the layout picked from ``X``'s
type at compile time, like the row accessors of :mod:`fastlin.kernels.rows`, and for CSR from K
and the width at run time (:func:`feature_major`):

* :func:`class_block` -- a class-major ``(K, width)`` array as the flat view the kernels read
  (dense: the array itself, no copy; CSR: a feature-major copy, ``K x width`` values, once a pass);
* :func:`class_at` -- the flat position of class ``k``, column ``j`` in such a block;
* :func:`class_dots` / :func:`class_axpys` -- the K dot products of a row, and the K updates of a
  row, against flat blocks.

Gradient partials are written in the layout of ``X`` and read back through :func:`class_at`, so
what leaves a kernel is class-major whatever ``X`` is. SAGA (:mod:`fastlin.kernels.saga`) keeps its
(K, D) state between steps instead: its solver allocates it in Fortran order when
:func:`feature_major_layout` says so, and the kernel's ``W[q, j]`` then reads it feature-major.

:func:`class_dots` and :func:`class_axpys` are compiled without fast-math (:data:`STRICT`): with
it, LLVM fused and reordered their K-wide loops differently in the serial and the parallel
compilation of one kernel, which then disagreed in the last bits; strict, the sums run in the
order written, in both.
"""

from __future__ import annotations

import numpy as np
from numba.extending import overload

from .._jit import jit
from .rows import OVERLOAD_OPTIONS, _U64, is_csr_type, is_dense_type

__all__ = ["feature_major", "feature_major_layout", "class_block", "class_at", "class_dots", "class_axpys",
           "FEATURE_MAJOR_MIN_CLASSES", "FEATURE_MAJOR_BYTES", "STRICT"]

#: Options of the two K-wide row loops: the row accessors' without fast-math (see above).
STRICT = {**OVERLOAD_OPTIONS, "fastmath": False}

#: Softmax kernels on CSR X go feature-major from this many classes whatever the width, ...
FEATURE_MAJOR_MIN_CLASSES = 8
#: ... and from 4 classes when the K coefficient vectors take more than this many bytes. One
#: serial softmax pass over 50 000 CSR rows of 50 entries (Xeon, AVX-512), class-major /
#: feature-major time: K = 3: 0.79 (96 KiB), 0.84 (384 KiB), 1.03 (3 MiB); K = 4: 1.06 (1 MiB),
#: 1.77 (4 MiB); K = 6: 1.13 (768 KiB), 2.10 (6 MiB); K = 8: 1.63 (1 MiB); K = 10: 1.21 (80 KiB),
#: 1.52 (320 KiB), 1.71 (1.25 MiB), 3.5 (10 MiB, 100 000 rows); K = 20: 2.10 (160 KiB). Below
#: 4 classes the per-class dot products of the class-major rows vectorise better.
FEATURE_MAJOR_BYTES = 256 * 1024


def feature_major(X, K, D):
    """Whether the softmax kernels keep K x D blocks feature-major for this ``X``: CSR with at
    least :data:`FEATURE_MAJOR_MIN_CLASSES` classes, or 4 and ``K x D x 8 >``
    :data:`FEATURE_MAJOR_BYTES`; class-major otherwise (and always for dense X)."""
    raise NotImplementedError("feature_major is only callable from jitted code")


def _wide_enough(K, D):
    """The class-count and size rule of :func:`feature_major` (plain Python, also compiled)."""
    return K >= FEATURE_MAJOR_MIN_CLASSES or (K >= 4 and K * D * 8 > FEATURE_MAJOR_BYTES)


_wide_enough_jit = jit(inline="always")(_wide_enough)


def feature_major_layout(X, K, D):
    """:func:`feature_major` from Python, on the kernels' view of X (a CSR tuple or an array)."""
    return isinstance(X, tuple) and _wide_enough(K, D)


def class_block(X, M):
    """The flat view of the class-major ``(K, width)`` array ``M`` in ``X``'s layout (CSR: a
    feature-major copy; dense: ``M`` itself, flattened)."""
    raise NotImplementedError("class_block is only callable from jitted code")


def class_at(X, K, width, k, j):
    """Flat position of class ``k``, column ``j`` of a ``K x width`` block in ``X``'s layout."""
    raise NotImplementedError("class_at is only callable from jitted code")


def class_dots(X, i, W, K, out, r):
    """``out[r, k] = x_i . w_k`` for every class ``k``; ``W`` the flat block of
    :func:`class_block` (width: n_features). Accumulated in float64."""
    raise NotImplementedError("class_dots is only callable from jitted code")


def class_axpys(X, i, a, r, P, K, width):
    """``p_k[j] += a[r, k] x_ij`` for every class ``k`` and feature ``j`` of row ``i`` (CSR: its
    stored entries); ``P`` a flat ``K x width`` block in ``X``'s layout (width >= n_features:
    the intercepts' column is the caller's)."""
    raise NotImplementedError("class_axpys is only callable from jitted code")


@overload(feature_major, jit_options=OVERLOAD_OPTIONS)
def _ol_feature_major(X, K, D):
    if is_dense_type(X):
        return lambda X, K, D: False
    if is_csr_type(X):
        return lambda X, K, D: _wide_enough_jit(K, D)
    return None


@overload(class_block, jit_options=OVERLOAD_OPTIONS)
def _ol_class_block(X, M):
    if is_dense_type(X):
        return lambda X, M: M.reshape(M.size)
    if is_csr_type(X):
        return lambda X, M: np.ascontiguousarray(M.T).reshape(M.size)
    return None


@overload(class_at, jit_options=OVERLOAD_OPTIONS)
def _ol_class_at(X, K, width, k, j):
    if is_dense_type(X):
        return lambda X, K, width, k, j: k * width + j
    if is_csr_type(X):
        return lambda X, K, width, k, j: j * K + k
    return None


@overload(class_dots, jit_options=STRICT)
def _ol_class_dots(X, i, W, K, out, r):
    if is_dense_type(X):

        def impl(X, i, W, K, out, r):
            D = X.shape[1]
            for k in range(K):
                base = k * D
                acc = 0.0
                for j in range(D):
                    acc += X[i, j] * W[base + j]
                out[r, k] = acc

        return impl
    if is_csr_type(X):

        def impl(X, i, W, K, out, r):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            Ku = _U64(K)  # unsigned, as the row accessors' positions: no wrap-around checks
            for k in range(Ku):
                out[r, k] = 0.0
            for p in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                x = np.float64(data[p])
                base = _U64(indices[p]) * Ku
                for k in range(Ku):
                    out[r, k] += x * W[base + k]

        return impl
    return None


@overload(class_axpys, jit_options=STRICT)
def _ol_class_axpys(X, i, a, r, P, K, width):
    if is_dense_type(X):

        def impl(X, i, a, r, P, K, width):
            for k in range(K):
                c = a[r, k]
                base = k * width
                for j in range(X.shape[1]):
                    P[base + j] += c * X[i, j]

        return impl
    if is_csr_type(X):

        def impl(X, i, a, r, P, K, width):
            data = X[0]
            indices = X[1]
            indptr = X[2]
            Ku = _U64(K)
            for p in range(_U64(indptr[i]), _U64(indptr[i + 1])):
                x = np.float64(data[p])
                base = _U64(indices[p]) * Ku
                for k in range(Ku):
                    P[base + k] += a[r, k] * x

        return impl
    return None

