"""The specs say what the documents say: every legitimate reading of them is documented.

Where a vendor document leaves room (no answer shown, no status named, no error body), each
reading a conformant server may take (the sandbox profiles are built from the same list,
specs/README.md "Readings") must validate against the spec: otherwise the property tests'
response checks would fail a server for a choice the document allows. And a request schema
forbids nothing the documents do not forbid.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._support import (
    errors_of,
    load_spec,
    operations,
    response_for_status,
    validator,
)

INVITE = {
    "id": "5ff73e1f8f2e5c552b287ff9",
    "createdAt": 1610038815110,
    "updatedAt": 1610038815110,
    "status": "SENT",
    "type": "PATIENT",
    "scheduledFor": 0,
    "phoneNumber": "+41 123 456 789",
    "emailAddress": "",
}
UUID_INVITE = {**INVITE, "id": "0b7c2d4e-1f2a-4b3c-8d9e-0a1b2c3d4e5f"}
CLOSED = {
    "status": "closed",
    "invite": INVITE["id"],
    "createdAt": 1610987459810,
    "closedAt": 1611044353974,
}
ANONYMIZED = {"id": "a1", "consultationId": "c1", "invite": INVITE["id"], "closedAt": 2}


def _op(api: str, operation_id: str) -> Any:
    return next(op for op in operations(api) if op.operation_id == operation_id)


def answer_errors(api: str, operation_id: str, status: int, media: str, body: Any) -> list[str]:
    """Why `body` sent as `media` with `status` is not a documented answer (empty: it is)."""
    op = _op(api, operation_id)
    found = response_for_status(op, status)
    if found is None:
        return [f"{status} is not documented for {operation_id}"]
    response, pointer = found
    content = response.get("content") or {}
    if media not in content:
        return [f"{media} is not documented for {status} of {operation_id}"]
    schema_pointer = f"{pointer}/content/{media.replace('/', '~1')}/schema"
    return errors_of(validator(api, schema_pointer), body)


# ---------------------------------------------------------------------------- HCW@Home


@pytest.mark.parametrize("op", operations("hcw"), ids=lambda op: op.operation_id)
def test_every_hcw_operation_documents_the_guides_general_answers(op: Any) -> None:
    """ "400 : malformed request", "401 : unauthorized request", each by its own code."""
    assert {"400", "401", "4XX"} <= set(op.definition["responses"]), op.operation_id


@pytest.mark.parametrize(
    ("operation_id", "body"),
    [
        ("getInvite", INVITE),
        ("getInvite", {"success": True, "invite": INVITE}),
        ("getInvite", UUID_INVITE),
        ("updateInvite", {"success": True, "invite": {**INVITE, "doctor": {"id": "d1"}}}),
        ("updateInvite", INVITE),
        ("deleteInvite", INVITE),
        ("deleteInvite", {"success": True}),
        ("deleteInvite", {}),
        ("closeConsultation", {**CLOSED, "_id": "6005b7c37e71bb4c879ff56a"}),
        ("closeConsultation", {**CLOSED, "id": "6005b7c37e71bb4c879ff56a"}),
        ("closeConsultation", {**CLOSED, "id": "c1", "_id": "c1"}),
        ("closeConsultation", ANONYMIZED),
        ("loginLocal", {"message": "Login Successful"}),
        ("loginLocal", {"message": "Login Successful", "user": {"token": "a.b.c"}}),
        ("ssoCallback", {"token": "a.b.c"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_hcw_answers_the_guide_leaves_open_are_documented(operation_id: str, body: Any) -> None:
    # bare or enveloped invite reads, `id` or `_id` in a close answer, any body for a DELETE
    # (the guide gives none), the JWT only in a cookie, SSO answering 200 with JSON
    assert answer_errors("hcw", operation_id, 200, "application/json", body) == []


@pytest.mark.parametrize(
    ("operation_id", "status"),
    [
        # a DELETE refused once the patient requested a consultation (no status named)
        *[("deleteInvite", s) for s in (400, 403, 409, 422)],
        # a close refused until a doctor accepted the consultation (HCW-CONS-01 accepts it)
        *[("closeConsultation", s) for s in (400, 403, 404, 409, 422)],
        # a repeated close refused; the patient's earlier session refused after the close
        ("closeConsultation", 409),
        ("requestConsultation", 403),
        ("requestConsultation", 409),
        ("loginInvite", 403),
        ("loginInvite", 404),
        # a patient joining early refused; unknown fields refused as a malformed request
        ("requestConsultation", 400),
        ("createInvite", 400),
        ("updateInvite", 400),
    ],
)
def test_hcw_refusals_are_documented_as_json_or_text(operation_id: str, status: int) -> None:
    for media, body in (
        ("application/json", {"success": False, "error": "refused"}),
        ("application/json", {"message": "refused"}),
        ("text/plain", "Bad Request"),
    ):
        assert answer_errors("hcw", operation_id, status, media, body) == [], (media, body)


def test_a_created_invite_may_come_back_with_its_consultation_shape() -> None:
    # the answer to the patient's earlier session after the close: the same consultation,
    # still closed (HCW-CONS-02 as revised), is a documented 200
    body = {**CLOSED, "_id": "c1"}
    assert answer_errors("hcw", "requestConsultation", 200, "application/json", body) == []


# ---------------------------------------------------------------------------- Leah

LEGACY_ERROR = {
    "@context": "/api/contexts/Error",
    "@type": "hydra:Error",
    "hydra:title": "An error occurred",
    "hydra:description": "Not Found",
}
PROBLEM = {
    "type": "/errors/400",
    "title": "An error occurred",
    "status": 400,
    "detail": "Invalid page",
}
PROBLEM_LD = {"@id": "/api/errors/404", "@type": "hydra:Error", **PROBLEM, "status": 404}
VIOLATIONS = {
    "@type": "ConstraintViolationList",
    "hydra:title": "An error occurred",
    "violations": [{"propertyPath": "startTime", "message": "cannot be changed"}],
}
VIOLATIONS_RFC = {
    "type": "/validation_errors/x",
    "title": "An error occurred",
    "status": 422,
    "detail": "status: cannot be changed",
    "violations": [{"propertyPath": "status", "message": "cannot be changed"}],
}
ERRORS = [
    ("application/ld+json", LEGACY_ERROR),
    ("application/problem+json", PROBLEM),
    ("application/problem+json", PROBLEM_LD),
    ("application/json", PROBLEM),
]


@pytest.mark.parametrize(
    ("operation_id", "status"),
    [
        # a malformed filter or page value refused (API Platform may also ignore it: 200)
        ("listHealthcareWorkers", 400),
        ("listOffices", 400),
        # a PATCH on a cancelled appointment: deleted (404) or kept and refused (422 below)
        ("updateAppointment", 404),
        ("getAppointment", 404),
        # an id that is not a UUID: API Platform answers 404, a server may refuse it as malformed
        ("getAppointment", 400),
        ("updateAppointment", 400),
        ("shareTransfer", 404),
        ("uploadTransferFiles", 404),
        ("createAppointment", 400),
        ("createTransfer", 400),
        ("shareTransfer", 400),
    ],
)
def test_leah_errors_may_be_legacy_json_ld_or_problem_details(
    operation_id: str, status: int
) -> None:
    for media, body in ERRORS:
        assert answer_errors("leah", operation_id, status, media, body) == [], (media, body)


@pytest.mark.parametrize(
    "operation_id",
    [
        "updateAppointment",
        "createAppointment",
        "shareTransfer",
        "uploadTransferFiles",
        "createTransfer",
    ],
)
def test_leah_validation_errors_in_either_spelling(operation_id: str) -> None:
    for media, body in (
        ("application/ld+json", VIOLATIONS),
        ("application/problem+json", VIOLATIONS_RFC),
        ("application/problem+json", {**VIOLATIONS_RFC, "@type": "ConstraintViolation"}),
    ):
        assert answer_errors("leah", operation_id, 422, media, body) == [], (media, body)


def test_transfer_creation_may_answer_200_or_201() -> None:
    body = load_spec("leah")["components"]["examples"]["TransferCreated"]["value"]
    for status in (200, 201):
        assert answer_errors("leah", "createTransfer", status, "application/ld+json", body) == []


def test_share_answers_200_with_any_body() -> None:
    op = _op("leah", "shareTransfer")
    found = response_for_status(op, 200)
    assert found is not None
    for media in found[0].get("content") or {}:
        for body in ({}, {"@type": "Transfer"}, "", []):
            assert answer_errors("leah", "shareTransfer", 200, media, body) == []


# ---------------------------------------------------------------------------- requests


def _request_schemas(api: str) -> list[tuple[str, Any]]:
    found = []
    for op in operations(api):
        content = (op.definition.get("requestBody") or {}).get("content") or {}
        for media, item in content.items():
            found.append((f"{op.operation_id} {media}", item.get("schema")))
    return found


def _closed_objects(node: Any, spec: dict[str, Any], seen: set[str]) -> list[str]:
    """Pointers of schemas reachable from `node` that set additionalProperties: false."""
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
            seen.add(ref)
            target: Any = spec
            for token in ref[2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            found += [f"{ref}: {p}" for p in _closed_objects(target, spec, seen)]
        if node.get("additionalProperties") is False:
            found.append("additionalProperties: false")
        for key, value in node.items():
            if key != "$ref":
                found += _closed_objects(value, spec, seen)
    elif isinstance(node, list):
        for value in node:
            found += _closed_objects(value, spec, seen)
    return found


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_request_schemas_do_not_forbid_unknown_fields(api: str) -> None:
    """No document forbids a field it does not list: a server may ignore or refuse one."""
    spec = load_spec(api)
    closed = {name: _closed_objects(schema, spec, set()) for name, schema in _request_schemas(api)}
    assert not {name: found for name, found in closed.items() if found}
