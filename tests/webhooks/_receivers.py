"""Integrator receivers for the LEAH-WH-02 tests: one conformant, others each breaking a case."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

EVENT = "appointment.guest.online"

# A rule sees the parsed body (None if not JSON) and the receiver's memory of earlier
# deliveries, and returns (status, delay in seconds).
Rule = Callable[[Any, list[Any]], tuple[int, float]]


def _payload(doc: Any) -> dict[str, Any]:
    payload = doc.get("payload") if isinstance(doc, dict) else None
    if isinstance(payload, str):
        payload = json.loads(payload)
    return payload if isinstance(payload, dict) else {}


def conformant(doc: Any, seen: list[Any]) -> tuple[int, float]:
    return 200, 0.0


def unknown_event_500(doc: Any, seen: list[Any]) -> tuple[int, float]:
    return (500 if doc.get("event") != EVENT else 200), 0.0


def string_payload_400(doc: Any, seen: list[Any]) -> tuple[int, float]:
    return (400 if isinstance(doc.get("payload"), str) else 200), 0.0


def repeat_409(doc: Any, seen: list[Any]) -> tuple[int, float]:
    # Deduplicates by externalId, as a receiver keyed on the consultation would.
    ext = _payload(doc).get("externalId")
    earlier = [_payload(d).get("externalId") for d in seen[:-1]]
    return (409 if ext in earlier else 200), 0.0


def answers_204(doc: Any, seen: list[Any]) -> tuple[int, float]:
    return 204, 0.0


def slow(delay: float) -> Rule:
    def rule(doc: Any, seen: list[Any]) -> tuple[int, float]:
        return 200, delay

    return rule


def slow_on_extra_fields(delay: float) -> Rule:
    def rule(doc: Any, seen: list[Any]) -> tuple[int, float]:
        return 200, (delay if "id" in doc else 0.0)

    return rule


class Receiver:
    """A Starlette receiver applying ``rule``; ``.seen`` holds the parsed deliveries."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.seen: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])

    async def handle(self, request: Request) -> PlainTextResponse:
        raw = await request.body()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        self.seen.append(doc)
        self.headers.append(dict(request.headers))
        status, delay = self.rule(doc, self.seen)
        if delay:
            await asyncio.sleep(delay)
        return PlainTextResponse("", status_code=status)
