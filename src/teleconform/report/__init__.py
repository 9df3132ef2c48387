"""Reports: the typed document (`model`), its one builder (`_document.build_report`), the
writers (report.json, junit.xml, summary.md, report.html), the baseline and `merge`.

Lazy (PEP 562): importing `teleconform.report.model` or `.merge` does not load the writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.report._render import FILENAMES, render_reports, write_reports

__all__ = ["FILENAMES", "render_reports", "write_reports"]

__getattr__, __dir__ = lazy_attributes(
    __name__, dict.fromkeys(__all__, "teleconform.report._render")
)
