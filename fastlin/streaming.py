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
``LogisticRegression(solver="lbfgs")``      one validation pass (labels, weights, NaN), then one pass
                                            per L-BFGS evaluation: the objective and gradient are sums
                                            of per-piece results of the fused kernel. Same model as
                                            the in-memory fit. Needs a re-iterable source.
``SGDClassifier``, ``SGDRegressor``,        ``epochs`` passes, one ``partial_fit`` per piece (one-shot
``Perceptron`` (anything with               iterators: one pass).
``partial_fit``)
=========================================  ==============================================================

A *re-iterable* source is a sequence (list, tuple), any object whose ``__iter__`` returns a fresh
iterator each time, or a zero-argument callable returning a fresh iterable. A generator or an
iterator is *one-shot*: it can be walked once.

Errors name the piece: a width different from the first piece's, NaN or infinity in piece k,
a ``y`` whose length differs from its ``X``'s. A fit that fails leaves no fitted attributes
behind (``check_is_fitted`` still raises on a fresh estimator).

Dask arrays are handled by the estimators' own ``fit`` (see :mod:`fastlin._dask`); the SGD
variants with the parameter-averaging option are reached through :func:`fit_sgd_dask`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from .data import FLOAT_DTYPES, check_sparse_structure, class_weights
from .kernels.losses import weighted_loss_sum

__all__ = ["fit_chunks", "fit_sgd_dask"]

#: tqdm shows the bar only once a fit has run this long (seconds): short fits print nothing.
PROGRESS_DELAY = 2.0


# ------------------------------------------------------------------------------------------------
# Progress
# ------------------------------------------------------------------------------------------------


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass


def progress_bar(total, desc, verbose, unit="block"):
    """A tqdm bar shown after :data:`PROGRESS_DELAY` seconds when ``verbose``; a no-op otherwise.

    tqdm is optional (``fastlin[progress]``): without it, verbose fits simply show no bar.
    """
    if not verbose:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is an optional extra
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, delay=PROGRESS_DELAY, leave=False)


# ------------------------------------------------------------------------------------------------
# Pieces: naming, validation
# ------------------------------------------------------------------------------------------------


def piece_name(kind, k, start=None, stop=None):
    """``"chunk 3 (rows 300-399)"``: how errors name a piece (``start``/``stop`` when known)."""
    rows = "" if start is None else f" (rows {start}-{stop - 1})"
    return f"{kind} {k}{rows}"


def check_piece_X(X, k, n_features, *, kind="chunk", start=None, dtype=FLOAT_DTYPES):
    """Validate the X of one piece (no copy for float32/float64 arrays and memmaps).

    Raises ValueError naming the piece for ndim != 2, a width different from ``n_features``
    (``None`` on the first piece), non-numeric data; finiteness is checked by the caller.
    """
    where = piece_name(kind, k)
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        try:
            check_sparse_structure(X)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from exc
        if X.dtype not in dtype:
            X = X.astype(np.float64)
    else:
        if not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{where}: X must be numeric, got dtype {X.dtype}.")
        if X.dtype not in dtype:
            X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"{where}: X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if n_features is not None and X.shape[1] != n_features:
        first = "the first " + kind
        raise ValueError(f"{where}: X has {X.shape[1]} features but {first} had {n_features} "
                         "(inconsistent width).")
    return X


def check_piece_y(y, n_rows, k, *, kind="chunk", numeric=True):
    """Validate the y of one piece against its X's number of rows."""
    where = piece_name(kind, k)
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
    return y


