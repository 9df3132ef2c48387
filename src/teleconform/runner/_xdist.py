"""XdistExecutor (`teleconform run --workers N`): work units in pytest-xdist worker processes.

This process is the xdist controller of an in-process pytest session that loads only
``xdist`` and ``teleconform.pytest_plugin`` (no host configuration, no other plugins): the
plugin makes one item per clause, grouped by work unit, and ``--dist loadgroup`` keeps each
unit (a create-then-read chain) on one worker. The controller

- serves the sandboxes to the workers over loopback HTTP and probes live targets first;
- hands each worker the run's settings in ``workerinput`` (``RunSettings.to_wire``,
  credentials included: never in the environment or on disk);
- keeps one rate limit across all workers (``SharedRateLimiter`` on a file in a private
  temporary directory);
- forwards SIGTERM/SIGINT to the workers, whose units stop and clean up, then still writes
  the reports of what ran;
- rebuilds each API's run (clauses, requests sent, created, cleanup failures) from what the
  workers report, and reports a clause whose worker died as ``error``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, cast

import pytest

from teleconform.catalogue import Clause, load_catalogue
from teleconform.report.model import Run
from teleconform.runner._cleanup import cleanup_from_ledger
from teleconform.runner._executor import ApiJob, Executed, TargetUnusable
from teleconform.runner._loading import work_units
from teleconform.runner._report_entry import unverified_entry
from teleconform.runner._settings import Progress, RunSettings
from teleconform.runner._worker_protocol import (
    PROPERTY,
    REFUSED_PROPERTY,
    RUN_SPEC,
    UNIT_PROPERTY,
    clause_of_nodeid,
    make_run_spec,
)

log = logging.getLogger("teleconform")


class Console(Protocol):
    """Where the executor tells the user what it does (``always``: even with --quiet)."""

    def line(self, text: str, *, always: bool = False) -> None: ...


@dataclass(slots=True)
class XdistResult:
    """The per-API runs (report dicts), targets that refused the run, and interruption."""

    runs: dict[str, Run] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    workers_died: list[str] = field(default_factory=list)
    signal: str = ""  # which signal interrupted the run: SIGINT or SIGTERM


class XdistFailed(Exception):
    """The pytest-xdist session itself failed (not a clause): a teleconform bug."""


class _Controller:
    """Controller-side hooks: settings to workers, progress, entries back."""

    def __init__(
        self,
        spec: dict[str, Any],
        catalogue: Mapping[str, Clause],
        progress: Progress,
    ) -> None:
        self.spec = spec
        self.catalogue = catalogue
        self.progress = progress
        self.entries: dict[str, dict[str, dict[str, Any]]] = {}
        self.units: dict[str, list[dict[str, Any]]] = {}
        self.refused: dict[str, str] = {}
        self.crashed: dict[str, str] = {}
        self.died: list[str] = []
        self.broken: set[str] = set()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is not None:
            self.died.append(str(node.gateway.id))

    @pytest.hookimpl(optionalhook=True, tryfirst=True)  # before the plugin looks for it
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_SPEC] = self.spec

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        cid = clause_of_nodeid(nodeid)
        if cid is not None and cid in self.catalogue:
            self.progress(self.catalogue[cid].api, cid, "running")

    def pytest_runtest_logreport(self, report: Any) -> None:
        cid = clause_of_nodeid(str(report.nodeid)) or ""
        clause = self.catalogue.get(cid)
        if clause is None:
            return
        if report.when != "call":  # every phase's report repeats the item's user_properties
            if report.failed and report.when not in ("setup", "teardown"):
                self._crashed(clause, report)  # a worker that died: xdist's "???" report
            return
        found = False
        for name, value in report.user_properties:
            data = _json(value)
            if name == PROPERTY:
                api = data.pop("api")
                data.pop("target", None)
                self.entries.setdefault(api, {})[data["id"]] = data
                self.progress(api, data["id"], data["verdict"])
                found = True
            elif name == UNIT_PROPERTY:
                self.units.setdefault(data["api"], []).append(data)
            elif name == REFUSED_PROPERTY:
                self.refused.setdefault(data["api"], data["why"])
                found = True
        if not found and report.failed:
            # an exception escaped the runner in the worker: a teleconform bug, logged in full
            # (like the one-process crash log), not copied into the report
            log.error("%s: internal error in its worker:\n%s", cid, report.longreprtext)
            self.broken.add(cid)

    def _crashed(self, clause: Clause, report: Any) -> None:
        if clause.id not in self.entries.get(clause.api, {}):
            self.crashed[clause.id] = str(getattr(report, "longreprtext", "") or "")[-300:]


def _json(value: object) -> dict[str, Any]:
    data = json.loads(str(value))
    assert isinstance(data, dict)
    return data


def count_units(selected: Mapping[str, frozenset[str] | None]) -> int:
    """How many work units the selection makes: more workers than that would idle."""
    return sum(len(work_units(api, ids)) for api, ids in selected.items())


@dataclass(slots=True)
class XdistExecutor:
    """Work units in ``workers`` pytest-xdist processes; every target is opened first."""

    workers: int
    report_dir: Path
    console: Console

    def run(self, jobs: Sequence[ApiJob], settings: RunSettings) -> Executed:
        result = Executed()
        catalogue = settings.catalogue or load_catalogue()
        opened: dict[str, RunSettings] = {}
        with contextlib.ExitStack() as targets:  # sandboxes stop when the session is over
            for job in jobs:
                try:
                    opened[job.api] = targets.enter_context(
                        job.open(replace(settings, api=job.api, clauses=job.clauses))
                    )
                except TargetUnusable as exc:
                    result.refused.append(str(exc))
            if not opened:
                return result
            workers = min(self.workers, count_units({a: s.clauses for a, s in opened.items()}))
            self.console.line(f"{workers} worker processes (pytest-xdist)")
            # XdistFailed is a bug: the CLI's last line of defence makes it exit 4 with the log
            ran = run_with_xdist(
                opened,
                workers=workers,
                catalogue=catalogue,
                progress=settings.progress or (lambda api, cid, verdict: None),
                report_dir=self.report_dir,
            )
        for api, why in ran.refused:
            result.refused.append(f"teleconform: {api} target refused or unusable: {why}")
        if ran.workers_died:
            self.console.line(
                f"worker process {', '.join(ran.workers_died)} died; its clauses are errors",
                always=True,
            )
            self._clean_after_dead_workers(opened, ran.runs)
        for job in jobs:
            if job.api in ran.runs:
                result.runs[job.api] = job.report(ran.runs[job.api])
        if ran.interrupted:
            result.interrupt(ran.signal or "SIGINT", settings.stop)
        return result

    def _clean_after_dead_workers(
        self, opened: Mapping[str, RunSettings], runs: dict[str, Run]
    ) -> None:
        """A dead worker could not clean up: undo, from the ledger, what is still there."""
        for api, target in opened.items():
            ledger = target.ledger_path
            if target.mode != "live" or ledger is None or not ledger.is_file():
                continue
            tried, failed = cleanup_from_ledger(
                ledger.resolve(), target.credentials, timeout_s=target.timeout_s
            )
            if tried:
                self.console.line(
                    f"{api}: cleaned {tried - len(failed)} of {tried} left by a dead worker"
                )
            if api in runs:
                runs[api]["cleanup_failures"].extend(failed)


def run_with_xdist(
    apis: Mapping[str, RunSettings],
    *,
    workers: int,
    catalogue: Mapping[str, Clause],
    progress: Progress,
    report_dir: Path,
) -> XdistResult:
    """Run each API's selected clauses (``apis``: its opened settings) in ``workers`` xdist
    processes."""
    result = XdistResult()
    with tempfile.TemporaryDirectory(prefix="teleconform-workers-") as control:
        control_dir = Path(control)  # mode 0700: the rate file and worker pids
        (control_dir / "pids").mkdir()
        (control_dir / "collect").mkdir()
        ini = control_dir / "pytest.ini"
        ini.write_text("[pytest]\naddopts =\n", encoding="utf-8")
        spec = make_run_spec(apis, str(control_dir), str(report_dir.resolve()))
        controller = _Controller(spec, catalogue, progress)
        args = _pytest_args(control_dir, ini, apis, workers, catalogue)
        output = io.StringIO()
        with _isolated_environment(), _forward_signals(control_dir) as stopping:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                code = pytest.main(args, plugins=[controller])
        if output.getvalue().strip():
            log.debug("pytest-xdist session output:\n%s", output.getvalue())
        result.interrupted = stopping.is_set()
        result.signal = "SIGTERM" if getattr(stopping, "signum", 0) == signal.SIGTERM else "SIGINT"
        result.workers_died = list(controller.died)
        if int(code) not in (0, 1) and not result.interrupted and not result.workers_died:
            raise XdistFailed(f"the pytest-xdist session ended with status {int(code)}")

    result.refused = sorted(controller.refused.items())
    for api in apis:
        if api not in controller.refused:
            result.runs[api] = _api_entry(apis[api], catalogue, controller, result)
    return result


def _pytest_args(
    control_dir: Path,
    ini: Path,
    apis: Mapping[str, RunSettings],
    workers: int,
    catalogue: Mapping[str, Clause],
) -> list[str]:
    """The in-process session's command line: only xdist and the plugin, the selection."""
    selected = {api: s.clauses for api, s in apis.items()}
    args = [
        str(control_dir / "collect"),
        "-c",
        str(ini),
        "--rootdir",
        str(control_dir),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "-p",
        "no:logging",  # teleconform logs to its own file; pytest's capture is not needed
        "-p",
        "xdist.plugin",
        "-p",
        "teleconform.pytest_plugin",
        "-n",
        str(workers),
        "--dist",
        "loadgroup",
        # a replaced worker would run the rest of a dead one's unit again: writes twice
        "--max-worker-restart",
        "0",
        "--teleconform-api",
        "all" if len(apis) > 1 else next(iter(apis)),
        "--teleconform-seed",
        str(next(iter(apis.values())).seed),
    ]
    if any(ids is not None for ids in selected.values()):
        for api, ids in selected.items():
            chosen = ids if ids is not None else {c.id for c in catalogue.values() if c.api == api}
            for cid in sorted(chosen):
                args += ["--teleconform-clause", cid]
    return args


