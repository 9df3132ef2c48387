"""ARCHITECTURE.md's import rules, enforced."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import teleconform

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "src" / "teleconform"
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


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = ".".join(path.relative_to(REPO / "src").with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


def test_sandboxes_are_an_independent_oracle() -> None:
    offenders = []
    for path in sorted((PKG / "sandbox").glob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("teleconform."):
                if not name.startswith("teleconform.sandbox"):
                    offenders.append(f"{path.name}: {name}")
            elif top not in sys.stdlib_module_names and top not in SANDBOX_ALLOWED_THIRD_PARTY:
                offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


def test_suites_never_import_the_sandboxes() -> None:
    offenders = []
    for path in sorted((REPO / "suites").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "teleconform.sandbox" in text and "teleconform.sandbox._server" not in text:
            offenders.append(str(path.relative_to(REPO)))
    assert not offenders, offenders


def test_report_writers_send_no_requests() -> None:
    for path in sorted((PKG / "report").glob("*.py")):
        names = _imports(path)
        assert not {n for n in names if n.split(".")[0] in {"httpx", "requests", "urllib3"}}, path
        assert not {n for n in names if n in {"teleconform.runner", "teleconform.runner._http"}}, (
            path
        )


def test_public_api_is_exactly_all() -> None:
    # submodules are reachable as attributes once imported, but they are not the API surface
    public = {
        name
        for name in dir(teleconform)
        if not name.startswith("_") and not isinstance(getattr(teleconform, name), types.ModuleType)
    }
    assert public | {"__version__"} == set(teleconform.__all__)
    assert teleconform.__all__ == sorted(teleconform.__all__, key=str.casefold)
