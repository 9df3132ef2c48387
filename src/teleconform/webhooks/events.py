"""Validation of one delivered Leah webhook event (clause LEAH-WH-01).

The document shows ``appointment.guest.online`` as ``"event": ...`` and a ``payload`` wrapped
in quotes, i.e. possibly a JSON-encoded string. The clause settles it: a payload that is a JSON
object, or a JSON string that decodes to an object, is accepted; anything else fails.

Two layers are applied: the clause's rules, written out here so they hold even without a spec,
and the JSON Schema of the ``webhooks`` section of ``specs/leah.openapi.yaml`` when that spec
is installed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

from teleconform.specs import SpecDocumentError, load_document, spec_file

EVENT_NAME = "appointment.guest.online"
_SPEC_URI = "urn:teleconform:leah-openapi"


@dataclass(frozen=True, slots=True)
class EventCheck:
    """The verdict on one delivery: ``ok`` and, when not, what is wrong."""

    ok: bool
    problems: tuple[str, ...]
    event: str | None
    external_id: str | None
    payload_form: str  # "object" | "string" | "invalid" | "absent"
    schema_checked: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.ok else "fail"

    def summary(self) -> str:
        """One line for reports: what was received and, if it fails, why."""
        name = self.event if self.event is not None else "(no event name)"
        if self.ok:
            return f"{name}: documented shape (payload as {self.payload_form})"
        return f"{name}: " + "; ".join(self.problems)


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or any ``+json`` type, parameters ignored."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def validate_delivery(
    method: str,
    content_type: str | None,
    body: bytes | str,
    *,
    schema: EventSchema | None | bool = True,
) -> EventCheck:
    """Check a delivery as received on the wire: a JSON POST carrying a documented event.

    ``schema`` is the event schema, ``None`` to apply only the clause's rules, or ``True``
    (default) for the schema of the installed Leah spec when there is one.
    """
    wire: list[str] = []
    if method.upper() != "POST":
        wire.append(f"delivered with {method.upper()}, the document says POST")
    if not is_json_media_type(content_type):
        wire.append(f"Content-Type is {content_type or 'absent'}, expected application/json")
    raw = body.encode("utf-8") if isinstance(body, str) else body
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        problems = (*wire, "the body is not JSON")
        return EventCheck(False, problems, None, None, "absent", False)
    check = validate_event(doc, schema=schema)
    if not wire:
        return check
    return EventCheck(
        False,
        (*wire, *check.problems),
        check.event,
        check.external_id,
        check.payload_form,
        check.schema_checked,
    )


def validate_event(doc: Any, *, schema: EventSchema | None | bool = True) -> EventCheck:
    """Check a parsed event document against LEAH-WH-01 (see ``validate_delivery``)."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return EventCheck(
            False,
            (f"the body is a JSON {_json_type(doc)}, not an object",),
            None,
            None,
            "absent",
            False,
        )
    event = doc.get("event")
    event_name = event if isinstance(event, str) else None
    if "event" not in doc:
        problems.append('"event" is missing')
    elif not isinstance(event, str):
        problems.append(f'"event" is a JSON {_json_type(event)}, expected a string')
    elif event != EVENT_NAME:
        problems.append(f'"event" is {event!r}, the documented event is {EVENT_NAME!r}')

    payload, form, payload_problem = decode_payload(doc)
    external_id: str | None = None
    if payload_problem:
        problems.append(payload_problem)
    if payload is not None:
        ext = payload.get("externalId")
        if "externalId" not in payload:
            problems.append('payload has no "externalId"')
        elif not isinstance(ext, str):
            problems.append(f'payload "externalId" is a JSON {_json_type(ext)}, expected a string')
        else:
            external_id = ext
        afn = payload.get("administrativeFileNumber")
        if afn is not None and not isinstance(afn, str):
            problems.append(
                f'payload "administrativeFileNumber" is a JSON {_json_type(afn)}, '
                "expected a string, null or absent"
            )

    resolved = schema if isinstance(schema, EventSchema) else None
    if schema is True:
        resolved = _default_schema()
    schema_checked = resolved is not None
    if resolved is not None and not problems:
        # Only as a second layer: when the clause's rules already failed, the schema's
        # restatement of the same finding would only lengthen the report.
        problems.extend(_schema_problems(doc, payload, form, resolved))
    return EventCheck(not problems, tuple(problems), event_name, external_id, form, schema_checked)


