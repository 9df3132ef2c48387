"""Run the suites of one API against one target and fold outcomes into clause verdicts."""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from teleconform._resources import suites_dir
from teleconform.catalogue import Clause, load_catalogue
from teleconform.redact._evidence import EvidenceBuilder
from teleconform.runner._creations import SECRETS_KEY, CreationWatch
from teleconform.runner._http import DeadlineReached, HttpClient, RateLimiter, TransportError
from teleconform.runner._needs import ENV_NEED, NEED_ENV
from teleconform.runner.ledger import Creation, Ledger
from teleconform.suite import (
    Advisory,
    Context,
    CredentialsRefused,
    NeedMissing,
    Outcome,
    PreconditionFailed,
    TargetUnreachable,
)

__all__ = [
    "ApiRun",
    "CheckFunction",
    "ClauseResult",
    "PreflightFailed",
    "load_checks",
    "run_api",
    "sandbox_credentials",
]

log = logging.getLogger("teleconform")
SUITES_PACKAGE = "teleconform_suites"
WRITE_NEEDS = {"hcw": "hcw.allow_writes", "leah": "leah.allow_writes"}
_PROPERTY_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class CheckFunction:
    """A suite function and the clause ids it declares."""

    module: str
    name: str
    clauses: tuple[str, ...]
    func: Callable[[Context], None]


@dataclass(slots=True)
class ClauseResult:
    """The folded verdict of one clause in one API run."""

    id: str
    api: str
    area: str
    level: str
    title: str
    verdict: str
    reason: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    waived: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    advisories: list[Advisory] = field(default_factory=list)
    # the error stands for a bug of teleconform (a check broke its declaration): exit 4
    internal: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "level": self.level,
            "title": self.title,
            "area": self.area,
            "verdict": self.verdict,
            "waived": self.waived,
            "reason": self.reason,
            "evidence": self.evidence,
        }
        if self.measurements:
            data["measurements"] = self.measurements
        if self.advisories:
            data["advisories"] = [a.to_json() for a in self.advisories]
        if self.internal:
            data["internal_error"] = True
        return data


@dataclass(slots=True)
class ApiRun:
    """Everything one API's run produced."""

    api: str
    mode: str
    base_url: str
    clauses: list[ClauseResult]
    requests_sent: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    cleanup_failures: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    # "SIGINT" or "SIGTERM" when the run was interrupted (its unfinished clauses are errors)
    interrupted: str = ""

    @property
    def verdicts(self) -> dict[str, str]:
        return {c.id: c.verdict for c in self.clauses}

    def totals(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0}
        for c in self.clauses:
            counts[c.verdict] += 1
            if c.waived:
                counts["waived"] += 1
        return counts


class PreflightFailed(Exception):
    """The target could not be reached or refused the credentials before any clause ran."""


# -- loading suites ----------------------------------------------------------------------
def _ensure_suites_package(root: Path) -> None:
    existing = sys.modules.get(SUITES_PACKAGE)
    if existing is not None and list(getattr(existing, "__path__", [])) == [str(root)]:
        return
    for name in [
        m for m in sys.modules if m == SUITES_PACKAGE or m.startswith(SUITES_PACKAGE + ".")
    ]:
        del sys.modules[name]
    spec = importlib.machinery.ModuleSpec(SUITES_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(root)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[SUITES_PACKAGE] = package


def _suite_modules(api: str, root: Path | None = None) -> list[ModuleType]:
    root = root or suites_dir()
    _ensure_suites_package(root)
    api_dir = root / api
    modules = []
    for path in sorted(api_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"{SUITES_PACKAGE}.{api}.{path.stem}"))
    return modules


def load_checks(api: str, root: Path | None = None) -> list[CheckFunction]:
    """Every @clause function of an API's suites, in file then definition order."""
    checks: list[CheckFunction] = []
    for module in _suite_modules(api, root):
        funcs = [
            value
            for value in vars(module).values()
            if callable(value)
            and getattr(value, "__teleconform_clauses__", None)
            and getattr(value, "__module__", None) == module.__name__
        ]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for func in funcs:
            checks.append(
                CheckFunction(module.__name__, func.__name__, func.__teleconform_clauses__, func)
            )
    return checks


