"""Schemathesis-driven property tests, reported as clause outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.properties._api import (
        BUDGETS,
        CASE_EXTENSION,
        Budget,
        ClauseMap,
        Disruptive,
        InvalidAuth,
        Prepare,
        PropertyReport,
        Resource,
        default_invalid_auth,
        file_part,
        run_property_tests,
        safe_email,
        safe_phone,
    )

__all__ = [
    "Budget",
    "BUDGETS",
    "CASE_EXTENSION",
    "ClauseMap",
    "default_invalid_auth",
    "Disruptive",
    "file_part",
    "InvalidAuth",
    "Prepare",
    "PropertyReport",
    "Resource",
    "run_property_tests",
    "safe_email",
    "safe_phone",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, dict.fromkeys(__all__, "teleconform.properties._api")
)
