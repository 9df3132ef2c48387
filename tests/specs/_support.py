"""Helpers for the spec acceptance tests: loading the specs, validating instances against
schemas inside them, and matching recorded HAR exchanges to their operations.

Test-only code: the package's own `check-traffic` is implemented elsewhere and reuses the
specs, not this module.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS_DIR = REPO_ROOT / "specs"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "specs"
SHARED = (Path(__file__).resolve().parents[2] / "../shared").resolve()

SPEC_FILES = {"hcw": "hcw-athome.openapi.yaml", "leah": "leah.openapi.yaml"}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SENSITIVE_KINDS = {"credential", "email", "phone", "name", "birthdate", "note", "token"}

SHARED_HYDRA = SHARED / "data" / "hydra-samples"
SHARED_HAR = SHARED / "data" / "hcw-athome-traffic" / "hcw-athome-5.4.62.har"
FIXTURE_HYDRA = FIXTURES / "hydra"
FIXTURE_HAR = FIXTURES / "hcw-athome-5.4.62.reduced.har"


def require_shared(path: Path) -> Path:
    """`path` under ../shared, or a visible skip when this checkout has none beside it
    (a failure instead when TELECONFORM_REQUIRE_SHARED is set, as in tests/conftest.py)."""
    import pytest

    if not path.exists():
        message = f"{path} is absent (no ../shared beside this checkout); shipped fixtures cover it"
        if os.environ.get("TELECONFORM_REQUIRE_SHARED"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@cache
def load_spec(api: str) -> dict[str, Any]:
    """The parsed spec of `api` ("hcw" or "leah")."""
    with (SPECS_DIR / SPEC_FILES[api]).open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def spec_uri(api: str) -> str:
    return f"urn:teleconform:spec:{api}"


@cache
def _registry(api: str) -> Registry[Any]:
    resource: Resource[Any] = DRAFT202012.create_resource(load_spec(api))
    registry: Registry[Any] = Registry().with_resource(spec_uri(api), resource)
    return registry


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_get(document: Any, pointer: str) -> Any:
    """Resolve a JSON pointer ("" or "/a/b") in `document`."""
    node = document
    if pointer in ("", "#"):
        return node
    for raw in pointer.lstrip("#").lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def follow(api: str, pointer: str) -> tuple[Any, str]:
    """The OpenAPI object at `pointer`, following Reference Objects; returns (object, pointer)."""
    spec = load_spec(api)
    obj = pointer_get(spec, pointer)
    seen = set()
    while isinstance(obj, dict) and "$ref" in obj and isinstance(obj["$ref"], str):
        ref = obj["$ref"]
        if not ref.startswith("#") or ref in seen:
            raise ValueError(f"unsupported reference {ref!r} at {pointer}")
        seen.add(ref)
        pointer = ref[1:]
        obj = pointer_get(spec, pointer)
    return obj, pointer


def validator(api: str, schema_pointer: str) -> Draft202012Validator:
    """A 2020-12 validator (formats checked) for the schema at `schema_pointer` in the spec."""
    return Draft202012Validator(
        {"$ref": f"{spec_uri(api)}#{schema_pointer}"},
        registry=_registry(api),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def component_validator(api: str, name: str) -> Draft202012Validator:
    return validator(api, f"/components/schemas/{escape_pointer_token(name)}")


def errors_of(v: Draft202012Validator, instance: Any) -> list[str]:
    """Readable messages of every validation error (empty when valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(v.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    ]


# ---------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    api: str
    path: str
    method: str
    pointer: str
    definition: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.definition.get("operationId", ""))

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(api: str) -> list[Operation]:
    """Every operation of the spec's `paths`."""
    spec = load_spec(api)
    result = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                pointer = f"/paths/{escape_pointer_token(path)}/{method}"
                result.append(Operation(api, path, method, pointer, item[method]))
    return result