def _preflights(api: str) -> list[Callable[[Context], None]]:
    found: list[Callable[[Context], None]] = []
    prefix = f"{SUITES_PACKAGE}.{api}."
    for name, module in sorted(sys.modules.items()):
        if not name.startswith(prefix) or module is None:
            continue
        for value in vars(module).values():
            if getattr(value, "__teleconform_preflight__", False) and value.__module__ == name:
                if value not in found:
                    found.append(value)
    return found


# -- running -------------------------------------------------------------------------------
def sandbox_credentials(api: str, app: Any) -> dict[str, str]:
    """Need-name credentials from a sandbox app's ``state.credentials`` (env var names)."""
    creds: dict[str, str] = {}
    for var, value in dict(app.state.credentials).items():
        need = ENV_NEED.get(var)
        if need and need.startswith(api + "."):
            creds[need] = str(value)
    if api == "leah":
        # The sandbox delivers webhook events itself when a check triggers a guest arrival.
        creds["leah.webhook_events"] = "delivered by the sandbox"
    return creds


def _missing_needs(clause: Clause, credentials: Mapping[str, str]) -> list[str]:
    return [need for need in clause.needs if not credentials.get(need)]


def describe_need(need: str) -> str:
    if need in NEED_ENV:
        return f"{need} ({NEED_ENV[need]})"
    if need.endswith(".allow_writes"):
        return f"{need} (--allow-writes)"
    if need == "leah.webhook_events":
        return f"{need} (--webhook-events FILE from `teleconform webhooks listen`)"
    if need == "leah.webhook_receiver":
        return f"{need} (`teleconform webhooks check URL`)"
    return need


def fold(outcomes: list[Outcome]) -> tuple[str, str]:
    """A clause's verdict and reason from its checks' outcomes (advisories never count)."""
    by = {v: [o for o in outcomes if o.verdict == v] for v in ("pass", "fail", "error", "skip")}
    if by["fail"]:
        return "fail", _join(by["fail"])
    if by["error"]:
        return "error", _join(by["error"])
    if not by["pass"]:
        return "skip", _join(by["skip"]) if by["skip"] else "not exercised by any check"
    return "pass", _join(by["pass"])


def _join(outcomes: list[Outcome], limit: int = 4) -> str:
    seen: list[str] = []
    for o in outcomes:
        if o.message not in seen:
            seen.append(o.message)
    text = "; ".join(seen[:limit])
    if len(seen) > limit:
        text += f"; (+{len(seen) - limit} more)"
    return text


