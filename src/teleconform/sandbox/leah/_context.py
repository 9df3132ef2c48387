"""Per-app settings of the Leah sandbox and the per-request view its handlers take.

Every handler is a plain ``async def handler(ctx: Ctx) -> Response``: ``ctx`` carries the
request, the app's ``Sandbox`` (state, dialect, readings, clock) and the faults active for
this request (the app's plus those of the ``X-Teleconform-Fault`` header).

A ``Dialect`` combines three choices the profiles vary: the Hydra spelling (``prefixed``: API
Platform 2.x/3.x, what Leah's documentation shows, null values kept; unprefixed: the 4.x
default, null values skipped), the error format (legacy ``hydra:Error`` /
``ConstraintViolationList`` in application/ld+json, or RFC 7807 application/problem+json with
the JSON-LD keys) and the JSON escaping (PHP's ``\\/`` and HTML escapes, or plain JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from teleconform.sandbox.leah._store import LeahState

Faults = frozenset[str]


@dataclass(frozen=True, slots=True)
class Dialect:
    """Spelling of Hydra keys, format of errors, JSON escaping."""

    prefixed: bool
    problem_errors: bool | None = None  # None: as the spelling's API Platform version does
    escape: bool = True

    @property
    def problem(self) -> bool:
        """Whether errors are RFC 7807 application/problem+json."""
        return (not self.prefixed) if self.problem_errors is None else self.problem_errors

    def key(self, term: str) -> str:
        return f"hydra:{term}" if self.prefixed else term

    def strip_nulls(
        self, data: dict[str, Any], *, merge_patch_resource: bool = False
    ) -> dict[str, Any]:
        """2.x keeps nulls except on merge-patch resources; 3.0+ always skips them."""
        if self.prefixed and not merge_patch_resource:
            return data
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One app's state and settings: what ``create_app`` was given, resolved."""

    state: LeahState
    dialect: Dialect
    page_size: int
    clock: Callable[[], float]
    faults: Faults
    webhook_backoff: float
    readings: Mapping[str, Any]

    def inventory(self) -> dict[str, list[Any]]:
        """What the sandbox holds that a run created (test control, see ``_inventory``)."""
        return self.state.inventory()


@dataclass(frozen=True, slots=True)
class Ctx:
    """Per-request view: the app plus the faults active for this request."""

    request: Request
    app: Sandbox
    faults: Faults

    @property
    def state(self) -> LeahState:
        return self.app.state

    @property
    def dialect(self) -> Dialect:
        return self.app.dialect

    @property
    def page_size(self) -> int:
        return self.app.page_size

    @property
    def webhook_backoff(self) -> float:
        return self.app.webhook_backoff

    def on(self, fault: str) -> bool:
        return fault in self.faults

    def reading(self, name: str) -> Any:
        return self.app.readings[name]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.app.clock(), UTC)
