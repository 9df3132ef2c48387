"""The report document: built here once, with its timestamps, tool versions, totals and exit status.

`build_report` is the one builder of report.json (see `report.model`): `run`, the pytest
plugin, `report merge`, `webhooks check|listen`, the proxy and the client report all call it,
so a total, a timestamp or an exit status means the same everywhere. (An API run's entry comes
from its producer: the runner's `teleconform.runner._report_entry.run_to_json`, the client
validator's `run_json`, the webhooks' and the proxy's own; `run_entry` gives them its shape.)
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from teleconform._errors import EXIT_BUG, EXIT_FAIL, EXIT_OK, EXIT_USAGE
from teleconform._version import __version__
from teleconform.report.model import (
    ClauseEntry,
    LeftBehind,
    MergedFrom,
    Report,
    Run,
    Target,
    Tool,
    Totals,
    empty_totals,
)


def now_rfc3339() -> str:
    """The current UTC time, RFC 3339, whole seconds: every report timestamp."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_info() -> dict[str, str]:
    """`report_tool()` as a plain mapping, as cassette headers record it."""
    return {key: str(value) for key, value in report_tool().items()}


class _Now(enum.Enum):
    NOW = "now"


NOW = _Now.NOW
"""`ReportHeader.finished_at`: the time the document is built (the default)."""


def report_tool() -> Tool:
    """This teleconform's version and those of the engines that shape its verdicts."""
    return {
        "name": "teleconform",
        "version": __version__,
        "schemathesis": _version("schemathesis"),
        "hypothesis": _version("hypothesis"),
    }


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """What a report says besides its runs.

    ``finished_at`` NOW (the default): when the document is built; None: unknown (a merge
    of reports without readable timestamps). ``tool`` None: this teleconform's
    (`report merge` keeps its first input's). ``command``: which command wrote it, when not
    `run` (e.g. "webhooks check"). ``notes`` and ``merged_from`` appear only when not empty.
    """

    seed: int | None
    started_at: str | None
    finished_at: str | None | _Now = NOW
    command: str | None = None
    tool: Tool | None = None
    notes: tuple[str, ...] = ()
    merged_from: tuple[MergedFrom, ...] = ()


def build_report(header: ReportHeader, runs: Sequence[Run]) -> Report:
    """The report.json document of ``runs`` (one per API), with every total counted here.

    Each run's ``totals`` is (re)counted from its clauses, the report's from the runs.
    """
    ordered = list(runs)
    totals = empty_totals()
    for run in ordered:
        run["totals"] = clause_totals(run["clauses"])
        totals = _sum(totals, run["totals"])
    report: Report = {
        "schema_version": 1,
        "tool": header.tool if header.tool is not None else report_tool(),
        "seed": header.seed,
        "started_at": header.started_at,
        "finished_at": now_rfc3339() if header.finished_at is NOW else header.finished_at,
        "totals": totals,
        "runs": ordered,
    }
    if header.command is not None:  # right after `tool`, where readers of JSON by eye look
        report = {"schema_version": 1, "tool": report["tool"], "command": header.command, **report}
    if header.notes:
        report["notes"] = list(header.notes)
    if header.merged_from:
        report["merged_from"] = list(header.merged_from)
    return report


def run_entry(
    api: str,
    target: Target,
    clauses: list[ClauseEntry],
    left_behind: list[LeftBehind] | None = None,
) -> Run:
    """An API run's entry: its totals counted, ``left_behind`` [] unless given (nothing left).

    Producers add their own extras (``requests_seen``, ``elapsed_s``...) to the result.
    """
    return {
        "api": api,
        "target": target,
        "clauses": clauses,
        "totals": clause_totals(clauses),
        "left_behind": [] if left_behind is None else left_behind,
    }


def clause_totals(clauses: Iterable[Mapping[str, Any]]) -> Totals:
    """Clauses per verdict, and how many were waived: the one place totals are counted."""
    counts = dict.fromkeys(("pass", "fail", "skip", "error", "waived"), 0)
    for c in clauses:
        counts[c["verdict"]] += 1  # an unknown verdict is a bug: KeyError
        counts["waived"] += bool(c.get("waived"))
    return {
        "pass": counts["pass"],
        "fail": counts["fail"],
        "skip": counts["skip"],
        "error": counts["error"],
        "waived": counts["waived"],
    }


def _sum(a: Totals, b: Totals) -> Totals:
    return {
        "pass": a["pass"] + b["pass"],
        "fail": a["fail"] + b["fail"],
        "skip": a["skip"] + b["skip"],
        "error": a["error"] + b["error"],
        "waived": a["waived"] + b["waived"],
    }


def exit_status(
    runs: Sequence[Mapping[str, Any]],
    strict: bool,
    allow_empty: bool,
    fail_on_advisory: bool = False,
    require_all: bool = False,
) -> int:
    """The CONTRACT exit status of a finished run.

    ``runs``: `Run` entries, or runs read back from a report.json (hence `Mapping`).
    A clause whose error is teleconform's own bug (``internal_error``: a check reported on a
    clause it does not declare) gives 4 when nothing else failed. Advisories count only with
    ``fail_on_advisory``, then like a SHOULD fail under ``--strict``: the run fails.
    ``require_all``: a skipped MUST clause counts like a failed one (a CI gate must not go
    green because a secret was missing). A waived `fail` does not count.
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


def internal_errors(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids of the clauses whose `error` is a bug of teleconform (a check broke its @clause)."""
    return [c["id"] for run in runs for c in run["clauses"] if c.get("internal_error")]