def run_api(
    api: str,
    base_url: str,
    credentials: Mapping[str, str] | None = None,
    *,
    clauses: Iterable[str] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    seed: int = 0,
    budget: str = "standard",
    mode: str = "sandbox",
    client: httpx.Client | None = None,
    writes_allowed: bool | None = None,
    disruptive_allowed: bool = False,
    timeout_s: float = 10.0,
    rate_limiter: RateLimiter | None = None,
    clock: Callable[[], float] | None = None,
    run_id: str | None = None,
    state: dict[str, Any] | None = None,
    catalogue: Mapping[str, Clause] | None = None,
    evidence: EvidenceBuilder | None = None,
    on_exchange: Iterable[Callable[[Any], None]] = (),
    on_created: Callable[[dict[str, Any]], None] | None = None,
    deadline: float | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[str, str, str], None] | None = None,
    suites_root: Path | None = None,
    ledger_path: Path | None = None,
    cleanup: bool = True,
    stream: str = "",
) -> ApiRun:
    """Run every selected clause of ``api`` against ``base_url`` and fold the verdicts."""
    started = time.monotonic()
    catalogue = catalogue or load_catalogue()
    api_clauses = [c for c in catalogue.values() if c.api == api]
    selected = (
        {c.id for c in api_clauses}
        if clauses is None
        else set(clauses) & {c.id for c in api_clauses}
    )
    creds = dict(credentials or {})
    if writes_allowed is None:
        writes_allowed = mode in ("sandbox", "replay")
    if writes_allowed:
        creds[WRITE_NEEDS[api]] = "yes"
    else:
        creds.pop(WRITE_NEEDS[api], None)

    own_client = client is None
    http = HttpClient(
        base_url=base_url,
        client=client or httpx.Client(follow_redirects=False, verify=True),
        extra_headers=dict(extra_headers or {}),
        timeout_s=timeout_s,
        limiter=rate_limiter or RateLimiter(None),
        deadline=deadline,
        stop=stop,
    )
    http.on_exchange.extend(on_exchange)
    outcomes: dict[str, list[Outcome]] = {cid: [] for cid in selected}
    advisories: dict[str, list[Advisory]] = {cid: [] for cid in selected}
    measurements: dict[str, dict[str, Any]] = {cid: {} for cid in selected}
    routing = _Routing()
    resolved_run_id = run_id or uuid.uuid4().hex[:12]
    ledger = Ledger(ledger_path, api, base_url, resolved_run_id)
    created = ledger.entries
    evidence = evidence or EvidenceBuilder()
    secrets: dict[tuple[str, str], str] = {}
    watch = CreationWatch(ledger, (), lambda: http.label, secrets)
    if mode != "replay":
        http.before_send.append(watch.before_send)
        http.on_exchange.append(watch.on_exchange)

    def record(outcome: Outcome) -> None:
        if not routing.declared(outcome.clause):
            return
        if outcome.clause in outcomes and not skipped_for_needs.get(outcome.clause):
            outcomes[outcome.clause].append(outcome)

    def measure(cid: str, key: str, value: Any) -> None:
        if routing.declared(cid) and cid in measurements:
            measurements[cid][key] = value

    def advise(advisory: Advisory) -> None:
        if not routing.declared(advisory.clause):
            return
        if advisory.clause in advisories and not skipped_for_needs.get(advisory.clause):
            advisories[advisory.clause].append(advisory)

    def add_created(kind: str, ident: str, cleanup: tuple[str, str] | None) -> None:
        entry = ledger.created(kind, ident, cleanup)
        if on_created:
            on_created(entry)

    shared_state: dict[str, Any] = state if state is not None else {}
    shared_state[SECRETS_KEY] = secrets  # in memory only: cleaners check what is gone
    ctx = Context(
        api=api,
        mode=mode,
        http=http,
        credentials=creds,
        seed=seed,
        budget=budget,
        run_id=resolved_run_id,
        clock=clock or time.time,
        writes_allowed=writes_allowed,
        disruptive_allowed=disruptive_allowed,
        state=shared_state,
        evidence=evidence,
        on_created=add_created,
        on_outcome=record,
        on_measure=measure,
        on_advisory=advise,
        stream=stream,
    )

    skipped_for_needs: dict[str, list[str]] = {}
    for cid in selected:
        missing = _missing_needs(catalogue[cid], creds)
        if missing:
            skipped_for_needs[cid] = missing

    interrupted = ""
    running: CheckFunction | None = None
    try:
        checks = load_checks(api, suites_root) if selected else []
        watch.creations = creations_of(api)
        runnable = [
            check
            for check in checks
            if any(c in selected and c not in skipped_for_needs for c in check.clauses)
        ]
        # an interrupted run starts no unit: nothing is sent, the checks say why they did not run
        if runnable and not (stop is not None and stop.is_set()):
            http.label = "preflight"
            for pre in _preflights(api):
                try:
                    pre(ctx)
                except (CredentialsRefused, TargetUnreachable, TransportError) as exc:
                    raise PreflightFailed(str(exc)) from exc
        last_check = {cid: check for check in runnable for cid in check.clauses}
        for check in runnable:
            if deadline is not None and time.monotonic() > deadline:
                for cid in check.clauses:
                    if cid in outcomes and not outcomes[cid]:
                        record(Outcome(cid, "error", "run deadline reached before this check ran"))
                continue
            if stop is not None and stop.is_set():
                for cid in check.clauses:
                    if cid in outcomes and not outcomes[cid]:
                        record(Outcome(cid, "error", "run interrupted before this check ran"))
                continue
            http.label = check.module.rsplit(".", 1)[-1]
            if progress:
                progress(api, check.clauses[0], "running")
            running = check
            _run_check(ctx, check, outcomes, record, routing, advisories)
            running = None
            if progress:
                for cid in check.clauses:
                    if cid in outcomes and last_check.get(cid) is check:
                        progress(api, cid, fold(outcomes[cid])[0])
    except KeyboardInterrupt as exc:
        # Ctrl-C or SIGTERM in this thread: what finished stays, the rest is an error
        interrupted = signal_name(exc)
        if stop is not None:
            stop.set()
        for cid in running.clauses if running is not None else ():
            if cid in outcomes:
                record(Outcome(cid, "error", "run interrupted"))
        for cid, found in outcomes.items():
            if not found:
                record(Outcome(cid, "error", "run interrupted"))
    finally:
        for entry in watch.unanswered():
            ledger.created(entry["kind"], None, None, why=entry["why"], n=entry["n"])
        cleanup_failures = clean_up(ctx, ledger) if cleanup and mode != "replay" else []
        interrupted = interrupted or ledger.interrupted  # Ctrl-C while cleaning up
        if own_client:
            http.close()

    results: list[ClauseResult] = []
    for clause in api_clauses:
        if clause.id not in selected:
            continue
        if clause.id in skipped_for_needs:
            needs = ", ".join(describe_need(n) for n in skipped_for_needs[clause.id])
            verdict, reason = "skip", f"needs {needs}"
            clause_outcomes: list[Outcome] = []
        else:
            clause_outcomes = outcomes[clause.id]
            verdict, reason = fold(clause_outcomes)
        internal = verdict == "error" and any(
            o.internal for o in clause_outcomes if o.verdict == "error"
        )
        evidence_list: list[dict[str, Any]] = []
        relevant = [o for o in clause_outcomes if o.verdict == verdict] or clause_outcomes
        for o in relevant:
            for item in o.evidence:
                if len(evidence_list) < 6:
                    evidence_list.append(item)
        results.append(
            ClauseResult(
                id=clause.id,
                api=api,
                area=clause.area,
                level=clause.level,
                title=clause.title,
                verdict=verdict,
                reason=reason,
                evidence=evidence_list,
                measurements=measurements.get(clause.id, {}),
                outcomes=clause_outcomes,
                advisories=[] if clause.id in skipped_for_needs else advisories[clause.id],
                internal=internal,
            )
        )
    return ApiRun(
        api=api,
        mode=mode,
        base_url=base_url,
        clauses=results,
        requests_sent=http.sent,
        created=created,
        cleanup_failures=cleanup_failures,
        elapsed_s=time.monotonic() - started,
        interrupted=interrupted,
    )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that cleanup runs; the exit status is 143, not 130."""


def signal_name(exc: BaseException) -> str:
    """Which signal an interrupt came from."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