def decode_payload(doc: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str, str | None]:
    """The payload as an object, its form on the wire, and the problem if it is neither form."""
    if "payload" not in doc:
        return None, "absent", '"payload" is missing'
    payload = doc["payload"]
    if isinstance(payload, dict):
        return payload, "object", None
    if isinstance(payload, str):
        try:
            inner = json.loads(payload)
        except ValueError:
            return None, "invalid", '"payload" is a string that is not JSON-encoded'
        if isinstance(inner, dict):
            return inner, "string", None
        return (
            None,
            "invalid",
            (f'"payload" is a JSON-encoded {_json_type(inner)}, expected an object'),
        )
    return (
        None,
        "invalid",
        (f'"payload" is a JSON {_json_type(payload)}, expected an object or a JSON-encoded string'),
    )


class EventSchema:
    """A compiled JSON Schema for an event body; ``$ref`` resolve against ``spec`` if given."""

    def __init__(self, schema: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> None:
        registry: referencing.Registry[Any] = referencing.Registry()
        if spec is not None:
            resource = referencing.jsonschema.DRAFT202012.create_resource(dict(spec))
            registry = registry.with_resource(_SPEC_URI, resource)
        self.schema = dict(schema)
        self._validator = jsonschema.Draft202012Validator(self.schema, registry=registry)

    def problems(self, doc: Any) -> list[str]:
        """Schema violations of ``doc``, at most five, in path order."""
        errors = sorted(self._validator.iter_errors(doc), key=lambda e: [str(p) for p in e.path])
        return [f"spec schema: {_describe(e)}" for e in errors[:5]]


def _schema_problems(
    doc: dict[str, Any], payload: dict[str, Any] | None, form: str, schema: EventSchema
) -> list[str]:
    # The spec may model the payload either as an object or as object-or-string; the event
    # is schema-valid when either its wire form or its decoded form validates.
    problems = schema.problems(doc)
    if problems and form == "string" and payload is not None:
        decoded = schema.problems({**doc, "payload": payload})
        if not decoded:
            return []
    return problems


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"


def webhook_schema_from_spec(
    spec: Mapping[str, Any], event: str = EVENT_NAME
) -> EventSchema | None:
    """The schema of an event's JSON body in an OpenAPI 3.1 ``webhooks`` section, or None."""
    webhooks = spec.get("webhooks")
    if not isinstance(webhooks, dict) or event not in webhooks:
        return None
    item_ptr = ["webhooks", event]
    item = _follow(spec, webhooks[event], item_ptr)
    if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
        return None
    body_ptr = [*item_ptr, "post", "requestBody"]
    body = _follow(spec, item["post"].get("requestBody"), body_ptr)
    if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
        return None
    for media, entry in body["content"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("schema"), dict):
            continue
        if is_json_media_type(media):
            ref = _SPEC_URI + "#" + _pointer([*body_ptr, "content", media, "schema"])
            return EventSchema({"$ref": ref}, spec)
    return None


def _follow(spec: Mapping[str, Any], node: Any, pointer: list[str]) -> Any:
    """Resolve local ``$ref`` chains of non-schema objects; ``pointer`` tracks where we are."""
    hops = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < 10:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return None
        parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
        node = spec
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        pointer[:] = parts
        hops += 1
    return node


def _pointer(parts: list[str]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def load_spec(path: Path | None = None) -> Mapping[str, Any] | None:
    """The Leah OpenAPI document (installed one by default), or None when it is not there."""
    try:
        path = spec_file("leah") if path is None else path
    except FileNotFoundError:
        return None
    if not path.is_file():
        return None
    try:
        return load_document(path)
    except SpecDocumentError:
        return None


@cache
def _default_schema() -> EventSchema | None:
    spec = load_spec()
    return webhook_schema_from_spec(spec) if spec is not None else None


def default_schema() -> EventSchema | None:
    """The ``appointment.guest.online`` schema of the installed spec (None when absent)."""
    return _default_schema()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
