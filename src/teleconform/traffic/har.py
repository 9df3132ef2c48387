"""Reading recorded traffic: HAR 1.2 files and teleconform (vcrpy) cassettes.

Both are turned into a list of :class:`RecordedExchange`; :func:`har_to_cassette` converts
a HAR document into a vcrpy-format cassette dict.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "RecordedExchange",
    "TrafficError",
    "har_to_cassette",
    "load_cassette",
    "load_exchanges",
    "load_har",
]


class TrafficError(Exception):
    """A traffic file that cannot be read or is not a HAR 1.2 file or cassette."""


@dataclass(slots=True)
class RecordedExchange:
    """One recorded request/response pair, whatever file it came from."""

    index: int
    method: str
    url: str
    status: int
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes | None = None
    comment: str = ""

    def response_header(self, name: str) -> str | None:
        for key, value in self.response_headers:
            if key.lower() == name.lower():
                return value
        return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrafficError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None


def _read_nonempty(path: Path) -> str:
    text = _read_text(path)
    if not text.strip():
        raise TrafficError(f"{path}: empty file")
    return text


def load_har(path: Path) -> dict[str, Any]:
    """Parse a HAR file; raises TrafficError if it is not JSON with ``log.entries``."""
    try:
        doc = json.loads(_read_nonempty(path))
    except ValueError as exc:
        raise TrafficError(f"{path}: not a HAR 1.2 file: not valid JSON ({exc})") from None
    if not _is_har(doc):
        raise TrafficError(f"{path}: not a HAR 1.2 file: {_har_problem(doc)}")
    return dict(doc)


def _har_problem(doc: Any) -> str:
    """What keeps a parsed JSON document from being a HAR 1.2 file, in words."""
    if not isinstance(doc, Mapping):
        return f"the top level is a JSON {type(doc).__name__}, not an object with `log`"
    if not isinstance(doc.get("log"), Mapping):
        return "no `log` object"
    return "no `log.entries` list"


def _is_har(doc: Any) -> bool:
    return (
        isinstance(doc, Mapping)
        and isinstance(doc.get("log"), Mapping)
        and isinstance(doc["log"].get("entries"), list)
    )


def load_cassette(path: Path) -> dict[str, Any]:
    """Parse a vcrpy cassette; raises TrafficError if it has no ``interactions`` list."""
    try:
        doc = yaml.safe_load(_read_nonempty(path))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise TrafficError(f"{path}: not valid YAML{at}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("interactions"), list):
        raise TrafficError(f"{path}: not a cassette (no interactions list)")
    return dict(doc)


def load_exchanges(path: Path) -> list[RecordedExchange]:
    """Exchanges of a HAR 1.2 file or a cassette (chosen by content, not by file name)."""
    text = _read_nonempty(path)
    stripped = text.lstrip()
    if path.suffix.lower() == ".har" or stripped.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            if path.suffix.lower() == ".har":
                raise TrafficError(f"{path}: not a HAR 1.2 file: not valid JSON ({exc})") from None
            raise TrafficError(f"{path}: not valid JSON ({exc})") from None
        if _is_har(doc):
            return _har_exchanges(doc, path)
        if isinstance(doc, Mapping) and isinstance(doc.get("interactions"), list):
            return _cassette_exchanges(dict(doc), path)
        if path.suffix.lower() == ".har":
            raise TrafficError(f"{path}: not a HAR 1.2 file: {_har_problem(doc)}")
        raise TrafficError(
            f"{path}: not a HAR 1.2 file ({_har_problem(doc)}) nor a cassette (no interactions "
            "list)"
        )
    return _cassette_exchanges(load_cassette(path), path)


# ---- HAR -------------------------------------------------------------------------------


def _pairs(items: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and "name" in item:
                out.append((str(item["name"]), str(item.get("value", ""))))
    return out


def _har_request_body(request: Mapping[str, Any]) -> bytes | None:
    post = request.get("postData")
    if not isinstance(post, Mapping):
        return None
    if isinstance(post.get("text"), str):
        text: str = post["text"]
        return text.encode("utf-8")
    params = post.get("params")
    if isinstance(params, list):
        from urllib.parse import urlencode

        return urlencode(
            [(p.get("name", ""), p.get("value", "")) for p in params if isinstance(p, Mapping)]
        ).encode("utf-8")
    return None


def _har_response_body(response: Mapping[str, Any]) -> bytes | None:
    content = response.get("content")
    if not isinstance(content, Mapping) or not isinstance(content.get("text"), str):
        return None
    text: str = content["text"]
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except (ValueError, binascii.Error):
            return text.encode("utf-8")
    return text.encode("utf-8")


def _har_exchanges(doc: Mapping[str, Any], path: Path) -> list[RecordedExchange]:
    out = []
    for i, entry in enumerate(doc["log"]["entries"]):
        if not isinstance(entry, Mapping):
            raise TrafficError(f"{path}: entry {i} is not an object")
        request, response = entry.get("request"), entry.get("response")
        if not isinstance(request, Mapping) or not isinstance(response, Mapping):
            raise TrafficError(f"{path}: entry {i} lacks request or response")
        try:
            status = int(response.get("status", 0))
        except (TypeError, ValueError):
            raise TrafficError(f"{path}: entry {i} has a non-numeric status") from None
        headers = _pairs(response.get("headers"))
        content = response.get("content")
        if (
            isinstance(content, Mapping)
            and content.get("mimeType")
            and not any(k.lower() == "content-type" for k, _ in headers)
        ):
            headers.append(("content-type", str(content["mimeType"])))
        out.append(
            RecordedExchange(
                index=i,
                method=str(request.get("method", "GET")).upper(),
                url=str(request.get("url", "")),
                status=status,
                request_headers=_pairs(request.get("headers")),
                request_body=_har_request_body(request),
                response_headers=headers,
                response_body=_har_response_body(response),
                comment=str(entry.get("comment", "")),
            )
        )
    return out


def _text_or_binary(data: bytes | None) -> str | bytes | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def har_to_cassette(har: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a HAR 1.2 document into a vcrpy cassette dict (``version: 1``).

    Header lists become vcrpy's mapping name -> [values] (repeated headers keep every value);
    each interaction also keeps the HAR entry's ``comment``.
    """
    if not _is_har(har):
        raise TrafficError("not a HAR document (no log.entries list)")
    interactions = []
    for ex in _har_exchanges(har, Path("<har>")):
        interactions.append(
            {
                "request": {
                    "method": ex.method,
                    "uri": ex.url,
                    "body": _text_or_binary(ex.request_body),
                    "headers": _header_map(ex.request_headers),
                },
                "response": {
                    "status": {"code": ex.status, "message": _status_message(har, ex.index)},
                    "headers": _header_map(ex.response_headers),
                    "body": {"string": _text_or_binary(ex.response_body) or ""},
                },
                "comment": ex.comment,
            }
        )
    return {"version": 1, "interactions": interactions}


