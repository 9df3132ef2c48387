"""Every clause has a check and a fault that violates it; no check names an unknown id."""

from __future__ import annotations

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


def test_suites_name_only_known_clause_ids() -> None:
    pattern = re.compile(r"\b(?:HCW|LEAH)-[A-Z]+-\d\d\b")
    unknown = set()
    for path in sorted((REPO / "suites").rglob("*.py")):
        unknown |= {
            m for m in pattern.findall(path.read_text(encoding="utf-8")) if m not in CATALOGUE
        }
    assert not unknown, sorted(unknown)


def test_every_clause_is_broken_by_some_fault() -> None:
    broken = {
        cid for module in (hcw, leah) for fault in module.FAULTS.values() for cid in fault.clauses
    }
    missing = sorted(set(CATALOGUE) - broken - RECEIVER_SIDE)
    assert missing == [], "clauses no sandbox fault violates"
    assert broken <= set(CATALOGUE), sorted(broken - set(CATALOGUE))
