"""Record a run's traffic into cassettes (``--record DIR``) and replay them (``--replay``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.cassettes._api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