def check_piece_weight(sw, n_rows, k, *, kind="chunk"):
    """Validate one piece's sample weights (a piece whose weights are all zero is allowed)."""
    where = piece_name(kind, k)
    if sw is None:
        return None
    if isinstance(sw, numbers.Number):
        return np.full(n_rows, float(sw))
    sw = np.asarray(sw, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_rows:
        raise ValueError(f"{where}: sample_weight has shape {sw.shape}, expected ({n_rows},).")
    if not np.all(np.isfinite(sw)):
        raise ValueError(f"{where}: sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError(f"{where}: sample_weight contains negative values.")
    return sw


def raise_non_finite_X(X, where):
    """Raise the error for a piece whose statistics came out non-finite (NaN/inf, or overflow)."""
    data = X.data if sp.issparse(X) else X
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{where}: X contains NaN or infinity.")
    raise ValueError(f"{where}: X is finite but its Gram matrix overflows float64 (values of "
                     "about 1e154 or more): scale the features.")


def _split_piece(item, k):
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise TypeError(f"chunk {k}: expected an (X, y) or (X, y, sample_weight) tuple, got "
                        f"{type(item).__name__}.")
    return item[0], item[1], (item[2] if len(item) == 3 else None)


class _Source:
    """Uniform access to a re-iterable or one-shot source of pieces."""

    def __init__(self, chunks):
        if callable(chunks) and not hasattr(chunks, "__iter__"):
            self._factory = chunks
            self.reiterable = True
            self._first = None
        else:
            try:
                it = iter(chunks)
            except TypeError:
                raise TypeError("chunks must be an iterable of (X, y[, sample_weight]) tuples or a "
                                f"callable returning one, got {type(chunks).__name__}.") from None
            self.reiterable = it is not chunks
            self._factory = (lambda: iter(chunks)) if self.reiterable else None
            self._first = it
        # Sequences can be visited in any order by index, without reading the other pieces.
        self.sequence = chunks if hasattr(chunks, "__getitem__") and hasattr(chunks, "__len__") \
            and not callable(chunks) else None
        self.passes = 0

    def in_order(self, order):
        """Yield the pieces of a sequence in ``order`` (indices), one at a time."""
        self._first = None
        self.passes += 1
        for k in order:
            yield (int(k),) + _split_piece(self.sequence[int(k)], int(k))

    def __iter__(self):
        if self._first is not None:
            it, self._first = self._first, None
        elif self._factory is not None:
            it = iter(self._factory())
        else:
            raise RuntimeError("a one-shot iterator of chunks cannot be walked twice")
        self.passes += 1
        for k, item in enumerate(it):
            yield (k,) + _split_piece(item, k)


# ------------------------------------------------------------------------------------------------
# Closed form
# ------------------------------------------------------------------------------------------------


def is_closed_form(estimator):
    return hasattr(estimator, "_set_solution")


def finish_closed_form(est, stats, alpha, n_features, dtype, y_ndim):
    """Solve the merged statistics and store the model (nothing is set if the solve fails)."""
    from .solvers.normal import ridge_alphas, solve_normal

    if stats.weight_sum <= 0:
        raise ValueError("sample_weight is zero for every sample: nothing to fit.")
    alphas = ridge_alphas(alpha, stats.xty.shape[1])
    W, solver = solve_normal(stats.xtx, stats.xty, alphas)
    if not np.all(np.isfinite(W)):
        raise ValueError("The solve produced non-finite coefficients; scale the features.")
    for attr in ("feature_names_in_",):
        if attr in est.__dict__:
            delattr(est, attr)
    est._set_solution(W, stats.x_mean, stats.y_mean, solver, dtype, y_ndim)
    est.n_features_in_ = int(n_features)
    return est


def _closed_form_chunks(est, source, verbose):
    from .engine.gram import gram, merge
    from .solvers.normal import ridge_alphas

    alpha = est._alpha()
    if isinstance(alpha, numbers.Number) and not isinstance(alpha, bool):
        ridge_alphas(alpha, 1)
    acc = None
    d = y_shape = None
    dtype = None
    start = 0
    bar = progress_bar(None, "Gram statistics", verbose, unit="chunk")
    for k, X, y, sw in source:
        X = check_piece_X(X, k, d)
        n = X.shape[0]
        y = check_piece_y(y, n, k)
        sw = check_piece_weight(sw, n, k)
        if d is None:
            d, y_shape, dtype = X.shape[1], y.shape[1:], X.dtype
        elif y.shape[1:] != y_shape:
            raise ValueError(f"{piece_name('chunk', k)}: y has shape {y.shape}, but the first chunk's "
                             f"targets had shape (n,{' ' if not y_shape else ''}{', '.join(map(str, y_shape))}).")
        if X.dtype == np.float64:
            dtype = np.dtype(np.float64)
        if n == 0:
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            st = gram(X, y, sw, center=est.fit_intercept)
        if not (np.all(np.isfinite(np.diagonal(st.xtx))) and np.all(np.isfinite(st.x_mean))):
            raise_non_finite_X(X, piece_name("chunk", k, start, start + n))
        acc = st if acc is None else merge(acc, st)
        start += n
        bar.update(1)
    bar.close()
    if acc is None:
        raise ValueError("chunks contained no samples: nothing to fit.")
    return finish_closed_form(est, acc, alpha, d, dtype, 1 + len(y_shape))


# ------------------------------------------------------------------------------------------------
# LogisticRegression, lbfgs: the objective as a sum over pieces
# ------------------------------------------------------------------------------------------------


def label_summary(y, sw):
    """``{label: weighted count}`` of one piece (weights ``sw`` or ones)."""
    labels, inv = np.unique(y, return_inverse=True)
    w = np.bincount(inv.ravel(), weights=sw, minlength=labels.shape[0]) if sw is not None else \
        np.bincount(inv.ravel(), minlength=labels.shape[0]).astype(np.float64)
    return dict(zip(labels.tolist(), w.tolist()))


def merge_label_summaries(*parts):
    out = {}
    for p in parts:
        for key, w in p.items():
            out[key] = out.get(key, 0.0) + w
    return out


def logistic_setup(est, summary):
    """Classes, per-class weights and constants of the objective from the merged label summary.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    cw : ndarray of shape (n_classes,)
        Class weights (ones without ``class_weight``).
    K : int
        1 for a binary problem (sigmoid), n_classes otherwise.
    S : float
        Σ sample weight × class weight: the objective's normaliser.
    """
    classes = np.unique(np.asarray(list(summary.keys())))
    if classes.shape[0] < 2:
        raise ValueError("LogisticRegression needs samples of at least 2 classes in the data, "
                         f"but the data contains only one class: {classes[0]!r}.")
    wcount = np.array([summary[c] for c in classes.tolist()], dtype=np.float64)
    cw = class_weights(est.class_weight, classes, wcount)
    S = float(cw @ wcount)
    if not S > 0:
        raise ValueError("class_weight and sample_weight give every sample a zero weight.")
    K = 1 if classes.shape[0] == 2 else classes.shape[0]
    return classes, cw, K, S


def encode_labels(y, classes, sw, cw):
    """Class codes (float64) and effective weights ``sw * cw[code]`` of one piece."""
    codes = np.searchsorted(classes, y)
    codes = np.minimum(codes, classes.shape[0] - 1)
    if not np.all(classes[codes] == y):
        raise ValueError("a label was not seen in the validation pass (the source changed "
                         "between passes).")
    w = cw[codes] if sw is None else sw * cw[codes]
    return codes.astype(np.float64), np.ascontiguousarray(w, dtype=np.float64)


def logistic_piece_sums(X, codes, w, coef, b):
    """Σ w_i l_i and Σ w_i ∂l_i over one piece, from the fused kernel (no scaling, no penalty).

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (m, n_features)
    codes, w : ndarray of shape (m,), float64
    coef : ndarray of shape (K, n_features), float64, C order
    b : ndarray of shape (K,), float64

    Returns
    -------
    loss : float
    grad : ndarray of shape (K, n_features + 1)
        Last column: the intercepts' gradient.
    """
    from .kernels.logistic import logistic_loss_grad, n_chunks_for

    if sp.issparse(X):
        X = X.tocsr()
        Xd = np.empty((0, 0), dtype=X.dtype)
        data, indices, indptr = X.data, X.indices, X.indptr
    else:
        Xd = np.ascontiguousarray(X)
        data = np.empty(0, dtype=Xd.dtype)
        indices = indptr = np.empty(0, dtype=np.int32)
    K, D = coef.shape
    work = np.empty((n_chunks_for(X.shape[0], K, D), K, D + 1))
    grad = np.empty((K, D + 1))
    loss = logistic_loss_grad(Xd, data, indices, indptr, codes, w, coef, b, 0.0, 1.0, work, grad)
    return float(loss), grad


def fit_logistic_from_sums(est, evaluate, classes, K, S, n_features, *, bar=None):
    """Run scikit-learn's L-BFGS set-up on an objective given as a sum over pieces, store the model.

    ``evaluate(coef, b) -> (loss_sum, grad_sum)`` returns the unscaled, unpenalised sums
    (see :func:`logistic_piece_sums`); the mean form of the objective and the L2 penalty are added
    here exactly as :class:`fastlin.LogisticRegression` does in memory, and the same optimiser call
    (:func:`fastlin.linear_model._logistic.minimize_lbfgs`) runs, so both stop at the same point.
    """
    from .linear_model._logistic import minimize_lbfgs

    D = int(n_features)
    l2 = 1.0 / (float(est.C) * S) if est.penalty == "l2" else 0.0
    scale = 1.0 / S
    fit_b = bool(est.fit_intercept)
    zero_b = np.zeros(K)

    def split(theta):
        coef = np.ascontiguousarray(theta[: K * D].reshape(K, D))
        b = np.ascontiguousarray(theta[K * D:]) if fit_b else zero_b
        return coef, b

    def fun(theta):
        coef, b = split(theta)
        loss, grad = evaluate(coef, b)
        f = loss * scale + 0.5 * l2 * float(np.sum(coef * coef))
        g = grad[:, :D] * scale + l2 * coef
        g = g.ravel()
        if fit_b:
            g = np.concatenate([g, grad[:, D] * scale])
        if bar is not None:
            bar.update(1)
        return f, g

    theta0 = np.zeros(K * D + (K if fit_b else 0))
    if est.warm_start and hasattr(est, "coef_") and np.shape(est.coef_) == (K, D):
        theta0[: K * D] = np.ravel(est.coef_)
        if fit_b:
            theta0[K * D:] = np.ravel(est.intercept_)

    def callback(intermediate_result):
        if est.verbose:
            print(f"lbfgs iteration: objective {intermediate_result.fun:.10g}")

    res = minimize_lbfgs(fun, theta0, max_iter=est.max_iter, tol=est.tol, callback=callback)
    coef, b = split(res.x)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(b))):
        raise ValueError("The fit produced non-finite coefficients: scale the features.")
    if "feature_names_in_" in est.__dict__:
        del est.feature_names_in_
    est.classes_ = classes
    est.coef_ = np.array(coef, dtype=np.float64)
    est.intercept_ = np.array(b, dtype=np.float64) if fit_b else np.zeros(K)
    est.n_iter_ = np.array([res.nit], dtype=np.int32)
    est.objective_ = float(res.fun)
    est.n_features_in_ = D
    return est


