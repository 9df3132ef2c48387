"""Reports of `webhooks check` / `webhooks listen`: the CONTRACT report.json shape, one run."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from teleconform._version import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TARGET = 0, 1, 2, 3

# Used only when the catalogue cannot be read (it ships with teleconform, so: a broken install).
_FALLBACK_TITLES = {
    "LEAH-WH-01": "Webhook events are shaped as documented",
    "LEAH-WH-02": "The integrator's receiver answers 200 to everything",
}


class UsageError(Exception):
    """Bad flags or configuration: exit 2 with this one line."""


def now_rfc3339() -> str:
    """The current UTC time, RFC 3339, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def clause_entry(
    clause_id: str,
    verdict: str,
    reason: str,
    evidence: Sequence[Mapping[str, Any]],
    measurements: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One clause of the report, with title and level from the catalogue."""
    level, title, area = "MUST", _FALLBACK_TITLES.get(clause_id, clause_id), "Webhooks"
    try:
        from teleconform.catalogue import load_catalogue

        found = load_catalogue().get(clause_id)
    except (OSError, ValueError, KeyError):
        found = None
    if found is not None:
        level, title, area = found.level, found.title, found.area
    entry: dict[str, Any] = {
        "id": clause_id,
        "level": level,
        "title": title,
        "area": area,
        "verdict": verdict,
        "waived": False,
        "reason": reason,
        "evidence": [dict(e) for e in evidence],
    }
    if measurements:
        entry["measurements"] = dict(measurements)
    entry.update(extra)
    return entry


def _totals(clauses: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0}
    for c in clauses:
        counts[str(c["verdict"])] += 1
    return counts


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_report(
    *,
    seed: int,
    started_at: str,
    target: Mapping[str, Any],
    clauses: Sequence[Mapping[str, Any]],
    command: str,
) -> dict[str, Any]:
    """The report.json document: one run for API ``leah``."""
    totals = _totals(clauses)
    return {
        "schema_version": 1,
        "tool": {
            "name": "teleconform",
            "version": __version__,
            "schemathesis": _dist_version("schemathesis"),
            "hypothesis": _dist_version("hypothesis"),
        },
        "command": command,
        "seed": seed,
        "started_at": started_at,
        "finished_at": now_rfc3339(),
        "totals": dict(totals),
        "runs": [
            {
                "api": "leah",
                "target": dict(target),
                "clauses": [dict(c) for c in clauses],
                "totals": dict(totals),
            }
        ],
    }


def exit_status(report: Mapping[str, Any], *, allow_empty: bool = False) -> int:
    """CONTRACT exit status: 1 when a MUST clause fails or errors, 2 when nothing was verified."""
    reached = failed = False
    for run in report["runs"]:
        for c in run["clauses"]:
            reached = reached or c["verdict"] in ("pass", "fail")
            failed = failed or (c["verdict"] in ("fail", "error") and c["level"] == "MUST")
    if failed:
        return EXIT_FAIL
    if not reached and not allow_empty:
        return EXIT_USAGE
    return EXIT_OK


def write_report(report: Mapping[str, Any], report_dir: Path) -> None:
    """Write report.json, junit.xml, summary.md and report.html into ``report_dir``."""
    from teleconform.report import write_reports

    write_reports(report, report_dir)


def safe_url(url: str) -> str:
    """The URL without user info and with query values masked (they often carry secrets)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "&".join(
        (pair.split("=", 1)[0] + "=***") if "=" in pair else pair
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, ""))


def print_line(text: str, *, err: bool = False) -> None:
    """Print one line and flush (these commands are read line by line by scripts)."""
    stream = sys.stderr if err else sys.stdout
    print(text, file=stream, flush=True)
