"""Writing the output directory: checked before any work, written all-or-nothing.

A new directory is filled under a temporary name beside it and renamed into place when complete;
into an existing directory each file is written to a temporary file and renamed over the old one.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ..output import atomic_write_bytes

__all__ = ["check_out_dir", "publish"]


def check_out_dir(path: str) -> str:
    """Check that ``path`` can receive the files; return its absolute form.

    Raises
    ------
    ValueError
        A one-line reason: a file in the way, a missing parent, no permission.
    """
    apath = os.path.abspath(os.path.expanduser(path))
    target = apath if os.path.isdir(apath) else os.path.dirname(apath)
    if os.path.exists(apath) and not os.path.isdir(apath):
        raise ValueError(f"--out {path!r} is a file, not a directory.")
    if not os.path.isdir(target):
        raise ValueError(f"--out {path!r}: directory {target!r} does not exist.")
    try:  # creating a file is the only reliable test (permissions, read-only mounts)
        fd, probe = tempfile.mkstemp(prefix=".fastlin-probe-", dir=target)
    except OSError as exc:
        raise ValueError(f"--out {path!r} is not writable: {exc.strerror or exc}.") from None
    os.close(fd)
    os.unlink(probe)
    return apath


def publish(apath: str, files: dict) -> None:
    """Write ``files`` (name -> bytes) into directory ``apath``, all or nothing for a new one."""
    if os.path.isdir(apath):
        for name, data in files.items():
            atomic_write_bytes(os.path.join(apath, name), _writer(data))
        return
    parent = os.path.dirname(apath)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(apath)}.", dir=parent)
    try:
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(data)
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would make the report private
        os.rename(tmp, apath)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _writer(data):
    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)
    return write
