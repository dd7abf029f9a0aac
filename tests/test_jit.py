"""fastlin._jit: the disk cache never makes a fit fail; `fastlin compile` fills it.

The cache tests run a fresh interpreter on a *copy* of the package (so no compiled kernel exists
yet) in a read-only tree, with ``HOME`` and ``XDG_CACHE_HOME`` unusable and ``NUMBA_CACHE_DIR``
unset: Numba's own locators (``__pycache__`` beside the sources, the user-wide cache directory) all
fail there, which made the first fit raise "cannot cache function 'loss': no locator available".
``chmod`` does not bind root, so the unwritable places are also made unusable for root: a regular
file where a directory must go (``makedirs`` fails for everyone).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import fastlin

PACKAGE_DIR = Path(fastlin.__file__).resolve().parent

# The child: fit the estimators whose first fit crashed (an SGD kernel, the float32 Gram kernel),
# then report what _jit decided and the cache warnings it saw.
CHILD = r"""
import json, warnings
import numpy as np
with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    import fastlin
    import fastlin._jit as j
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    fastlin.SGDClassifier(max_iter=2, tol=None).fit(X, y)
    fastlin.Ridge().fit(X.astype(np.float32), X[:, 1])
print(json.dumps({"file": fastlin.__file__, "cache": j.CACHE, "where": j.CACHE_DIR,
                  "warnings": [str(w.message) for w in rec
                               if issubclass(w.category, j.NumbaCacheWarning)]}))
"""


def _unusable(base: Path) -> Path:
    """A path no one can create a directory at: it lies below a regular file."""
    blocker = base / "not-a-directory"
    blocker.write_text("")
    return blocker / "home"


def _make_read_only(root: Path, writable: bool = False):
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644 if writable else 0o444)
        os.chmod(dirpath, 0o755 if writable else 0o555)


@pytest.fixture
def read_only_copy(tmp_path):
    """The package copied into ``tmp_path/site`` (no cache files), made read-only."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(PACKAGE_DIR, site / "fastlin",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.pyc"))
    # For root, whom chmod does not stop: a file where Numba would create kernels/__pycache__.
    (site / "fastlin" / "kernels" / "__pycache__").write_text("")
    _make_read_only(site)
    try:
        yield site
    finally:
        _make_read_only(site, writable=True)


def _run_child(site: Path, tmp: Path, **env_extra):
    env = {k: v for k, v in os.environ.items()
           if k not in {"NUMBA_CACHE_DIR", "FASTLIN_NUMBA_CACHE", "NUMBA_CACHE_LOCATOR_CLASSES",
                        "PYTHONPATH"}}
    bad_home = _unusable(tmp)
    env.update(HOME=str(bad_home), XDG_CACHE_HOME=str(bad_home / ".cache"),
               PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1", **env_extra)
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env,
                          cwd=tmp, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve().parent == (site / "fastlin").resolve()  # the copy ran
    return out


def _cache_files(path: Path):
    return sorted(p.name for p in path.rglob("*.nbi"))


def test_read_only_install_caches_in_a_private_temp_dir(read_only_copy, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = _run_child(read_only_copy, tmp_path, TMPDIR=str(tmpdir))
    private = tmpdir / (f"fastlin-numba-cache-{os.getuid()}" if hasattr(os, "getuid")
                        else "fastlin-numba-cache")
    assert out["cache"] is True and out["warnings"] == []
    assert Path(out["where"]) == private
    assert stat.S_IMODE(private.stat().st_mode) == 0o700  # nobody else can plant code there
    names = _cache_files(private)
    assert any(n.startswith("sgd.sgd_epoch") for n in names), names
    assert any(n.startswith("block.shift_scale_block") for n in names), names


def test_no_writable_place_compiles_uncached_with_one_warning(read_only_copy, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    # the per-user directory exists but is not a directory we own with mode 0700: refused
    name = f"fastlin-numba-cache-{os.getuid()}" if hasattr(os, "getuid") else "fastlin-numba-cache"
    (tmpdir / name).write_text("")
    out = _run_child(read_only_copy, tmp_path, TMPDIR=str(tmpdir))
    assert out["cache"] is False and out["where"] is None
    assert len(out["warnings"]) == 1
    assert "NUMBA_CACHE_DIR" in out["warnings"][0]
    assert "FASTLIN_NUMBA_CACHE=0" in out["warnings"][0]


def test_users_numba_cache_dir_is_respected(read_only_copy, tmp_path):
    mine = tmp_path / "my-numba-cache"
    out = _run_child(read_only_copy, tmp_path, NUMBA_CACHE_DIR=str(mine))
    assert out["cache"] is True and out["where"] == "numba" and out["warnings"] == []
    assert any(n.startswith("sgd.sgd_epoch") for n in _cache_files(mine))


def test_private_temp_dir_refuses_a_foreign_or_open_directory(tmp_path, monkeypatch):
    from fastlin import _jit

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = _jit._private_temp_dir()
    assert path is not None and Path(path).parent == tmp_path
    os.chmod(path, 0o777)  # group/world-writable: someone else could plant compiled code
    assert _jit._private_temp_dir() is None
    os.chmod(path, 0o700)
    assert _jit._private_temp_dir() == path


def test_compile_command_fills_the_cache_for_the_asked_jobs(capsys):
    from fastlin import cli
    from fastlin.kernels import minibatch
    from fastlin.report import compile as fcompile

    jobs = fcompile.jobs(families=("SGDRegressor(gd)",))  # the quickest kernel to compile
    assert jobs and {job.layout for job in jobs} == {"dense", "csr"}
    assert {job.dtype for job in jobs} == {"float64", "float32"}
    assert fcompile.run(jobs, echo=print) == 0
    text = capsys.readouterr().out
    assert "SGDRegressor(gd)" in text and "float32" in text and "csr" in text and " s" in text
    # dense and CSR, float64 and float32: four specialisations of the kernel the jobs reach
    assert len(minibatch.gd_epoch.signatures) >= 4, minibatch.gd_epoch.signatures
    assert "minibatch.gd_epoch x" in text
    assert cli.build_parser().parse_args(["compile"]).handler.__name__ == "_cmd_compile"