def footprint(api: str, selected: Iterable[str] | None, budget: str, live: bool) -> dict[str, int]:
    """The most a run of these clauses creates, per kind, from the suites' declarations
    (``FOOTPRINT`` of a module, or its ``footprint(budget, live)``); "message" counts the
    e-mails or SMS that may go to the safe contacts."""
    from teleconform.properties import BUDGETS

    wanted = None if selected is None else set(selected)
    modules = {
        check.module for check in load_checks(api) if wanted is None or wanted & set(check.clauses)
    }
    totals: dict[str, int] = {}
    for name in sorted(modules):
        module = sys.modules[name]
        declared = getattr(module, "footprint", None)
        counts = (
            declared(BUDGETS.get(budget, BUDGETS["standard"]), live)
            if callable(declared)
            else getattr(module, "FOOTPRINT", {})
        )
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + int(count)
    return totals


def creations_of(api: str) -> list[Creation]:
    """The creating operations an API's suites declare (``TELECONFORM_CREATES``)."""
    found: list[Creation] = []
    prefix = f"{SUITES_PACKAGE}.{api}."
    for name, module in sorted(sys.modules.items()):
        if name.startswith(prefix) and module is not None:
            for creation in getattr(module, "TELECONFORM_CREATES", ()):
                if creation not in found:
                    found.append(creation)
    return found


def _cleaners(api: str) -> list[Callable[[Context, dict[str, Any]], bool]]:
    found = []
    prefix = f"{SUITES_PACKAGE}.{api}."
    for name, module in sorted(sys.modules.items()):
        if name.startswith(prefix) and module is not None:
            for value in vars(module).values():
                if getattr(value, "__teleconform_cleaner__", False) and value.__module__ == name:
                    found.append(value)
    return found


