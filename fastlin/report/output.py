"""Output files: checked for writability before any work, written atomically, strict JSON.

A failed or interrupted run leaves no partial file: everything is written to a temporary file
beside the target and renamed over it only when complete.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

import numpy as np

__all__ = ["check_writable", "atomic_write_bytes", "write_json"]


def check_writable(path: str, what: str) -> str:
    """Check before any work that ``path`` can be created; return its absolute form.

    Parameters
    ----------
    path : str
    what : str
        The option that named the path (e.g. ``"--json"``), for the message.

    Raises
    ------
    ValueError
        With a message naming the option and the reason (missing directory, no permission, a
        directory in the way).
    """
    apath = os.path.abspath(os.path.expanduser(path))
    parent = os.path.dirname(apath) or "."
    if os.path.isdir(apath):
        raise ValueError(f"{what} {path!r} is a directory; give a file name.")
    if not os.path.isdir(parent):
        raise ValueError(f"{what} {path!r}: directory {parent!r} does not exist.")
    # Creating a file is the only reliable test (permissions, read-only mounts, ACLs).
    try:
        fd, probe = tempfile.mkstemp(prefix=".fastlin-probe-", dir=parent)
    except OSError as exc:
        raise ValueError(f"{what} {path!r} is not writable: {exc.strerror or exc}.") from None
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(apath) and not os.access(apath, os.W_OK):
        raise ValueError(f"{what} {path!r} exists and is not writable.")
    return apath


def atomic_write_bytes(path: str, write) -> None:
    """Create ``path`` atomically: ``write(tmp_path)`` fills a temporary file beside it, renamed.

    A failure (or an interrupt) leaves no partial file: the temporary file is removed and ``path``
    keeps its previous content, if any.

    Parameters
    ----------
    path : str
    write : callable
        ``write(tmp_path)`` writes the whole content to ``tmp_path`` (same directory and extension
        as ``path``, so format detection by extension still works).
    """
    apath = os.path.abspath(path)
    parent = os.path.dirname(apath)
    base, ext = os.path.splitext(os.path.basename(apath))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".tmp{ext}", dir=parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make the report private
        os.replace(tmp, apath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _finite(obj):
    """The report with NaN/inf replaced by None (strict JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not math.isfinite(obj):
        return None
    return obj


def write_json(report: dict, path: str) -> None:
    """Write the report as strict JSON (NaN/inf as null), atomically."""
    text = json.dumps(_finite(report), indent=2, default=_json_default, allow_nan=False)

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")

    atomic_write_bytes(path, write)