def webhook_operations(api: str) -> list[Operation]:
    spec = load_spec(api)
    result = []
    for name, item in spec.get("webhooks", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                pointer = f"/webhooks/{escape_pointer_token(name)}/{method}"
                result.append(Operation(api, name, method, pointer, item[method]))
    return result


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", path)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def match_operation(api: str, method: str, url_path: str) -> Operation | None:
    """The operation for `method` and a concrete path; literal paths beat templated ones."""
    candidates = [
        op
        for op in operations(api)
        if op.method == method.lower() and _template_regex(op.path).match(url_path)
    ]
    candidates.sort(key=lambda op: op.path.count("{"))
    return candidates[0] if candidates else None


def media_type_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def media_matches(documented: str, received: str) -> bool:
    d_main, _, d_sub = documented.lower().partition("/")
    r_main, _, r_sub = received.lower().partition("/")
    return d_main in ("*", r_main) and d_sub in ("*", r_sub)


def is_json_media(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def response_for_status(op: Operation, status: int) -> tuple[dict[str, Any], str] | None:
    """The documented response for `status` (exact code, then NXX range, then default)."""
    responses = op.definition.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            return follow(op.api, f"{op.pointer}/responses/{key}")
    return None


def request_schema_pointer(op: Operation, media: str) -> str | None:
    if "requestBody" not in op.definition:
        return None
    body, pointer = follow(op.api, f"{op.pointer}/requestBody")
    for documented in body.get("content", {}):
        if media_matches(documented, media):
            return f"{pointer}/content/{escape_pointer_token(documented)}/schema"
    return None


# ---------------------------------------------------------------------------- HAR exchanges


@dataclass
class Exchange:
    """One HAR entry reduced to what the conformance check needs."""

    index: int
    label: str
    comment: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: str
    request_media: str | None
    request_body: str | None

    @property
    def key(self) -> str:
        return f"{self.label} {self.method}"


def load_har(path: Path) -> list[Exchange]:
    with path.open(encoding="utf-8") as fh:
        har = json.load(fh)
    result = []
    for index, entry in enumerate(har["log"]["entries"]):
        request, response = entry["request"], entry["response"]
        comment = entry.get("comment", "")
        post = request.get("postData") or {}
        result.append(
            Exchange(
                index=index,
                label=comment.split(" ", 1)[0] if comment else f"#{index}",
                comment=comment,
                method=request["method"].upper(),
                path=urlsplit(request["url"]).path,
                status=int(response["status"]),
                headers={h["name"].lower(): h["value"] for h in response.get("headers", [])},
                body=(response.get("content") or {}).get("text") or "",
                request_media=media_type_of(post.get("mimeType")),
                request_body=post.get("text"),
            )
        )
    return result


@dataclass
class Verdict:
    exchange: Exchange
    operation: Operation | None
    problems: list[str] = field(default_factory=list)
    request_problems: list[str] = field(default_factory=list)


def check_response(api: str, ex: Exchange) -> Verdict:
    """Validate one exchange's response (status, content type, headers, body) against the spec."""
    op = match_operation(api, ex.method, ex.path)
    verdict = Verdict(ex, op)
    if op is None:
        return verdict
    found = response_for_status(op, ex.status)
    if found is None:
        verdict.problems.append(f"status {ex.status} is not documented")
        return verdict
    response, pointer = found
    for name, header in response.get("headers", {}).items():
        if header.get("required") and name.lower() not in ex.headers:
            verdict.problems.append(f"required header {name} is missing")
    content = response.get("content")
    if not content:
        return verdict
    received = media_type_of(ex.headers.get("content-type"))
    if received is None:
        verdict.problems.append("no Content-Type although the response documents content")
        return verdict
    documented = next((m for m in content if media_matches(m, received)), None)
    if documented is None:
        verdict.problems.append(f"content type {received} is not documented ({', '.join(content)})")
        return verdict
    if "schema" not in content[documented]:
        return verdict
    if is_json_media(received):
        try:
            instance: Any = json.loads(ex.body)
        except ValueError as exc:
            verdict.problems.append(f"body is not JSON: {exc}")
            return verdict
    else:
        instance = ex.body
    schema_pointer = f"{pointer}/content/{escape_pointer_token(documented)}/schema"
    verdict.problems.extend(errors_of(validator(api, schema_pointer), instance))
    return verdict


def check_exchange(api: str, ex: Exchange) -> Verdict:
    """Response check, plus: a request body the server accepted (2xx) fits the request schema."""
    verdict = check_response(api, ex)
    op = verdict.operation
    if op is None or not 200 <= ex.status < 300 or not ex.request_body or not ex.request_media:
        return verdict
    pointer = request_schema_pointer(op, ex.request_media)
    if pointer is None:
        verdict.request_problems.append(f"request media type {ex.request_media} not documented")
        return verdict
    try:
        body = json.loads(ex.request_body)
    except ValueError as exc:
        verdict.request_problems.append(f"request body is not JSON: {exc}")
        return verdict
    verdict.request_problems.extend(errors_of(validator(api, pointer), body))
    return verdict


# ---------------------------------------------------------------------------- examples


@dataclass(frozen=True)
class ExampleCase:
    """A documented example and the schema it must satisfy."""

    api: str
    where: str
    value: Any
    schema_pointer: str
    repair: str | None
    operation: str = ""
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.api}:{self.where}"


def _media_examples(
    api: str, content: dict[str, Any], content_pointer: str, where: str, operation: str
) -> Iterator[ExampleCase]:
    for media, media_obj in content.items():
        schema_pointer = f"{content_pointer}/{escape_pointer_token(media)}/schema"
        if "example" in media_obj:
            yield ExampleCase(
                api,
                f"{where} {media}",
                media_obj["example"],
                schema_pointer,
                None,
                operation,
                "example",
            )
        for name in media_obj.get("examples", {}):
            ex_pointer = (
                f"{content_pointer}/{escape_pointer_token(media)}/examples/"
                f"{escape_pointer_token(name)}"
            )
            example, _ = follow(api, ex_pointer)
            yield ExampleCase(
                api,
                f"{where} {media} example {name}",
                example["value"],
                schema_pointer,
                example.get("x-repair"),
                operation,
                name,
            )


def iter_examples(api: str) -> Iterator[ExampleCase]:
    """Every example of the spec: request bodies, responses, parameters, webhooks."""
    for op in operations(api) + webhook_operations(api):
        name = op.operation_id or op.label
        if "requestBody" in op.definition:
            body, pointer = follow(api, f"{op.pointer}/requestBody")
            yield from _media_examples(
                api, body.get("content", {}), f"{pointer}/content", f"{name} request", name
            )
        for status in op.definition.get("responses", {}):
            response, pointer = follow(api, f"{op.pointer}/responses/{status}")
            yield from _media_examples(
                api, response.get("content", {}), f"{pointer}/content", f"{name} {status}", name
            )
    spec = load_spec(api)
    for pname in spec.get("components", {}).get("parameters", {}):
        pointer = f"/components/parameters/{escape_pointer_token(pname)}"
        param = pointer_get(spec, pointer)
        claims = param.get("x-jwt-claims")
        if claims and "example" in claims:
            yield ExampleCase(
                api,
                f"parameter {pname} x-jwt-claims",
                claims["example"],
                f"{pointer}/x-jwt-claims/schema",
                claims.get("x-repair"),
                pname,
                "x-jwt-claims",
            )


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every (pointer, node) of a JSON-like document, depth first."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{escape_pointer_token(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{pointer}/{i}")


@cache
def catalogue_ids() -> frozenset[str]:
    """Clause ids of the project's catalogue (specs/clauses.yaml)."""
    with (SPECS_DIR / "clauses.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return frozenset(str(c["id"]) for c in data["clauses"])
