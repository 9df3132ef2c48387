"""Run the suites of one API against one target and fold outcomes into clause verdicts."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleconform.runner._core import (
        ApiRun,
        ClauseResult,
        PreflightFailed,
        Terminated,
        cleanup_from_ledger,
        creations_of,
        fold,
        footprint,
        load_checks,
        run_api,
        run_api_parallel,
        sandbox_credentials,
        work_units,
    )

__all__ = [
    "ApiRun",
    "ClauseResult",
    "cleanup_from_ledger",
    "creations_of",
    "fold",
    "footprint",
    "load_checks",
    "PreflightFailed",
    "run_api",
    "run_api_parallel",
    "sandbox_credentials",
    "Terminated",
    "work_units",
]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.runner._core"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
