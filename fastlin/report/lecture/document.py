"""The JSON document of a lecture run: every number, the verdicts, the figures' file names."""

from __future__ import annotations

import json
import math
import platform
import time

import numpy as np

__all__ = ["SCHEMA_VERSION", "figure_id", "build", "to_json"]

SCHEMA_VERSION = 1


def figure_id(name):
    """The id of a claim's figure in the page (``<img id=...>``) and the JSON."""
    return f"figure-{name}"


def build(results, *, seed, seconds):
    """The document: ``schema``, ``seed``, ``created``, ``python``, ``seconds``, ``all_hold``,
    ``claims`` (name, title, statement, check, holds, headline, seconds, figure, numbers, error)."""
    claims = []
    for r in results:
        claims.append({"name": r["name"], "title": r["title"], "statement": r["statement"],
                       "check": r["check"], "holds": r["holds"], "headline": r["headline"],
                       "seconds": r["seconds"],
                       "figure": figure_id(r["name"]) if r["png"] is not None else None,
                       "numbers": r["numbers"], "error": r.get("error")})
    return {"schema": SCHEMA_VERSION, "seed": seed,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(),
            "seconds": seconds, "all_hold": all(c["holds"] for c in claims), "claims": claims}


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def to_json(doc) -> bytes:
    """Strict JSON (NaN and infinities as null), UTF-8."""
    return (json.dumps(_plain(doc), indent=1, ensure_ascii=False, allow_nan=False)
            + "\n").encode("utf-8")
