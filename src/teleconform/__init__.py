"""teleconform: conformance suite for the HCW@Home and Leah telehealth APIs."""

from ._version import __version__
from .catalogue import Clause, load_catalogue
from .runner import ApiRun, ClauseResult, run_api
from .suite import Context, clause

__all__ = [
    "__version__",
    "ApiRun",
    "clause",
    "Clause",
    "ClauseResult",
    "Context",
    "load_catalogue",
    "run_api",
]
