"""Reports: the typed document (`model`), its one builder (`_document.build_report`), the
writers (report.json, junit.xml, summary.md, report.html), the baseline and `merge`.

Lazy (PEP 562): importing `teleconform.report.model` or `.merge` does not load the writers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleconform.report._render import FILENAMES, render_reports, write_reports

__all__ = ["FILENAMES", "render_reports", "write_reports"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("teleconform.report._render"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
