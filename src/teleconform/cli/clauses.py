"""``teleconform clauses``: the clause catalogue; with ``--where`` (and always in ``--json``),
where each clause is decided and which sandbox faults break it."""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from teleconform._errors import EXIT_OK
from teleconform.catalogue import Clause, load_catalogue, load_client_catalogue

# The client clauses of an API are judged by one rules module (client/_validator.py picks it).
CLIENT_RULES = {"hcw": "teleconform.client._hcw_rules", "leah": "teleconform.client._leah_rules"}


@dataclass(frozen=True, slots=True)
class Sites:
    """Where one clause is decided (``file:function``) and the sandbox faults breaking it."""

    decided_by: tuple[str, ...]
    broken_by: tuple[str, ...]


def suite_deciders(api: str) -> dict[str, list[str]]:
    """Clause id -> ``suites/<api>/<file>.py:<function>`` of every check declaring it."""
    from teleconform.runner import load_checks

    found: dict[str, list[str]] = {}
    for check in load_checks(api):
        # check.module is "<suites package>.<api>.<file>"
        where = f"suites/{check.module.partition('.')[2].replace('.', '/')}.py:{check.name}"
        for clause in check.clauses:
            found.setdefault(clause, []).append(where)
    return found


def client_deciders(api: str) -> dict[str, list[str]]:
    """Clause id -> ``teleconform/client/<rules>.py:<Class.method>`` of every rule judging it.

    A rule judges a client clause by calling ``judge("<ID>", ...)`` with the id written out;
    the calls are read from the source, so listing them runs and imports nothing.
    """
    module = CLIENT_RULES[api]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:  # pragma: no cover - the package ships it
        raise ModuleNotFoundError(module)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    file = module.replace(".", "/") + ".py"
    found: dict[str, list[str]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                for call in ast.walk(child):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id == "judge"
                        and call.args
                        and isinstance(call.args[0], ast.Constant)
                        and isinstance(call.args[0].value, str)
                    ):
                        found.setdefault(call.args[0].value, []).append(
                            f"{file}:{prefix}{child.name}"
                        )

    visit(tree, "")
    return found


def fault_breakers(api: str) -> dict[str, list[str]]:
    """Clause id -> names of the sandbox faults (``sandbox.<api>.FAULTS``) declaring it."""
    faults = importlib.import_module(f"teleconform.sandbox.{api}").FAULTS
    found: dict[str, list[str]] = {}
    for name, fault in sorted(faults.items()):
        for clause in fault.clauses:
            found.setdefault(clause, []).append(name)
    return found


def clause_sites(clauses: Iterable[Clause], *, client: bool) -> dict[str, Sites]:
    """:class:`Sites` of each clause: deciders in declaration order, faults by name."""
    clauses = list(clauses)
    apis = sorted({c.api for c in clauses})
    deciders: dict[str, list[str]] = {}
    breakers: dict[str, list[str]] = {}
    for api in apis:
        deciders.update(client_deciders(api) if client else suite_deciders(api))
        breakers.update(fault_breakers(api))
    return {
        c.id: Sites(tuple(dict.fromkeys(deciders.get(c.id, ()))), tuple(breakers.get(c.id, ())))
        for c in clauses
    }


def clauses_command(args: argparse.Namespace) -> int:
    """Print the clause catalogue (a table, or JSON with --json; --where adds the sites)."""
    catalogue = load_client_catalogue() if args.client else load_catalogue()
    clauses = [c for c in catalogue.values() if args.api in ("all", c.api)]
    sites = clause_sites(clauses, client=args.client) if args.json or args.where else {}
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "api": c.api,
                        "area": c.area,
                        "level": c.level,
                        "title": c.title,
                        "statement": c.statement,
                        "needs": list(c.needs),
                        "source": {"document": c.source_document, "quote": c.source_quote},
                        "decided_by": list(sites[c.id].decided_by),
                        "broken_by": list(sites[c.id].broken_by),
                    }
                    for c in clauses
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    for c in clauses:
        needs = ", ".join(c.needs) or "-"
        print(f"{c.id:<14} {c.level:<6} {c.area:<18} {c.title}  [needs: {needs}]")
        if args.where:
            decided_by = sites[c.id].decided_by or ("-",)
            print(f"  decided by: {decided_by[0]}")
            for where in decided_by[1:]:
                print(f"              {where}")
            print(f"  broken by:  {', '.join(sites[c.id].broken_by) or '-'}")
    return EXIT_OK