def clean_up(ctx: Context, ledger: Ledger) -> list[dict[str, Any]]:
    """Undo what the run created; returns the entries that could not be undone.

    Newest first, so a child (a consultation) goes before its parent (the invite); a parent
    whose child could not be removed is kept, since removing it would orphan the child.
    Entries the API cannot remove go last: a cleaner may find them gone with their parent.
    A Ctrl-C here says what is still being removed; a second one stops, and what is left
    stays in the ledger for ``teleconform cleanup``.
    """
    if not ledger.entries:
        return []
    cleaners = _cleaners(ctx.api)
    ctx.http.label = "cleanup"
    failures: list[dict[str, Any]] = []
    entries = list(reversed(list(ledger.entries)))
    todo = [e for e in entries if e.get("cleanup")] + [e for e in entries if not e.get("cleanup")]
    kept_children: dict[str, dict[str, Any]] = {}
    warned = False
    index = 0
    while index < len(todo):
        entry = todo[index]
        try:
            cleaned, detail, why = _clean_one(ctx, entry, cleaners, kept_children)
        except KeyboardInterrupt as exc:
            ledger.interrupted = ledger.interrupted or signal_name(exc)
            left = todo[index:]
            if not warned:
                warned = True
                _say_still_removing(ledger, left)
                continue  # the same entry again
            for rest in left:
                why = "cleanup stopped by an interrupt; `teleconform cleanup LEDGER` removes it"
                ledger.outcome(rest, False, why)
                failures.append({**rest, "detail": why, "why": rest.get("why") or why})
            break
        ledger.outcome(entry, cleaned, detail)
        if not cleaned:
            failures.append({**entry, "detail": detail, "why": why})
            if entry.get("id") is not None:
                kept_children.setdefault(str(entry["id"]), entry)
        index += 1
    return failures


def _clean_one(
    ctx: Context,
    entry: dict[str, Any],
    cleaners: list[Callable[[Context, dict[str, Any]], Any]],
    failed: dict[str, dict[str, Any]],
) -> tuple[bool, str, str]:
    """(cleaned, detail for the ledger, why for left_behind)."""
    if entry.get("id") is None:
        why = str(entry.get("why") or "created but not identified")
        return False, why, why
    orphans = [
        child
        for child in failed.values()
        if child.get("parent") == entry["id"] and child.get("cleanup")
    ]
    if orphans and entry.get("cleanup"):
        # the cleaner must not remove it; it may only find it gone already
        child = orphans[0]
        entry = {**entry, "keep_for": f"{child['kind']} {child['id']}"}
        why = (
            f"kept: removing it would orphan its {child['kind']} {child['id']}, which "
            "could not be removed"
        )
        for cleaner in cleaners:
            with contextlib.suppress(Exception):
                if cleaner(ctx, entry) is True:
                    return True, "already gone", ""
        return False, why, why
    detail = "no cleaner for this API"
    explained = False
    for cleaner in cleaners:
        try:
            answer = cleaner(ctx, entry)
        except Exception as exc:  # cleanup must go on whatever one entry does
            detail = f"{type(exc).__name__}: {exc}"
            continue
        if answer is True:
            return True, "cleaned", ""
        if isinstance(answer, str) and answer:
            detail, explained = answer, True
            break
        if answer is False:
            detail = "the target refused the cleanup request"
            if entry.get("cleanup"):
                break
    if not entry.get("cleanup") and not explained:
        why = str(entry.get("why") or "the API offers no operation to remove it")
        return False, why, why
    return False, detail, detail if explained else f"cleanup failed: {detail}"


def _say_still_removing(ledger: Ledger, left: list[dict[str, Any]]) -> None:
    names = ", ".join(f"{e.get('kind')} {e.get('id') or '(unidentified)'}" for e in left[:6])
    more = f" and {len(left) - 6} more" if len(left) > 6 else ""
    where = f" listed in {ledger.path}" if ledger.path else ""
    print(
        f"teleconform: still removing what this run created: {names}{more}. "
        f"Interrupt again to stop now: what is not removed stays,{where} for "
        "`teleconform cleanup`.",
        file=sys.stderr,
        flush=True,
    )


