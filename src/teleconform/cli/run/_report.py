"""`run`, step 4: the report document, baseline, writing, console summary, exit status."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from teleconform._errors import EXIT_BUG, EXIT_TARGET
from teleconform.catalogue import Clause
from teleconform.cli.run._console import Printer, print_summary
from teleconform.cli.run._select import Selection
from teleconform.cli.run._targets import TargetPlan
from teleconform.report._document import ReportHeader, build_report, exit_status, internal_errors
from teleconform.report.baseline import Waiver, apply_baseline
from teleconform.report.model import Report, Run
from teleconform.runner._interrupts import Terminated
from teleconform.runner._report_entry import interrupted_run
from teleconform.runner.ledger import left_behind


@dataclass(slots=True)
class Ran:
    """What the executor left for the report: entries by API, refusals (exit 3), the
    interrupting signal ("" when none), and the run's seed, start time and notes."""

    selected: Selection
    runs: dict[str, Run]
    refused: list[str]
    interrupted: str
    seed: int
    started_at: str
    notes: list[str] = field(default_factory=list)


def _interrupt_again(signal: str) -> NoReturn:
    """The CLI's one line and exit 130 (SIGINT) or 143 (SIGTERM)."""
    raise Terminated if signal == "SIGTERM" else KeyboardInterrupt


def add_unstarted(ran: Ran, catalogue: Mapping[str, Clause], plan: TargetPlan) -> None:
    """(interrupted) An API the interrupt reached before it started: its clauses `error`."""
    if not ran.interrupted:
        return
    for api, ids in ran.selected.items():
        if api not in ran.runs and not any(api in m for m in ran.refused):
            mode = "live" if api in plan.urls else "sandbox"
            ran.runs[api] = interrupted_run(api, ids, catalogue, mode, plan.urls.get(api, ""))


def build_document(ran: Ran, waivers: list[Waiver]) -> Report:
    """report.json's document: each API's entry with the baseline applied, the totals."""
    ordered = [ran.runs[api] for api in ran.selected if api in ran.runs]
    for run in ordered:
        apply_baseline(run, waivers, dt.date.today())
        # after any cleanup of dead workers' leftovers: what stays is what still failed
        live = run["target"].get("mode") == "live"
        run["left_behind"] = left_behind(run.get("cleanup_failures") or []) if live else []
    header = ReportHeader(seed=ran.seed, started_at=ran.started_at, notes=tuple(ran.notes))
    return build_report(header, ordered)


def report_and_status(
    ran: Ran,
    args: argparse.Namespace,
    plan: TargetPlan,
    printer: Printer,
    report_dir: Path,
    log_file: Path,
) -> int:
    """Write the reports, print the summary; the exit status (or the interrupt, raised again
    once the reports are written)."""
    if ran.refused and not ran.runs:
        print(ran.refused[0], file=sys.stderr)
        if ran.interrupted:
            _interrupt_again(ran.interrupted)
        return EXIT_TARGET
    report = build_document(ran, plan.waivers)
    for note in ran.notes:
        printer.line(f"note: {note}")
    from teleconform.report import write_reports

    write_reports(report, report_dir)
    print_summary(report, printer, report_dir, args.require_all)
    for message in ran.refused:
        print(message, file=sys.stderr)
    if ran.interrupted:
        _interrupt_again(ran.interrupted)
    if ran.refused:
        return EXIT_TARGET
    status = exit_status(
        report["runs"],
        args.strict,
        args.allow_empty,
        getattr(args, "fail_on_advisory", False),
        require_all=getattr(args, "require_all", False),
    )
    if status == EXIT_BUG:
        print(
            f"teleconform: internal error: a check reported on clauses it does not declare "
            f"({', '.join(internal_errors(report['runs']))} are `error`); this is a bug, "
            f"full log: {log_file}",
            file=sys.stderr,
        )
    return status
