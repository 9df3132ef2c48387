"""The two hand-written OpenAPI 3.1 specs: validity, operation inventory, clause mapping,
security, and the request schemas' reading of the documents."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from ._support import (
    SENSITIVE_KINDS,
    catalogue_ids,
    component_validator,
    errors_of,
    load_spec,
    operations,
    pointer_get,
    request_schema_pointer,
    response_for_status,
    validator,
    walk,
    webhook_operations,
)

APIS = ["hcw", "leah"]

EXPECTED_OPERATIONS = {
    "hcw": {
        ("post", "/api/v1/login-local"): "loginLocal",
        ("post", "/api/v1/login-invite"): "loginInvite",
        ("get", "/api/v1/invite"): "listInvites",
        ("post", "/api/v1/invite"): "createInvite",
        ("get", "/api/v1/invite/{id}"): "getInvite",
        ("patch", "/api/v1/invite/{id}"): "updateInvite",
        ("delete", "/api/v1/invite/{id}"): "deleteInvite",
        ("post", "/api/v1/invite/{id}/consultation/close"): "closeConsultation",
        ("post", "/api/v1/consultation"): "requestConsultation",
        ("post", "/api/v1/consultation/{consultation}/accept"): "acceptConsultation",
        ("post", "/api/v1/external-auth-callback"): "ssoCallback",
        ("get", "/api/v1/external-auth-callback"): "ssoCallbackGet",
    },
    "leah": {
        ("get", "/api/healthcare_workers"): "listHealthcareWorkers",
        ("get", "/api/offices"): "listOffices",
        ("post", "/api/appointments"): "createAppointment",
        ("get", "/api/appointments/{id}"): "getAppointment",
        ("patch", "/api/appointments/{id}"): "updateAppointment",
        ("post", "/api/transfers"): "createTransfer",
        ("post", "/api/transfers/{id}/files"): "uploadTransferFiles",
        ("post", "/api/transfers/{id}/share"): "shareTransfer",
    },
}

EXPECTED_UNDOCUMENTED = {
    "hcw": {
        "loginInvite",
        "listInvites",
        "requestConsultation",
        "acceptConsultation",
        "ssoCallbackGet",
    },
    "leah": {"getAppointment"},
}

PUBLIC_HCW = {"loginLocal", "loginInvite", "ssoCallback", "ssoCallbackGet"}


def _op(api: str, operation_id: str) -> Any:
    return next(op for op in operations(api) if op.operation_id == operation_id)


@pytest.mark.parametrize("api", APIS)
def test_spec_passes_openapi_spec_validator(api: str) -> None:
    spec = load_spec(api)
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


@pytest.mark.parametrize("api", APIS)
def test_operations_are_the_expected_ones(api: str) -> None:
    found = {(op.method, op.path): op.operation_id for op in operations(api)}
    assert found == EXPECTED_OPERATIONS[api]


@pytest.mark.parametrize("api", APIS)
def test_servers_are_relative(api: str) -> None:
    assert [s["url"] for s in load_spec(api)["servers"]] == ["/"]


@pytest.mark.parametrize("api", APIS)
def test_every_operation_names_known_clauses_of_its_api(api: str) -> None:
    prefix = "HCW-" if api == "hcw" else "LEAH-"
    for op in operations(api) + webhook_operations(api):
        clauses = op.definition.get("x-clauses")
        assert isinstance(clauses, list) and clauses, f"{op.label} has no x-clauses"
        unknown = [c for c in clauses if c not in catalogue_ids()]
        assert not unknown, f"{op.label}: unknown clause ids {unknown}"
        assert all(c.startswith(prefix) for c in clauses), f"{op.label}: {clauses}"
        assert len(set(clauses)) == len(clauses), f"{op.label}: duplicate clause ids"


@pytest.mark.parametrize("api", APIS)
def test_every_clause_of_the_api_is_served_by_an_operation(api: str) -> None:
    prefix = "HCW-" if api == "hcw" else "LEAH-"
    served = {
        c for op in operations(api) + webhook_operations(api) for c in op.definition["x-clauses"]
    }
    expected = {c for c in catalogue_ids() if c.startswith(prefix)}
    assert expected - served == set()


@pytest.mark.parametrize("api", APIS)
def test_undocumented_operations_are_marked_with_their_source(api: str) -> None:
    marked = {op.operation_id for op in operations(api) if op.definition.get("x-undocumented")}
    assert marked == EXPECTED_UNDOCUMENTED[api]
    for op in operations(api):
        if op.definition.get("x-undocumented"):
            source = op.definition.get("x-source", "")
            assert "reference/" in source and "§" in source, f"{op.operation_id}: {source!r}"


@pytest.mark.parametrize("api", APIS)
def test_operation_ids_are_unique(api: str) -> None:
    ids = [op.operation_id for op in operations(api) + webhook_operations(api)]
    assert all(ids) and len(ids) == len(set(ids))


@pytest.mark.parametrize("api", APIS)
def test_no_server_error_is_documented(api: str) -> None:
    for op in operations(api):
        for status in op.definition["responses"]:
            assert not str(status).startswith("5") and status != "default", (op.label, status)


def test_hcw_security_schemes_and_their_use() -> None:
    schemes = load_spec("hcw")["components"]["securitySchemes"]
    assert schemes["accessToken"] == {
        **schemes["accessToken"],
        "type": "apiKey",
        "in": "header",
        "name": "x-access-token",
    }
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    for op in operations("hcw"):
        if op.operation_id in PUBLIC_HCW:
            assert op.definition["security"] == [], op.operation_id
        else:
            assert op.definition["security"] == [{"accessToken": []}, {"bearerAuth": []}]


def test_leah_security_scheme_applies_to_every_operation() -> None:
    spec = load_spec("leah")
    scheme = spec["components"]["securitySchemes"]["leahAuthToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "LEAH-AUTH-TOKEN")
    assert spec["security"] == [{"leahAuthToken": []}]
    assert all("security" not in op.definition for op in operations("leah"))


@pytest.mark.parametrize("api", APIS)
def test_sensitive_markers_use_known_kinds(api: str) -> None:
    kinds = [
        node["x-sensitive"]
        for _, node in walk(load_spec(api))
        if isinstance(node, dict) and "x-sensitive" in node
    ]
    assert kinds and set(kinds) <= SENSITIVE_KINDS


@pytest.mark.parametrize(
    ("api", "pointer", "kind"),
    [
        ("hcw", "/components/schemas/LoginRequest/properties/password", "credential"),
        ("hcw", "/components/schemas/LoginRequest/properties/email", "email"),
        ("hcw", "/components/schemas/InviteFields/properties/phoneNumber", "phone"),
        ("hcw", "/components/schemas/InviteFields/properties/emailAddress", "email"),
        ("hcw", "/components/schemas/InviteFields/properties/firstName", "name"),
        ("hcw", "/components/schemas/InviteFields/properties/birthDate", "birthdate"),
        ("hcw", "/components/schemas/InviteFields/properties/note", "note"),
        ("hcw", "/components/schemas/Invite/properties/inviteToken", "token"),
        ("hcw", "/components/schemas/Invite/properties/lastName", "name"),
        ("hcw", "/components/schemas/UserWithTokens/properties/token", "token"),
        ("hcw", "/components/parameters/SsoToken", "token"),
        ("hcw", "/components/securitySchemes/bearerAuth", "credential"),
        ("leah", "/components/schemas/AppointmentCreate/properties/phoneNumber", "phone"),
        ("leah", "/components/schemas/HealthcareWorker/properties/email", "email"),
        ("leah", "/components/schemas/HealthcareWorker/properties/lastname", "name"),
        ("leah", "/components/schemas/Transfer/properties/hash", "token"),
        ("leah", "/components/securitySchemes/leahAuthToken", "credential"),
    ],
)
def test_personal_and_credential_fields_are_marked(api: str, pointer: str, kind: str) -> None:
    assert pointer_get(load_spec(api), pointer)["x-sensitive"] == kind


# ---------------------------------------------------------------------------- HCW schemas

HCW_ERROR_SHAPES: list[tuple[str, Any]] = [
    ("application/json", [{"message": "gender is required"}]),
    ("application/json", {"success": False, "error": "Consultation not found"}),
    ("application/json", {"error": True, "message": "Queue NoSuchQueue doesn't exist"}),
    ("application/json", {"error": "Unauthorized"}),
    ("application/json", "Not Found"),
    ("text/plain", "Not Found"),
    ("text/plain", "Forbidden"),
]


@pytest.mark.parametrize("op", operations("hcw"), ids=lambda op: op.operation_id)
def test_hcw_client_errors_are_lenient_and_cover_the_4xx_range(op: Any) -> None:
    assert "4XX" in op.definition["responses"]
    for status in (400, 401, 403, 404, 409, 415, 422):
        found = response_for_status(op, status)
        assert found is not None
        response, pointer = found
        for media, body in HCW_ERROR_SHAPES:
            assert media in response["content"], (status, media)
            schema_pointer = f"{pointer}/content/{media.replace('/', '~1')}/schema"
            assert not errors_of(validator("hcw", schema_pointer), body), (status, body)


def _invite_create_errors(body: dict[str, Any]) -> list[str]:
    return errors_of(component_validator("hcw", "InviteCreate"), body)


@pytest.mark.parametrize(
    "body",
    [
        {"isPatientInvite": True, "phoneNumber": "+41 79 000 00 00"},
        {"isPatientInvite": True, "emailAddress": "patient@example.org"},
        {
            "isPatientInvite": True,
            "emailAddress": "p@example.org",
            "phoneNumber": "",
            "firstName": "Paul",
            "lastName": "Patient",
            "gender": "female",
            "language": "fr",
            "doctorEmail": "doctor@example.org",
            "queue": "General",
            "sendInvite": False,
            "scheduledFor": "2030-01-02T10:00:00+01:00",
            "unknownField": 1,
        },
    ],
)
def test_invite_request_accepts_the_documented_forms(body: dict[str, Any]) -> None:
    assert _invite_create_errors(body) == []


@pytest.mark.parametrize(
    "body",
    [
        {"isPatientInvite": True},
        {"isPatientInvite": True, "phoneNumber": ""},
        {"phoneNumber": "+41 79 000 00 00"},
        {"isPatientInvite": False, "phoneNumber": "+41 79 000 00 00"},
        {"isPatientInvite": True, "emailAddress": "not-an-email"},
        {"isPatientInvite": True, "phoneNumber": "1", "gender": "other"},
        {"isPatientInvite": True, "phoneNumber": "1", "language": "fra"},
        {"isPatientInvite": True, "phoneNumber": "1", "scheduledFor": "not-a-date"},
        {"isPatientInvite": True, "phoneNumber": "1", "doctorEmail": ""},
        {"isPatientInvite": True, "phoneNumber": "1", "sendInvite": "yes"},
    ],
)
def test_invite_request_rejects_what_the_guide_rules_out(body: dict[str, Any]) -> None:
    assert _invite_create_errors(body) != []


def test_invite_update_takes_any_subset_of_the_creation_fields() -> None:
    v = component_validator("hcw", "InviteUpdate")
    assert errors_of(v, {}) == []
    assert errors_of(v, {"firstName": "Changed"}) == []
    assert errors_of(v, {"gender": "banana"}) != []


def test_close_result_accepts_both_close_answers_but_no_other_status() -> None:
    v = component_validator("hcw", "CloseResult")
    closed = {"id": "c1", "status": "closed", "invite": "i1", "createdAt": 1, "closedAt": 2}
    anonymous = {"id": "a1", "consultationId": "c1", "invite": "i1", "closedAt": 2}
    assert errors_of(v, closed) == []
    assert errors_of(v, anonymous) == []
    assert errors_of(v, {**closed, "status": "active"}) != []
    assert errors_of(v, {**anonymous, "status": "pending"}) != []
    assert errors_of(v, {**closed, "closedAt": 0}) != []


def test_sso_redirect_requires_location() -> None:
    op = _op("hcw", "ssoCallback")
    found = response_for_status(op, 302)
    assert found is not None
    assert found[0]["headers"]["Location"]["required"] is True
    params = load_spec("hcw")["paths"]["/api/v1/external-auth-callback"]["parameters"]
    resolved = {
        pointer_get(load_spec("hcw"), p["$ref"][1:])["name"]: pointer_get(
            load_spec("hcw"), p["$ref"][1:]
        )
        for p in params
    }
    assert set(resolved) == {"token", "returnUrl"}
    assert resolved["token"]["required"] is True and resolved["token"]["in"] == "query"
    assert resolved["returnUrl"]["required"] is False


# ---------------------------------------------------------------------------- Leah schemas

OFFICE = "/api/offices/6e229d04-1880-4b6b-a520-36f757f4a531"


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": OFFICE,
                "startTime": "2031-04-25T13:15:00",
            },
            True,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": OFFICE,
                "startTime": "2031-04-25T13:15:00+02:00",
                "externalId": "x",
            },
            True,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": OFFICE,
                "startTime": "2031-04-25T13:15:00Z",
            },
            True,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": OFFICE,
                "startTime": "2031-13-25T13:15:00",
            },
            False,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": OFFICE,
                "startTime": "25/04/2031 13:15",
            },
            False,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": "/api/offices/foo",
                "startTime": "2031-04-25T13:15:00",
            },
            False,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "office": "/api/organizations/6e229d04-1880-4b6b-a520-36f757f4a531",
                "startTime": "2031-04-25T13:15:00",
            },
            False,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "nope",
                "office": OFFICE,
                "startTime": "2031-04-25T13:15:00",
            },
            False,
        ),
        ({"email": "a@example.org", "office": OFFICE, "startTime": "2031-04-25T13:15:00"}, False),
        (
            {"phoneNumber": "+33612345678", "office": OFFICE, "startTime": "2031-04-25T13:15:00"},
            False,
        ),
        (
            {
                "phoneNumber": "+33612345678",
                "email": "a@example.org",
                "startTime": "2031-04-25T13:15:00",
            },
            False,
        ),
        ({"phoneNumber": "+33612345678", "email": "a@example.org", "office": OFFICE}, False),
    ],
)
def test_appointment_creation_schema(body: dict[str, Any], valid: bool) -> None:
    assert (errors_of(component_validator("leah", "AppointmentCreate"), body) == []) is valid


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"startTime": "2031-05-18T09:00:00"}, True),
        ({"status": "cancelled"}, True),
        ({}, True),  # a no-op merge-patch: API Platform answers 200 (specs/README.md)
        ({"status": "scheduled"}, False),
        ({"startTime": "tomorrow"}, False),
    ],
)
def test_appointment_patch_schema(body: dict[str, Any], valid: bool) -> None:
    assert (errors_of(component_validator("leah", "AppointmentPatch"), body) == []) is valid


def test_leah_request_media_types() -> None:
    assert request_schema_pointer(_op("leah", "updateAppointment"), "application/json") is None
    assert (
        request_schema_pointer(_op("leah", "updateAppointment"), "application/merge-patch+json")
        is not None
    )
    assert request_schema_pointer(_op("leah", "createAppointment"), "application/json")
    upload = request_schema_pointer(_op("leah", "uploadTransferFiles"), "multipart/form-data")
    assert upload is not None
    files = pointer_get(load_spec("leah"), upload)["properties"]["file[]"]
    assert (files["type"], files["items"]["format"], files["maxItems"]) == ("array", "binary", 10)


def test_leah_responses_are_json_ld_and_401_is_opaque() -> None:
    for op in operations("leah"):
        for status in op.definition["responses"]:
            found = response_for_status(op, int(status.replace("XX", "00")))
            assert found is not None
            response = found[0]
            if status.startswith("2") and "content" in response:
                assert list(response["content"]) == ["application/ld+json"], (op.label, status)
            if status == "401":
                assert "content" not in response
            if status.startswith("4") and status not in ("401", "413"):
                assert {"application/ld+json", "application/problem+json"} <= set(
                    response["content"]
                ), (op.label, status)


def test_leah_pagination_parameters() -> None:
    spec = load_spec("leah")
    page = spec["components"]["parameters"]["Page"]
    # bounded like the reference sandbox (API Platform refuses a page whose offset overflows)
    assert (page["in"], page["schema"]) == (
        "query",
        {"type": "integer", "minimum": 1, "maximum": 1000000},
    )
    per_page = spec["components"]["parameters"]["ItemsPerPage"]
    assert per_page["schema"] == {"type": "integer", "minimum": 0, "maximum": 1000}
    for operation_id in ("listHealthcareWorkers", "listOffices"):
        refs = [
            p.get("$ref", p.get("name")) for p in _op("leah", operation_id).definition["parameters"]
        ]
        assert "#/components/parameters/Page" in refs
        assert "#/components/parameters/ItemsPerPage" in refs


@pytest.mark.parametrize(
    ("event", "valid"),
    [
        (
            {
                "event": "appointment.guest.online",
                "payload": {"externalId": "1", "administrativeFileNumber": "2"},
            },
            True,
        ),
        ({"event": "appointment.guest.online", "payload": {"externalId": "1"}}, True),
        (
            {
                "event": "appointment.guest.online",
                "payload": {"externalId": "1", "administrativeFileNumber": None},
            },
            True,
        ),
        ({"event": "appointment.guest.online", "payload": '{"externalId":"1"}'}, True),
        ({"event": "appointment.guest.online", "payload": "hello"}, False),
        ({"event": "appointment.guest.online", "payload": 12}, False),
        ({"event": "appointment.guest.online", "payload": {"externalId": 1}}, False),
        ({"event": "appointment.created", "payload": {"externalId": "1"}}, False),
        ({"payload": {"externalId": "1"}}, False),
    ],
)
def test_webhook_event_schema(event: dict[str, Any], valid: bool) -> None:
    webhook = webhook_operations("leah")
    assert [op.path for op in webhook] == ["appointment.guest.online"]
    assert (errors_of(component_validator("leah", "GuestOnlineEvent"), event) == []) is valid


SENSITIVE_PROPERTY_NAMES = {
    "email": "email",
    "emailAddress": "email",
    "doctorEmail": "email",
    "guestEmailAddress": "email",
    "phoneNumber": "phone",
    "guestPhoneNumber": "phone",
    "authPhoneNumber": "phone",
    "notifPhoneNumber": "phone",
    "firstName": "name",
    "lastName": "name",
    "firstname": "name",
    "lastname": "name",
    "birthDate": "birthdate",
    "note": "note",
    "password": "credential",
    "token": "token",
    "refreshToken": "token",
    "inviteToken": "token",
    "invitationToken": "token",
    "expertToken": "token",
    "localLoginToken": "token",
}


@pytest.mark.parametrize("api", APIS)
def test_every_personal_property_is_marked_wherever_it_appears(api: str) -> None:
    checked = 0
    for pointer, node in walk(load_spec(api)):
        if not isinstance(node, dict) or not isinstance(node.get("properties"), dict):
            continue
        if "/examples/" in pointer or pointer.endswith("/example"):
            continue
        for name, kind in SENSITIVE_PROPERTY_NAMES.items():
            prop = node["properties"].get(name)
            if isinstance(prop, dict) and ("type" in prop or "$ref" in prop):
                assert prop.get("x-sensitive") == kind, f"{pointer}/properties/{name}"
                checked += 1
    assert checked >= 10