def _logistic_chunks(est, source, verbose):
    if getattr(est, "solver", "lbfgs") != "lbfgs":
        raise ValueError(f"fit_chunks supports LogisticRegression(solver='lbfgs') only, got "
                         f"solver={est.solver!r}; use SGDClassifier(loss='log_loss') for a "
                         "stochastic fit over chunks.")
    if not source.reiterable:
        raise TypeError("LogisticRegression(solver='lbfgs') evaluates the objective with one pass "
                        "over the chunks per L-BFGS step, so it needs a re-iterable source (a list, "
                        "or a callable returning a fresh iterator); got a one-shot iterator.")
    est._check_params()
    # Validation pass: widths, NaN, labels and their weighted counts.
    d, summary, start = None, {}, 0
    for k, X, y, sw in source:
        X = check_piece_X(X, k, d)
        n = X.shape[0]
        y = check_piece_y(y, n, k, numeric=False)
        if y.ndim != 1:
            raise ValueError(f"{piece_name('chunk', k)}: y must be 1-D for a classifier, got shape {y.shape}.")
        sw = check_piece_weight(sw, n, k)
        d = X.shape[1] if d is None else d
        data = X.data if sp.issparse(X) else X
        if not np.all(np.isfinite(data)):
            raise ValueError(f"{piece_name('chunk', k, start, start + n)}: X contains NaN or infinity.")
        summary = merge_label_summaries(summary, label_summary(y, sw))
        start += n
    if d is None:
        raise ValueError("chunks contained no samples: nothing to fit.")
    classes, cw, K, S = logistic_setup(est, summary)

    def evaluate(coef, b):
        loss, grad = 0.0, np.zeros((K, d + 1))
        for k, X, y, sw in source:
            X = check_piece_X(X, k, d)
            if X.shape[0] == 0:
                continue
            codes, w = encode_labels(np.asarray(y).ravel(), classes, check_piece_weight(sw, X.shape[0], k), cw)
            lk, gk = logistic_piece_sums(X, codes, w, coef, b)
            loss += lk
            grad += gk
        return loss, grad

    bar = progress_bar(None, "lbfgs evaluations", verbose, unit="eval")
    try:
        return fit_logistic_from_sums(est, evaluate, classes, K, S, d, bar=bar)
    finally:
        bar.close()


