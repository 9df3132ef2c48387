"""teleconform: conformance suite for the HCW@Home and Leah telehealth APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes
from teleconform._version import __version__

if TYPE_CHECKING:
    from teleconform.catalogue import Clause, load_catalogue
    from teleconform.runner import ApiRun, ClauseResult, RunSettings, run_api
    from teleconform.suite import Context, clause

__all__ = [
    "__version__",
    "ApiRun",
    "clause",
    "Clause",
    "ClauseResult",
    "Context",
    "load_catalogue",
    "run_api",
    "RunSettings",
]

# Lazy (PEP 562): `import teleconform.sandbox.hcw` in a host pytest session must not load
# the runner, the HTTP client or schemathesis.
_HOMES = {
    "ApiRun": "teleconform.runner",
    "ClauseResult": "teleconform.runner",
    "run_api": "teleconform.runner",
    "RunSettings": "teleconform.runner",
    "Clause": "teleconform.catalogue",
    "load_catalogue": "teleconform.catalogue",
    "Context": "teleconform.suite",
    "clause": "teleconform.suite",
}

__getattr__, __dir__ = lazy_attributes(__name__, _HOMES)
