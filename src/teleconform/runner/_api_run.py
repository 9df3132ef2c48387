"""One API run: the selected checks against one target, folded into clause verdicts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import httpx

from teleconform.catalogue import load_catalogue
from teleconform.redact._evidence import EvidenceBuilder
from teleconform.runner._checks import Routing, missing_needs, run_check
from teleconform.runner._cleanup import clean_up
from teleconform.runner._creations import SECRETS_KEY, CreationWatch
from teleconform.runner._fold import ApiRun, clause_results, fold
from teleconform.runner._http import HttpClient, RateLimiter
from teleconform.runner._interrupts import signal_name
from teleconform.runner._loading import CheckFunction, creations_of, load_checks
from teleconform.runner._preflight import run_preflights
from teleconform.runner._settings import RunSettings
from teleconform.runner.ledger import Ledger
from teleconform.suite import Advisory, Context, Outcome

WRITE_NEEDS = {"hcw": "hcw.allow_writes", "leah": "leah.allow_writes"}


class _Findings:
    """What the checks of one run reported, per selected clause (routed, needs applied)."""

    def __init__(self, selected: Iterable[str]) -> None:
        self.routing = Routing()
        self.outcomes: dict[str, list[Outcome]] = {cid: [] for cid in selected}
        self.advisories: dict[str, list[Advisory]] = {cid: [] for cid in self.outcomes}
        self.measurements: dict[str, dict[str, Any]] = {cid: {} for cid in self.outcomes}
        self.skipped_for_needs: dict[str, list[str]] = {}

    def record(self, outcome: Outcome) -> None:
        if not self.routing.declared(outcome.clause):
            return
        if outcome.clause in self.outcomes and not self.skipped_for_needs.get(outcome.clause):
            self.outcomes[outcome.clause].append(outcome)

    def measure(self, cid: str, key: str, value: Any) -> None:
        if self.routing.declared(cid) and cid in self.measurements:
            self.measurements[cid][key] = value

    def advise(self, advisory: Advisory) -> None:
        if not self.routing.declared(advisory.clause):
            return
        if advisory.clause in self.advisories and not self.skipped_for_needs.get(advisory.clause):
            self.advisories[advisory.clause].append(advisory)

    def undecided(self, clauses: Iterable[str], why: str) -> None:
        """``error`` with ``why`` for each of ``clauses`` that has no outcome yet."""
        for cid in clauses:
            if cid in self.outcomes and not self.outcomes[cid]:
                self.record(Outcome(cid, "error", why))


def _credentials(settings: RunSettings) -> dict[str, str]:
    """The run's credentials, with the API's write permission as a need."""
    creds = dict(settings.credentials)
    if settings.writes:
        creds[WRITE_NEEDS[settings.api]] = "yes"
    else:
        creds.pop(WRITE_NEEDS[settings.api], None)
    return creds


def run_api(settings: RunSettings) -> ApiRun:
    """Run every selected clause of ``settings.api`` against its target and fold the verdicts."""
    started = time.monotonic()
    catalogue = settings.catalogue or load_catalogue()
    api_clauses = [c for c in catalogue.values() if c.api == settings.api]
    selected = {c.id for c in api_clauses}
    if settings.clauses is not None:
        selected &= settings.clauses
    creds = _credentials(settings)
    http = _http_client(settings)
    findings = _Findings(selected)
    run_id = settings.run_id or uuid.uuid4().hex[:12]
    ledger = Ledger(settings.ledger_path, settings.api, settings.base_url, run_id)
    secrets: dict[tuple[str, str], str] = {}
    watch = CreationWatch(ledger, (), lambda: http.label, secrets)
    if settings.mode != "replay":
        http.before_send.append(watch.before_send)
        http.on_exchange.append(watch.on_exchange)

    state: dict[str, Any] = settings.state if settings.state is not None else {}
    state[SECRETS_KEY] = secrets  # in memory only: cleaners check what is gone
    ctx = _context(settings, http, creds, run_id, state, findings, ledger)
    for cid in selected:
        missing = missing_needs(catalogue[cid], creds)
        if missing:
            findings.skipped_for_needs[cid] = missing

    interrupted = ""
    try:
        interrupted = _run_checks(ctx, settings, findings, watch)
    finally:
        for entry in watch.unanswered():
            ledger.created(entry["kind"], None, None, why=entry["why"], n=entry["n"])
        cleanup = settings.cleanup and settings.mode != "replay"
        cleanup_failures = clean_up(ctx, ledger) if cleanup else []
        interrupted = interrupted or ledger.interrupted  # Ctrl-C while cleaning up
        if settings.client is None:
            http.close()

    return ApiRun(
        api=settings.api,
        mode=settings.mode,
        base_url=settings.base_url,
        clauses=clause_results(
            settings.api,
            [c for c in api_clauses if c.id in selected],
            findings.outcomes,
            findings.advisories,
            findings.measurements,
            findings.skipped_for_needs,
        ),
        requests_sent=http.sent,
        created=ledger.entries,
        cleanup_failures=cleanup_failures,
        elapsed_s=time.monotonic() - started,
        interrupted=interrupted,
    )


def _http_client(settings: RunSettings) -> HttpClient:
    """The run's one HTTP client (a new httpx client unless the settings bring one)."""
    http = HttpClient(
        base_url=settings.base_url,
        client=settings.client or httpx.Client(follow_redirects=False, verify=True),
        extra_headers=dict(settings.extra_headers),
        timeout_s=settings.timeout_s,
        limiter=settings.rate_limiter or RateLimiter(None),
        deadline=settings.deadline,
        stop=settings.stop,
    )
    http.on_exchange.extend(settings.on_exchange)
    return http


