"""An API run's entry in report.json, from the runner's result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from teleconform.catalogue import Clause
from teleconform.report._document import clause_totals
from teleconform.report.model import ClauseEntry, Mode, Run, empty_totals
from teleconform.runner._fold import ApiRun
from teleconform.runner.ledger import left_behind


def run_to_json(run: ApiRun) -> Run:
    """The report entry of a finished API run."""
    entries = [c.to_json() for c in run.clauses]
    return {
        "api": run.api,
        "target": {"mode": cast(Mode, run.mode), "base_url": run.base_url},
        "clauses": entries,
        "totals": clause_totals(entries),
        "requests_sent": run.requests_sent,
        "elapsed_s": round(run.elapsed_s, 3),
        "created": run.created,
        "cleanup_failures": run.cleanup_failures,
        # on a sandbox (thrown away after the run) or a replay, nothing stays anywhere
        "left_behind": left_behind(run.cleanup_failures) if run.mode == "live" else [],
    }


def unverified_entry(clause: Clause, reason: str) -> ClauseEntry:
    """The report entry of a selected clause that got no verdict: ``error`` with ``reason``."""
    return {
        "id": clause.id,
        "level": clause.level,
        "title": clause.title,
        "area": clause.area,
        "verdict": "error",
        "waived": False,
        "reason": reason,
        "evidence": [],
    }


def interrupted_run(
    api: str,
    ids: set[str] | frozenset[str] | None,
    catalogue: Mapping[str, Clause],
    mode: str,
    base_url: str,
) -> Run:
    """The report entry of an API the interrupt reached before it started."""
    return {
        "api": api,
        "target": {"mode": cast(Mode, mode), "base_url": base_url},
        "clauses": [
            unverified_entry(c, "run interrupted")
            for c in catalogue.values()
            if c.api == api and (ids is None or c.id in ids)
        ],
        "totals": empty_totals(),
        "requests_sent": 0,
        "elapsed_s": 0.0,
        "created": [],
        "cleanup_failures": [],
        "left_behind": [],
    }
