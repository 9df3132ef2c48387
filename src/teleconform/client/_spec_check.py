"""Requests against the spec: the operation a request calls and whether its JSON body fits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from teleconform.client._exchange import NOT_JSON, Exchange
from teleconform.specs import spec_file
from teleconform.traffic import match as match_operation
from teleconform.traffic._check import (
    Operation,
    Spec,
    _deref,
    _resolve_schema_ref,
    describe,
    load_spec,
)


@cache
def shipped_spec(api: str) -> Spec:
    """The shipped OpenAPI spec of ``api``."""
    return load_spec(spec_file(api), api)


@dataclass(frozen=True, slots=True)
class SpecView:
    """What the spec says about one request: its operation and its body's schema errors."""

    operation: Operation | None
    body_errors: tuple[str, ...] = ()

    @property
    def operation_id(self) -> str | None:
        return str(self.operation.node.get("operationId")) if self.operation else None

    @property
    def needs_auth(self) -> bool:
        """True when the operation has a security requirement (``security: []`` is public)."""
        if self.operation is None:
            return False
        security = self.operation.node.get("security")
        return not (isinstance(security, list) and len(security) == 0)


def view(spec: Spec, exchange: Exchange) -> SpecView:
    """Match the request to an operation of ``spec`` and validate its JSON body."""
    found = match_operation([spec], exchange.method, exchange.url)
    if found is None:
        return SpecView(None)
    op = found[1]
    return SpecView(op, tuple(_body_errors(spec, op, exchange)))


def _body_errors(spec: Spec, op: Operation, exchange: Exchange) -> list[str]:
    body = _deref(spec, op.node.get("requestBody"))
    if not isinstance(body, Mapping):
        return []
    content = body.get("content")
    if not isinstance(content, Mapping):
        return []
    json_media = [m for m in content if str(m).endswith("json")]
    if not json_media:
        return []  # multipart uploads: the clause rules read them
    if not exchange.request_body.strip():
        return ["body: empty, the spec requires a JSON body"] if body.get("required") else []
    instance = exchange.json_body()
    if instance is NOT_JSON:
        return ["body: not valid JSON"]
    media = exchange.media_type()
    chosen = media if media in content else str(json_media[0])
    media_obj = _deref(spec, content[chosen])
    schema = media_obj.get("schema") if isinstance(media_obj, Mapping) else None
    if schema is None:
        return []
    return _schema_errors(spec, schema, instance)


def _schema_errors(spec: Spec, schema: Any, instance: Any) -> list[str]:
    validator = Draft202012Validator(_resolve_schema_ref(spec, schema), registry=spec.registry)
    errors = list(validator.iter_errors(instance))
    if not errors:
        return []
    best = best_match(errors)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return [describe(best) + more]


def schema_properties(spec: Spec, name: str) -> dict[str, Mapping[str, Any]]:
    """The properties of ``#/components/schemas/<name>`` (an empty dict when absent)."""
    schemas = spec.doc.get("components", {}).get("schemas", {})
    node = schemas.get(name) if isinstance(schemas, Mapping) else None
    props = node.get("properties") if isinstance(node, Mapping) else None
    return dict(props) if isinstance(props, Mapping) else {}
