"""Record a run's traffic into cassettes (``--record DIR``) and replay them (``--replay``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.cassettes._api import (
        GENERATOR_TOOLS,
        Session,
        cassettes_dir,
        load_api_cassettes,
        normalise,
        open_session,
        stale_reason,
    )

__all__ = [
    "cassettes_dir",
    "GENERATOR_TOOLS",
    "load_api_cassettes",
    "normalise",
    "open_session",
    "Session",
    "stale_reason",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, dict.fromkeys(__all__, "teleconform.cassettes._api")
)
