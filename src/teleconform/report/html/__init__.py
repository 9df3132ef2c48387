"""report.html: one self-contained page (inline CSS and a little vanilla JS, no network).

Made from the package's Jinja2 templates (`templates/`, autoescaped) with the stylesheet and
script of `static/` inlined: `_view` turns the report dict into plain values, `_templates`
renders them. Jinja2 is imported on the first render, not with this package.

Stable hooks for tests and for people scripting against the page:
- `tr.clause` per clause, with `id="clause-<api>-<clause id>"` and the data attributes
  `data-id`, `data-api`, `data-area`, `data-level`, `data-verdict` (pass/fail/skip/error, as in
  report.json), `data-waived` ("true"/"false") and `data-status` (the verdict, or "waived"
  for a waived fail; the filters work on it);
- the row after it, `tr.evidence-row[data-for=<clause id>]`, holds `.evidence` (with
  `id="evidence-<api>-<clause id>"`), hidden until the clause row is clicked;
- `input.filter[data-filter=<status>]` checkboxes; `#shown-count`; `#expand-failing`,
  `#collapse-all`; `section.run[data-api]`, `section.area[data-area]`;
- `figure.sso-window` (inline SVG) when HCW-SSO-02 carries the `accepted_window_s` measurement;
- advisories: the tile `li#advisory-tile` (its `.num` the count, a link to the section),
  `section#advisories` with one `tr.advisory[data-id][data-api]` per advisory, and on each
  clause row `data-advisories` (the count) and, in its panel, `ul.clause-advisories`.
The Content-Security-Policy forbids every fetch, so the page cannot reach the network even
when a redacted server body contains markup (which is escaped anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from teleconform.report.html._view import MAX_BODY_CHARS, MAX_EXCHANGES, page


def render(report: Mapping[str, Any]) -> str:
    """The complete HTML page for the report."""
    # Imported here: loading Jinja2 costs ~40 ms, which importers of teleconform.report
    # that never write report.html (merge --format json, the sandboxes) should not pay.
    from teleconform.report.html._templates import render_page

    return render_page(page(report))


__all__ = ["MAX_BODY_CHARS", "MAX_EXCHANGES", "render"]
