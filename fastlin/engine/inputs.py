"""Choose the source for what a user passed to ``fit``: arrays, a source already built, Dask."""

from __future__ import annotations

from ..data.validation import check_sample_weight, is_dask_collection
from .dask import DaskSource
from .sources import ArraySource, Source

__all__ = ["as_source"]


def as_source(X, y, sample_weight, validate, estimator=None):
    """The :class:`~fastlin.engine.sources.Source` of a ``fit(X, y, sample_weight)`` call.

    Parameters
    ----------
    X : array-like, sparse matrix, dask collection, or a Source (then y and sample_weight are None)
    y, sample_weight : as given to ``fit``
    validate : callable
        ``validate(X, y) -> (X, y)`` for in-memory input: the estimator's scikit-learn validation
        (``n_features_in_``, ``feature_names_in_``, its error messages).
    estimator : str, optional
        Class name used by scikit-learn's message for NaN in X (found by the statistics pass).
        Default: the class name of the object ``validate`` is a bound method of, if any.

    Returns
    -------
    Source
        ``X`` itself when it is a Source, a DaskSource for dask collections, else an ArraySource.
    """
    if isinstance(X, Source):
        if y is not None or sample_weight is not None:
            raise TypeError("a source carries its own y and sample weights: pass y=None and no "
                            "sample_weight with it.")
        return X
    if is_dask_collection(X) or is_dask_collection(y):
        return DaskSource(X, y, sample_weight)
    X, y = validate(X, y)
    sw = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
    if estimator is None and hasattr(validate, "__self__"):
        estimator = type(validate.__self__).__name__
    return ArraySource(X, y, sw, estimator)
