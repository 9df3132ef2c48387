"""Reports of `webhooks check` / `webhooks listen`: one Leah run, built by the report builder.

The clause entry comes from the catalogue; the baseline, totals, timestamps and exit status
are the ones `run` uses (`teleconform.report`), so a waiver or `--strict` means the same here.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from teleconform.report._document import ReportHeader, build_report, exit_status, run_entry
from teleconform.report.baseline import Waiver, apply_baseline
from teleconform.report.model import ClauseEntry, Evidence, Report, Target, Verdict

# Used only when the catalogue cannot be read (it ships with teleconform, so: a broken install).
_FALLBACK_TITLES = {
    "LEAH-WH-01": "Webhook events are shaped as documented",
    "LEAH-WH-02": "The integrator's receiver answers 200 to everything",
}


@dataclass(frozen=True, slots=True)
class Gate:
    """How a webhook command's report becomes its exit status, as for `run`."""

    strict: bool = False
    allow_empty: bool = False
    waivers: tuple[Waiver, ...] = ()


def clause_entry(
    clause_id: str,
    verdict: Verdict,
    reason: str,
    evidence: Sequence[Evidence],
    measurements: Mapping[str, Any] | None = None,
) -> ClauseEntry:
    """One clause of the report, with level, title and area from the catalogue."""
    level, title, area = "MUST", _FALLBACK_TITLES.get(clause_id, clause_id), "Webhooks"
    try:
        from teleconform.catalogue import load_catalogue

        found = load_catalogue().get(clause_id)
    except (OSError, ValueError, KeyError):
        found = None
    if found is not None:
        level, title, area = found.level, found.title, found.area
    entry: ClauseEntry = {
        "id": clause_id,
        "level": level,
        "title": title,
        "area": area,
        "verdict": verdict,
        "waived": False,
        "reason": reason,
        "evidence": list(evidence),
    }
    if measurements:
        entry["measurements"] = dict(measurements)
    return entry


def webhook_report(
    *, command: str, seed: int, started_at: str, target: Target, entry: ClauseEntry, gate: Gate
) -> Report:
    """The report.json document: one run for API ``leah``, the baseline applied."""
    run = run_entry("leah", target, [entry])
    apply_baseline(run, gate.waivers, dt.date.today())
    return build_report(ReportHeader(seed=seed, started_at=started_at, command=command), [run])


def report_status(report: Report, gate: Gate) -> int:
    """The CONTRACT exit status of the report (waivers applied when it was built)."""
    return exit_status(report["runs"], gate.strict, gate.allow_empty)


def verdict_label(entry: ClauseEntry) -> str:
    """The verdict as printed: a waived failure shows as `fail (waived)`, as in `run`."""
    return "fail (waived)" if entry.get("waived") else entry["verdict"]


def write_report(report: Report, report_dir: Path) -> None:
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
