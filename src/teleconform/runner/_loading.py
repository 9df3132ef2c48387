"""Suite loading: the API's suite modules, their checks, hooks and work units."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from teleconform._resources import suites_dir
from teleconform.runner.ledger import Creation
from teleconform.suite import Context

SUITES_PACKAGE = "teleconform_suites"


@dataclass(frozen=True, slots=True)
class CheckFunction:
    """A suite function and the clause ids it declares."""

    module: str
    name: str
    clauses: tuple[str, ...]
    func: Callable[[Context], None]


def _ensure_suites_package(root: Path) -> None:
    existing = sys.modules.get(SUITES_PACKAGE)
    if existing is not None and list(getattr(existing, "__path__", [])) == [str(root)]:
        return
    for name in [
        m for m in sys.modules if m == SUITES_PACKAGE or m.startswith(SUITES_PACKAGE + ".")
    ]:
        del sys.modules[name]
    spec = importlib.machinery.ModuleSpec(SUITES_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(root)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[SUITES_PACKAGE] = package


def _suite_modules(api: str, root: Path | None = None) -> list[ModuleType]:
    root = root or suites_dir()
    _ensure_suites_package(root)
    api_dir = root / api
    modules = []
    for path in sorted(api_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"{SUITES_PACKAGE}.{api}.{path.stem}"))
    return modules


def load_checks(api: str, root: Path | None = None) -> list[CheckFunction]:
    """Every @clause function of an API's suites, in file then definition order."""
    checks: list[CheckFunction] = []
    for module in _suite_modules(api, root):
        funcs = [
            value
            for value in vars(module).values()
            if callable(value)
            and getattr(value, "__teleconform_clauses__", None)
            and getattr(value, "__module__", None) == module.__name__
        ]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for func in funcs:
            checks.append(
                CheckFunction(module.__name__, func.__name__, func.__teleconform_clauses__, func)
            )
    return checks


def _loaded_suite_modules(api: str) -> list[tuple[str, ModuleType]]:
    """The API's suite modules already imported (helpers included), by name."""
    prefix = f"{SUITES_PACKAGE}.{api}."
    return [
        (name, module)
        for name, module in sorted(sys.modules.items())
        if name.startswith(prefix) and module is not None
    ]


def marked_functions(api: str, marker: str, *, once: bool = True) -> list[Any]:
    """The functions of the loaded suite modules carrying ``marker`` (``@preflight``,
    ``@cleaner``), in module order; ``once``: a function bound to two names counts once."""
    found: list[Any] = []
    for name, module in _loaded_suite_modules(api):
        for value in vars(module).values():
            if getattr(value, marker, False) and value.__module__ == name:
                if not (once and value in found):
                    found.append(value)
    return found


def creations_of(api: str) -> list[Creation]:
    """The creating operations an API's suites declare (``TELECONFORM_CREATES``)."""
    found: list[Creation] = []
    for _name, module in _loaded_suite_modules(api):
        for creation in getattr(module, "TELECONFORM_CREATES", ()):
            if creation not in found:
                found.append(creation)
    return found


def work_units(
    api: str, selected: Iterable[str] | None, root: Path | None = None
) -> list[set[str]]:
    """Clause sets that can run in parallel: suite modules joined when they share a clause.

    A module is a unit of its own because its checks chain (create, then read) through
    ``ctx.state``; two modules serving one clause must run together so its verdict folds once.
    """
    checks = load_checks(api, root)
    wanted = None if selected is None else set(selected)
    modules: dict[str, set[str]] = {}
    for check in checks:
        ids = {c for c in check.clauses if wanted is None or c in wanted}
        if ids:
            modules.setdefault(check.module, set()).update(ids)
    units: list[set[str]] = []
    for ids in modules.values():
        joined = [u for u in units if u & ids]
        merged = set(ids).union(*joined) if joined else set(ids)
        units = [u for u in units if not (u & ids)] + [merged]
    if wanted is not None:
        covered = set().union(*units) if units else set()
        rest = wanted - covered  # clauses no check declares: the runner reports them as skip
        if rest:
            units.append(rest)
    return units
