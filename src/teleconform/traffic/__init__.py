"""``teleconform check-traffic FILE...``: validate recorded exchanges against the specs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

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

__getattr__, __dir__ = lazy_attributes(
    __name__, dict.fromkeys(__all__, "teleconform.traffic._check")
)