class _Routing:
    """Which clause ids the running check declared; what it reported outside them.

    A check may only report on the clauses of its ``@clause``: an outcome, measurement or
    advisory for any other id (a typo such as ``HCW-AUTH-1``) would otherwise be dropped and
    the clause it meant would read ``skip``. Such a check is a bug of teleconform.
    """

    def __init__(self) -> None:
        self.check: CheckFunction | None = None
        self.strays: list[str] = []

    def declared(self, cid: str) -> bool:
        """Whether the running check may report on ``cid`` (noted when it may not)."""
        if self.check is None or cid in self.check.clauses:
            return True
        if cid not in self.strays:
            self.strays.append(cid)
        return False


def _run_check(
    ctx: Context,
    check: CheckFunction,
    outcomes: dict[str, list[Outcome]],
    record: Callable[[Outcome], None],
    routing: _Routing,
    advisories: dict[str, list[Advisory]],
) -> None:
    before = {cid: len(outcomes.get(cid, [])) for cid in check.clauses}
    advised = {cid: len(advisories.get(cid, [])) for cid in check.clauses}

    def unresolved() -> list[str]:
        return [
            cid for cid in check.clauses if cid in outcomes and len(outcomes[cid]) == before[cid]
        ]

    routing.check, routing.strays = check, []
    try:
        _call_check(ctx, check, record, unresolved)
    finally:
        routing.check = None
    if routing.strays:
        strays = ", ".join(routing.strays)
        log.error(
            "check %s.%s reported on %s, which its @clause does not declare (%s)",
            check.module,
            check.name,
            strays,
            ", ".join(check.clauses),
        )
        message = (
            f"internal error: check {check.name} reported on {strays}, which it does not "
            f"declare (@clause {', '.join(check.clauses)}); its verdicts cannot be trusted "
            "(a bug in teleconform)"
        )
        for cid in check.clauses:
            if cid not in outcomes:
                continue
            # what this check said about its own clauses is void: the verdict is the bug
            del outcomes[cid][before[cid] :]
            if cid in advisories:
                del advisories[cid][advised[cid] :]
            record(Outcome(cid, "error", message, internal=True))
        return
    for cid in unresolved():
        record(Outcome(cid, "error", f"not decided by its check {check.name}"))


def _call_check(
    ctx: Context,
    check: CheckFunction,
    record: Callable[[Outcome], None],
    unresolved: Callable[[], list[str]],
) -> None:
    """Run one check; an exception gives its undecided clauses their verdict (error, skip)."""
    try:
        if check.module.endswith(".properties"):
            # Hypothesis (under schemathesis) is not thread-safe: one property run at a time.
            with _PROPERTY_LOCK:
                check.func(ctx)
        else:
            check.func(ctx)
    except NeedMissing as exc:
        for cid in unresolved():
            record(Outcome(cid, "skip", f"needs {describe_need(str(exc))}"))
    except PreconditionFailed as exc:
        message = str(exc.args[0]) if exc.args else "precondition failed"
        evidence = exc.args[1] if len(exc.args) > 1 else []
        for cid in unresolved():
            record(Outcome(cid, "error", f"precondition failed: {message}", list(evidence)))
    except TransportError as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", str(exc)))
    except DeadlineReached as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", str(exc)))
    except CredentialsRefused as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", f"credentials refused: {exc}"))
    except Exception as exc:  # a check tripped over an unexpected answer or a bug of ours
        log.error("check %s.%s crashed:\n%s", check.module, check.name, traceback.format_exc())
        for cid in unresolved():
            record(
                Outcome(
                    cid,
                    "error",
                    f"check {check.name} could not finish: {type(exc).__name__}: {exc}",
                )
            )


