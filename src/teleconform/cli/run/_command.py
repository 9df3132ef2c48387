"""`teleconform run`: targets, selection, verdicts, reports, exit status."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from teleconform._errors import EXIT_BUG, EXIT_OK, EXIT_TARGET, ConfigError, UsageError
from teleconform._logging import setup_log
from teleconform._resources import SPEC_FILES, spec_path
from teleconform._version import __version__
from teleconform._yaml import load_yaml_file
from teleconform.catalogue import Clause, load_catalogue
from teleconform.report._document import (
    exit_status,
    internal_errors,
    now_rfc3339,
    tool_info,
    totals_of,
)
from teleconform.report.baseline import apply_baseline, load_baseline
from teleconform.runner import PreflightFailed, Terminated, run_api, run_api_parallel
from teleconform.runner._http import RateLimiter, TransportError
from teleconform.runner._needs import needs_from_env, safe_contacts
from teleconform.runner._report_entry import run_to_json
from teleconform.runner._targets import (
    SandboxTarget,
    check_url,
    parse_sandbox_profiles,
    parse_targets,
)
from teleconform.runner.ledger import left_behind
from teleconform.runner.ledger import left_behind_lines as describe_left_behind

APIS = ("hcw", "leah")


TARGET_ENV = {"hcw": "TELECONFORM_HCW_TARGET", "leah": "TELECONFORM_LEAH_TARGET"}


def targets_from_env(env: Mapping[str, str], apis: list[str]) -> dict[str, str]:
    """Targets from TELECONFORM_HCW_TARGET / TELECONFORM_LEAH_TARGET (what `teleconform
    sandbox` prints); used only when no --target is given. An empty value counts as absent."""
    return {
        api: check_url(env[TARGET_ENV[api]], TARGET_ENV[api])
        for api in apis
        if env.get(TARGET_ENV[api], "").strip()
    }


# -- dry run ---------------------------------------------------------------------------------
def operations_by_clause(api: str) -> dict[str, list[str]]:
    spec = load_yaml_file(spec_path(SPEC_FILES[api]))
    found: dict[str, list[str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for cid in op.get("x-clauses") or ():
                found.setdefault(cid, []).append(f"{method.upper()} {path}")
    return found


# -- the command -------------------------------------------------------------------------------
class _Printer:
    """Live progress on a terminal; plain lines elsewhere (CI logs); NO_COLOR respected."""

    COLORS = {"pass": "32", "fail": "31", "error": "35", "skip": "33"}

    def __init__(self, quiet: bool, verbose: bool, totals: dict[str, int] | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.lock = threading.Lock()
        # kept: `--workers` runs pytest with its stdout redirected, progress must not follow
        self.out = sys.stdout
        self.tty = self.out.isatty()
        self.color = self.tty and not os.environ.get("NO_COLOR")
        self.totals = totals or {}
        self.done: dict[str, int] = {}
        self.failing = 0
        self._status = False

    def _paint(self, verdict: str) -> str:
        if not self.color or verdict not in self.COLORS:
            return verdict
        return f"\x1b[{self.COLORS[verdict]}m{verdict}\x1b[0m"

    def _clear_status(self) -> None:
        if self._status:
            self.out.write("\r\x1b[2K")
            self._status = False

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        with self.lock:
            self._clear_status()
            print(text, file=self.out, flush=True)

    def progress(self, api: str, cid: str, verdict: str) -> None:
        if self.quiet:
            return
        with self.lock:
            if verdict != "running":
                self.done[api] = self.done.get(api, 0) + 1
                self.failing += verdict in ("fail", "error")
            if self.tty:
                done = sum(self.done.values())
                total = sum(self.totals.values()) or done
                if verdict != "running" and (self.verbose or verdict in ("fail", "error")):
                    self._clear_status()
                    print(f"  {cid:<14} {self._paint(verdict)}", file=self.out, flush=True)
                self.out.write(
                    f"\r\x1b[2K[{done}/{total}] {api}: {cid} · {self.failing} failing so far"
                )
                self.out.flush()
                self._status = True
            elif verdict != "running":
                print(f"  {api} {cid:<14} {verdict}", file=self.out, flush=True)

    def finish(self) -> None:
        with self.lock:
            self._clear_status()


def run_command(args: argparse.Namespace) -> int:
    apis = list(APIS) if args.api == "all" else [args.api]
    catalogue = load_catalogue()
    unknown = [c for c in args.clause if c not in catalogue]
    if unknown:
        raise UsageError(
            f"teleconform run: unknown clause id {unknown[0]} (see `teleconform clauses`)"
        )
    selected: dict[str, set[str] | None] = {}
    shard_ids = _shard(args.shard, catalogue, apis) if args.shard else None
    for api in apis:
        ids = {c for c in args.clause if catalogue[c].api == api}
        if args.clause and not ids:
            continue
        if shard_ids is not None:
            ids = (ids or {c.id for c in catalogue.values() if c.api == api}) & shard_ids
            if not ids:
                continue
        selected[api] = ids or None
    if not selected:
        if args.shard:
            raise UsageError(f"teleconform run {args.api}: --shard {args.shard} selects no clause")
        raise UsageError(f"teleconform run {args.api}: the selected clauses belong to another API")
    if args.workers < 1:
        raise UsageError("teleconform run: --workers must be at least 1")
    if (
        args.rate_limit <= 0
        or args.timeout <= 0
        or (args.deadline is not None and args.deadline <= 0)
    ):
        raise UsageError("teleconform run: --rate-limit, --timeout and --deadline must be positive")
    try:
        targets = parse_targets(args.target, list(selected))
        if not args.target and not args.replay:
            targets = targets_from_env(os.environ, list(selected))
        env_creds = {api: needs_from_env(os.environ, api) for api in selected if api in targets}
        safe_email, safe_phone = safe_contacts(os.environ)
        waivers = load_baseline(args.baseline, catalogue) if args.baseline else []
        if args.webhook_events and not Path(args.webhook_events).is_file():
            raise ConfigError(f"--webhook-events {args.webhook_events}: no such file")
        if args.sandbox_fault:
            import importlib

            from teleconform.runner._targets import SANDBOX_MODULES

            for api in selected:
                if api in targets:
                    continue
                known = importlib.import_module(SANDBOX_MODULES[api]).FAULTS
                bad = [
                    f for f in args.sandbox_fault if f not in known and not _fault_elsewhere(f, api)
                ]
                if bad:
                    raise ConfigError(f"--sandbox-fault {bad[0]}: no such sandbox fault")
        sandbox_apis = [api for api in selected if api not in targets]
        if args.sandbox_profile and args.replay:
            raise ConfigError(
                "--replay replays the recorded answers; --sandbox-profile has no effect"
            )
        if args.sandbox_profile and not sandbox_apis:
            raise ConfigError("--sandbox-profile: every selected API has a --target")
        profiles = parse_sandbox_profiles(args.sandbox_profile, sandbox_apis)
    except ConfigError as exc:
        raise UsageError(f"teleconform run: {exc}") from exc

    printer = _Printer(
        args.quiet,
        args.verbose,
        {
            api: len(ids) if ids else sum(1 for c in catalogue.values() if c.api == api)
            for api, ids in selected.items()
        },
    )
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    # --- record/replay (teleconform.cassettes owns the session) ---
    session: Any = None
    if args.replay or args.record:
        from teleconform.cassettes import open_session

        try:
            session = open_session(args, apis=list(selected), seed=seed, tool=tool_info())
        except ConfigError as exc:
            raise UsageError(f"teleconform run: {exc}") from exc
        seed = session.seed
        if (
            args.replay
            and not args.clause
            and not args.shard
            and (session.recorded_clauses or session.recorded_shard)
        ):
            # replay the recorded selection by default
            args.clause, args.shard = list(session.recorded_clauses), session.recorded_shard
            session.finish()
            return run_command(args)
        if args.replay:
            args.budget = session.budget  # the recorded cases need the recorded budget
            try:
                session.plan(selected)
            except ConfigError as exc:
                session.finish()
                raise UsageError(f"teleconform run: {exc}") from exc
        if args.dry_run:
            session.finish()
    # --- end record/replay ---
    if args.dry_run:
        return _dry_run(selected, targets, catalogue, seed, printer, args)

    report_dir = Path(args.report_dir)
    _terminate_like_interrupt()
    try:
        log_file = setup_log(report_dir)
    except OSError as exc:
        raise UsageError(
            f"teleconform run: cannot write --report-dir {report_dir}: {exc.strerror}"
        ) from exc
    printer.line(f"teleconform {__version__}: seed {seed}, budget {args.budget}")
    started_at = now_rfc3339()
    run_id = f"tc-{uuid.uuid4().hex[:10]}"
    limiter = RateLimiter(args.rate_limit)
    deadline = time.monotonic() + args.deadline if args.deadline else None
    stop = threading.Event()  # set on SIGTERM/Ctrl-C: worker threads stop and clean up

    runs: dict[str, dict[str, Any]] = {}
    failures: list[tuple[int, str]] = []
    interrupted = False
    signals: list[str] = []  # the signal that interrupted the run, once known
    xdist_signal = ""

    def interrupt(name: str) -> None:
        stop.set()  # what has not started yet sends nothing
        if not signals:
            signals.append(name)

    def one(api: str) -> None:
        sandbox: SandboxTarget | None = None
        client: httpx.Client | None = None
        clock: Any = None
        on_exchange: list[Any] = []
        options: dict[str, Any] = {
            "clauses": selected[api],
            "writes_allowed": args.allow_writes,
            "disruptive_allowed": args.allow_disruptive,
        }
        try:
            if session is not None and args.replay:
                base_url, mode = session.base_url(api), "replay"
                credentials = session.credentials(api)
                client, clock = session.client(api), session.clock(api)
                options = session.run_options(api)  # the recorded selection and permissions
            elif api in targets:
                base_url, mode = targets[api], "live"
                credentials = dict(env_creds.get(api, {}))
                unreachable = _probe(base_url, args.timeout, limiter)
                if unreachable:
                    failures.append(
                        (EXIT_TARGET, f"teleconform: {api} target {base_url}: {unreachable}")
                    )
                    return
            else:
                api_faults = tuple(f for f in args.sandbox_fault if _fault_in(api, f))
                sandbox = SandboxTarget(api, faults=api_faults, profile=profiles.get(api))
                base_url, mode = sandbox.start(), "sandbox"
                credentials = sandbox.credentials
            _add_webhook_credentials(args, credentials)
            run_state: dict[str, Any] = {"safe_email": safe_email, "safe_phone": safe_phone}
            if session is not None:  # record/replay
                if args.record:
                    on_exchange.append(session.recorder(api, base_url, credentials))
                run_state.update(session.state(api))
            printer.line(f"{api}: {mode} {base_url}")
            parallel = args.workers > 1 and mode != "replay"  # a replay is served in order
            result = (run_api_parallel if parallel else run_api)(
                api,
                base_url,
                credentials,
                clauses=options["clauses"],
                **({"workers": args.workers} if parallel else {}),
                seed=seed,
                budget=args.budget,
                mode=mode,
                writes_allowed=True if mode == "sandbox" else options["writes_allowed"],
                disruptive_allowed=options["disruptive_allowed"],
                timeout_s=args.timeout,
                rate_limiter=limiter if mode == "live" else None,
                run_id=run_id,
                state=run_state,
                deadline=deadline,
                stop=stop,
                progress=printer.progress,
                client=client,
                clock=clock,
                on_exchange=on_exchange,
                ledger_path=report_dir / f"ledger-{api}.jsonl" if mode == "live" else None,
            )
            runs[api] = run_to_json(result)
            if sandbox is not None:
                runs[api]["target"]["profile"] = sandbox.profile_name
            if session is not None and args.replay:
                runs[api]["clauses"] = session.reported(api, runs[api]["clauses"])
            elif session is not None:
                writes = mode == "sandbox" or bool(options["writes_allowed"])
                session.keep_outcome(
                    api,
                    runs[api]["clauses"],
                    writes_allowed=writes,
                    disruptive_allowed=bool(options["disruptive_allowed"]),
                )
            if result.interrupted:
                interrupt(result.interrupted)
        except PreflightFailed as exc:
            failures.append(
                (EXIT_TARGET, f"teleconform: {api} target refused or unusable: {with_hint(exc)}")
            )
        except TransportError as exc:
            failures.append((EXIT_TARGET, f"teleconform: {api} target: {exc}"))
        finally:
            if sandbox is not None:
                sandbox.stop()

    if args.workers > 1 and session is None:
        xdist_signal = _run_in_processes(
            args,
            selected,
            targets,
            profiles,
            env_creds,
            catalogue,
            printer,
            report_dir,
            runs,
            failures,
            settings={
                "seed": seed,
                "budget": args.budget,
                "timeout": args.timeout,
                "rate_limit": args.rate_limit,
                "deadline_at": time.time() + (deadline - time.monotonic()) if deadline else None,
                "disruptive_allowed": args.allow_disruptive,
                "run_id": run_id,
                "state": {"safe_email": safe_email, "safe_phone": safe_phone},
            },
        )
    elif args.workers > 1 and len(selected) > 1:
        threads = [threading.Thread(target=one, args=(api,)) for api in selected]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except KeyboardInterrupt as exc:
            interrupt(signal_name(exc))  # the signal reached this thread only
            for t in threads:
                t.join()  # the API threads record what finished and clean up
    else:
        for api in selected:
            if stop.is_set():
                break  # interrupted: the APIs not started send nothing (reported below)
            try:
                one(api)
            except KeyboardInterrupt as exc:  # outside the checks (e.g. a sandbox starting)
                interrupt(signal_name(exc))
    if xdist_signal:
        interrupt(xdist_signal)
    if signals:
        interrupted = True
        for api in selected:
            if api not in runs and not any(api in m for _, m in failures):
                runs[api] = _interrupted_run(api, selected[api], catalogue, targets)

    printer.finish()
    if session is not None:
        session.finish()
    if failures and not runs:
        print(failures[0][1], file=sys.stderr)
        if interrupted:
            raise Terminated if signals == ["SIGTERM"] else KeyboardInterrupt
        return failures[0][0]
    ordered = [runs[api] for api in selected if api in runs]
    for run in ordered:
        apply_baseline(run, waivers, dt.date.today())
        # after any cleanup of dead workers' leftovers: what stays is what still failed
        live = run["target"].get("mode") == "live"
        run["left_behind"] = left_behind(run.get("cleanup_failures") or []) if live else []
    report = {
        "schema_version": 1,
        "tool": tool_info(),
        "seed": seed,
        "started_at": started_at,
        "finished_at": now_rfc3339(),
        "totals": totals_of(ordered),
        "runs": ordered,
    }
    if session is not None and session.notes:
        report["notes"] = list(session.notes)
        for note in session.notes:
            printer.line(f"note: {note}")
    _write_reports(report, report_dir)
    _print_summary(report, printer, report_dir, log_file, args.require_all)
    for _code, message in failures:
        print(message, file=sys.stderr)
    if interrupted:
        # after the reports: the CLI's one line and exit 130 (SIGINT) or 143 (SIGTERM)
        raise Terminated if signals == ["SIGTERM"] else KeyboardInterrupt
    if failures:
        return failures[0][0]
    status = exit_status(
        ordered,
        args.strict,
        args.allow_empty,
        getattr(args, "fail_on_advisory", False),
        require_all=getattr(args, "require_all", False),
    )
    if status == EXIT_BUG:
        print(
            f"teleconform: internal error: a check reported on clauses it does not declare "
            f"({', '.join(internal_errors(ordered))} are `error`); this is a bug, "
            f"full log: {log_file}",
            file=sys.stderr,
        )
    return status


def _run_in_processes(
    args: argparse.Namespace,
    selected: dict[str, set[str] | None],
    targets: dict[str, str],
    profiles: dict[str, Any],
    env_creds: dict[str, dict[str, str]],
    catalogue: dict[str, Clause],
    printer: _Printer,
    report_dir: Path,
    runs: dict[str, dict[str, Any]],
    failures: list[tuple[int, str]],
    settings: dict[str, Any],
) -> str:
    """``--workers N``: the work units in pytest-xdist processes; the interrupting signal."""
    from teleconform.runner._xdist import ApiTarget, count_units, run_with_xdist

    sandboxes: list[SandboxTarget] = []
    chosen: dict[str, ApiTarget] = {}
    try:
        for api in selected:
            if api in targets:
                base_url = targets[api]
                unreachable = _probe(base_url, args.timeout, RateLimiter(args.rate_limit))
                if unreachable:
                    failures.append(
                        (EXIT_TARGET, f"teleconform: {api} target {base_url}: {unreachable}")
                    )
                    continue
                target = ApiTarget(
                    base_url,
                    "live",
                    dict(env_creds.get(api, {})),
                    args.allow_writes,
                    str((report_dir / f"ledger-{api}.jsonl").resolve()),
                )
            else:
                api_faults = tuple(f for f in args.sandbox_fault if _fault_in(api, f))
                sandbox = SandboxTarget(api, faults=api_faults, profile=profiles.get(api))
                sandboxes.append(sandbox)
                target = ApiTarget(sandbox.start(), "sandbox", dict(sandbox.credentials), True)
            _add_webhook_credentials(args, target.credentials)
            printer.line(f"{api}: {target.mode} {target.base_url}")
            chosen[api] = target
        if not chosen:
            return ""
        wanted = {api: selected[api] for api in chosen}
        workers = min(args.workers, count_units(wanted))
        printer.line(f"{workers} worker processes (pytest-xdist)")
        # XdistFailed is a bug: the CLI's last line of defence makes it exit 4 with the log
        result = run_with_xdist(
            selected=wanted,
            targets=chosen,
            workers=workers,
            settings=settings,
            catalogue=catalogue,
            progress=printer.progress,
            report_dir=report_dir,
        )
    finally:
        for sandbox in sandboxes:
            sandbox.stop()
    for api, why in result.refused:
        failures.append((EXIT_TARGET, f"teleconform: {api} target refused or unusable: {why}"))
    if result.workers_died:
        printer.line(
            f"worker process {', '.join(result.workers_died)} died; its clauses are errors",
            always=True,
        )
        _clean_after_dead_workers(chosen, result.runs, args.timeout, printer)
    for sandbox in sandboxes:
        if sandbox.api in result.runs:
            result.runs[sandbox.api]["target"]["profile"] = sandbox.profile_name
    runs.update(result.runs)
    return (result.signal or "SIGINT") if result.interrupted else ""


def _add_webhook_credentials(args: argparse.Namespace, credentials: dict[str, str]) -> None:
    """`--webhook-events` / `--webhook-receiver`: the LEAH-WH needs given on the command line."""
    if args.webhook_events:
        credentials["leah.webhook_events"] = str(Path(args.webhook_events).resolve())
    if args.webhook_receiver:
        credentials["leah.webhook_receiver"] = args.webhook_receiver


def _clean_after_dead_workers(
    chosen: dict[str, Any], runs: dict[str, dict[str, Any]], timeout: float, printer: _Printer
) -> None:
    """A dead worker could not clean up: undo, from the ledger, what is still there."""
    from teleconform.runner import cleanup_from_ledger

    for api, target in chosen.items():
        if target.mode != "live" or not target.ledger or not Path(target.ledger).is_file():
            continue
        tried, failed = cleanup_from_ledger(
            Path(target.ledger), target.credentials, timeout_s=timeout
        )
        if tried:
            printer.line(f"{api}: cleaned {tried - len(failed)} of {tried} left by a dead worker")
        if api in runs:
            runs[api]["cleanup_failures"].extend(failed)


def _shard(spec: str, catalogue: dict[str, Clause], apis: list[str]) -> set[str]:
    """Clause ids of shard ``I/N``: whole areas dealt round-robin (related checks together)."""
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise UsageError(f"teleconform run: --shard {spec!r} is not I/N (e.g. 1/3)") from None
    if not 1 <= index <= count:
        raise UsageError(f"teleconform run: --shard {spec!r}: I must be between 1 and N")
    groups: list[tuple[str, str]] = []
    for clause in catalogue.values():
        if clause.api in apis and (clause.api, clause.area) not in groups:
            groups.append((clause.api, clause.area))
    chosen = {g for k, g in enumerate(groups) if k % count == index - 1}
    return {c.id for c in catalogue.values() if (c.api, c.area) in chosen}


def _probe(base_url: str, timeout: float, limiter: RateLimiter) -> str | None:
    """Why the target cannot be reached at all (DNS, refused, TLS, connect timeout), or None.

    Only the connection counts: a server that accepts it but answers the base URL badly
    (reset, hang, 5xx) is reachable, and its clauses say what is wrong.
    """
    host = httpx.URL(base_url).host
    limiter.wait()  # the probe is a live request like any other: one run-wide rate limit
    try:
        with httpx.Client(timeout=timeout) as client:
            client.get(base_url)
    except httpx.ConnectTimeout:
        return (
            f"no connection within {timeout:g}s: check the host, port, firewall and proxy settings"
        )
    except httpx.ConnectError as exc:
        text = str(exc)
        lowered = text.lower()
        if (
            "name or service" in lowered
            or "nodename" in lowered
            or "name resolution" in lowered
            or "getaddrinfo" in lowered
            or "errno -" in lowered
        ):
            return f"cannot resolve the host name {host} ({text}): check the host name and DNS"
        if "ssl" in lowered or "tls" in lowered or "certificate" in lowered:
            return (
                f"TLS handshake failed ({text}): check https:// versus http:// and the "
                "certificate (SSL_CERT_FILE for a private CA)"
            )
        if "refused" in lowered:
            return (
                f"connection refused by {host}: check the host and port, and that the "
                "server is running"
            )
        return f"cannot connect ({text}): check the URL, DNS, proxy and TLS settings"
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.ProxyError) as exc:
        return f"cannot connect ({type(exc).__name__}: {exc}): check the URL and proxy settings"
    except httpx.HTTPError:
        return None
    return None


def with_hint(exc: PreflightFailed) -> str:
    """The preflight's message, plus what to check when it does not say."""
    from teleconform.suite import CredentialsRefused, TargetUnreachable

    text = str(exc)
    if "check " in text:
        return text
    if isinstance(exc.__cause__, TargetUnreachable):
        return f"{text}; check the base URL (--target)"
    if isinstance(exc.__cause__, CredentialsRefused):
        return f"{text}; check the credentials"
    return f"{text}; check the target URL and that it answers"


