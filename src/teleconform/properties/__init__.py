"""Schemathesis-driven property tests, reported as clause outcomes."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.properties._api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