def _context(
    settings: RunSettings,
    http: HttpClient,
    credentials: dict[str, str],
    run_id: str,
    state: dict[str, Any],
    findings: _Findings,
    ledger: Ledger,
) -> Context:
    """The ``ctx`` every check of the run gets."""

    def add_created(kind: str, ident: str, cleanup: tuple[str, str] | None) -> None:
        entry = ledger.created(kind, ident, cleanup)
        if settings.on_created:
            settings.on_created(entry)

    return Context(
        api=settings.api,
        mode=settings.mode,
        http=http,
        credentials=credentials,
        seed=settings.seed,
        budget=settings.budget,
        run_id=run_id,
        clock=settings.clock or time.time,
        writes_allowed=settings.writes,
        disruptive_allowed=settings.disruptive_allowed,
        state=state,
        evidence=settings.evidence or EvidenceBuilder(),
        on_created=add_created,
        on_outcome=findings.record,
        on_measure=findings.measure,
        on_advisory=findings.advise,
        stream=settings.stream,
    )


def _run_checks(
    ctx: Context, settings: RunSettings, findings: _Findings, watch: CreationWatch
) -> str:
    """Preflights, then each runnable check in order; the interrupting signal, if any."""
    stop, deadline, progress = settings.stop, settings.deadline, settings.progress
    running: CheckFunction | None = None
    try:
        checks = load_checks(settings.api, settings.suites_root) if findings.outcomes else []
        watch.creations = creations_of(settings.api)
        skipped = findings.skipped_for_needs
        runnable = [
            check
            for check in checks
            if any(c in findings.outcomes and c not in skipped for c in check.clauses)
        ]
        last_check = {cid: check for check in runnable for cid in check.clauses}
        # an interrupted run starts no unit: nothing is sent, the checks say why they did not run
        if runnable and not (stop is not None and stop.is_set()):
            ctx.http.label = "preflight"
            run_preflights(ctx)
        for check in runnable:
            if deadline is not None and time.monotonic() > deadline:
                findings.undecided(check.clauses, "run deadline reached before this check ran")
                continue
            if stop is not None and stop.is_set():
                findings.undecided(check.clauses, "run interrupted before this check ran")
                continue
            ctx.http.label = check.module.rsplit(".", 1)[-1]
            if progress:
                progress(settings.api, check.clauses[0], "running")
            running = check
            run_check(
                ctx,
                check,
                findings.outcomes,
                findings.record,
                findings.routing,
                findings.advisories,
            )
            running = None
            if progress:
                for cid in check.clauses:
                    if cid in findings.outcomes and last_check.get(cid) is check:
                        progress(settings.api, cid, fold(findings.outcomes[cid])[0])
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM in this thread: what finished stays, the rest is an error
        if stop is not None:
            stop.set()
        for cid in running.clauses if running is not None else ():
            if cid in findings.outcomes:
                findings.record(Outcome(cid, "error", "run interrupted"))
        for cid, found in findings.outcomes.items():
            if not found:
                findings.record(Outcome(cid, "error", "run interrupted"))
        return signal_name(exc)
    return ""
