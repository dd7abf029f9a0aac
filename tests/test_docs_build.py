"""The documentation site builds with warnings as errors, with every API page and lecture example.

The build is ``sphinx-build -W --keep-going -b html docs docs/_build/html`` run on a copy of
``docs/`` in a temporary directory (sphinx-gallery writes its generated pages into the source
directory, so building the repository's own ``docs/`` would leave files there). It needs the
``docs`` extra (``pip install -e ".[docs]"``) and is skipped without it; the checks that the
gallery covers every demonstration of ``fastlin lecture`` need only fastlin and run always.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fastlin
from fastlin.report.lecture import DEMONSTRATIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"
GALLERY = DOCS / "gallery"
#: every public name of fastlin gets an API page
PUBLIC = sorted(n for n in fastlin.__all__ if n != "__version__")
#: the gallery scripts, in the lecture's order (plot_NN_<demonstration name>.py)
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
#: what the build generates in the source directory; not copied, so a stale local build of the
#: repository's docs/ cannot hide a broken one
GENERATED = ("_build", "auto_examples", "sg_execution_times.rst")
BUILD_TIMEOUT = 600


def _words(text):
    return " ".join(text.split())


def _script_demo(path):
    """The demonstration module a gallery script calls: ``from fastlin.report.lecture import X``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and node.module == "fastlin.report.lecture" for alias in node.names]
    return found[0] if len(found) == 1 else None


def test_gallery_has_one_script_per_demonstration_in_order():
    names = [d.name for d in DEMONSTRATIONS]
    expected = [f"plot_{i:02d}_{name}.py" for i, name in enumerate(names, 1)]
    assert [p.name for p in SCRIPTS] == expected, (
        "docs/gallery/ needs one plot_NN_<name>.py per demonstration of fastlin lecture, "
        "numbered in the lecture's order")


@pytest.mark.parametrize("demo", DEMONSTRATIONS, ids=lambda d: d.name)
def test_gallery_script_calls_its_demonstration_and_states_its_claim(demo):
    path = next(p for p in SCRIPTS if p.stem.split("_", 2)[2] == demo.name)
    module = demo.run.__module__.rsplit(".", 1)[1]
    assert _script_demo(path) == module
    assert f"{module}.run(" in path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring.splitlines()[0] == demo.title
    assert _words(demo.statement) in _words(docstring), (
        f"{path.name}: the lecture's statement changed; copy {module}.DEMO.statement into the "
        "example's docstring")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site from a copy of docs/; returns (html directory, sphinx-build output)."""
    for module in ("sphinx", "sphinx_gallery", "numpydoc", "myst_parser", "furo", "matplotlib"):
        pytest.importorskip(module)
    root = tmp_path_factory.mktemp("docs")
    src, out = root / "docs", root / "html"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns(*GENERATED))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         str(src), str(out)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=root)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"sphinx-build failed:\n{log[-6000:]}"
    return out, log


def test_build_has_no_warning(site):
    _, log = site
    assert "WARNING" not in log and "ERROR" not in log, log[-6000:]


@pytest.mark.parametrize("name", PUBLIC)
def test_api_page(site, name):
    out, _ = site
    page = out / "api" / f"{name}.html"
    assert page.is_file(), f"no API page for fastlin.{name}: add docs/api/{name}.rst"
    html = page.read_text(encoding="utf-8")
    assert f'id="fastlin.{name}"' in html
    assert name in (out / "api" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_gallery_example_executed(site, script):
    out, _ = site
    page = out / "auto_examples" / f"{script.stem}.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    # the figure the demonstration drew, and its verdict printed by the example
    assert f"sphx_glr_{script.stem}_001.png" in html
    assert (out / "_images" / f"sphx_glr_{script.stem}_001.png").is_file()
    assert ": holds" in html or "does NOT hold" in html


def test_user_guide_pages(site):
    out, _ = site
    for page in ("index", "estimators", "compiled-kernels", "large-data", "performance",
                 "architecture", "auto_examples/index", "api/index"):
        assert (out / f"{page}.html").is_file(), page


def test_docs_extra_is_declared():
    if importlib.util.find_spec("tomllib") is None:
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    extras = tomllib.loads((DOCS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    docs = extras["project"]["optional-dependencies"]["docs"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in docs}
    assert {"sphinx", "sphinx-gallery", "numpydoc", "myst-parser"} <= names
