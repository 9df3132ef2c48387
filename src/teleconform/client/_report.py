"""The client report: the runs of client validators as a CONTRACT-shaped report dict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def client_report(
    runs: Iterable[Mapping[str, Any]], *, started_at: str, finished_at: str | None = None
) -> dict[str, Any]:
    """A report dict (report.json's shape) from ``ClientValidator.run_json`` entries."""
    from teleconform.report._document import tool_info, totals_of

    ordered = [dict(r) for r in runs]
    return {
        "schema_version": 1,
        "tool": tool_info(),
        "seed": None,
        "started_at": started_at,
        "finished_at": finished_at or now_rfc3339(),
        "totals": totals_of(ordered),
        "runs": ordered,
    }


def write_client_report(report: Mapping[str, Any], report_dir: Path) -> dict[str, Path]:
    """report.json, junit.xml, summary.md and report.html into ``report_dir``."""
    from teleconform.report import write_reports

    return write_reports(report, Path(report_dir))


def client_exit_status(
    report: Mapping[str, Any], *, strict: bool = False, allow_empty: bool = False
) -> int:
    """The exit status `run` would give this report: 0 ok, 1 a MUST fail, 2 nothing verified."""
    from teleconform.report._document import exit_status

    return exit_status(list(report["runs"]), strict, allow_empty)