def _terminate_like_interrupt() -> None:
    """SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so cleanup code in `finally` runs."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def _fault_in(api: str, name: str) -> bool:
    import importlib

    from teleconform.runner._targets import SANDBOX_MODULES

    return name in importlib.import_module(SANDBOX_MODULES[api]).FAULTS


def _fault_elsewhere(name: str, api: str) -> bool:
    return any(_fault_in(other, name) for other in APIS if other != api)


def _write_reports(report: dict[str, Any], report_dir: Path) -> None:
    from teleconform.report import write_reports

    write_reports(report, report_dir)


def _print_summary(
    report: dict[str, Any],
    printer: _Printer,
    report_dir: Path,
    log_file: Path,
    require_all: bool = False,
) -> None:
    for run in report["runs"]:
        for c in run["clauses"]:
            if c["verdict"] in ("fail", "error"):
                label = "fail (waived)" if c.get("waived") else c["verdict"]
                printer.line(
                    f"  {c['id']:<14} {c['level']:<6} {label}: {c['reason'][:200]}", always=True
                )
    t = report["totals"]
    advised = sum(len(c.get("advisories") or ()) for r in report["runs"] for c in r["clauses"])
    printer.line(
        f"{t['pass']} pass, {t['fail']} fail, {t['error']} error, {t['skip']} skip"
        f" ({t['waived']} waived"
        + (f", {advised} advisor{'y' if advised == 1 else 'ies'}" if advised else "")
        + f"); reports in {report_dir}/",
        always=True,
    )
    # the last lines: what was not verified, then (live runs) what stays on the target
    for line in unverified_lines(report, require_all):
        printer.line(line, always=True)
    for line in left_behind_lines(report):
        printer.line(line, always=True)


def left_behind_lines(report: dict[str, Any]) -> list[str]:
    """The console's last lines: what each live run left on its target, and why."""
    lines: list[str] = []
    for run in report["runs"]:
        if run["target"].get("mode") == "live":
            lines += describe_left_behind(
                run["api"], run["target"]["base_url"], run.get("left_behind") or []
            )
    return lines