# ------------------------------------------------------------------------------------------------
# SGD: epochs of partial_fit
# ------------------------------------------------------------------------------------------------


def _is_classifier(est):
    from sklearn.base import is_classifier

    return bool(is_classifier(est))


def clear_fitted(est):
    """Forget a previous fit so that ``partial_fit`` starts from scratch (``fit`` semantics)."""
    for key in list(vars(est)):
        if key.endswith("_") and not key.startswith("__"):
            delattr(est, key)


def _loss_code(est):
    from ._registry import LOSSES

    name = getattr(est, "loss", "perceptron")
    row = LOSSES.get(name)
    return None if row is None else row.code


def progressive_loss(est, X, y, sw, classes):
    """Σ w·loss of a piece at the *current* weights, before ``partial_fit`` sees it.

    The sum over an epoch is the progressive (online) training loss that scikit-learn's SGD
    tests against ``tol``; computing it here costs one BLAS product per piece. Returns
    ``(loss_sum, weight_sum)``, or None before the first piece or for an unknown loss.
    """
    code = _loss_code(est)
    if code is None or not hasattr(est, "coef_"):
        return None
    eps = float(getattr(est, "epsilon", 0.1))
    w = np.ones(X.shape[0]) if sw is None else np.asarray(sw, dtype=np.float64)
    if classes is None:
        P = np.asarray(est.predict(X), dtype=np.float64).reshape(-1, 1)
        Y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    else:
        P = np.asarray(est.decision_function(X), dtype=np.float64)
        if P.ndim == 1:
            P, Y = P[:, None], np.where(y == classes[1], 1.0, -1.0)[:, None]
        else:
            Y = np.where(np.asarray(y)[:, None] == np.asarray(classes)[None, :], 1.0, -1.0)
    return float(weighted_loss_sum(code, np.ascontiguousarray(P), np.ascontiguousarray(Y), eps, w)), \
        float(w.sum())


