"""The two sandboxes are laid out alike and stay an independent oracle.

One module per concern with the same names on both sides; ``_app`` is the route table only;
handlers are plain functions of one ``ctx``; the sandbox imports only the standard library,
its web stack and itself (imports inside functions count), without cycles; importing a
sandbox loads neither the runner, the HTTP client nor schemathesis.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from teleconform.sandbox import hcw, leah

SANDBOX = Path(__file__).resolve().parents[2] / "src" / "teleconform" / "sandbox"
SHARED = {
    "__init__",
    "_app",  # create_app: the route table and the error handlers
    "_context",  # the per-app Sandbox and the per-request Ctx every handler takes
    "_store",  # state and seeded accounts (CREDENTIALS)
    "_auth",  # tokens / API key / login
    "_validation",  # request checks
    "_render",  # response bodies and errors
    "_inventory",  # test control: what a run created
    "_faults",
    "_profiles",
}
RESOURCES = {
    "hcw": {"_invites", "_consultations", "_sso"},
    "leah": {"_workers", "_offices", "_appointments", "_transfers", "_webhooks", "_discovery"},
}
# helpers of one side only: the Hydra collections and the upload rules of Leah
HELPERS = {"hcw": set(), "leah": {"_collections", "_files"}}
PUBLIC = {"create_app", "CREDENTIALS", "FAULTS", "PROFILES", "READINGS", "inventory", "resolve"}
ALLOWED_THIRD_PARTY = {"starlette", "uvicorn", "jwt", "httpx", "anyio", "multipart", "yaml"}


def _modules(api: str) -> set[str]:
    return {path.stem for path in (SANDBOX / api).glob("*.py")}


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (``from a import b`` counts a.b if a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if _file_of(candidate) is not None:
                    found.append(candidate)
    return found


def _file_of(module: str) -> Path | None:
    if not module.startswith("teleconform.sandbox"):
        return None
    parts = module.split(".")[2:]
    base = SANDBOX.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(SANDBOX).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("teleconform", "sandbox", *parts))


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_each_sandbox_has_one_module_per_concern_with_the_shared_names(api: str) -> None:
    assert _modules(api) == SHARED | RESOURCES[api] | HELPERS[api]


@pytest.mark.parametrize("package", [hcw, leah], ids=["hcw", "leah"])
def test_both_sandboxes_export_the_same_public_names(package: ModuleType) -> None:
    assert set(package.__all__) == PUBLIC
    assert all(hasattr(package, name) for name in PUBLIC)


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_app_module_is_the_route_table_only(api: str) -> None:
    tree = ast.parse((SANDBOX / api / "_app.py").read_text(encoding="utf-8"))
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert functions == ["create_app"] and classes == []


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_handlers_are_plain_functions_of_one_ctx(api: str) -> None:
    offenders = []
    for stem in sorted(RESOURCES[api] | {"_auth", "_inventory"}):
        tree = ast.parse((SANDBOX / api / f"{stem}.py").read_text(encoding="utf-8"))
        if stem in RESOURCES[api]:  # no handler classes (_auth has its token types)
            assert not [n for n in tree.body if isinstance(n, ast.ClassDef)], f"{api}/{stem}"
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_"):
                params = [a.arg for a in node.args.args + node.args.kwonlyargs]
                if params != ["ctx"]:
                    offenders.append(f"{api}/{stem}.{node.name}{params}")
    assert not offenders, offenders


def test_sandbox_imports_only_the_stdlib_its_web_stack_and_itself() -> None:
    offenders = []
    for path in sorted(SANDBOX.rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("teleconform"):
                if not name.startswith("teleconform.sandbox"):
                    offenders.append(f"{path.relative_to(SANDBOX)}: {name}")
            elif top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
                offenders.append(f"{path.relative_to(SANDBOX)}: {name}")
    assert not offenders, offenders


def test_sandbox_modules_import_each_other_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for path in SANDBOX.rglob("*.py"):
        files = {_file_of(name) for name in _imports(path)}
        graph[_module_name(path)] = {_module_name(f) for f in files if f and f != path}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            raise AssertionError("import cycle: " + " -> ".join([*trail, module]))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert len(done) == len(graph) > 30


def test_importing_the_sandboxes_loads_no_runner_http_client_or_schemathesis() -> None:
    code = "import sys, teleconform.sandbox.hcw, teleconform.sandbox.leah; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    ours = sorted(m for m in loaded if m.split(".")[0] == "teleconform")
    outside = [
        m for m in ours if m not in ("teleconform", "teleconform._version", "teleconform._lazy")
    ]
    assert all(m.startswith("teleconform.sandbox") for m in outside), outside
    assert "teleconform.sandbox.hcw._app" in ours and "teleconform.sandbox.leah._app" in ours
    assert not [m for m in loaded if m.split(".")[0] in ("httpx", "schemathesis")]
