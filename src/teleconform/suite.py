"""The API suites are written against: ``@clause`` and the per-check ``Context``."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from teleconform.runner._http import HttpClient

__all__ = [
    "Advisory",
    "Context",
    "CredentialsRefused",
    "NeedMissing",
    "Outcome",
    "PreconditionFailed",
    "TargetUnreachable",
    "clause",
    "cleaner",
    "preflight",
]

F = TypeVar("F", bound=Callable[..., Any])

_UNSET: Any = object()
MAX_EVIDENCE_PER_OUTCOME = 4


def clause(*ids: str) -> Callable[[F], F]:
    """Declare the clause ids a check function serves."""
    if not ids:
        raise ValueError("@clause needs at least one clause id")

    def mark(func: F) -> F:
        func.__teleconform_clauses__ = tuple(ids)  # type: ignore[attr-defined]
        return func

    return mark


def preflight(func: F) -> F:
    """Mark a function the runner calls before any check (reachability, sign-in)."""
    func.__teleconform_preflight__ = True  # type: ignore[attr-defined]
    return func


def cleaner(func: F) -> F:
    """Mark ``func(ctx, entry) -> bool | str`` that removes one created resource (ledger entry).

    The runner calls it at the end of a run (also after failures, SIGINT/SIGTERM and the run
    deadline), and ``teleconform cleanup LEDGER`` calls it for what a killed run left behind.
    It answers True (removed, or found gone), False (not its kind, or refused) or a sentence
    saying why the thing stays (the report's ``left_behind``). An entry with ``keep_for`` must
    not be removed (that would orphan a child): the cleaner may only find it gone.
    """
    func.__teleconform_cleaner__ = True  # type: ignore[attr-defined]
    return func


class PreconditionFailed(Exception):
    """A check could not reach its verdict (its declared clauses become ``error``)."""


class NeedMissing(Exception):
    """A check asked for a credential or target datum that was not given."""


class CredentialsRefused(Exception):
    """The target refused the configured credentials (exit 3 when raised in a preflight)."""


class TargetUnreachable(Exception):
    """The target is not the API it should be (exit 3 when raised in a preflight)."""


@dataclass(slots=True)
class Outcome:
    """One check's finding for one clause."""

    clause: str
    verdict: str  # pass | fail | error | skip
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    # set by the runner: the outcome stands for a bug of teleconform (a check that reported
    # on a clause it does not declare), which makes the run exit 4 if nothing else failed
    internal: bool = False


@dataclass(slots=True)
class Advisory:
    """A finding that rests on a guess the documents do not make; it never decides a verdict.

    E.g. a property test's "Schema-valid request rejected": our schema allows an extra body
    field that the server refuses, which no document forbids it to do.
    """

    clause: str
    operation: str
    check: str
    message: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "operation": self.operation,
            "check": self.check,
            "message": self.message,
        }
        if self.evidence:
            data["evidence"] = self.evidence
        return data


EvidenceBuilder = Callable[[httpx.Response], dict[str, Any]]


