"""Warnings that point at the user's line.

``warnings.warn(..., stacklevel=k)`` needs k to count the frames between the ``warn`` call and
the user's code, and that count depends on the call path: ``Ridge.fit`` calls the solver
directly, ``RidgeCV.fit`` and ``fit_chunks`` add frames, generators and lazy sources add more.
:func:`warn` counts them at run time instead: the warning is attributed to the first frame
outside the ``fastlin`` package, i.e. the user's ``est.fit(...)`` line (or the library frame that
called fastlin, such as scikit-learn's ``cross_validate``).

Python 3.12's ``skip_file_prefixes`` does the same, but fastlin supports Python 3.10. This
module is the bottom layer of the package: every layer may import it, it imports nothing of
fastlin.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["warn", "user_stacklevel"]

_PACKAGE = __name__.split(".", 1)[0]


def _inside_package(frame) -> bool:
    name = frame.f_globals.get("__name__", "")
    return name == _PACKAGE or name.startswith(_PACKAGE + ".")


def user_stacklevel(skip=1):
    """The ``stacklevel`` that makes ``warnings.warn`` name the first frame outside fastlin.

    Parameters
    ----------
    skip : int, default=1
        Frames between this call and the eventual ``warnings.warn`` call, counted as
        ``stacklevel`` counts them: 1 when the caller of this function calls
        ``warnings.warn`` itself with the result.

    Returns
    -------
    int
        ``stacklevel`` for that ``warnings.warn`` call (at least 1).
    """
    frame = sys._getframe(skip)
    level = 1
    while frame is not None and _inside_package(frame):
        back = frame.f_back
        if back is None:
            break
        frame, level = back, level + 1
    return level


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` attributed to the user's frame (see the module).

    Parameters
    ----------
    message : str
    category : type of Warning, default=UserWarning
    """
    warnings.warn(message, category, stacklevel=user_stacklevel(2) + 1)
