"""LEAH-WH-01 validation of one event: the clause's rules and the spec's schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teleconform.webhooks.events import (
    EventSchema,
    validate_delivery,
    validate_event,
    webhook_schema_from_spec,
)

EVENT = "appointment.guest.online"
PAYLOAD = {"externalId": "1234567", "administrativeFileNumber": "1234567"}


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"event": EVENT, "payload": dict(PAYLOAD)}
    doc.update(changes)
    return doc


GOOD = {
    "payload-object": _doc(),
    "payload-json-string": _doc(payload=json.dumps(PAYLOAD)),
    "file-number-null": _doc(payload={"externalId": "1", "administrativeFileNumber": None}),
    "file-number-absent": _doc(payload={"externalId": "1"}),
    "string-payload-null-number": _doc(
        payload='{"externalId":"1","administrativeFileNumber":null}'
    ),
    "extra-fields": {**_doc(), "id": "evt_1", "payload": {**PAYLOAD, "status": "online"}},
}

BAD = {
    "wrong-event-name": (_doc(event="appointment.guest_online"), "documented event"),
    "event-missing": ({"payload": PAYLOAD}, '"event" is missing'),
    "event-not-string": (_doc(event=["appointment.guest.online"]), "expected a string"),
    "payload-missing": ({"event": EVENT}, '"payload" is missing'),
    "payload-array": (_doc(payload=[PAYLOAD]), "expected an object or a JSON-encoded string"),
    "payload-null": (_doc(payload=None), "expected an object or a JSON-encoded string"),
    "payload-string-not-json": (_doc(payload="externalId=1234567"), "not JSON-encoded"),
    "payload-string-of-array": (_doc(payload="[1, 2]"), "JSON-encoded array"),
    "external-id-missing": (_doc(payload={"administrativeFileNumber": "1"}), 'no "externalId"'),
    "external-id-number": (_doc(payload={"externalId": 1234567}), "JSON number"),
    "external-id-null": (_doc(payload={"externalId": None}), "JSON null"),
    "file-number-number": (
        _doc(payload={"externalId": "1", "administrativeFileNumber": 7}),
        "administrativeFileNumber",
    ),
    "not-an-object": (["appointment.guest.online"], "not an object"),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_documented_events_pass(name: str) -> None:
    check = validate_event(GOOD[name], schema=None)
    assert check.ok, check.problems
    assert check.verdict == "pass" and check.event == EVENT


def test_both_payload_forms_are_told_apart() -> None:
    assert validate_event(GOOD["payload-object"], schema=None).payload_form == "object"
    check = validate_event(GOOD["payload-json-string"], schema=None)
    assert check.payload_form == "string" and check.external_id == "1234567"


@pytest.mark.parametrize("name", sorted(BAD))
def test_undocumented_events_fail_with_the_reason(name: str) -> None:
    doc, expected = BAD[name]
    check = validate_event(doc, schema=None)
    assert not check.ok and check.verdict == "fail"
    assert any(expected in p for p in check.problems), check.problems
    assert expected in check.summary()


def test_the_wire_form_must_be_a_json_post() -> None:
    body = json.dumps(_doc()).encode()
    assert validate_delivery("POST", "application/json; charset=utf-8", body, schema=None).ok
    assert not validate_delivery("PUT", "application/json", body, schema=None).ok
    check = validate_delivery("POST", "text/plain", body, schema=None)
    assert check.problems == ("Content-Type is text/plain, expected application/json",)
    check = validate_delivery(
        "POST", "application/json", b"event=appointment.guest.online", schema=None
    )
    assert check.problems == ("the body is not JSON",)
    assert not validate_delivery("POST", "application/json", b"\xff\xfe", schema=None).ok


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "webhooks": {
        EVENT: {"$ref": "#/components/pathItems/GuestOnline"},
    },
    "components": {
        "pathItems": {
            "GuestOnline": {
                "post": {
                    "requestBody": {"$ref": "#/components/requestBodies/Ev"},
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
        "requestBodies": {
            "Ev": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ev"}}}
            },
        },
        "schemas": {
            "Ev": {
                "type": "object",
                "required": ["event", "payload"],
                "properties": {
                    "event": {"const": EVENT},
                    "payload": {"$ref": "#/components/schemas/Payload"},
                },
            },
            "Payload": {
                "type": "object",
                "required": ["externalId"],
                "properties": {
                    "externalId": {"type": "string", "maxLength": 10},
                    "administrativeFileNumber": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def test_a_spec_webhooks_section_is_found_through_refs() -> None:
    schema = webhook_schema_from_spec(SPEC)
    assert isinstance(schema, EventSchema)
    assert schema.problems(_doc()) == []
    assert webhook_schema_from_spec(SPEC, "appointment.created") is None
    assert webhook_schema_from_spec({"openapi": "3.1.0"}) is None


def test_the_spec_schema_adds_its_constraints_to_the_clause_rules() -> None:
    schema = webhook_schema_from_spec(SPEC)
    long_id = _doc(payload={"externalId": "x" * 11})
    assert validate_event(long_id, schema=None).ok
    check = validate_event(long_id, schema=schema)
    assert not check.ok and check.schema_checked
    assert any(p.startswith("spec schema: at payload/externalId") for p in check.problems)


def test_a_string_payload_passes_a_schema_that_models_only_the_object() -> None:
    schema = webhook_schema_from_spec(SPEC)
    check = validate_event(GOOD["payload-json-string"], schema=schema)
    assert check.ok, check.problems
    bad = validate_event(_doc(payload=json.dumps({"externalId": "x" * 11})), schema=schema)
    assert not bad.ok


def test_inline_schema_without_refs() -> None:
    spec = {
        "webhooks": {
            EVENT: {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "required": ["event"]}
                            }
                        }
                    }
                }
            }
        }
    }
    schema = webhook_schema_from_spec(spec)
    assert schema is not None
    assert schema.problems({"payload": {}}) != []


def test_the_installed_leah_spec_describes_the_event() -> None:
    from teleconform.webhooks.events import default_schema

    assert default_schema() is not None, "specs/leah.openapi.yaml has no webhooks section"
    for name, doc in GOOD.items():
        check = validate_event(doc)
        assert check.ok and check.schema_checked, (name, check.problems)
    for name, (doc, expected) in BAD.items():
        check = validate_event(doc)
        assert not check.ok and any(expected in p for p in check.problems), name
