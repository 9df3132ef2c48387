"""report.html's template package: static files inlined verbatim and checked, Jinja2 loaded late."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from teleconform.report import html
from teleconform.report.html import _templates

STATIC = resources.files("teleconform.report.html") / "static"


def _between(page: str, start: str, end: str) -> str:
    return page.split(start, 1)[1].split(end, 1)[0]


def test_css_and_js_files_are_inlined_verbatim(mixed_report: dict[str, Any]) -> None:
    page = html.render(mixed_report)
    css = (STATIC / "report.css").read_text(encoding="utf-8")
    js = (STATIC / "report.js").read_text(encoding="utf-8")
    assert _between(page, "<style>", "</style>").strip() == css.strip()
    assert _between(page, "<script>", "</script>").strip() == js.strip()
    # markup characters of the CSS and JS stay as written (no escaping of our own files)
    assert "tr.evidence-row>td" in css and "tr.evidence-row>td" in page
    assert 'content:"\\25B8"' in page  # the chevron, one backslash as CSS wants


@pytest.mark.parametrize("closing", ["</style>", "</SCRIPT >", "<!-- x -->"])
def test_a_static_file_that_would_end_its_element_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closing: str
) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "bad.css").write_text(f"a{{color:red}}{closing}", encoding="utf-8")
    monkeypatch.setattr("importlib.resources.files", lambda package: tmp_path)
    with pytest.raises(ValueError, match="static/bad.css"):
        _templates.asset("bad.css")


def test_the_shipped_static_files_pass_the_check() -> None:
    assert str(_templates.asset("report.css")).startswith(":root{")
    assert "applyFilters" in _templates.asset("report.js")


def test_importing_the_reports_does_not_load_jinja2() -> None:
    code = (
        "import sys, teleconform.report, teleconform.report.html;"
        "print('jinja2' in sys.modules);"
        "teleconform.report.html.render({});"
        "print('jinja2' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]


def test_templates_are_compiled_once(mixed_report: dict[str, Any]) -> None:
    env = _templates.environment()
    html.render(mixed_report)
    template = env.get_template(_templates.PAGE_TEMPLATE)
    html.render(mixed_report)
    assert env.get_template(_templates.PAGE_TEMPLATE) is template
    assert _templates.environment() is env
