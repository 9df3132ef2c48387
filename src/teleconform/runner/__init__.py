"""Run the suites of one API against one target and fold outcomes into clause verdicts.

One run is described by one ``RunSettings`` value: ``run_api(settings)`` runs one API,
``run_api_parallel(settings, workers)`` its work units in threads; the executors
(``teleconform.runner._executor``, ``._xdist``) run several APIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.runner._api_run import run_api
    from teleconform.runner._cleanup import cleanup_from_ledger
    from teleconform.runner._executor import run_api_parallel
    from teleconform.runner._fold import ApiRun, ClauseResult, fold
    from teleconform.runner._footprint import footprint
    from teleconform.runner._interrupts import Terminated
    from teleconform.runner._loading import creations_of, load_checks, work_units
    from teleconform.runner._preflight import PreflightFailed
    from teleconform.runner._settings import RunSettings
    from teleconform.runner._targets import sandbox_credentials

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
    "RunSettings",
    "sandbox_credentials",
    "Terminated",
    "work_units",
]

# Lazy (PEP 562): importing a sibling module must not load this package's heavy body.
_HOMES = {
    "ApiRun": "_fold",
    "ClauseResult": "_fold",
    "cleanup_from_ledger": "_cleanup",
    "creations_of": "_loading",
    "fold": "_fold",
    "footprint": "_footprint",
    "load_checks": "_loading",
    "PreflightFailed": "_preflight",
    "run_api": "_api_run",
    "run_api_parallel": "_executor",
    "RunSettings": "_settings",
    "sandbox_credentials": "_targets",
    "Terminated": "_interrupts",
    "work_units": "_loading",
}

__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()}
)
