"""Every clause has a check and a fault that violates it; no check names an unknown id."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from teleconform.catalogue import load_catalogue
from teleconform.runner import load_checks
from teleconform.sandbox import hcw, leah

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue()
# LEAH-WH-02 is about the integrator's receiver, not the Leah server: its violating servers are
# the broken receivers of tests/webhooks, not a sandbox fault.
RECEIVER_SIDE = {"LEAH-WH-02"}


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_every_clause_has_a_check(api: str) -> None:
    declared = {cid for check in load_checks(api) for cid in check.clauses}
    expected = {c.id for c in CATALOGUE.values() if c.api == api}
    assert sorted(expected - declared) == [], "clauses without a check"
    assert sorted(declared - expected) == [], "checks naming clauses not in the catalogue"


# Anything shaped like a clause id, typos included (HCW-AUTH-1, LEAH-APT-5, HCW-Auth-01), not
# the LEAH-AUTH-TOKEN header: the catalogue's own parser decides which ids exist, this only
# finds what claims to be one.
ID_LIKE = re.compile(r"\b(?:HCW|LEAH)-[A-Za-z]+-[A-Za-z]*[0-9][A-Za-z0-9]*\b")
OUTCOMES = {"passes", "fails", "errors", "skips", "expect", "measure", "advises"}
SUITE_FILES = sorted((REPO / "suites").rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _declared(func: ast.FunctionDef) -> list[ast.expr] | None:
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "clause":
            return list(deco.args)
    return None


def _outcome_calls(node: ast.AST) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in OUTCOMES
        and getattr(call.func.value, "id", None) == "ctx"
    ]


def test_suites_name_only_known_clause_ids() -> None:
    unknown = {
        f"{path.relative_to(REPO)}: {m}"
        for path in SUITE_FILES
        for m in ID_LIKE.findall(path.read_text(encoding="utf-8"))
        if m not in CATALOGUE
    }
    assert not unknown, sorted(unknown)


def test_checks_declare_literal_clause_ids() -> None:
    """A grep for LEAH-APT-05 finds its check: no constants, no ids built at run time."""
    problems = []
    for path in SUITE_FILES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef) and (args := _declared(node)) is not None:
                for arg in args:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        problems.append(f"{path.name}:{node.lineno} @clause({ast.unparse(arg)})")
            if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and re.search(r"(?:HCW|LEAH)-[A-Z]+-", str(v.value))
                for v in node.values
            ):
                problems.append(f"{path.name}:{node.lineno} builds an id: {ast.unparse(node)}")
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.Tuple):
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                if any(isinstance(v, ast.Constant) and v.value in CATALOGUE for v in values):
                    problems.append(f"{path.name}:{node.lineno} names an id: {ast.unparse(node)}")
    assert not problems, problems


def test_checks_report_literally_on_what_they_declare() -> None:
    """Every outcome a check sends with a literal id names one of its own @clause ids."""
    problems = []
    for path in SUITE_FILES:
        for func in ast.walk(_tree(path)):
            if not isinstance(func, ast.FunctionDef) or (args := _declared(func)) is None:
                continue
            declared = {a.value for a in args if isinstance(a, ast.Constant)}
            for call in _outcome_calls(func):
                first = call.args[0] if call.args else None
                if isinstance(first, ast.Constant) and first.value not in declared:
                    problems.append(
                        f"{path.name}:{call.lineno} {func.name} reports on "
                        f"{first.value}, declares {sorted(declared)}"
                    )
    assert not problems, problems


def test_every_clause_is_broken_by_some_fault() -> None:
    broken = {
        cid for module in (hcw, leah) for fault in module.FAULTS.values() for cid in fault.clauses
    }
    missing = sorted(set(CATALOGUE) - broken - RECEIVER_SIDE)
    assert missing == [], "clauses no sandbox fault violates"
    assert broken <= set(CATALOGUE), sorted(broken - set(CATALOGUE))
