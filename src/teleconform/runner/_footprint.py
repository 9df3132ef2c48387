"""Footprint: the most a run of some clauses creates, from the suites' declarations."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from teleconform.runner._loading import load_checks


def footprint(api: str, selected: Iterable[str] | None, budget: str, live: bool) -> dict[str, int]:
    """The most a run of these clauses creates, per kind, from the suites' declarations
    (``FOOTPRINT`` of a module, or its ``footprint(budget, live)``); "message" counts the
    e-mails or SMS that may go to the safe contacts."""
    from teleconform.properties import BUDGETS

    wanted = None if selected is None else set(selected)
    modules = {
        check.module for check in load_checks(api) if wanted is None or wanted & set(check.clauses)
    }
    totals: dict[str, int] = {}
    for name in sorted(modules):
        module = sys.modules[name]
        declared = getattr(module, "footprint", None)
        counts = (
            declared(BUDGETS.get(budget, BUDGETS["standard"]), live)
            if callable(declared)
            else getattr(module, "FOOTPRINT", {})
        )
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + int(count)
    return totals
