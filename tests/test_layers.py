"""The package's import layers, and no import cycle.

Static checks on the source (nothing of fastlin is imported or run): grimp reads every ``import``
statement of every module, including those inside functions and under ``if TYPE_CHECKING:``.

* ``test_import_contracts``: the import-linter contracts of ``[tool.importlinter]`` in
  pyproject.toml (the layers top to bottom, nothing importing the package root, fastlin.kernels
  importing no external package but Numba's, no cycle between siblings).
* ``test_no_import_cycle``: no cycle at all in the graph of ``fastlin.*`` modules, a package's
  ``__init__`` included.
* ``test_kernels_external_imports``: the allow list behind the kernels contract's deny list:
  fastlin.kernels, and whatever it imports, reach no external package but numba, numpy, llvmlite
  and the standard library.

Everything is found relative to this file, never the working directory, and no cache is written.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections import deque
from pathlib import Path

import grimp  # import-linter's graph builder; both come with the `test` extra
import pytest
from importlinter import api as _importlinter_api  # noqa: F401  (configures import-linter)
from importlinter.application import output as _il_output
from importlinter.application import use_cases as _il_use_cases

REPO_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = REPO_ROOT / "pyproject.toml"
PACKAGE = "fastlin"

KERNELS = "fastlin.kernels"
KERNELS_ALLOWED_EXTERNALS = frozenset({"numba", "numpy", "llvmlite"})

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module", autouse=True)
def _this_checkout_first():
    """Make grimp and import-linter read the fastlin next to this file, whatever the cwd.

    Both find the package with ``importlib.util.find_spec``; the repository root goes first on
    sys.path for the module's tests (it changes nothing once fastlin is imported: then the
    imported package is the one analysed, the same the rest of the session tests).
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(REPO_ROOT))
        spec = importlib.util.find_spec(PACKAGE)
        assert spec is not None and spec.submodule_search_locations, f"cannot find {PACKAGE}"
        yield


@pytest.fixture(scope="module")
def graph():
    # cache_dir=None: grimp would otherwise write .grimp_cache/ into the cwd.
    return grimp.build_graph(PACKAGE, include_external_packages=True, cache_dir=None)


def _lines(graph, importer, imported):
    numbers = sorted({d["line_number"] for d in graph.get_import_details(importer=importer,
                                                                         imported=imported)})
    return ", ".join(f"l.{n}" for n in numbers) or "l.?"


def _render_chain(graph, chain):
    return "\n".join(f"    {a} -> {b} ({_lines(graph, a, b)})" for a, b in zip(chain, chain[1:]))


# --- the import-linter contracts ------------------------------------------------------------------


def test_import_contracts(capsys):
    """Every contract of [tool.importlinter] in pyproject.toml is kept."""
    kwargs = {"config_filename": str(PYPROJECT), "cache_dir": None}
    if "no_logo" in inspect.signature(_il_use_cases.lint_imports).parameters:
        kwargs["no_logo"] = True
    # use_cases.lint_imports rather than importlinter.cli.lint_imports: the cli one also puts
    # the cwd on sys.path and resets the logging configuration of the whole test process. The report
    # goes to stdout (through rich since import-linter 2.7: widen its console, lines unwrapped).
    console = getattr(_il_output, "console", None)
    width = console.width if console is not None else None
    capsys.readouterr()
    try:
        if console is not None:
            console.width = 160
        passed = _il_use_cases.lint_imports(**kwargs)
    finally:
        if console is not None:
            console.width = width
    report = capsys.readouterr().out
    if not passed:
        pytest.fail(f"import-linter contracts of {PYPROJECT} broken:\n{_strip_logo(report)}",
                    pytrace=False)


def _strip_logo(report):
    """The report from its 'Contracts' heading on (older import-linter prints a logo first)."""
    lines = _ANSI.sub("", report).splitlines()
    for i in range(1, len(lines)):
        if lines[i].strip() == "Contracts" and set(lines[i - 1].strip()) == {"-"}:
            return "\n".join(lines[i - 1:])
    return "\n".join(lines)


# --- no cycle at all among fastlin modules --------------------------------------------------------


