"""Per-app settings of the HCW@Home sandbox and the per-request view its handlers take.

Every handler is a plain ``async def handler(ctx: Ctx) -> Response``: ``ctx`` carries the
request, the app's ``Sandbox`` (store, clock, readings, URLs) and the faults active for this
request (the app's plus those of the ``X-Teleconform-Fault`` header).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from teleconform.sandbox._faults import FAULT_HEADER, parse_fault_header
from teleconform.sandbox.hcw._faults import FAULTS
from teleconform.sandbox.hcw._store import Store

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One app's state and settings: what ``create_app`` was given, resolved."""

    store: Store
    clock: Clock
    faults: frozenset[str]
    readings: Mapping[str, Any]
    page_size: int
    doctor_url: str | None
    public_url: str | None


class Ctx:
    """Per-request view: the app state plus the faults active for this request."""

    def __init__(self, request: Request, app: Sandbox) -> None:
        self.request = request
        self.store = app.store
        self.readings = app.readings
        self.faults = app.faults | parse_fault_header(request.headers.get(FAULT_HEADER), FAULTS)
        self._clock = app.clock
        base = str(request.base_url).rstrip("/")
        self.doctor_url = (app.doctor_url or base).rstrip("/")
        self.public_url = (app.public_url or base).rstrip("/")
        self.page_size = app.page_size

    def on(self, fault: str) -> bool:
        return fault in self.faults

    def reading(self, name: str) -> Any:
        return self.readings[name]

    def now(self) -> float:
        return self._clock()

    def now_ms(self) -> int:
        return int(self._clock() * 1000)
