"""Exchanges as redacted report evidence, exactly as the runner redacts its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from teleconform.client._exchange import Exchange
from teleconform.redact._evidence import PRE_REDACTION_LIMIT, EvidenceBuilder


def as_httpx(exchange: Exchange) -> httpx.Response:
    """The exchange as an httpx response (with its request); big bodies are cut first."""
    request = httpx.Request(
        exchange.method,
        exchange.url,
        headers=list(exchange.request_headers),
        content=exchange.request_body[:PRE_REDACTION_LIMIT],
    )
    return httpx.Response(
        exchange.status,
        headers=list(exchange.response_headers),
        content=exchange.response_body[:PRE_REDACTION_LIMIT],
        request=request,
    )


def evidence_of(exchanges: Iterable[Exchange], redactor: Any = None) -> list[dict[str, Any]]:
    """Redacted evidence entries (request, response, curl) for ``exchanges``."""
    build = EvidenceBuilder(redactor)
    return [build(as_httpx(ex)) for ex in exchanges]
