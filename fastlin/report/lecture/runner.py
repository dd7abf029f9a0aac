"""Which demonstrations exist, choosing them by name, and running them with progress."""

from __future__ import annotations

import sys
import time

from . import (closed_form, convergence, cost, fitting, logistic, losses, mini_batches,
               perceptron, shrinkage, step_sizes)
from .figures import pyplot, to_png

__all__ = ["DEMONSTRATIONS", "NAMES", "select", "run_all"]

#: The demonstrations in the lecture's order.
DEMONSTRATIONS = [m.DEMO for m in (perceptron, convergence, losses, closed_form, shrinkage,
                                   step_sizes, mini_batches, logistic, fitting, cost)]
NAMES = [d.name for d in DEMONSTRATIONS]


def select(text=None):
    """The demonstrations named in ``text`` (comma-separated; None or empty: all), in order.

    Raises
    ------
    ValueError
        Naming the unknown names and listing the known ones.
    """
    if not text:
        return list(DEMONSTRATIONS)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in NAMES]
    if unknown or not wanted:
        raise ValueError(f"unknown claim name(s) {', '.join(unknown) or repr(text)}; known: "
                         + ", ".join(NAMES) + ".")
    return [d for d in DEMONSTRATIONS if d.name in wanted]


def _bar(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="claim", file=sys.stderr, leave=False, dynamic_ncols=True)


def run_all(demos, seed, *, echo=print, progress=True):
    """Run ``demos``; one line per claim through ``echo``; returns a list of result dicts.

    Each result: name, title, statement, check, holds, headline, numbers, details, seconds,
    png (bytes) — or, when the demonstration itself failed, holds False and ``error``.
    """
    plt = pyplot()
    bar = _bar(len(demos), progress)
    say = (lambda line: bar.write(line, file=sys.stdout)) if bar is not None else echo
    results = []
    try:
        for demo in demos:
            if bar is not None:
                bar.set_description(demo.name)
            results.append(_one(demo, seed, plt))
            say(_line(results[-1]))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results


def _one(demo, seed, plt):
    base = {"name": demo.name, "title": demo.title, "statement": demo.statement,
            "check": demo.check}
    t0 = time.perf_counter()
    try:
        found = demo.run(seed, plt)
        png = to_png(plt, found.figure)
    except Exception as exc:  # noqa: BLE001 - one broken demonstration must not hide the others
        plt.close("all")
        return {**base, "holds": False, "headline": f"failed: {type(exc).__name__}: {exc}",
                "numbers": {}, "details": [], "seconds": time.perf_counter() - t0,
                "png": None, "error": f"{type(exc).__name__}: {exc}"}
    return {**base, "holds": bool(found.holds), "headline": found.headline,
            "numbers": found.numbers, "details": found.details,
            "seconds": time.perf_counter() - t0, "png": png}


def _line(result):
    verdict = "holds" if result["holds"] else "does not hold"
    return f"{result['title']} — {verdict} — {result['headline']}"