def _api_entry(
    target: RunSettings,
    catalogue: Mapping[str, Clause],
    controller: _Controller,
    result: XdistResult,
) -> Run:
    """An API's report entry from what its workers reported; a clause without a verdict is
    ``error`` saying why."""
    api, ids = target.api, target.clauses
    wanted = [c for c in catalogue.values() if c.api == api and (ids is None or c.id in ids)]
    got = controller.entries.get(api, {})
    clauses = [
        got.get(clause.id)
        or unverified_entry(clause, _missing_reason(clause.id, controller, result))
        for clause in wanted
    ]
    units = controller.units.get(api, [])
    entry: dict[str, Any] = {  # the workers' parts come back as JSON
        "api": api,
        "target": {"mode": target.mode, "base_url": target.base_url},
        "clauses": clauses,
        "totals": {},
        "requests_sent": sum(int(u["requests_sent"]) for u in units),
        "elapsed_s": round(max((float(u["elapsed_s"]) for u in units), default=0.0), 3),
        "created": [e for u in units for e in u["created"]],
        "cleanup_failures": [e for u in units for e in u["cleanup_failures"]],
        # where each work unit ran: one worker per unit, each clause in one unit
        "units": [
            {k: u[k] for k in ("unit", "worker", "clauses", "requests_sent")}
            for u in sorted(units, key=lambda u: str(u["unit"]))
        ],
        "left_behind": [],  # the report step lists what the units' cleanup left
    }
    return cast(Run, entry)