def _internal_edges(graph):
    modules = {m for m in graph.modules if m == PACKAGE or m.startswith(PACKAGE + ".")}
    return {m: sorted(graph.find_modules_directly_imported_by(m) & modules)
            for m in sorted(modules)}


def _strongly_connected(edges):
    """Tarjan's strongly connected components (iterative), each sorted."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_cycle_through(start, edges, members):
    """The shortest cycle start -> ... -> start inside ``members`` (breadth-first)."""
    previous = {}
    queue = deque()
    for succ in edges[start]:
        if succ == start:
            return [start, start]
        if succ in members and succ not in previous:
            previous[succ] = start
            queue.append(succ)
    while queue:
        node = queue.popleft()
        for succ in edges[node]:
            if succ == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [start] + chain[::-1][1:] + [start]
            if succ in members and succ not in previous:
                previous[succ] = node
                queue.append(succ)
    raise AssertionError(f"{start} is on no cycle")  # pragma: no cover


def find_cycles(graph):
    """[(component, [cycle, ...])] for every import cycle; the cycles cover the whole component."""
    edges = _internal_edges(graph)
    found = []
    for component in _strongly_connected(edges):
        members = set(component)
        if len(component) == 1 and component[0] not in edges[component[0]]:
            continue
        cycles, covered = [], set()
        for module in component:
            if module not in covered:
                cycle = _shortest_cycle_through(module, edges, members)
                cycles.append(cycle)
                covered.update(cycle)
        found.append((component, cycles))
    return sorted(found)


def test_no_import_cycle(graph):
    """No module of fastlin reaches itself through imports (any import, at any depth)."""
    found = find_cycles(graph)
    lines = []
    for component, cycles in found:
        lines.append(f"{len(component)} modules import one another: {', '.join(component)}")
        for cycle in cycles:
            lines.append("  cycle:\n" + _render_chain(graph, cycle))
    if found:
        pytest.fail(f"{len(found)} import cycle(s) among fastlin modules:\n" + "\n".join(lines),
                    pytrace=False)


def test_cycle_finder_finds_cycles():
    """The cycle search itself, on a small graph: a finder that finds nothing proves nothing."""
    g = grimp.ImportGraph()
    for name in ("fastlin", "fastlin.a", "fastlin.b", "fastlin.c", "fastlin.d"):
        g.add_module(name)
    for importer, imported in [("fastlin.a", "fastlin.b"), ("fastlin.b", "fastlin.c"),
                               ("fastlin.c", "fastlin.a"), ("fastlin.b", "fastlin.a"),
                               ("fastlin.c", "fastlin.d"), ("fastlin.d", "fastlin")]:
        g.add_import(importer=importer, imported=imported)
    assert find_cycles(g) == [(["fastlin.a", "fastlin.b", "fastlin.c"],
                               [["fastlin.a", "fastlin.b", "fastlin.a"],
                                ["fastlin.c", "fastlin.a", "fastlin.b", "fastlin.c"]])]
    g.remove_import(importer="fastlin.c", imported="fastlin.a")
    g.remove_import(importer="fastlin.b", imported="fastlin.a")
    assert find_cycles(g) == []


# --- fastlin.kernels: Numba only ----------------------------------------------------------------


def test_kernels_external_imports(graph):
    """fastlin.kernels and the fastlin modules it imports reach only numba, numpy, llvmlite."""
    reached = graph.find_upstream_modules(KERNELS, as_package=True)
    offenders = sorted(
        m for m in reached
        if m.split(".")[0] != PACKAGE
        and m.split(".")[0] not in sys.stdlib_module_names
        and m.split(".")[0] not in KERNELS_ALLOWED_EXTERNALS
    )
    kernel_modules = sorted({KERNELS} | graph.find_descendants(KERNELS))
    chains = []
    for external in offenders:
        chain = min((c for c in (graph.find_shortest_chain(importer=k, imported=external)
                                 for k in kernel_modules) if c), key=len)
        chains.append(f"  {external}:\n" + _render_chain(graph, chain))
    if offenders:
        pytest.fail(f"{KERNELS} may import only {', '.join(sorted(KERNELS_ALLOWED_EXTERNALS))} and "
                    f"the standard library among external packages, but reaches:\n"
                    + "\n".join(chains), pytrace=False)
