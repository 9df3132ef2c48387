"""Response validation and failure routing for the property tests.

Private helper of :mod:`teleconform.properties`: runs schemathesis' built-in response checks
on an httpx response, adds the JSON-only check, routes each failure to the clause that claims
it, and folds repeats into one finding per (clause, operation, check).

Two kinds of finding. What the documents (or the spec's documented responses) state is a
*failure*: a server error, an undocumented status or content type, a body against its
schema, a missing documented header, a request accepted without credentials. Which inputs a
server must accept or refuse is a guess of the generator from how strict our hand-written
schema happens to be (an extra body field refused, an odd query value ignored with 200, a
schema-valid date in the past refused by a business rule): schemathesis'
positive_data_acceptance, negative_data_rejection and missing_required_header are
*advisories*, reported but never a verdict (HCW-GEN-04, LEAH-GEN-01). The documented inputs
(HCW-INV-02, LEAH-APT-03...) and documented invalid ones (HCW-GEN-01's cases) are judged by
the scenario checks, which state them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import (
    AcceptedNegativeData,
    Failure,
    FailureGroup,
    MalformedJson,
    ServerError,
)
from schemathesis.openapi.checks import (
    ContentDeserializationError,
    MalformedMediaType,
    MissingContentType,
    MissingHeaderNotRejected,
    RejectedPositiveData,
    UndefinedContentType,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from teleconform.properties._map import ClauseMap
from teleconform.properties._spec import GeneratedCase

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
]
CHECK_NAMES = tuple(check.__name__ for check in CHECKS)

SERVER_ERROR = "Server error"
NO_RESPONSE = "No response"
NOT_JSON = "Response is not JSON"
AUTH_NOT_ENFORCED = "Authentication not enforced"
CREATED_NOT_FOUND = "Created resource not found"
DELETED_STILL_AVAILABLE = "Deleted resource still available"

# Failures about the response's media type or JSON body: a more specific JSON-only clause
# claims them when it applies, so they are not reported twice.
_CONTENT_FAILURES = (
    UndefinedContentType,
    MissingContentType,
    MalformedMediaType,
    ContentDeserializationError,
    MalformedJson,
)

# Failures that only say the server accepted or refused an input other than the generator
# guessed from our schema: advisories, never a verdict.
_GUESSES = (RejectedPositiveData, AcceptedNegativeData, MissingHeaderNotRejected)


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check on one response; ``advisory``: it rests on a guess (see above)."""

    clause: str
    check: str
    message: str
    advisory: bool = False


def is_json_media(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return True
    return media.startswith("application/") and media.endswith("+json")


def _first_lines(text: str, limit: int = 300) -> str:
    text = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_finding(response: httpx.Response, clause: str | None) -> Finding | None:
    """The JSON-only check: a JSON content type and a body that parses (204/304 have no body)."""
    if clause is None or response.status_code in (204, 304):
        return None
    content_type = response.headers.get("content-type")
    if not is_json_media(content_type):
        shown = content_type or "no Content-Type"
        return Finding(clause, NOT_JSON, f"{response.status_code} answered with {shown}")
    try:
        json.loads(response.content)
    except ValueError:
        return Finding(clause, NOT_JSON, f"{response.status_code} body is not valid JSON")
    return None


def validate(
    case: GeneratedCase,
    response: httpx.Response,
    clause_map: ClauseMap,
    *,
    refusal_accepted: bool = False,
    violation_accepted: bool = False,
) -> list[Finding]:
    """Run the built-in checks and the JSON check on one response; route each failure.

    ``refusal_accepted``: the operation's schema-valid data is expected to be refused (it
    carries generated credentials or tokens), so a 4xx to it is not "Schema-valid request
    rejected"; the spec documents 4XX for such operations.
    ``violation_accepted``: the operation is documented not to validate (all of) its input,
    so a 2xx to schema-violating data is not "Schema-violating request accepted"; its 5xx
    and its response checks still count.
    """
    path = case.operation.path
    json_clause = clause_map.json_clause(path)
    findings: list[Finding] = []
    not_json = json_finding(response, json_clause)
    if not_json is not None:
        findings.append(not_json)
    failures: list[Failure] = []
    try:
        response.request.read()  # multipart bodies are streams; schemathesis reads .content
    except (httpx.StreamError, RuntimeError):
        pass
    try:
        case.validate_response(response, checks=list(CHECKS))
    except FailureGroup as group:
        failures = [f for f in group.exceptions if isinstance(f, Failure)]
    server_error = any(isinstance(f, ServerError) for f in failures)
    for failure in failures:
        if isinstance(failure, ServerError):
            clause = clause_map.server_error or clause_map.default
        elif server_error:
            # A 5xx is one failure (the server error); its undocumented status or body is not a
            # second one.
            continue
        elif not_json is not None and isinstance(failure, _CONTENT_FAILURES):
            continue
        elif (
            refusal_accepted
            and isinstance(failure, RejectedPositiveData)
            and 400 <= response.status_code < 500
        ):
            continue
        elif violation_accepted and isinstance(failure, AcceptedNegativeData):
            continue
        else:
            clause = clause_map.default
        advisory = isinstance(failure, _GUESSES)
        if advisory:
            message = _advisory_message(failure, response.status_code)
        else:
            message = _first_lines(failure.message) or f"answered {response.status_code}"
        findings.append(Finding(clause, failure.kind_title, message, advisory))
    return findings


# schemathesis' own lines that only restate the check and the statuses it expected
_RESTATED = (
    "Valid data should have been accepted",
    "Invalid data should have been rejected",
    "Expected:",
)


def _advisory_message(failure: Failure, status: int) -> str:
    """What the server did and what the schema said, with schemathesis' hints (no values)."""
    if isinstance(failure, RejectedPositiveData):
        lead = f"answered {status} to a request the spec allows"
    elif isinstance(failure, AcceptedNegativeData):
        lead = f"answered {status} to a request the spec does not allow"
    else:
        lead = f"answered {status}"
    rest = "\n".join(
        line for line in failure.message.splitlines() if not line.strip().startswith(_RESTATED)
    )
    detail = _first_lines(rest)
    return f"{lead}: {detail}" if detail else lead


@dataclass(slots=True)
class _Group:
    count: int = 0
    message: str = ""
    responses: list[httpx.Response] = field(default_factory=list)


class Ledger:
    """Findings folded per (clause, operation, check, advisory), in first-seen order."""

    MAX_EVIDENCE = 3

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str, str, bool], _Group] = {}

    def add(self, operation: str, finding: Finding, response: httpx.Response | None) -> None:
        key = (finding.clause, operation, finding.check, finding.advisory)
        group = self._groups.setdefault(key, _Group(message=finding.message))
        group.count += 1
        if response is not None and len(group.responses) < self.MAX_EVIDENCE:
            group.responses.append(response)

    def failed_clauses(self) -> set[str]:
        """Clauses with a failure (advisories do not count)."""
        return {clause for clause, _, _, advisory in self._groups if not advisory}

    def items(
        self, *, advisory: bool = False
    ) -> list[tuple[str, str, str, int, str, list[httpx.Response]]]:
        """The failures, or with ``advisory=True`` the advisories."""
        return [
            (clause, operation, check, group.count, group.message, group.responses)
            for (clause, operation, check, kind), group in self._groups.items()
            if kind == advisory
        ]

    def summary(self) -> dict[str, Any]:
        return {
            f"{clause} {operation}: {check}" + (" (advisory)" if advisory else ""): group.count
            for (clause, operation, check, advisory), group in self._groups.items()
        }