def cleanup_from_ledger(
    path: Path,
    credentials: Mapping[str, str],
    *,
    client: httpx.Client | None = None,
    timeout_s: float = 10.0,
) -> tuple[int, list[dict[str, Any]]]:
    """Finish a killed run's cleanup from its ledger; returns (entries tried, failures)."""
    from teleconform.runner.ledger import read_ledger

    header, remaining = read_ledger(path)
    api, base_url = str(header["api"]), str(header["base_url"])
    if api not in WRITE_NEEDS:
        raise ValueError(f"{path}: unknown API {api!r}")
    load_checks(api)  # imports the API's suite modules, which define its cleaner
    http = HttpClient(base_url=base_url, client=client or httpx.Client(), timeout_s=timeout_s)
    ledger = Ledger(None, api, base_url, str(header.get("run_id", "")))
    ledger.path = path  # append outcomes to the same file
    ledger.entries.extend(remaining)
    ctx = Context(
        api=api,
        mode="live",
        http=http,
        credentials=dict(credentials),
        seed=0,
        budget="quick",
        run_id=str(header.get("run_id", "")),
        clock=time.time,
        writes_allowed=True,
        disruptive_allowed=False,
        state={},
        evidence=EvidenceBuilder(),
        on_created=lambda *a: None,
        on_outcome=lambda o: None,
        on_measure=lambda *a: None,
    )
    try:
        return len(remaining), clean_up(ctx, ledger)
    finally:
        http.close()


def work_units(
    api: str, selected: Iterable[str] | None, root: Path | None = None
) -> list[set[str]]:
    """Clause sets that can run in parallel: suite modules joined when they share a clause.

    A module is a unit of its own because its checks chain (create, then read) through
    ``ctx.state``; two modules serving one clause must run together so its verdict folds once.
    """
    checks = load_checks(api, root)
    wanted = None if selected is None else set(selected)
    modules: dict[str, set[str]] = {}
    for check in checks:
        ids = {c for c in check.clauses if wanted is None or c in wanted}
        if ids:
            modules.setdefault(check.module, set()).update(ids)
    units: list[set[str]] = []
    for ids in modules.values():
        joined = [u for u in units if u & ids]
        merged = set(ids).union(*joined) if joined else set(ids)
        units = [u for u in units if not (u & ids)] + [merged]
    if wanted is not None:
        covered = set().union(*units) if units else set()
        rest = wanted - covered  # clauses no check declares: the runner reports them as skip
        if rest:
            units.append(rest)
    return units


def run_api_parallel(
    api: str,
    base_url: str,
    credentials: Mapping[str, str] | None = None,
    *,
    clauses: Iterable[str] | None = None,
    workers: int = 2,
    **kwargs: Any,
) -> ApiRun:
    """``run_api`` over independent work units in ``workers`` threads, merged into one ApiRun."""
    from concurrent.futures import ThreadPoolExecutor

    units = work_units(api, clauses, kwargs.get("suites_root"))
    if workers <= 1 or len(units) <= 1:
        return run_api(api, base_url, credentials, clauses=clauses, **kwargs)
    state = kwargs.pop("state", None) or {}
    stop = kwargs["stop"] = kwargs.get("stop") or threading.Event()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"tc-{api}") as pool:
        futures = [
            # each unit draws its own random stream: two units minting tokens at the same
            # second must not produce the same jti (a server would see a replay)
            pool.submit(
                run_api,
                api,
                base_url,
                credentials,
                clauses=unit,
                state=dict(state),
                stream=f"unit-{index}",
                **kwargs,
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
    order = {cid: i for i, cid in enumerate(kwargs.get("catalogue") or load_catalogue())}
    merged = ApiRun(
        api=api,
        mode=parts[0].mode,
        base_url=base_url,
        clauses=sorted((c for p in parts for c in p.clauses), key=lambda c: order.get(c.id, 0)),
        requests_sent=sum(p.requests_sent for p in parts),
        created=[e for p in parts for e in p.created],
        cleanup_failures=[e for p in parts for e in p.cleanup_failures],
        interrupted=interrupted or next((p.interrupted for p in parts if p.interrupted), ""),
    )
    merged.elapsed_s = time.monotonic() - started
    return merged


def _result_after_stop(future: Any) -> ApiRun:
    """A unit's run once the stop is set; a second interrupt while waiting is not lost."""
    while True:
        try:
            result: ApiRun = future.result()
            return result
        except KeyboardInterrupt:
            print(
                "teleconform: stopping: the running checks finish their request and clean "
                "up; interrupt again while cleanup runs to stop it",
                file=sys.stderr,
            )
