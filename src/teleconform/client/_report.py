"""The client report: the runs of client validators as a report document (`build_report`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from teleconform.report._document import (
    NOW,
    ReportHeader,
    build_report,
    exit_status,
    now_rfc3339,
)
from teleconform.report.model import Report, Run

__all__ = [
    "client_exit_status",
    "client_report",
    "now_rfc3339",
    "write_client_report",
]


def client_report(
    runs: Iterable[Mapping[str, Any]], *, started_at: str, finished_at: str | None = None
) -> Report:
    """The report (report.json's shape) of ``ClientValidator.run_json`` entries."""
    # run_json builds a `Run` (target.mode "client"); copied, as the builder sets its totals
    ordered = [cast(Run, dict(r)) for r in runs]
    header = ReportHeader(
        seed=None, started_at=started_at, finished_at=NOW if finished_at is None else finished_at
    )
    return build_report(header, ordered)


def write_client_report(report: Report, report_dir: Path) -> dict[str, Path]:
    """report.json, junit.xml, summary.md and report.html into ``report_dir``."""
    from teleconform.report import write_reports

    return write_reports(report, Path(report_dir))


def client_exit_status(report: Report, *, strict: bool = False, allow_empty: bool = False) -> int:
    """The exit status `run` would give this report: 0 ok, 1 a MUST fail, 2 nothing verified."""
    return exit_status(report["runs"], strict, allow_empty)
