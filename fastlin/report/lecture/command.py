"""``fastlin lecture`` apart from argparse: check, run, print, write, exit code."""

from __future__ import annotations

import sys
import time

from . import document, page
from .output import check_out_dir, publish
from .runner import run_all, select

__all__ = ["lecture", "EXIT_OK", "EXIT_CLAIM_FAILED", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_CLAIM_FAILED = 1
EXIT_USAGE = 2


def lecture(out, claims=None, seed=0, *, progress=True, echo=print, err=None):
    """Run the chosen demonstrations and write ``out/index.html`` and ``out/lecture.json``.

    Returns
    -------
    int
        0 when every claim holds, 1 when one does not, 2 for bad input (unknown claim name,
        unwritable ``out``), reported in one line before any work.
    """
    err = err or (lambda msg: print(msg, file=sys.stderr))
    try:
        demos = select(claims)
        apath = check_out_dir(out)
    except ValueError as exc:
        err(f"fastlin lecture: error: {exc}")
        return EXIT_USAGE
    t0 = time.perf_counter()
    results = run_all(demos, seed, echo=echo, progress=progress)
    doc = document.build(results, seed=seed, seconds=time.perf_counter() - t0)
    pngs = {r["name"]: r["png"] for r in results}
    files = {"index.html": page.render(doc, pngs).encode("utf-8"),
             "lecture.json": document.to_json(doc)}
    try:
        publish(apath, files)
    except OSError as exc:
        err(f"fastlin lecture: error: cannot write {out!r}: {exc.strerror or exc}.")
        return EXIT_USAGE
    held = sum(r["holds"] for r in results)
    echo(f"{held} of {len(results)} claims hold; wrote {apath}/index.html and lecture.json "
         f"({doc['seconds']:.1f} s)")
    return EXIT_OK if doc["all_hold"] else EXIT_CLAIM_FAILED
