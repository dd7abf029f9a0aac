"""Sphinx configuration of fastlin's documentation site.

Build (from the repository root, with ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The gallery (``docs/gallery/plot_*.py``) runs every demonstration of ``fastlin lecture`` at build
time; sphinx-gallery writes the generated pages into ``docs/auto_examples/`` and the timings into
``docs/sg_execution_times.rst`` (both generated, not committed).
"""

from __future__ import annotations

import re

import fastlin

project = "fastlin"
author = "the fastlin developers"
copyright = "the fastlin developers"
version = release = fastlin.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# gallery/ holds the example *sources* (read by sphinx-gallery, not by Sphinx); lecture/ and the
# complexity report files are images/data the README links to.
exclude_patterns = ["_build", "gallery", "lecture", "Thumbs.db", ".DS_Store"]

# -- autodoc + numpydoc ------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"          # the numpydoc "Parameters" sections carry the types
autoclass_content = "class"         # __init__ has no docstring of its own
numpydoc_show_class_members = False  # members come from autodoc's :members:, no stub pages
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()  # validated by tests/test_docstrings.py instead
autosummary_generate = False       # api/*.rst are written by hand: nothing generated in docs/

# -- MyST (the existing Markdown pages: architecture, large data, performance) ------------------
myst_heading_anchors = 3

# -- sphinx-gallery: the lecture -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",           # execute every example
    "within_subsection_order": "FileNameSortKey",  # plot_01_..., plot_10_...: the lecture's order
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": True,
    "show_memory": False,
    "min_reported_time": 1,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
}

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"fastlin {release}"


# -- docstring fix-ups (the docstrings themselves live in fastlin/, see the notes below) --------

#: "(n_features_in_,)" in a numpydoc type: reST reads the trailing "_" as a link to a target
#: named "n_features_in". scikit-learn writes the shape as "(`n_features_in_`,)"; until the
#: docstrings do, escape the underscore of a bare identifier in the type part of "name : type".
_BARE_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w\\])([A-Za-z]\w*)_(?=[,)\]])")
#: scikit-learn's inherited docstrings (``score``) cite labels and glossary terms of
#: scikit-learn's own site; print their text instead of unresolvable references.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^`>]*)>)?`")
#: scikit-learn's metadata-routing methods (``set_fit_request``, ...) are left out, as in
#: tests/test_docstrings.py.
_ROUTING = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _fix_docstring(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        head, sep, kind = line.partition(" : ")
        if sep and head.strip().isidentifier():
            lines[i] = head + sep + _BARE_TRAILING_UNDERSCORE.sub(r"\1\\_", kind)
    if (getattr(obj, "__module__", None) or "").startswith("sklearn"):
        lines[:] = [_SKLEARN_ROLE.sub(lambda m: m.group(1) or m.group(2), line) for line in lines]


def _skip_member(app, what, name, obj, skip, options):
    return True if _ROUTING.match(name) else None


def setup(app):
    # before numpydoc (priority 500), on the docstring as written
    app.connect("autodoc-process-docstring", _fix_docstring, priority=400)
    app.connect("autodoc-skip-member", _skip_member)
