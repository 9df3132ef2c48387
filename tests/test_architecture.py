"""ARCHITECTURE.md's import rules, enforced on the transitive import graph.

The graph counts every import a module can execute, including imports inside functions and
module names handed to importlib as strings, except those under ``if TYPE_CHECKING:``. A lazy
package ``__init__`` (PEP 562) re-exports names from a body module; importing such a name is an
edge to the body, not to the package.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import teleconform

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PKG = SRC / "teleconform"
SANDBOX_ALLOWED_THIRD_PARTY = {
    "starlette",
    "uvicorn",
    "jwt",
    "httpx",
    "anyio",
    "multipart",
    "python_multipart",
    "yaml",  # profile files (what `teleconform drift` writes) are YAML data
}
# the layers below the command line: none of them may reach cli/ (only __main__ does)
HEAVY = ("teleconform.runner", "teleconform.cli", "teleconform.properties", "schemathesis")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _runtime_imports_of(child))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _runtime_imports(node)


@functools.cache
def _lazy_exports(package: str) -> dict[str, str]:
    """name -> body module, for a package whose __init__ re-exports under TYPE_CHECKING."""
    path = _modules().get(package)
    if path is None or path.name != "__init__.py":
        return {}
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                if isinstance(child, ast.ImportFrom) and child.module:
                    found.update({a.asname or a.name: child.module for a in child.names})
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    base = node.module or ""
    if node.level:
        package = module if _modules()[module].name == "__init__.py" else module.rpartition(".")[0]
        parts = package.split(".")
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    found = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in _modules():
            found.add(f"{base}.{alias.name}")  # a submodule
        elif alias.name in _lazy_exports(base):
            found.add(_lazy_exports(base)[alias.name])
        else:
            found.add(base)
    return found


@functools.cache
def direct_graph() -> dict[str, frozenset[str]]:
    """teleconform module -> the modules its own import statements name (any package)."""
    edges = {}
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = {t for node in _runtime_imports(tree) for t in _targets(name, node)}
        if path.name != "__init__.py":  # a lazy __init__'s strings load on attribute access
            # its own packages (e.g. importlib.resources.files) are loaded before it runs
            targets |= _named_in_strings(tree) - _with_parents(name)
        edges[name] = frozenset(targets)
    return edges


def _named_in_strings(tree: ast.AST) -> set[str]:
    # modules handed to importlib as strings ("teleconform.cli.report", "pkg.mod:func")
    return {
        node.value.partition(":")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "." in node.value.partition(":")[0]
        and node.value.partition(":")[0] in _modules()
    }


@functools.cache
def graph() -> dict[str, frozenset[str]]:
    """Like direct_graph, plus the package __init__s Python runs before a submodule."""
    return {
        name: frozenset({p for t in targets for p in _with_parents(t)} - {name})
        for name, targets in direct_graph().items()
    }


def _with_parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def reachable(start: str) -> set[str]:
    """Every module importing ``start`` may load (its own package parents included)."""
    seen: set[str] = set()
    todo = list(_with_parents(start))
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(graph().get(current, ()))
    return seen


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one teleconform module (Tarjan)."""
    # a submodule importing a sibling runs the (already initialising) package __init__: that
    # is not a cycle; an import statement naming a module that imports back is
    g = {k: [t for t in v if t in _modules() and t != k] for k, v in direct_graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def _loads(module: str, layer: str) -> list[str]:
    return sorted(m for m in reachable(module) if m == layer or m.startswith(layer + "."))


def test_the_graph_sees_imports_inside_functions_not_type_checking_ones() -> None:
    # the rules would be toothless if lazy imports were invisible
    tree = ast.parse(
        "import os\n"
        "if TYPE_CHECKING:\n    import teleconform.cli\n"
        "def f():\n    from teleconform.runner import _http\n"
        "class C:\n    def m(self):\n        import schemathesis\n"
    )
    found = {a.name for n in _runtime_imports(tree) for a in n.names}
    assert found == {"os", "_http", "schemathesis"}
    assert _loads("teleconform.runner._xdist", "teleconform.pytest_plugin") or _loads(
        "teleconform.pytest_plugin", "teleconform.runner"
    )


def test_no_import_cycles() -> None:
    assert _cycles() == []


@pytest.mark.parametrize(
    "module",
    [
        "teleconform",
        "teleconform.sandbox",
        "teleconform.sandbox.hcw",
        "teleconform.sandbox.leah",
        "teleconform.report",
        "teleconform.report.merge",
        "teleconform.client",
        "teleconform.catalogue",
    ],
)
def test_light_modules_load_no_runner_cli_or_schemathesis(module: str) -> None:
    loaded = {layer: _loads(module, layer) for layer in HEAVY}
    assert not any(loaded.values()), {k: v for k, v in loaded.items() if v}


def test_nothing_below_the_command_line_imports_it() -> None:
    offenders = {
        name: sorted(
            t for t in targets if t == "teleconform.cli" or t.startswith("teleconform.cli.")
        )
        for name, targets in graph().items()
        if not name.startswith("teleconform.cli") and name != "teleconform.__main__"
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_the_runner_and_the_plugin_never_import_the_command_line() -> None:
    for start in ("teleconform.runner", "teleconform.pytest_plugin"):
        assert not _loads(start, "teleconform.cli"), start


def test_sandboxes_are_an_independent_oracle() -> None:
    offenders = []
    for module in reachable("teleconform.sandbox.hcw") | reachable("teleconform.sandbox.leah"):
        if module.startswith("teleconform") and not (
            module in {"teleconform", "teleconform._version", "teleconform._lazy"}
            or module.startswith("teleconform.sandbox")
        ):
            offenders.append(module)
    for name in _modules():
        if not name.startswith("teleconform.sandbox"):
            continue
        for target in graph()[name]:
            top = target.split(".")[0]
            if (
                top != "teleconform"
                and top not in sys.stdlib_module_names
                and top not in SANDBOX_ALLOWED_THIRD_PARTY
            ):
                offenders.append(f"{name}: {target}")
    assert not offenders, offenders


def test_sandboxes_are_laid_out_alike() -> None:
    hcw = {p.name for p in (PKG / "sandbox" / "hcw").glob("_*.py")}
    leah = {p.name for p in (PKG / "sandbox" / "leah").glob("_*.py")}
    shared = {"_app.py", "_store.py", "_auth.py", "_render.py", "_faults.py", "_profiles.py"}
    assert shared <= hcw and shared <= leah, (shared - hcw, shared - leah)


def test_suites_never_import_the_sandboxes() -> None:
    offenders = []
    for path in sorted((REPO / "suites").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "teleconform.sandbox" in text and "teleconform.sandbox._server" not in text:
            offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


def test_report_writers_send_no_requests() -> None:
    for name in _modules():
        if name.startswith("teleconform.report"):
            reached = reachable(name)
            assert not {
                m for m in reached if m.split(".")[0] in {"httpx", "requests", "urllib3"}
            }, name
            assert not _loads(name, "teleconform.runner"), name


@pytest.mark.parametrize(
    "module", ["teleconform.sandbox.hcw", "teleconform.sandbox.leah", "teleconform.report.merge"]
)
def test_a_real_import_loads_what_the_graph_says(module: str) -> None:
    # the static graph is a model; this checks it against the interpreter
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert not {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    assert {m for m in loaded if m.startswith("teleconform")} <= reachable(module)
    # nor an HTTP client: the sandboxes import httpx only where they send (webhook deliveries)
    assert not {m for m in loaded if m.split(".")[0] in {"httpx", "requests", "urllib3"}}


def test_public_api_is_exactly_all() -> None:
    # submodules are reachable as attributes once imported, but they are not the API surface
    public = {
        name
        for name in dir(teleconform)
        if not name.startswith("_") and not isinstance(getattr(teleconform, name), types.ModuleType)
    }
    assert public | {"__version__"} == set(teleconform.__all__)
    assert teleconform.__all__ == sorted(teleconform.__all__, key=str.casefold)
    for name in teleconform.__all__:
        assert getattr(teleconform, name) is not None


def test_only_the_template_environment_imports_jinja2() -> None:
    importers = {
        name
        for name, targets in direct_graph().items()
        if any(t.split(".")[0] in {"jinja2", "markupsafe"} for t in targets)
    }
    assert importers == {"teleconform.report.html._templates"}


def test_only_the_property_tests_import_schemathesis() -> None:
    importers = {
        name
        for name, targets in direct_graph().items()
        if any(t.split(".")[0] == "schemathesis" for t in targets)
    }
    assert importers and all(name.startswith("teleconform.properties.") for name in importers)
