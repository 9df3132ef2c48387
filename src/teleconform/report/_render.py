"""The four reports from one report document: rendered together, written atomically.

The writers read the document as a `Mapping` (it may also come back from a report.json on
disk, as for `report merge`), never send requests, and escape all text, because evidence
quotes server bodies verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from teleconform.report._write import write_bytes_atomic
from teleconform.report.html import render as html_page
from teleconform.report.json import encode as json_bytes
from teleconform.report.json import render as json_text
from teleconform.report.junit import render as junit_xml
from teleconform.report.markdown import render as markdown_summary

FILENAMES: dict[str, str] = {
    "json": "report.json",
    "junit": "junit.xml",
    "markdown": "summary.md",
    "html": "report.html",
}


def render_reports(report: Mapping[str, Any]) -> dict[str, bytes]:
    """The four reports as bytes, keyed like FILENAMES; nothing is written."""
    return {
        "json": json_bytes(json_text(report)),
        "junit": junit_xml(report).encode("utf-8"),
        "markdown": markdown_summary(report).encode("utf-8"),
        "html": html_page(report).encode("utf-8"),
    }


def write_reports(report: Mapping[str, Any], report_dir: Path) -> dict[str, Path]:
    """Write report.json, junit.xml, summary.md and report.html into `report_dir`.

    Creates the directory if needed and replaces each file atomically. Returns the written
    paths keyed "json", "junit", "markdown", "html". All four are rendered before the first
    one is written, so a rendering bug never leaves a mix of old and new reports behind.
    """
    rendered = render_reports(report)
    report_dir = Path(report_dir)
    return {
        key: write_bytes_atomic(report_dir / FILENAMES[key], data) for key, data in rendered.items()
    }
