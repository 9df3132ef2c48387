"""HCW@Home property tests: every operation of specs/hcw-athome.openapi.yaml with generated
positive and negative data, the spec's links (invite create -> get/update/delete/close ->
login-invite -> consultation), authentication probes, and the built-in response checks.

Routing: a 5xx (or no answer) -> HCW-GEN-01; accepted without or with an invalid credential
on an invite/consultation operation -> HCW-GEN-02; a non-JSON /api/v1 answer -> HCW-GEN-03;
every other failure -> HCW-GEN-04. Budgets and the stated minimum: teleconform.properties.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from teleconform.properties import ClauseMap, Resource, default_invalid_auth, run_property_tests
from teleconform.suite import Context, clause

from ._common import auth_headers, is_jwt, unverified_claims

SPEC = "hcw-athome.openapi.yaml"
CLAUSES = ClauseMap(
    default="HCW-GEN-04",
    server_error="HCW-GEN-01",
    auth="HCW-GEN-02",
    auth_paths=r"^/api/v1/(invite|consultation)",
    non_json="HCW-GEN-03",
    non_json_paths=r"^/api/v1/",
)
RESOURCES = [
    Resource("POST /api/v1/invite", "invite", "/invite/id", ("DELETE", "/api/v1/invite/{id}")),
]
INVITE_WRITES = ("POST /api/v1/invite", "PATCH /api/v1/invite/{id}")


def prepare(ctx: Context, case: Any, mode: str) -> None:
    """Give positive invite bodies what the target needs to accept them.

    The schema cannot say that doctorEmail must name an existing doctor, queue an existing
    queue, scheduledFor a future instant, patientTZ an IANA zone or birthDate a date: a
    generated value would be rightly refused, which is not a finding. firstName, lastName and
    gender are optional in the guide (so in the spec) but required by real servers (spec
    description of createInvite): a creation gets them when the generated body lacks them.
    """
    label = f"{case.method.upper()} {case.path}"
    if mode != "positive" or label not in INVITE_WRITES or not isinstance(case.body, dict):
        return
    body = dict(case.body)
    if "doctorEmail" in body or (label == "POST /api/v1/invite" and "queue" not in body):
        if ctx.has("hcw.doctor_email"):
            body["doctorEmail"] = ctx.need("hcw.doctor_email")
        else:
            body.pop("doctorEmail", None)
    if "queue" in body:
        if ctx.has("hcw.queue"):
            body["queue"] = ctx.need("hcw.queue")
        else:
            body.pop("queue")
    if label == "POST /api/v1/invite":
        body.setdefault("firstName", "Ada")
        body.setdefault("lastName", "Probe")
        body.setdefault("gender", "female")
    if "scheduledFor" in body:
        when = datetime.fromtimestamp(ctx.now(), UTC) + timedelta(days=2)
        body["scheduledFor"] = when.replace(microsecond=0).isoformat()
    if "patientTZ" in body:
        body["patientTZ"] = "Europe/Zurich"
    if "birthDate" in body:
        body["birthDate"] = "1980-01-31"
    if body != case.body:
        case.body = body


def invalid_credentials(headers: Mapping[str, str]) -> list[dict[str, str]]:
    """A garbage token, and the run's own token re-signed with another key.

    The re-signed token keeps the real claims (its ``id`` included: a verified token without
    one is the crash class of the real backend), so only a server that skips the signature
    check accepts it.
    """
    variants = default_invalid_auth(headers)
    foreign: dict[str, str] = {}
    for name, value in headers.items():
        token = value.removeprefix("Bearer ")
        if not is_jwt(token):
            continue
        claims = unverified_claims(token)
        resigned = jwt.encode(claims, "teleconform-foreign-key-" + "x" * 24, algorithm="HS256")
        foreign[name] = resigned if token == value else f"Bearer {resigned}"
    if foreign:
        variants.append(foreign)
    return variants


@clause("HCW-GEN-01", "HCW-GEN-02", "HCW-GEN-03", "HCW-GEN-04")
def property_tests(ctx: Context) -> None:
    run_property_tests(
        ctx,
        spec=SPEC,
        auth=auth_headers,
        clause_map=CLAUSES,
        resources=RESOURCES,
        prepare=prepare,
        invalid_auth=invalid_credentials,
    )