class Context:
    """What a check sees of the run: the target, credentials, clock, state and outcomes."""

    def __init__(
        self,
        *,
        api: str,
        mode: str,
        http: HttpClient,
        credentials: Mapping[str, str],
        seed: int,
        budget: str,
        run_id: str,
        clock: Callable[[], float],
        writes_allowed: bool,
        disruptive_allowed: bool,
        state: dict[str, Any],
        evidence: EvidenceBuilder,
        on_created: Callable[[str, str, tuple[str, str] | None], None],
        on_outcome: Callable[[Outcome], None],
        on_measure: Callable[[str, str, Any], None],
        on_advisory: Callable[[Advisory], None] | None = None,
        stream: str = "",
    ) -> None:
        self.api = api
        self.mode = mode
        self.http = http
        self.seed = seed
        self.budget = budget
        self.run_id = run_id
        self.writes_allowed = writes_allowed
        self.disruptive_allowed = disruptive_allowed
        self.state = state
        self.random = random.Random(f"{seed}:{stream}" if stream else seed)
        self._credentials = dict(credentials)
        self._clock = clock
        self._evidence = evidence
        self._on_created = on_created
        self._on_outcome = on_outcome
        self._on_measure = on_measure
        self._on_advisory = on_advisory

    @property
    def base_url(self) -> str:
        return self.http.base_url

    # -- inputs ---------------------------------------------------------------------------
    def has(self, need: str) -> bool:
        """Whether a need (e.g. ``hcw.sso_secret``) was given for this run."""
        return bool(self._credentials.get(need))

    def need(self, need: str) -> str:
        """The value of a need; raises NeedMissing when it was not given."""
        value = self._credentials.get(need)
        if not value:
            raise NeedMissing(need)
        return value

    def now(self) -> float:
        """The run clock, epoch seconds (frozen at recording time in a replay)."""
        return self._clock()

    # -- requests -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        json: Any = _UNSET,
        content: bytes | str | None = None,
        data: Any = None,
        files: Any = None,
        follow_redirects: bool = False,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request to the target (path relative to the base URL, or absolute)."""
        kwargs: dict[str, Any] = {"params": params, "headers": dict(headers or {})}
        if json is not _UNSET:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
        if data is not None:
            kwargs["data"] = data
        if files is not None:
            kwargs["files"] = files
        response = self.http.request(method, path, timeout=timeout, **kwargs)
        if follow_redirects:
            hops = 0
            while response.is_redirect and hops < 5:
                location = response.headers.get("location", "")
                response = self.http.request(
                    "GET", str(response.url.join(location)), timeout=timeout
                )
                hops += 1
        return response

    # -- outcomes -------------------------------------------------------------------------
    def _record(
        self, clause_id: str, verdict: str, message: str, responses: tuple[Any, ...]
    ) -> None:
        evidence = [
            self._evidence(r)
            for r in responses[:MAX_EVIDENCE_PER_OUTCOME]
            if isinstance(r, httpx.Response)
        ]
        self._on_outcome(Outcome(clause_id, verdict, message, evidence))

    def passes(self, clause_id: str, message: str, *responses: httpx.Response) -> None:
        """The clause's condition was exercised and held."""
        self._record(clause_id, "pass", message, responses)

    def fails(self, clause_id: str, message: str, *responses: httpx.Response) -> None:
        """The clause's condition was exercised and violated."""
        self._record(clause_id, "fail", message, responses)

    def errors(self, clause_id: str, message: str, *responses: httpx.Response) -> None:
        """The check could not reach a verdict for this clause."""
        self._record(clause_id, "error", message, responses)

    def skips(self, clause_id: str, reason: str) -> None:
        """The clause's condition could not be exercised here (never counts as pass)."""
        self._record(clause_id, "skip", reason, ())

    def expect(
        self, clause_id: str, condition: bool, message: str, *responses: httpx.Response
    ) -> bool:
        """Pass when ``condition`` holds, fail otherwise; returns the condition."""
        if condition:
            self.passes(clause_id, message, *responses)
        else:
            self.fails(clause_id, message, *responses)
        return condition

    def advises(
        self,
        clause_id: str,
        operation: str,
        check: str,
        message: str,
        *responses: httpx.Response,
    ) -> None:
        """Attach an advisory to a clause: reported, but never its verdict or the exit status.

        For findings that rest on a guess the documents do not make (which inputs a server
        must accept or refuse); ``run --fail-on-advisory`` lets them fail the run.
        """
        if self._on_advisory is None:
            return
        evidence = [self._evidence(r) for r in responses[:1] if isinstance(r, httpx.Response)]
        self._on_advisory(Advisory(clause_id, operation, check, message, evidence))

    def precondition(self, condition: bool, message: str, *responses: httpx.Response) -> None:
        """Stop the check when a precondition does not hold (clauses without outcome: error)."""
        if not condition:
            evidence = [self._evidence(r) for r in responses if isinstance(r, httpx.Response)]
            raise PreconditionFailed(message, evidence)

    def measure(self, clause_id: str, key: str, value: Any) -> None:
        """Attach a measurement (e.g. the SSO accepted window) to a clause's report entry."""
        self._on_measure(clause_id, key, value)

    def created(self, kind: str, ident: str, cleanup: tuple[str, str] | None = None) -> None:
        """Enter a created resource in the cleanup ledger."""
        self._on_created(kind, ident, cleanup)
