"""HCW@Home property tests: every operation of specs/hcw-athome.openapi.yaml with generated
positive and negative data, the spec's links (invite create -> get/update/delete/close ->
login-invite -> consultation), authentication probes, and the built-in response checks.

Routing: a 5xx (or no answer) -> HCW-GEN-01; accepted without or with an invalid credential
on an invite/consultation operation -> HCW-GEN-02; a non-JSON /api/v1 answer -> HCW-GEN-03;
every other failure -> HCW-GEN-04. A generated request the server accepted or refused other
than our schema guessed (which inputs must be taken is stated only by the scenario clauses,
e.g. HCW-INV-02, HCW-GEN-01) is an advisory of HCW-GEN-04, never a failure; the REFUSALS and
LENIENT operations below drop even that. Budgets and the stated minimum:
teleconform.properties.

Every invite the property tests create carries the run id (note ``teleconform <run id>``, and
the default lastName ``Probe-<run id>``), like the scenario suites' invites.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from teleconform.properties import (
    Budget,
    ClauseMap,
    Resource,
    default_invalid_auth,
    run_property_tests,
)
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
# Not reached along links: with a real invite token, login-invite creates a temporary patient
# account that no API operation removes, and the consultation it leads to is orphaned when
# the invite is deleted (real servers allow that). The lifecycle checks use one patient
# session for what needs one; generated cases of both operations are still sent.
UNFOLLOWED = ("POST /api/v1/login-invite", "POST /api/v1/consultation")
CREATE_INVITE = "POST /api/v1/invite"

# Operations whose schema-valid generated data is rightly refused, so a 4xx to it is an
# accepted answer rather than HCW-GEN-04's "Schema-valid request rejected" (HCW-GEN-04: "Where
# a clause accepts any 4xx, the spec documents that range for the operation too"; the spec
# documents 4XX for each, tests/test_properties.py checks it). Only generated cases: a request
# along a link carries the real id or token of a created invite, and a 4xx to it stays a
# finding. Decided per operation:
_RANDOM_INVITE_ID = "random invite id (HCW-INV-10: any 4xx for an id that does not exist)"
REFUSALS = {
    # random e-mail and password name no account: HCW-AUTH-03 accepts any 4xx for wrong
    # credentials (which one is HCW-AUTH-06, a SHOULD; real servers answer 400)
    "POST /api/v1/login-local": "random credentials (HCW-AUTH-03: any 4xx)",
    # a random inviteToken is no invitation's token: the same wrong-credential refusal
    "POST /api/v1/login-invite": "random invitation token",
    # a random string is not a JWT signed with the shared secret: HCW-SSO-03/04 ask for a
    # refusal without naming its status (real servers answer 401)
    "GET /api/v1/external-auth-callback": "random SSO token (HCW-SSO-03/04: refused)",
    "POST /api/v1/external-auth-callback": "random SSO token (HCW-SSO-03/04: refused)",
    # a random invitationToken names no invitation, and the run's token is not a patient's
    "POST /api/v1/consultation": "random invitation token, not a patient's token",
    # a random consultation id names no consultation, and a scheduler may not accept one
    # (doctors and admins only); no clause names the status
    "POST /api/v1/consultation/{consultation}/accept": "random consultation id",
    # HCW-INV-10: an id that does not exist, well-formed or not, gets any 4xx (404 expected;
    # real servers answer some malformed ids 400)
    "GET /api/v1/invite/{id}": _RANDOM_INVITE_ID,
    "PATCH /api/v1/invite/{id}": _RANDOM_INVITE_ID,
    "DELETE /api/v1/invite/{id}": _RANDOM_INVITE_ID,
    "POST /api/v1/invite/{id}/consultation/close": _RANDOM_INVITE_ID,
}
# Not listed: the invite list and invite creation, whose valid data must be accepted.

# Operations where schema-violating data may rightly be accepted (decided per operation):
LENIENT = {
    # "For the content, refer to the creation": the guide promises no validation of an
    # update, and real servers do almost none (reference/hcw-athome-backend-facts.md §5.5:
    # no type, gender, e-mail or required-field checks; falsy values mean "unchanged"). A 5xx
    # is still HCW-GEN-01, a wrong answer still HCW-GEN-04; the invites suite checks what
    # an update must do (HCW-INV-11).
    "PATCH /api/v1/invite/{id}": "an update's fields are not validated by real servers",
}


def footprint(budget: Budget, live: bool) -> dict[str, int]:
    """The most the property tests create, per kind (``run --dry-run``).

    Invites: every POST /api/v1/invite case (positive, negative, and the auth probes without
    or with an invalid credential: 3 variants), each of which may notify its patient at the
    safe contacts. login-invite and consultation are only sent with generated (random)
    tokens, which name no invitation, so they create nothing.
    """
    invites = budget.positive + budget.negative + 3 * budget.auth_probes
    return {"invite": invites, "message": invites}


def prepare(ctx: Context, case: Any, mode: str) -> None:
    """Give positive invite bodies what the target needs to accept them.

    The schema cannot say that doctorEmail must name an existing doctor, queue an existing
    queue, scheduledFor a future instant, patientTZ an IANA zone or birthDate a date: a
    generated value would be rightly refused, which is not a finding. firstName, lastName and
    gender are optional in the guide (so in the spec) but required by real servers (spec
    description of createInvite): a creation gets them when the generated body lacks them.
    Every creation body (negative ones too) gets the run id in its note.
    """
    label = f"{case.method.upper()} {case.path}"
    if label not in INVITE_WRITES or not isinstance(case.body, dict):
        return
    body = dict(case.body)
    if label == CREATE_INVITE:
        # whatever the mode: a negative case a faulty server accepts creates an invite too
        body["note"] = f"teleconform {ctx.run_id}"
    if mode != "positive":
        if body != case.body:
            case.body = body
        return
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
    if label == CREATE_INVITE:
        body.setdefault("firstName", "Ada")
        body.setdefault("lastName", f"Probe-{ctx.run_id}")
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
        refusals=REFUSALS,
        lenient=LENIENT,
        unfollowed=UNFOLLOWED,
    )
