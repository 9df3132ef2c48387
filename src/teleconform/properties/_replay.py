"""Property cases read back from recorded requests (replay: nothing is generated again).

Private helper of :mod:`teleconform.properties`. A recording keeps each request the property
tests sent with a description (kind, operation, mode, per-location modes; see
``PropertyRun._describe``). A replay turns the recorded request back into the arguments of
``ctx.request`` (``recorded_wire``) and into a schemathesis case for today's checks
(``recorded_case``): its values are read from the recorded request (path parameters by the
operation's template, the query and JSON/form bodies parsed, parameters typed as a server reads
them off the wire) and its mode is the recorded one, so a case keeps the positive or negative
label it had when it was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import (
    CaseMetadata,
    ComponentInfo,
    FuzzingPhaseData,
    GenerationInfo,
    PhaseInfo,
    TestPhase,
)
from schemathesis.specs.openapi.utils import read_from_wire

from teleconform.properties._spec import GeneratedCase, Operation
from teleconform.properties._wire import Wire

# Set by the transport, not by the recorded check: sending them again would duplicate them.
_TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)
_MODES = {"positive": GenerationMode.POSITIVE, "negative": GenerationMode.NEGATIVE}


def recorded_wire(entry: Mapping[str, Any]) -> Wire:
    """The recorded request as ``ctx.request`` arguments (URL, headers and body as recorded)."""
    headers = {
        str(name): str(values[-1] if isinstance(values, list) else values)
        for name, values in (entry.get("headers") or {}).items()
        if str(name).lower() not in _TRANSPORT_HEADERS and values not in (None, [])
    }
    body = entry.get("body")
    content = {"content": str(body).encode("utf-8", "surrogatepass")} if body else {}
    return Wire(str(entry["method"]).upper(), str(entry["uri"]), headers, None, content)


def recorded_case(
    operation: Operation,
    entry: Mapping[str, Any],
    description: Mapping[str, Any],
    *,
    credential_headers: Collection[str],
    credential_params: Collection[str],
    placeholder: str,
) -> GeneratedCase:
    """A case for today's checks: the recorded request's values, the recorded modes."""
    parts = urlsplit(str(entry["uri"]))
    headers = _header(entry)
    query: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in credential_params:
            continue
        if name in query:
            previous = query[name]
            query[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            query[name] = value
    if query:
        query = read_from_wire(operation, ParameterLocation.QUERY, query)
    declared: dict[str, str] = {}
    for parameter in operation.headers:
        name = parameter.name
        if name.lower() in credential_headers:
            declared[name] = (
                f"Bearer {placeholder}" if name.lower() == "authorization" else (placeholder)
            )
        elif name.lower() in headers:
            declared[name] = headers[name.lower()]
    cookies = _cookies(headers.get("cookie", ""), {p.name for p in operation.cookies})
    media_type, body = _body(operation, headers.get("content-type", ""), entry.get("body"))
    mode = _MODES.get(str(description.get("mode")), GenerationMode.POSITIVE)
    components: dict[ParameterLocation, ComponentInfo] = {}
    for location, value in (description.get("components") or {}).items():
        try:
            components[ParameterLocation(location)] = ComponentInfo(
                mode=_MODES.get(str(value), mode)
            )
        except ValueError:
            continue
    meta = CaseMetadata(
        generation=GenerationInfo(time=0.0, mode=mode),
        components=components,
        phase=PhaseInfo(
            name=TestPhase.FUZZING,
            data=FuzzingPhaseData(
                description=None, parameter=None, parameter_location=None, location=None
            ),
        ),
    )
    case: GeneratedCase = Case(
        operation,
        operation.method.upper(),  # type: ignore[arg-type]  # a spec method is an HTTP method
        operation.path,
        path_parameters=_path_parameters(operation.path, parts.path),
        headers=CaseInsensitiveDict(declared),
        cookies=cookies,
        query=query,
        body=body,
        media_type=media_type,
        meta=meta,
    )
    case.freeze_metadata()  # the recorded mode stands: the values are what was sent
    return case


def _header(entry: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(name).lower(): str(values[-1] if isinstance(values, list) else values)
        for name, values in (entry.get("headers") or {}).items()
        if values not in (None, [])
    }


def _path_parameters(template: str, path: str) -> dict[str, Any]:
    pieces = re.split(r"\{([^}/]+)\}", template)
    pattern = "".join(
        re.escape(piece) if index % 2 == 0 else f"(?P<p{index // 2}>[^/]*)"
        for index, piece in enumerate(pieces)
    )
    match = re.search(pattern + "/?$", path)
    if match is None:
        return {}
    names = pieces[1::2]
    return {name: unquote(match.group(f"p{i}")) for i, name in enumerate(names)}


def _cookies(header: str, declared: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in header.split(";"):
        name, _, value = item.strip().partition("=")
        if name in declared:
            found[name] = value
    return found


def _body(operation: Operation, content_type: str, raw: Any) -> tuple[str | None, Any]:
    alternatives = [body.media_type for body in operation.body]
    media = content_type.split(";", 1)[0].strip().lower()
    media_type = next((m for m in alternatives if m.lower() == media), None)
    if media_type is None:
        media_type = alternatives[0] if alternatives else None
    if raw is None or raw == "" or media_type is None:
        return media_type, NOT_SET
    text = str(raw)
    if "json" in media:
        try:
            return media_type, json.loads(text)
        except ValueError:
            return media_type, text
    if media == "application/x-www-form-urlencoded":
        return media_type, dict(parse_qsl(text, keep_blank_values=True))
    if media.startswith("multipart/"):
        # Files are kept only as size and digest: the parts cannot be rebuilt, and the checks
        # judge a multipart case by its recorded mode.
        return media_type, NOT_SET
    return media_type, text
