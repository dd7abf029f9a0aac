"""The one optional progress bar (tqdm, from the ``progress`` extra), shown only for long fits."""

from __future__ import annotations

__all__ = ["PROGRESS_DELAY", "progress_bar"]

#: tqdm shows the bar only once a fit has run this long (seconds): short fits print nothing.
PROGRESS_DELAY = 2.0


class _NoBar:
    def update(self, n=1):
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
