"""Turn exchanges into redacted, size-bounded evidence for reports."""

from __future__ import annotations

import shlex
from typing import Any

import httpx

BODY_LIMIT = 2048
PRE_REDACTION_LIMIT = 64 * 1024


class EvidenceBuilder:
    """Builds evidence entries; one per API run so placeholders stay consistent in a report."""

    def __init__(self, redactor: Any = None) -> None:
        if redactor is None:
            from teleconform.redact._redactor import (
                Redactor,  # imported late: redaction tables load on first use
            )

            redactor = Redactor()
        self.redactor = redactor

    def __call__(self, response: httpx.Response) -> dict[str, Any]:
        request = response.request
        req_body = request.content if _has_content(request) else b""
        exchange: dict[str, Any] = {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": _headers(request.headers),
                "body": req_body,
                "content_type": request.headers.get("content-type"),
            },
            "response": {
                "status": response.status_code,
                "headers": _headers(response.headers),
                "body": response.content,
                "content_type": response.headers.get("content-type"),
            },
        }
        # Cut big bodies before redaction: a 15 MB upload would cost redaction time for
        # nothing, since evidence shows only the first kilobytes anyway.
        for side in ("request", "response"):
            body = exchange[side]["body"]
            if isinstance(body, bytes) and len(body) > PRE_REDACTION_LIMIT:
                exchange[side]["body"] = body[:PRE_REDACTION_LIMIT]
        redacted: dict[str, Any] = self.redactor.redact_exchange(exchange)
        for side in ("request", "response"):
            part = redacted[side]
            part.pop("content_type", None)
            part["body"] = _text(part.get("body"))
        redacted["curl"] = curl_line(redacted["request"])
        return redacted


def _has_content(request: httpx.Request) -> bool:
    try:
        _ = request.content
    except httpx.RequestNotRead:
        return False
    return True


def _headers(headers: httpx.Headers) -> dict[str, str]:
    skip = {"content-length", "accept-encoding", "connection", "user-agent", "x-teleconform-fault"}
    return {k: v for k, v in headers.items() if k.lower() not in skip}


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        text = bytes(body).decode("utf-8", errors="replace")
    elif isinstance(body, str):
        text = body
    else:
        import json

        text = json.dumps(body, ensure_ascii=False)
    if len(text) > BODY_LIMIT:
        return text[:BODY_LIMIT] + f"... [{len(text) - BODY_LIMIT} more characters]"
    return text


def curl_line(request: dict[str, Any]) -> str:
    """A curl command reproducing a (redacted) request."""
    parts = ["curl", "-i", "-X", str(request.get("method", "GET"))]
    for name, value in (request.get("headers") or {}).items():
        if name.lower() == "host":
            continue
        parts += ["-H", f"{name}: {value}"]
    body = request.get("body")
    if body:
        parts += ["--data-binary", body if isinstance(body, str) else str(body)]
    parts.append(str(request.get("url", "")))
    return " ".join(shlex.quote(p) for p in parts)