def unverified_lines(report: dict[str, Any], require_all: bool) -> list[str]:
    """The console's last lines: every skipped MUST clause, grouped by what it needs."""
    from teleconform.report._common import unverified_musts

    groups = unverified_musts([c for run in report["runs"] for c in run["clauses"]])
    if not groups:
        return []
    count = sum(len(ids) for _, ids in groups)
    head = f"{count} MUST clause{'s' if count != 1 else ''} not verified"
    tail = " (--require-all: this fails the run)" if require_all else ""
    if len(groups) == 1:
        label, ids = groups[0]
        return [f"{head}: {label}{tail}", f"  {', '.join(ids)}"]
    lines = [f"  {label} ({len(ids)}): {', '.join(ids)}" for label, ids in groups]
    return [f"{head}{tail}:", *lines]


def _dry_run(
    selected: dict[str, set[str] | None],
    targets: dict[str, str],
    catalogue: dict[str, Clause],
    seed: int,
    printer: _Printer,
    args: argparse.Namespace,
) -> int:
    printer.line(f"dry run (nothing is sent); seed {seed}", always=True)
    for api, ids in selected.items():
        ops = operations_by_clause(api)
        where = targets.get(api, "the embedded sandbox")
        printer.line(f"{api}: {where}", always=True)
        for clause in catalogue.values():
            if clause.api != api or (ids is not None and clause.id not in ids):
                continue
            requests = ops.get(clause.id) or ["(no spec operation; scenario requests only)"]
            printer.line(f"  {clause.id} [{clause.level}] {clause.title}", always=True)
            for op in requests:
                printer.line(f"    {op}", always=True)
        for line in footprint_lines(api, ids, api in targets, args):
            printer.line(line, always=True)
    return EXIT_OK


