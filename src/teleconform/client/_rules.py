"""What the per-API client rules are to the validator: how they observe and how they report."""

from __future__ import annotations

from typing import Protocol

from teleconform.client._exchange import Exchange
from teleconform.client._spec_check import SpecView


class Judge(Protocol):
    """How rules report: ``judge(clause_id, ok, message, exchange)``."""

    def __call__(self, clause: str, ok: bool, message: str, exchange: Exchange | None) -> None: ...


class Rules(Protocol):
    """The clause rules of one API; they keep their own state between exchanges."""

    def observe(self, exchange: Exchange, spec: SpecView, judge: Judge) -> None:
        """Judge one exchange (in the order the client sent them)."""

    def finish(self, judge: Judge) -> None:
        """Judge what only the end of the traffic decides (e.g. a refusal never recovered)."""

    def skip_reason(self, clause: str) -> str:
        """Why ``clause`` was not exercised, in the client's terms."""
