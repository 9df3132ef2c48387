"""Irreversible, format-preserving redaction of recorded HTTP exchanges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

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

__getattr__, __dir__ = lazy_attributes(
    __name__, dict.fromkeys(__all__, "teleconform.redact._redactor")
)
