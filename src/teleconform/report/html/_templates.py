"""The Jinja2 environment of report.html: package templates, autoescaping, inlined CSS and JS.

Every `{{ }}` is HTML-escaped (autoescape for every template, .html and .svg alike) after
control characters are made visible (`clean_text`, as `finalize`). The only values marked
safe are the package's own stylesheet and script, read from `static/` and inlined, since
report.html must stay one self-contained file.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from teleconform.report._common import ADVISORY_NOTE, LABELS, STATUSES, clean_text
from teleconform.report.html._timeline import HEIGHT
from teleconform.report.html._view import (
    ADVISORY_SYMBOL,
    SYMBOLS,
    TILE_ORDER,
    Page,
    plural,
)

PACKAGE = "teleconform.report.html"
PAGE_TEMPLATE = "report.html"
# What would end an inlined <style> or <script> early, or switch its parsing mode.
_ENDS_ELEMENT = re.compile(r"</(?:style|script)|<!--", re.IGNORECASE)


def _finalize(value: object) -> object:
    return value if isinstance(value, Markup) else clean_text(value)


def asset(name: str) -> Markup:
    """A file of static/, to be inlined into the page as it is.

    A closing `</style` or `</script` in it would end the element early and let the rest be
    read as markup: refused, since these files are ours and must never contain one.
    """
    text = (resources.files(PACKAGE) / "static" / name).read_text(encoding="utf-8")
    if _ENDS_ELEMENT.search(text):
        raise ValueError(f"static/{name} contains '</style', '</script' or '<!--'")
    return Markup(text)  # our own file, checked above


@functools.cache
def environment() -> jinja2.Environment:
    """The one environment (templates are compiled once per process)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "templates"),
        autoescape=jinja2.select_autoescape(["html", "svg"], default=True),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(
        symbols=SYMBOLS,
        labels=LABELS,
        statuses=STATUSES,
        tile_order=TILE_ORDER,
        advisory_symbol=ADVISORY_SYMBOL,
        advisory_note=ADVISORY_NOTE,
        height=HEIGHT,
        plural=plural,
    )
    return env


@functools.cache
def _assets() -> dict[str, Markup]:
    return {"css": asset("report.css"), "js": asset("report.js")}


def render_page(view: Page) -> str:
    """The page for a view, with the stylesheet and script inlined."""
    context: dict[str, Any] = {"page": view, **_assets()}
    return environment().get_template(PAGE_TEMPLATE).render(context)
