"""An API run's entry in report.json, from the runner's result."""

from __future__ import annotations

from typing import Any

from teleconform.runner._core import ApiRun
from teleconform.runner.ledger import left_behind


def run_to_json(run: ApiRun) -> dict[str, Any]:
    return {
        "api": run.api,
        "target": {"mode": run.mode, "base_url": run.base_url},
        "clauses": [c.to_json() for c in run.clauses],
        "totals": run.totals(),
        "requests_sent": run.requests_sent,
        "elapsed_s": round(run.elapsed_s, 3),
        "created": run.created,
        "cleanup_failures": run.cleanup_failures,
        # on a sandbox (thrown away after the run) or a replay, nothing stays anywhere
        "left_behind": left_behind(run.cleanup_failures) if run.mode == "live" else [],
    }