def run_sgd_epochs(est, epoch_pieces, epochs, *, classes=None, n_pieces=None, verbose=False,
                   tol=None, n_iter_no_change=5, desc="SGD epochs"):
    """Drive ``partial_fit`` over the pieces of each epoch; returns the number of epochs run.

    ``epoch_pieces(e)`` yields ``(name, X, y, sample_weight)`` for epoch ``e``. With ``tol``, the
    fit stops as scikit-learn's SGD does: when the epoch's progressive training loss (mean over
    the samples of the loss at the weights each piece met, :func:`progressive_loss`) has not
    improved on the best so far by ``tol`` for ``n_iter_no_change`` epochs in a row.
    Restores the estimator's state on failure (no half-fitted model is left behind).
    """
    is_classifier = _is_classifier(est)
    saved = dict(vars(est))
    bar = progress_bar(None if n_pieces is None else n_pieces * epochs, desc, verbose)
    run, stale, best = 0, 0, np.inf
    try:
        for e in range(epochs):
            loss_sum = weight_sum = 0.0
            for name, X, y, sw in epoch_pieces(e):
                if X.shape[0] == 0:
                    continue
                kwargs = {} if sw is None else {"sample_weight": sw}
                if is_classifier:
                    kwargs["classes"] = classes
                if tol is not None:
                    lw = progressive_loss(est, X, y, sw, classes if is_classifier else None)
                    if lw is not None:
                        loss_sum += lw[0]
                        weight_sum += lw[1]
                try:
                    est.partial_fit(X, y, **kwargs)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from exc
                bar.update(1)
            run += 1
            if tol is not None and weight_sum > 0:
                epoch_loss = loss_sum / weight_sum
                if verbose:
                    print(f"-- Epoch {run}: mean progressive loss {epoch_loss:.6g}")
                stale = stale + 1 if epoch_loss > best - tol else 0
                best = min(best, epoch_loss)
                if stale >= n_iter_no_change:
                    break
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(saved)
        raise
    finally:
        bar.close()
    est.n_iter_ = run
    return run