def _status_message(har: Mapping[str, Any], index: int) -> str:
    response = har["log"]["entries"][index].get("response", {})
    return str(response.get("statusText", "")) if isinstance(response, Mapping) else ""


def _header_map(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


# ---- cassettes ---------------------------------------------------------------------------


def cassette_headers(headers: Any) -> list[tuple[str, str]]:
    """vcrpy headers (mapping name -> value | [values], or a list of pairs) as pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(value, list):
                out.extend((str(name), str(v)) for v in value)
            elif value is not None:
                out.append((str(name), str(value)))
    elif isinstance(headers, list):
        for item in headers:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                out.append((str(item[0]), str(item[1])))
    return out


def cassette_body(body: Any) -> bytes | None:
    """A vcrpy body (str, bytes, ``{"string": ...}`` or None) as bytes."""
    if isinstance(body, Mapping):
        body = body.get("string")
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    return str(body).encode("utf-8")


def _cassette_exchanges(doc: Mapping[str, Any], path: Path) -> list[RecordedExchange]:
    out = []
    for i, inter in enumerate(doc["interactions"]):
        request = inter.get("request") if isinstance(inter, Mapping) else None
        response = inter.get("response") if isinstance(inter, Mapping) else None
        if not isinstance(request, Mapping) or not isinstance(response, Mapping):
            raise TrafficError(f"{path}: interaction {i} lacks request or response")
        status = response.get("status")
        code = status.get("code") if isinstance(status, Mapping) else status
        try:
            code_int = int(code)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise TrafficError(f"{path}: interaction {i} has no numeric status") from None
        out.append(
            RecordedExchange(
                index=i,
                method=str(request.get("method", "GET")).upper(),
                url=str(request.get("uri") or request.get("url") or ""),
                status=code_int,
                request_headers=cassette_headers(request.get("headers")),
                request_body=cassette_body(request.get("body")),
                response_headers=cassette_headers(response.get("headers")),
                response_body=cassette_body(response.get("body")),
                comment=str(inter.get("comment", "")),
            )
        )
    return out
