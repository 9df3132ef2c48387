"""Irreversible, format-preserving redaction of recorded HTTP exchanges."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleconform.redact._redactor import (
        Redactor,
        default_fields,
        sensitive_fields_from_spec,
    )

__all__ = [
    "default_fields",
    "Redactor",
    "sensitive_fields_from_spec",
]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.redact._redactor"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