def _sgd_chunks(est, source, epochs, classes, verbose, shuffle, random_state):
    if epochs is None:
        epochs = 1
    if not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    if not source.reiterable and epochs > 1:
        warnings.warn(
            f"chunks is a one-shot iterator (e.g. a generator): it can be read once, so only 1 "
            f"epoch is run instead of epochs={epochs}. Pass a list, or a callable that returns a "
            "fresh iterator, to run several epochs.", UserWarning, stacklevel=3)
        epochs = 1
    if shuffle and source.sequence is None:
        raise TypeError("shuffle=True needs chunks that can be indexed (a list or another "
                        "sequence), so that the pieces are visited in random order one at a time.")
    is_classifier = _is_classifier(est)
    if is_classifier and classes is None:
        raise ValueError("fit_chunks needs classes=... for a classifier: partial_fit must know "
                         "every class before the first chunk.")
    d = [None]
    rng = np.random.default_rng(random_state)

    def epoch_pieces(e):
        if shuffle:
            # Shuffled by index: the pieces are read one at a time, in a new order each epoch.
            pieces = source.in_order(rng.permutation(len(source.sequence)))
        else:
            pieces = iter(source)
        for k, X, y, sw in pieces:
            X = check_piece_X(X, k, d[0])
            d[0] = X.shape[1]
            y = check_piece_y(y, X.shape[0], k, numeric=not is_classifier)
            sw = check_piece_weight(sw, X.shape[0], k)
            if not np.all(np.isfinite(X.data if sp.issparse(X) else X)):
                raise ValueError(f"{piece_name('chunk', k)}: X contains NaN or infinity.")
            yield piece_name("chunk", k), X, y, sw

    clear_fitted(est)
    tol = getattr(est, "tol", None) if epochs > 1 else None
    run_sgd_epochs(est, epoch_pieces, epochs, classes=classes, verbose=verbose, tol=tol,
                   n_iter_no_change=getattr(est, "n_iter_no_change", 5))
    return est


# ------------------------------------------------------------------------------------------------
# Public entry points
# ------------------------------------------------------------------------------------------------


def fit_chunks(estimator, chunks, *, epochs=None, classes=None, shuffle=False, random_state=None,
               verbose=None):
    """Fit ``estimator`` on data given as pieces, holding one piece in memory at a time.

    Parameters
    ----------
    estimator : LinearRegression, Ridge, LogisticRegression, or an estimator with ``partial_fit``
        Fitted in place (see the module docstring for how each uses the pieces).
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
        ``partial_fit`` estimators: visit the pieces in a new random order each epoch (re-iterable
        sources only; each piece is read as it is visited, the order is shuffled by index).
    random_state : int or None
        Seed of the piece order when ``shuffle``.
    verbose : bool, optional
        Show a tqdm progress bar (pieces, epochs or L-BFGS evaluations) once the fit has run for
        more than 2 seconds. Default: the estimator's ``verbose`` attribute, if any.

    Returns
    -------
    estimator
        The fitted estimator.

    Raises
    ------
    ValueError
        Naming the piece: inconsistent width, NaN or infinity in piece k, a y whose length differs
        from its X's. The estimator is then left as it was (no partial model).
    TypeError
        lbfgs on a one-shot iterator; an estimator that can be fitted neither way.

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
    source = _Source(chunks)
    if verbose is None:
        verbose = bool(getattr(estimator, "verbose", 0))
    if is_closed_form(estimator):
        return _closed_form_chunks(estimator, source, verbose)
    if type(estimator).__name__ == "LogisticRegression" and hasattr(estimator, "_check_params"):
        return _logistic_chunks(estimator, source, verbose)
    if hasattr(estimator, "partial_fit"):
        return _sgd_chunks(estimator, source, epochs, classes, verbose, shuffle, random_state)
    raise TypeError(f"fit_chunks cannot fit {type(estimator).__name__}: it is neither a closed-form "
                    "estimator, LogisticRegression(solver='lbfgs'), nor has partial_fit.")


def fit_sgd_dask(estimator, X, y, sample_weight=None, *, mode="stream", classes=None, epochs=None,
                 shuffle_blocks=True, random_state=None, verbose=None):
    """Fit a ``partial_fit`` estimator on dask arrays (dask is imported only when this is called).

    Parameters
    ----------
    estimator : SGDClassifier, SGDRegressor, Perceptron (or any estimator with ``partial_fit``)
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array or ndarray of shape (n_samples,)
        Row chunks must match X's.
    sample_weight : dask.array.Array or ndarray of shape (n_samples,), optional
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
    estimator
    """
    from ._dask import fit_sgd_blocks

    return fit_sgd_blocks(estimator, X, y, sample_weight, mode=mode, classes=classes, epochs=epochs,
                          shuffle_blocks=shuffle_blocks, random_state=random_state, verbose=verbose)

