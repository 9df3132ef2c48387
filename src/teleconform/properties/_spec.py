"""Spec side of the property tests: loading (cached per process), operations, links, security.

Private helper of :mod:`teleconform.properties`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from schemathesis import APIOperation, Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.openapi import from_dict
from schemathesis.specs.openapi.schemas import OpenApiSchema

from teleconform.specs import spec_document_copy

# No config discovery (a schemathesis.toml in the working directory must not change what we
# send), no undeclared-method probes in the coverage phase.
_CONFIG: dict[str, Any] = {"phases": {"coverage": {"unexpected-methods": []}}}

Operation: TypeAlias = APIOperation[Any, Any, Any, Any]
GeneratedCase: TypeAlias = Case[Any]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class Link:
    """One OpenAPI link: from a response of ``source`` to the operation ``target``."""

    source: str
    status: str
    name: str
    target: str
    parameters: tuple[tuple[str, Any], ...]
    request_body: Any = None


@dataclass(slots=True)
class LoadedSpec:
    """A parsed spec and what the property tests need from it, computed once."""

    path: Path
    schema: OpenApiSchema
    operations: list[Operation]
    links: dict[str, list[Link]]
    secured: dict[str, bool]
    credential_headers: frozenset[str]  # lower-case names the security schemes put in headers
    credential_params: frozenset[str]  # query and cookie names of the security schemes

    def operation(self, label: str) -> Operation | None:
        for operation in self.operations:
            if operation.label == label:
                return operation
        return None


_CACHE: dict[tuple[str, int], LoadedSpec] = {}
_LOCK = threading.Lock()


def load_spec(path: Path) -> LoadedSpec:
    """Load and analyse a spec once per process (keyed by path and modification time)."""
    resolved = path.resolve()
    key = (str(resolved), resolved.stat().st_mtime_ns)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _load(resolved)
            _CACHE[key] = cached
        return cached


def _load(path: Path) -> LoadedSpec:
    # schemathesis rewrites the dict it is given (stringify_keys), hence a private copy; the
    # location is what its from_path would set (the base of relative $refs).
    schema = from_dict(spec_document_copy(path), config=SchemathesisConfig.from_dict(_CONFIG))
    schema.location = path.absolute().as_uri()
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            raise ValueError(f"{path.name}: {result.err()}")
    raw = schema.raw_schema
    by_id = _operation_ids(raw)
    links: dict[str, list[Link]] = {}
    secured: dict[str, bool] = {}
    global_security = raw.get("security")
    for operation in operations:
        definition = operation.definition.raw
        security = definition.get("security", global_security)
        secured[operation.label] = bool(security) and all(bool(item) for item in security)
        links[operation.label] = list(_links_of(operation.label, definition, by_id))
    headers, params = _credential_names(raw)
    return LoadedSpec(path, schema, operations, links, secured, headers, params)


def _credential_names(raw: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    schemes = ((raw.get("components") or {}).get("securitySchemes") or {}).values()
    headers: set[str] = set()
    params: set[str] = set()
    for scheme in schemes:
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") == "header":
            headers.add(str(scheme.get("name", "")).lower())
        elif kind == "apiKey":
            params.add(str(scheme.get("name", "")))
        elif kind in ("http", "oauth2", "openIdConnect"):
            headers.add("authorization")
    return frozenset(headers), frozenset(params)


def _operation_ids(raw: dict[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for path, item in (raw.get("paths") or {}).items():
        for method, definition in item.items():
            if method in HTTP_METHODS and isinstance(definition, dict):
                operation_id = definition.get("operationId")
                if operation_id:
                    ids[operation_id] = f"{method.upper()} {path}"
    return ids


_OPERATION_REF = re.compile(r"#/paths/(?P<path>[^/]+)/(?P<method>[a-z]+)$")


def _links_of(source: str, definition: dict[str, Any], by_id: dict[str, str]) -> list[Link]:
    found: list[Link] = []
    for status, response in (definition.get("responses") or {}).items():
        for name, link in ((response or {}).get("links") or {}).items():
            target = None
            if "operationId" in link:
                target = by_id.get(link["operationId"])
            elif "operationRef" in link:
                match = _OPERATION_REF.search(link["operationRef"])
                if match:
                    path = match["path"].replace("~1", "/").replace("~0", "~")
                    target = f"{match['method'].upper()} {path}"
            if target is None:
                raise ValueError(f"{source}: link {name} names no known operation")
            parameters = tuple(sorted((link.get("parameters") or {}).items()))
            body = link.get("requestBody")
            found.append(Link(source, str(status), name, target, parameters, body))
    return found


# -- runtime expressions (the subset links use: $response.body#/ptr, $response.header.X,
#    $request.path.x, $request.query.x, $request.body#/ptr, constants) --------------------


class Unresolved(Exception):
    """A link expression could not be evaluated against this exchange."""


def evaluate(
    expression: Any,
    *,
    response_body: Any,
    response_headers: dict[str, str],
    request_path: dict[str, Any],
    request_query: dict[str, Any],
    request_body: Any,
) -> Any:
    """Evaluate one runtime expression (or a JSON structure holding some); others are constants."""
    if isinstance(expression, dict):
        return {
            key: evaluate(
                value,
                response_body=response_body,
                response_headers=response_headers,
                request_path=request_path,
                request_query=request_query,
                request_body=request_body,
            )
            for key, value in expression.items()
        }
    if not isinstance(expression, str) or not expression.startswith("$"):
        return expression
    if "#regex:" in expression:
        # schemathesis' extension: the first group of a regex applied to the value
        inner, _, pattern = expression.partition("#regex:")
        value = evaluate(
            inner,
            response_body=response_body,
            response_headers=response_headers,
            request_path=request_path,
            request_query=request_query,
            request_body=request_body,
        )
        match = re.search(pattern, str(value))
        if match is None:
            raise Unresolved(expression)
        return match.group(1) if match.groups() else match.group(0)
    if expression.startswith("$response.body"):
        return _pointer(response_body, expression[len("$response.body") :])
    if expression.startswith("$request.body"):
        return _pointer(request_body, expression[len("$request.body") :])
    if expression.startswith("$response.header."):
        name = expression[len("$response.header.") :].lower()
        if name not in response_headers:
            raise Unresolved(expression)
        return response_headers[name]
    for prefix, source in (("$request.path.", request_path), ("$request.query.", request_query)):
        if expression.startswith(prefix):
            key = expression[len(prefix) :]
            if key not in source:
                raise Unresolved(expression)
            return source[key]
    raise Unresolved(expression)


def _pointer(document: Any, fragment: str) -> Any:
    if fragment in ("", "#"):
        return document
    if not fragment.startswith("#/"):
        raise Unresolved(fragment)
    value = document
    for raw_part in fragment[2:].split("/"):
        part = raw_part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise Unresolved(fragment)
    return value


def pointer(document: Any, fragment: str) -> Any:
    """Resolve a JSON pointer (``/a/b``); raises Unresolved."""
    return _pointer(document, "#" + fragment if not fragment.startswith("#") else fragment)