def footprint_lines(
    api: str, ids: set[str] | None, live: bool, args: argparse.Namespace
) -> list[str]:
    """The dry run's footprint: the most the run creates of each kind, and what stays."""
    from teleconform.runner import creations_of, footprint

    if live and not args.allow_writes:
        return [f"{api} footprint: nothing is created (no --allow-writes): reads and sign-ins"]
    counts = footprint(api, ids, args.budget, live)
    messages = counts.pop("message", 0)
    made = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()) if count)
    lines = [f"{api} footprint (at most, budget {args.budget}): {made or 'nothing'}"]
    if messages:
        email, phone = safe_contacts(os.environ)
        lines.append(
            f"  e-mails or SMS that may be sent to the safe contacts ({email}, {phone}): {messages}"
        )
    stays = [c for c in creations_of(api) if c.cleanup is None and counts.get(c.kind)]
    for creation in stays:
        lines.append(
            f"  cannot be undone through the API: {creation.kind} "
            f"(up to {counts[creation.kind]}): {creation.why}"
        )
    if messages:
        lines.append("  cannot be undone: an e-mail or SMS once sent")
    if api == "hcw" and counts.get("consultation"):
        lines.append(
            "  consultations are closed after the doctor accepts them: without "
            "TELECONFORM_HCW_SSO_SECRET a pending one stays"
        )
    if not live:
        lines.append("  (on the embedded sandbox: thrown away after the run)")
    return lines


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def signal_name(exc: BaseException) -> str:
    """SIGTERM or SIGINT: which signal raised this interrupt."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


def _interrupted_run(
    api: str, ids: set[str] | None, catalogue: dict[str, Clause], targets: dict[str, str]
) -> dict[str, Any]:
    """The report entry of an API the interrupt reached before it started."""
    clauses = [
        {
            "id": c.id,
            "level": c.level,
            "title": c.title,
            "area": c.area,
            "verdict": "error",
            "waived": False,
            "reason": "run interrupted",
            "evidence": [],
        }
        for c in catalogue.values()
        if c.api == api and (ids is None or c.id in ids)
    ]
    mode = "live" if api in targets else "sandbox"
    return {
        "api": api,
        "target": {"mode": mode, "base_url": targets.get(api, "")},
        "clauses": clauses,
        "totals": {},
        "requests_sent": 0,
        "elapsed_s": 0.0,
        "created": [],
        "cleanup_failures": [],
        "left_behind": [],
    }