def _missing_reason(cid: str, controller: _Controller, result: XdistResult) -> str:
    """Why a selected clause has no verdict from the workers."""
    if cid in controller.crashed:
        last = controller.crashed[cid].strip().splitlines()
        detail = f" ({last[-1][:200]})" if last else ""
        return f"its worker process died before it reported a verdict{detail}"
    if cid in controller.broken:
        return "teleconform internal error while running this clause (see teleconform.log)"
    if result.interrupted:
        return "run interrupted before this check ran"
    if result.workers_died:
        return "not run: a worker process died, so the run stopped"
    return "no verdict was reported for this clause"


@contextlib.contextmanager
def _isolated_environment() -> Iterator[None]:
    """The workers inherit this environment: no host plugins or options leak into the run."""
    saved = {k: os.environ.get(k) for k in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _forward_signals(control_dir: Path) -> Iterator[threading.Event]:
    """SIGTERM/SIGINT reach the workers (which stop and clean up); a second one is final.

    A worker still starting has no pid file yet: it finds the ``stop`` file instead.
    """
    stopping = threading.Event()
    pids = control_dir / "pids"
    if threading.current_thread() is not threading.main_thread():
        yield stopping  # pragma: no cover - the CLI runs in the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt
        stopping.signum = signum  # type: ignore[attr-defined]
        stopping.set()
        with contextlib.suppress(OSError):
            (control_dir / "stop").touch()
        for entry in pids.iterdir():
            with contextlib.suppress(ValueError, OSError):
                os.kill(int(entry.name), signal.SIGTERM)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopping
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
