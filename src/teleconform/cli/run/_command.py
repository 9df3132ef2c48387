"""`teleconform run`: select → targets → executor → report."""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teleconform._errors import ConfigError, UsageError
from teleconform._logging import setup_log
from teleconform._version import __version__
from teleconform.catalogue import Clause, load_catalogue
from teleconform.cli.run._console import Printer
from teleconform.cli.run._dry_run import dry_run
from teleconform.cli.run._executor import pick_executor
from teleconform.cli.run._report import Ran, add_unstarted, report_and_status
from teleconform.cli.run._select import Selection, recorded_selection, select
from teleconform.cli.run._targets import TargetPlan, api_jobs, open_cassettes, plan_targets
from teleconform.report._document import now_rfc3339, tool_info
from teleconform.runner._http import RateLimiter
from teleconform.runner._interrupts import SignalLatch, latched_interrupts
from teleconform.runner._settings import RunSettings


@dataclass(slots=True)
class _Prepared:
    """Steps 1 and 2 done: the options (perhaps with a replay's recorded selection), the
    selection, the checked targets, the seed and the record/replay session (or None)."""

    args: argparse.Namespace
    selected: Selection
    plan: TargetPlan
    seed: int
    session: Any


def _prepare(args: argparse.Namespace, catalogue: Mapping[str, Clause]) -> _Prepared:
    selected = select(args, catalogue)
    plan = plan_targets(args, selected, catalogue)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    session = open_cassettes(args, selected, seed, tool_info())
    return _Prepared(args, selected, plan, seed, session)


def _prepare_with_replay(args: argparse.Namespace, catalogue: Mapping[str, Clause]) -> _Prepared:
    """Select and check the targets; a replay without --clause/--shard then selects what
    was recorded, and is prepared once more with that selection."""
    prepared = _prepare(args, catalogue)
    session = prepared.session
    if session is None:
        return prepared
    recorded = recorded_selection(args, session)
    if recorded is not None:
        session.finish()
        prepared = _prepare(recorded, catalogue)
        session = prepared.session
    prepared.seed = session.seed
    if prepared.args.replay:
        prepared.args.budget = session.budget  # the recorded cases need the recorded budget
        try:
            session.plan(prepared.selected)
        except ConfigError as exc:
            session.finish()
            raise UsageError(f"teleconform run: {exc}") from exc
    if prepared.args.dry_run:
        session.finish()
    return prepared


def run_command(args: argparse.Namespace) -> int:
    """Run the selected clauses and write the reports; the exit status."""
    catalogue = load_catalogue()
    prepared = _prepare_with_replay(argparse.Namespace(**vars(args)), catalogue)
    args, selected = prepared.args, prepared.selected
    printer = Printer(
        args.quiet,
        args.verbose,
        {
            api: len(ids) if ids else sum(1 for c in catalogue.values() if c.api == api)
            for api, ids in selected.items()
        },
    )
    if args.dry_run:
        return dry_run(selected, prepared.plan.urls, dict(catalogue), prepared.seed, printer, args)

    with latched_interrupts() as latch:
        return _run_and_report(prepared, catalogue, printer, latch)


def _run_and_report(
    prepared: _Prepared, catalogue: Mapping[str, Clause], printer: Printer, latch: SignalLatch
) -> int:
    """Steps 3 and 4: the executor, then the reports and the exit status."""
    args, selected, session = prepared.args, prepared.selected, prepared.session
    report_dir = Path(args.report_dir)
    try:
        log_file = setup_log(report_dir)
    except OSError as exc:
        raise UsageError(
            f"teleconform run: cannot write --report-dir {report_dir}: {exc.strerror}"
        ) from exc
    printer.line(f"teleconform {__version__}: seed {prepared.seed}, budget {args.budget}")
    started_at = now_rfc3339()
    settings = RunSettings(
        api="",  # each job sets its API and base URL
        base_url="",
        seed=prepared.seed,
        budget=args.budget,
        timeout_s=args.timeout,
        rate_limiter=RateLimiter(args.rate_limit),
        run_id=f"tc-{uuid.uuid4().hex[:10]}",
        deadline=time.monotonic() + args.deadline if args.deadline else None,
        stop=latch.stop,  # set on SIGTERM/Ctrl-C: workers stop and clean up
        progress=printer.progress,
    )
    jobs = api_jobs(args, selected, prepared.plan, session, printer, report_dir)
    executed = pick_executor(args, session, report_dir, printer).run(jobs, settings)
    if latch.signal:  # also when the signal's exception was dropped (see SignalLatch)
        executed.interrupt(latch.signal, latch.stop)
    ran = Ran(
        selected,
        executed.runs,
        executed.refused,
        executed.interrupted,
        prepared.seed,
        started_at,
    )
    add_unstarted(ran, catalogue, prepared.plan)
    printer.finish()
    if session is not None:
        session.finish()
        ran.notes = list(session.notes)
    return report_and_status(ran, args, prepared.plan, printer, report_dir, log_file)
