"""The report document's shared parts: timestamps, tool versions, totals, exit status.

Built here once, used by `run`, the pytest plugin, `report merge`, webhooks, the proxy and
the client report, so a total or an exit status means the same everywhere. (An API run's entry
comes from the runner: `teleconform.runner._report_entry.run_to_json`.)
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from typing import Any

from teleconform._errors import EXIT_BUG, EXIT_FAIL, EXIT_OK, EXIT_USAGE
from teleconform._version import __version__


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_info() -> dict[str, str]:
    return {
        "name": "teleconform",
        "version": __version__,
        "schemathesis": _version("schemathesis"),
        "hypothesis": _version("hypothesis"),
    }


def totals_of(runs: list[dict[str, Any]]) -> dict[str, int]:
    totals = {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0}
    for run in runs:
        counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0}
        for c in run["clauses"]:
            counts[c["verdict"]] += 1
            counts["waived"] += bool(c.get("waived"))
        run["totals"] = counts
        for key, value in counts.items():
            totals[key] += value
    return totals


def exit_status(
    runs: list[dict[str, Any]],
    strict: bool,
    allow_empty: bool,
    fail_on_advisory: bool = False,
    require_all: bool = False,
) -> int:
    """The CONTRACT exit status of a finished run.

    A clause whose error is teleconform's own bug (``internal_error``: a check reported on a
    clause it does not declare) gives 4 when nothing else failed. Advisories count only with
    ``fail_on_advisory``, then like a SHOULD fail under ``--strict``: the run fails.
    ``require_all``: a skipped MUST clause counts like a failed one (a CI gate must not go
    green because a secret was missing).
    """
    reached = False
    failed = False
    for run in runs:
        for c in run["clauses"]:
            if c["verdict"] in ("pass", "fail"):
                reached = True
            if c.get("internal_error"):
                continue
            if c["verdict"] in ("fail", "error") and not c.get("waived"):
                if strict or c["level"] == "MUST":
                    failed = True
            if fail_on_advisory and c.get("advisories"):
                failed = True
            if require_all and c["verdict"] == "skip" and c["level"] == "MUST":
                failed = True
    if failed:
        return EXIT_FAIL
    if internal_errors(runs):
        return EXIT_BUG
    if not reached and not allow_empty:
        return EXIT_USAGE
    return EXIT_OK


def internal_errors(runs: list[dict[str, Any]]) -> list[str]:
    """Ids of the clauses whose `error` is a bug of teleconform (a check broke its @clause)."""
    return [c["id"] for run in runs for c in run["clauses"] if c.get("internal_error")]
