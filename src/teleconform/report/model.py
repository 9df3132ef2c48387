"""The report document's types: report.json as CONTRACT.md "Reports" fixes it.

TypedDicts, so a report stays the plain dict that `json.dumps` writes and the writers read,
while mypy checks every place that builds one. `Required` keys are the CONTRACT's; the
`NotRequired` ones are the project's documented extras (CONTRACT: "extra report fields are the
project's choice"). Documents are built by `teleconform.report._document.build_report` only.
"""

# No `from __future__ import annotations`: TypedDict reads Required/NotRequired from evaluated
# annotations only, and the tests compare __required_keys__ with the report schema.
from typing import Any, Literal, NotRequired, TypedDict

Verdict = Literal["pass", "fail", "skip", "error"]
"""A clause's folded verdict."""

Mode = Literal["sandbox", "live", "replay", "client"]
"""What the run talked to: an embedded sandbox, a live URL, recorded cassettes, or (for the
client report of `sandbox --validate-requests` and `proxy`) the integrator's client."""

VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "skip", "error")

# "pass" is a keyword: the functional form is the only way to spell this TypedDict.
Totals = TypedDict("Totals", {"pass": int, "fail": int, "skip": int, "error": int, "waived": int})
Totals.__doc__ = """Clauses per verdict, and how many `fail`s a baseline waived."""


class Tool(TypedDict):
    """Who wrote the report: teleconform's version and the engines' that shape its verdicts."""

    name: str
    version: str
    schemathesis: NotRequired[str]
    hypothesis: NotRequired[str]


class Target(TypedDict):
    """What an API's run talked to."""

    mode: Mode
    base_url: str
    profile: NotRequired[str]  # the embedded sandbox's behaviour profile (`run`)
    role: NotRequired[str]  # e.g. "webhook listener" (`webhooks listen`)


class EvidenceRequest(TypedDict, total=False):
    """A (redacted) request as evidence."""

    method: str | None
    url: str
    headers: dict[str, Any]
    body: str | None


class EvidenceResponse(TypedDict, total=False):
    """A (redacted) response as evidence; `status` None when no answer came."""

    status: int | None
    headers: dict[str, Any]
    body: str
    elapsed_s: float | None


class Evidence(TypedDict, total=False):
    """One piece of evidence: an exchange (redacted exactly as cassettes are) with notes.

    `redact._evidence.EvidenceBuilder` builds request, response and curl; checks may add
    their own keys (a webhook case, an event index, a note).
    """

    request: EvidenceRequest
    response: EvidenceResponse
    curl: str
    note: str
    case: str
    verdict: str | None
    event_index: int | None


class Advisory(TypedDict):
    """A finding resting on a guess the documents do not make; never a verdict by itself."""

    operation: str
    check: str
    message: str
    evidence: NotRequired[list[Evidence]]


class WebhookCase(TypedDict):
    """One delivery of `webhooks check` (LEAH-WH-02) and what the receiver did."""

    case: str
    description: str
    verdict: str
    reason: str
    status: int | None
    elapsed_s: float | None


class ClauseEntry(TypedDict):
    """One clause of one run: CONTRACT's clause entry."""

    id: str
    level: str
    title: str
    area: NotRequired[str]
    verdict: Verdict
    waived: bool
    reason: str
    evidence: list[Evidence]
    measurements: NotRequired[dict[str, Any]]
    advisories: NotRequired[list[Advisory]]
    # the `error` is a bug of teleconform (a check reported on a clause it does not declare)
    internal_error: NotRequired[bool]
    cases: NotRequired[list[WebhookCase]]


class LeftBehind(TypedDict):
    """Something a live run created and could not remove (`id` None: `count` unidentified)."""

    kind: str
    id: str | None
    count: int
    why: str


class WorkUnit(TypedDict):
    """Where one work unit ran (`run --workers N`)."""

    unit: str
    worker: str
    clauses: list[str]
    requests_sent: int


class Run(TypedDict):
    """One API's run: CONTRACT's entry of `runs`."""

    api: str
    target: Target
    clauses: list[ClauseEntry]
    totals: Totals
    # what the run created on a live target and could not remove; [] claims nothing is left
    left_behind: list[LeftBehind]
    requests_sent: NotRequired[int]  # run: requests the checks sent
    requests_seen: NotRequired[int]  # client report, proxy: requests that passed by
    elapsed_s: NotRequired[float]
    created: NotRequired[list[dict[str, Any]]]
    cleanup_failures: NotRequired[list[dict[str, Any]]]
    units: NotRequired[list[WorkUnit]]


class MergedFrom(TypedDict):
    """One input of `report merge`: where it came from and the seed it ran with."""

    source: str
    seed: int | None


class Report(TypedDict):
    """report.json: CONTRACT's top level."""

    schema_version: Literal[1]
    tool: Tool
    command: NotRequired[str]  # which command wrote it, when not `run` (e.g. "webhooks check")
    seed: int | None
    started_at: str | None
    finished_at: str | None
    totals: Totals
    runs: list[Run]
    notes: NotRequired[list[str]]  # e.g. a replay's cassettes were recorded by another version
    merged_from: NotRequired[list[MergedFrom]]


def empty_totals() -> Totals:
    """All counts zero."""
    return {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0}
