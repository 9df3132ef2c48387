"""``teleconform check-traffic FILE...``: validate recorded exchanges against the specs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleconform.traffic._check import (
        Operation,
        Spec,
        build_parser,
        check_exchange,
        describe,
        load_spec,
        main,
        match,
    )

__all__ = [
    "build_parser",
    "check_exchange",
    "describe",
    "load_spec",
    "main",
    "match",
    "Operation",
    "Spec",
]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.traffic._check"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
