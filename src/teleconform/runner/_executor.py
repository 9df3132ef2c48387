"""Executors: how the APIs (and their work units) of one run are run.

One interface, three ways: ``SequentialExecutor`` (one API after the other, in this thread),
``ThreadExecutor`` (APIs and work units in threads of this process: ``--workers N`` with
``--record``, whose recorder lives in one process) and ``XdistExecutor`` (work units in
pytest-xdist worker processes, ``runner/_xdist.py``). Each takes the run's jobs and its
common settings and gives back the report entries, the refusals and the interruption.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Protocol

from teleconform.catalogue import load_catalogue
from teleconform.report.model import Run
from teleconform.runner._api_run import run_api
from teleconform.runner._fold import ApiRun
from teleconform.runner._http import TransportError
from teleconform.runner._interrupts import signal_name
from teleconform.runner._loading import work_units
from teleconform.runner._preflight import PreflightFailed, with_hint
from teleconform.runner._report_entry import run_to_json
from teleconform.runner._settings import RunSettings


class TargetUnusable(Exception):
    """An API's target cannot be used at all (e.g. no connection): its one-line message."""


def _entry_as_is(entry: Run) -> Run:
    return entry


@dataclass(slots=True)
class ApiJob:
    """One API's part of a run.

    ``open`` turns the run's common settings into this API's, starting or checking its
    target (a sandbox is started, a live URL probed: ``TargetUnusable``), and releases the
    target on exit; an executor opens a job when it gets to it. ``report`` finishes the
    API's report entry once it ran.
    """

    api: str
    clauses: frozenset[str] | None
    open: Callable[[RunSettings], AbstractContextManager[RunSettings]]
    report: Callable[[Run], Run] = _entry_as_is


@dataclass(slots=True)
class Executed:
    """What an executor gives back: report entries by API, why targets refused (exit 3),
    and the signal that interrupted the run ("" when none did)."""

    runs: dict[str, Run] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    interrupted: str = ""

    def interrupt(self, name: str, stop: threading.Event | None) -> None:
        if stop is not None:
            stop.set()  # what has not started yet sends nothing
        self.interrupted = self.interrupted or name


class Executor(Protocol):
    """Runs the jobs of one run with the run's common settings."""

    def run(self, jobs: Sequence[ApiJob], settings: RunSettings) -> Executed: ...


ApiRunner = Callable[[RunSettings], ApiRun]


def run_job(job: ApiJob, settings: RunSettings, result: Executed, runner: ApiRunner) -> None:
    """Open one job's target, run it, keep its report entry (or why its target refused)."""
    try:
        with job.open(replace(settings, api=job.api, clauses=job.clauses)) as opened:
            api_run = runner(opened)
            result.runs[job.api] = job.report(run_to_json(api_run))
            if api_run.interrupted:
                result.interrupt(api_run.interrupted, settings.stop)
    except TargetUnusable as exc:
        result.refused.append(str(exc))
    except PreflightFailed as exc:
        result.refused.append(
            f"teleconform: {job.api} target refused or unusable: {with_hint(exc)}"
        )
    except TransportError as exc:
        result.refused.append(f"teleconform: {job.api} target: {exc}")


@dataclass(slots=True)
class SequentialExecutor:
    """One API after the other in this thread (``runner``: how one API runs)."""

    runner: ApiRunner = run_api

    def run(self, jobs: Sequence[ApiJob], settings: RunSettings) -> Executed:
        result = Executed()
        for job in jobs:
            if settings.stop is not None and settings.stop.is_set():
                break  # interrupted: the APIs not started send nothing
            try:
                run_job(job, settings, result, self.runner)
            except KeyboardInterrupt as exc:  # outside the checks (e.g. a sandbox starting)
                result.interrupt(signal_name(exc), settings.stop)
        return result


@dataclass(slots=True)
class ThreadExecutor:
    """APIs in threads of this process, each API's work units in ``workers`` threads
    (a replay is served in recorded order: its units stay in one thread)."""

    workers: int

    def _runner(self, settings: RunSettings) -> ApiRun:
        if settings.mode == "replay":
            return run_api(settings)
        return run_api_parallel(settings, self.workers)

    def run(self, jobs: Sequence[ApiJob], settings: RunSettings) -> Executed:
        if len(jobs) <= 1:
            return SequentialExecutor(self._runner).run(jobs, settings)
        result = Executed()
        threads = [
            threading.Thread(target=run_job, args=(job, settings, result, self._runner))
            for job in jobs
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except KeyboardInterrupt as exc:
            result.interrupt(signal_name(exc), settings.stop)  # the signal reached this thread
            for t in threads:
                t.join()  # the API threads record what finished and clean up
        return result


def run_api_parallel(settings: RunSettings, workers: int = 2) -> ApiRun:
    """``run_api`` over independent work units in ``workers`` threads, merged into one ApiRun."""
    units = work_units(settings.api, settings.clauses, settings.suites_root)
    if workers <= 1 or len(units) <= 1:
        return run_api(settings)
    state = settings.state or {}
    stop = settings.stop or threading.Event()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"tc-{settings.api}") as pool:
        futures = [
            # each unit draws its own random stream: two units minting tokens at the same
            # second must not produce the same jti (a server would see a replay)
            pool.submit(
                run_api,
                replace(
                    settings,
                    clauses=frozenset(unit),
                    state=dict(state),
                    stream=f"unit-{index}",
                    stop=stop,
                ),
            )
            for index, unit in enumerate(units)
        ]
        interrupted = ""
        try:
            parts = [f.result() for f in futures]
        except KeyboardInterrupt as exc:
            # SIGTERM/Ctrl-C reach this thread only: the units stop, record what finished and
            # clean up; units not started yet run nothing (their clauses say so)
            interrupted = signal_name(exc)
            stop.set()
            parts = [_result_after_stop(f) for f in futures]
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()  # units not started yet: nothing to clean, nothing to send
            raise
    order = {cid: i for i, cid in enumerate(settings.catalogue or load_catalogue())}
    merged = ApiRun(
        api=settings.api,
        mode=parts[0].mode,
        base_url=settings.base_url,
        clauses=sorted((c for p in parts for c in p.clauses), key=lambda c: order.get(c.id, 0)),
        requests_sent=sum(p.requests_sent for p in parts),
        created=[e for p in parts for e in p.created],
        cleanup_failures=[e for p in parts for e in p.cleanup_failures],
        interrupted=interrupted or next((p.interrupted for p in parts if p.interrupted), ""),
    )
    merged.elapsed_s = time.monotonic() - started
    return merged


def _result_after_stop(future: Future[ApiRun]) -> ApiRun:
    """A unit's run once the stop is set; a second interrupt while waiting is not lost."""
    while True:
        try:
            return future.result()
        except KeyboardInterrupt:
            print(
                "teleconform: stopping: the running checks finish their request and clean "
                "up; interrupt again while cleanup runs to stop it",
                file=sys.stderr,
            )
