"""report.html: one self-contained page (inline CSS and a little vanilla JS, no network).

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

import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from teleconform.report._common import (
    ADVISORY_NOTE,
    LABELS,
    SSO_WINDOW_CLAUSE,
    STATUSES,
    advisories_of,
    advisory_count,
    area_of,
    body_text,
    clauses_of,
    clean_text,
    curl_of,
    evidence_of,
    format_number,
    header_pairs,
    headline,
    mapping,
    measurements_of,
    runs_of,
    sso_window,
    sso_window_sentence,
    status_counts,
    status_of,
    unverified_musts,
)
from teleconform.report._left import item_text, left_behind_items, left_behind_sentence

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
MAX_BODY_CHARS = 20_000
MAX_EXCHANGES = 20

# Plain text symbols (DejaVu/Liberation have them) instead of the emoji the Markdown uses:
# headless and minimal systems often lack an emoji font and would draw empty boxes.
SYMBOLS = {"pass": "✓", "fail": "✗", "error": "⚠", "skip": "⊘", "waived": "⚑"}
ADVISORY_SYMBOL = "ℹ"

FILTER_LABELS = {
    "fail": "fail",
    "error": "error",
    "waived": "waived",
    "skip": "skip",
    "pass": "pass",
}


def e(value: object) -> str:
    """HTML-escape any value (text and attribute contexts alike)."""
    return html.escape(clean_text(value), quote=True)


def _slug(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", clean_text(value)) or "_"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _duration(report: Mapping[str, Any]) -> str | None:
    start, end = _parse_time(report.get("started_at")), _parse_time(report.get("finished_at"))
    if start is None or end is None or (start.tzinfo is None) != (end.tzinfo is None):
        return None
    seconds = (end - start).total_seconds()
    if seconds < 0:
        return None
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)} min {secs:.0f} s" if minutes else f"{secs:.1f} s"


def render(report: Mapping[str, Any]) -> str:
    """The complete HTML page for the report."""
    runs = runs_of(report)
    all_clauses = [c for run in runs for c in clauses_of(run)]
    counts = status_counts(all_clauses)
    ids: set[str] = set()
    body = [
        _header(all_clauses),
        _summary(report, runs, counts),
        _filters(counts),
        *(_run(run, ids) for run in runs),
    ]
    if not runs:
        body.append('<p class="empty">No API was run.</p>')
    body.append(_advisories(runs))
    return _PAGE.format(
        csp=e(CSP),
        title=e(f"teleconform report: {headline(all_clauses)[1]}"),
        css=_CSS,
        body="\n".join(body),
        js=_JS,
    )


def _header(clauses: list[Mapping[str, Any]]) -> str:
    state, text = headline(clauses)
    groups = unverified_musts(clauses)
    unverified = ""
    if groups:  # every skipped MUST clause, by what would let it run: never a bare green
        items = "".join(
            f'<li><span class="need">{e(label)}</span> ({len(ids)}): '
            f'<span class="ids">{e(", ".join(ids))}</span></li>'
            for label, ids in groups
        )
        unverified = f'<ul class="unverified" id="unverified">{items}</ul>'
    return (
        f'<header class="top state-{state}">'
        f'<h1>teleconform report</h1><p class="overall" id="overall">{e(text)}</p>'
        f"{unverified}</header>"
    )


def _summary(
    report: Mapping[str, Any], runs: list[Mapping[str, Any]], totals: Mapping[str, int]
) -> str:
    chips = "".join(
        f'<li class="total s-{k}" data-status="{k}"><span class="num">{totals.get(k, 0)}</span>'
        f'<span class="lbl">{SYMBOLS[k]} {e(LABELS[k] if k != "waived" else "waived")}</span></li>'
        for k in ("fail", "error", "waived", "skip", "pass")
    )
    advised = advisory_count(c for run in runs for c in clauses_of(run))
    chips += (
        f'<li class="total s-advisory" id="advisory-tile" data-count="{advised}">'
        f'<a href="#advisories"><span class="num">{advised}</span>'
        f'<span class="lbl">{ADVISORY_SYMBOL} advisor{"y" if advised == 1 else "ies"}</span>'
        "</a></li>"
    )
    tool = mapping(report.get("tool"))
    versions = ", ".join(
        f"{name} {e(tool[key])}"
        for name, key in (
            ("teleconform", "version"),
            ("schemathesis", "schemathesis"),
            ("hypothesis", "hypothesis"),
        )
        if tool.get(key)
    )
    rows = [("Seed", f"<code>{e(format_number(report.get('seed')))}</code>")]
    if report.get("started_at"):
        rows.append(("Started", f"<time>{e(report['started_at'])}</time>"))
    if report.get("finished_at"):
        rows.append(("Finished", f"<time>{e(report['finished_at'])}</time>"))
    duration = _duration(report)
    if duration:
        rows.append(("Duration", e(duration)))
    if versions:
        rows.append(("Tools", versions))
    targets = "".join(
        f'<li><a href="#run-{_slug(r.get("api"))}">{e(r.get("api") or "?")}</a> '
        f'<span class="mode">{e(mapping(r.get("target")).get("mode") or "?")}</span> '
        f'<code class="url">{e(mapping(r.get("target")).get("base_url") or "")}</code></li>'
        for r in runs
    )
    if targets:
        rows.append(("Targets", f'<ul class="targets">{targets}</ul>'))
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    failing = [
        (run, c) for run in runs for c in clauses_of(run) if status_of(c) in ("fail", "error")
    ]
    attention = ""
    if failing:
        links = "".join(
            f'<li><a href="#clause-{_slug(run.get("api"))}-{_slug(c.get("id"))}" '
            f'class="s-{status_of(c)}">{SYMBOLS[status_of(c)]} {e(c.get("id"))}</a> '
            f'<span class="lvl">{e(c.get("level") or "")}</span> {e(c.get("title") or "")}</li>'
            for run, c in failing
        )
        attention = f'<div class="attention"><h2>Needs attention</h2><ul>{links}</ul></div>'
    return (
        f'<section id="summary" class="summary" aria-label="Summary">'
        f'<ul class="totals" id="totals">{chips}</ul><dl class="meta">{meta}</dl>'
        f"{attention}</section>"
    )


def _filters(counts: Mapping[str, int]) -> str:
    boxes = "".join(
        f'<label class="chip s-{k}"><input type="checkbox" class="filter" data-filter="{k}" '
        f'checked> {SYMBOLS[k]} {FILTER_LABELS[k]} <span class="count">{counts[k]}</span></label>'
        for k in STATUSES
    )
    total = sum(counts.values())
    return (
        '<nav id="filters" class="filters" aria-label="Filter clauses by verdict">'
        f'<div class="chips">{boxes}</div><div class="actions">'
        '<button type="button" id="expand-failing">Expand failing</button>'
        '<button type="button" id="collapse-all">Collapse all</button>'
        f'<span id="shown-count" class="shown">{total} of {total} clauses shown</span>'
        "</div></nav>"
    )


def _run(run: Mapping[str, Any], ids: set[str]) -> str:
    api = clean_text(run.get("api") or "unknown")
    target = mapping(run.get("target"))
    clauses = clauses_of(run)
    totals = status_counts(clauses)
    line = " · ".join(
        f"{SYMBOLS[k]} {totals.get(k, 0)} {e(k)}"
        for k in ("fail", "error", "waived", "skip", "pass")
    )
    areas: dict[str, list[Mapping[str, Any]]] = {}
    for clause in clauses:
        areas.setdefault(area_of(clause), []).append(clause)
    figures = "".join(_sso_figure(api, c) for c in clauses if c.get("id") == SSO_WINDOW_CLAUSE)
    groups = "".join(_area(api, name, members, ids) for name, members in areas.items())
    if not clauses:
        groups = '<p class="empty">No clause selected.</p>'
    return (
        f'<section class="run" id="run-{_slug(api)}" data-api="{e(api)}">'
        f'<h2><span class="api">{e(api)}</span> <span class="mode">'
        f"{e(target.get('mode') or '?')}</span> "
        f'<code class="url">{e(target.get("base_url") or "")}</code></h2>'
        f'<p class="run-totals">{line}</p>{_left_behind(run)}{figures}{groups}</section>'
    )


def _left_behind(run: Mapping[str, Any]) -> str:
    items = left_behind_items(run)
    if items is None:
        return ""
    listed = "".join(f"<li>{e(item_text(item))}</li>" for item in items)
    return (
        f'<div class="left-behind"><p><strong>{e(left_behind_sentence(items))}</strong></p>'
        + (f"<ul>{listed}</ul>" if listed else "")
        + "</div>"
    )


def _area(api: str, name: str, clauses: list[Mapping[str, Any]], ids: set[str]) -> str:
    counts = status_counts(clauses)
    summary = " ".join(
        f'<span class="mini s-{k}" title="{e(LABELS[k])}">{SYMBOLS[k]} {n}</span>'
        for k, n in counts.items()
        if n
    )
    rows = "".join(_clause_rows(api, c, ids) for c in clauses)
    return (
        f'<section class="area" data-area="{e(name)}"><h3>{e(name)} '
        f'<span class="area-counts">{summary}</span></h3>'
        '<table class="matrix"><thead><tr><th scope="col">Clause</th><th scope="col">Level</th>'
        '<th scope="col">Verdict</th><th scope="col">Title and reason</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _unique(base: str, ids: set[str]) -> str:
    candidate, n = base, 2
    while candidate in ids:
        candidate, n = f"{base}-{n}", n + 1
    ids.add(candidate)
    return candidate


def _clause_rows(api: str, clause: Mapping[str, Any], ids: set[str]) -> str:
    cid = clean_text(clause.get("id") or "?")
    key = _unique(f"{_slug(api)}-{_slug(cid)}", ids)
    status = status_of(clause)
    verdict = clean_text(clause.get("verdict") or "error")
    level = clean_text(clause.get("level") or "").upper()
    reason = clause.get("reason") or ""
    reason_html = f'<div class="reason">{e(reason)}</div>' if reason else ""
    advised = len(advisories_of(clause))
    if advised:
        reason_html += (
            f'<div class="adv-count">{ADVISORY_SYMBOL} {advised} '
            f"advisor{'y' if advised == 1 else 'ies'} (no verdict changed)</div>"
        )
    return (
        f'<tr class="clause s-{status}" id="clause-{key}" data-id="{e(cid)}" data-api="{e(api)}" '
        f'data-area="{e(area_of(clause))}" data-level="{e(level)}" data-verdict="{e(verdict)}" '
        f'data-waived="{"true" if clause.get("waived") else "false"}" data-status="{status}" '
        f'data-advisories="{advised}" tabindex="0" aria-expanded="false" '
        f'aria-controls="evidence-{key}">'
        f'<td class="cid"><span class="chev" aria-hidden="true"></span>{e(cid)}</td>'
        f'<td class="level"><span class="badge lv-{_slug(level)}">{e(level)}</span></td>'
        f'<td class="verdict"><span class="badge v-{status}">{SYMBOLS[status]} '
        f"{e(LABELS[status])}</span></td>"
        f'<td class="desc"><div class="title">{e(clause.get("title") or "")}</div>'
        f"{reason_html}</td></tr>"
        f'<tr class="evidence-row" data-for="{e(cid)}" hidden><td colspan="4">'
        f'<div class="evidence" id="evidence-{key}" data-id="{e(cid)}">'
        f"{_evidence(clause)}</div></td></tr>"
    )


def _evidence(clause: Mapping[str, Any]) -> str:
    # The reason is not repeated here: the opened clause row shows it unabridged.
    parts: list[str] = []
    advisories = advisories_of(clause)
    if advisories:
        items = "".join(
            f'<li><span class="op">{e(a.get("operation") or "")}</span> '
            f'<span class="chk">{e(a.get("check") or "")}</span> {e(a.get("message") or "")}</li>'
            for a in advisories
        )
        parts.append(
            f'<div class="advisory-note">{ADVISORY_SYMBOL} Advisories '
            f'({e(ADVISORY_NOTE)}):</div><ul class="clause-advisories">{items}</ul>'
        )
    measured = measurements_of(clause)
    if measured:
        items = "".join(f"<dt>{e(k)}</dt>{_measurement_value(v)}" for k, v in measured.items())
        parts.append(f'<dl class="measurements">{items}</dl>')
    exchanges = evidence_of(clause)
    for n, exchange in enumerate(exchanges[:MAX_EXCHANGES], 1):
        parts.append(_exchange(n, exchange))
    if len(exchanges) > MAX_EXCHANGES:
        parts.append(
            f'<p class="more">{len(exchanges) - MAX_EXCHANGES} more exchanges in report.json</p>'
        )
    if not exchanges:
        parts.append('<p class="none">No exchange recorded for this clause.</p>')
    return "".join(parts)


def _advisories(runs: list[Mapping[str, Any]]) -> str:
    """The advisories section: every advisory of the report, linked to its clause row."""
    rows = []
    for run in runs:
        api = clean_text(run.get("api") or "unknown")
        for clause in clauses_of(run):
            cid = clean_text(clause.get("id") or "?")
            for a in advisories_of(clause):
                exchanges = evidence_of(a)
                detail = "".join(_exchange(n, x) for n, x in enumerate(exchanges[:1], 1))
                if detail:
                    detail = f"<details><summary>example exchange</summary>{detail}</details>"
                rows.append(
                    f'<tr class="advisory" data-id="{e(cid)}" data-api="{e(api)}">'
                    f'<td class="cid"><a href="#clause-{_slug(api)}-{_slug(cid)}">{e(cid)}</a></td>'
                    f'<td class="op">{e(a.get("operation") or "")}</td>'
                    f'<td class="chk">{e(a.get("check") or "")}</td>'
                    f'<td class="msg">{e(a.get("message") or "")}{detail}</td></tr>'
                )
    if rows:
        table = (
            '<table class="matrix advisories-table"><thead><tr><th scope="col">Clause</th>'
            '<th scope="col">Operation</th><th scope="col">Check</th>'
            f'<th scope="col">Message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    else:
        table = '<p class="none">No advisory in this run.</p>'
    return (
        '<section id="advisories" class="advisories" aria-label="Advisories">'
        f"<h2>{ADVISORY_SYMBOL} Advisories ({len(rows)})</h2>"
        f'<p class="note">{e(ADVISORY_NOTE[0].upper() + ADVISORY_NOTE[1:])}.</p>{table}</section>'
    )


def _measurement_value(value: object) -> str:
    if isinstance(value, Mapping | list):
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        return f'<dd class="structured"><pre>{e(text)}</pre></dd>'
    return f'<dd class="scalar">{e(format_number(value))}</dd>'


def _message(lead: str, headers: object, body: object) -> str:
    lines = [lead]
    lines += [f"{name}: {value}" for name, value in header_pairs(headers)]
    text = body_text(body)
    if text is not None:
        if len(text) > MAX_BODY_CHARS:
            cut = len(text) - MAX_BODY_CHARS
            text = text[:MAX_BODY_CHARS] + f"\n… {cut} more characters in report.json"
        lines += ["", text]
    return "\n".join(lines)


def _exchange(n: int, exchange: Mapping[str, Any]) -> str:
    request = mapping(exchange.get("request"))
    response = exchange.get("response")
    method = clean_text(request.get("method") or "?").upper()
    url = clean_text(request.get("url") or "")
    req = _message(f"{method} {url}", request.get("headers"), request.get("body"))
    if isinstance(response, Mapping):
        status = format_number(response.get("status"))
        resp = _message(f"HTTP {status}", response.get("headers"), response.get("body"))
    else:
        status, resp = "no response", "(no response)"
    return (
        f'<div class="exchange" data-n="{n}">'
        f'<h4><span class="n">#{n}</span> {e(method)} <span class="u">{e(url)}</span> '
        f'<span class="arrow">→</span> <span class="st">{e(status)}</span></h4>'
        f'<div class="pair"><div class="msg req"><h5>Request</h5><pre>{e(req)}</pre></div>'
        f'<div class="msg resp"><h5>Response</h5><pre>{e(resp)}</pre></div></div>'
        f'<div class="curl"><h5>curl <button type="button" class="copy">copy</button></h5>'
        f'<pre class="curl-line">{e(curl_of(exchange))}</pre></div></div>'
    )


def _ticks(limit: float, most: int) -> Iterable[float]:
    """Tick positions (seconds) at the smallest round step giving at most `most` ticks."""
    for step in (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
        if limit / step <= most:
            break
    else:
        step = int(math.ceil(limit / most / 86400)) * 86400
    tick = 0.0
    while tick <= limit + 1e-9:
        yield tick
        tick += step


def _duration_label(seconds: float) -> str:
    if seconds == 0:
        return "0"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{format_number(seconds)} s"


def _text_width(text: str) -> float:
    """Rough width in SVG units of 12px sans-serif text (labels go outside a too-short bar)."""
    return 7.0 * len(text)


def _timeline_svg(
    accepted: float, documented: float, resolution: float, sentence: str, width: float, variant: str
) -> str:
    """The SSO window timeline: the documented and the measured window as bars on one axis."""
    # A scale a bit past the larger of both windows, so both ends are visible.
    limit = max(documented, accepted + resolution, 1.0) * 1.15
    left, right = (88.0, 16.0) if width < 500 else (110.0, 20.0)
    span = width - left - right

    def x(seconds: float) -> float:
        return left + max(0.0, min(seconds, limit)) / limit * span

    def bar_label(cls: str, text: str, end: float, after: float, y: int) -> str:
        """Inside the bar, right-aligned before `end`, or after `after` if it does not fit."""
        if end - left >= _text_width(text) + 12:
            return (
                f'<text class="bar-label {cls}" x="{end - 6:.1f}" y="{y}" '
                f'text-anchor="end">{e(text)}</text>'
            )
        return f'<text class="bar-label {cls} outside" x="{after + 6:.1f}" y="{y}">{e(text)}</text>'

    ticks = "".join(
        f'<line class="tick" x1="{x(t):.1f}" y1="104" x2="{x(t):.1f}" y2="110"/>'
        f'<text class="tick-label" x="{x(t):.1f}" y="124" text-anchor="middle">'
        f"{e(_duration_label(t))}</text>"
        for t in _ticks(limit, max(4, int(span // 64)))
    )
    whisker = ""
    lo = hi = x(accepted)
    if resolution:
        lo, hi = x(accepted - resolution), x(accepted + resolution)
        whisker = (
            f'<path class="resolution" d="M{lo:.1f},62 V84 M{lo:.1f},73 H{hi:.1f} '
            f'M{hi:.1f},62 V84"/>'
        )
    precision = f" ±{format_number(resolution)} s" if resolution else ""
    doc_text = f"{_duration_label(documented)}" + (
        f" ({format_number(documented)} s)" if documented % 60 == 0 else ""
    )
    return (
        f'<svg class="timeline {variant}" viewBox="0 0 {width:.0f} 134" role="img" '
        f'aria-label="{e(sentence)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{e(sentence)}</title>"
        '<text class="row-label" x="4" y="37">documented</text>'
        f'<rect class="bar documented" x="{left:.1f}" y="24" '
        f'width="{x(documented) - left:.1f}" height="18" rx="3"/>'
        + bar_label("doc", doc_text, x(documented), x(documented), 37)
        + '<text class="row-label" x="4" y="77">measured</text>'
        f'<rect class="bar accepted" x="{left:.1f}" y="64" width="{x(accepted) - left:.1f}" '
        'height="18" rx="3"/>'
        + bar_label("acc", f"{format_number(accepted)} s{precision}", lo, hi, 77)
        + whisker
        + f'<line class="limit" x1="{x(documented):.1f}" y1="16" x2="{x(documented):.1f}" '
        'y2="96"/>'
        f'<line class="axis" x1="{left:.1f}" y1="104" x2="{width - right:.1f}" y2="104"/>'
        f'{ticks}<text class="axis-label" x="4" y="124">token age</text></svg>'
    )


def _sso_figure(api: str, clause: Mapping[str, Any]) -> str:
    window = sso_window(clause)
    if window is None:
        return ""
    accepted, documented, resolution = window
    sentence = sso_window_sentence(clause) or ""
    # Two drawings so that the labels keep a readable size: one for wide screens, one for
    # phones; CSS shows exactly one.
    svgs = "".join(
        _timeline_svg(accepted, documented, resolution, sentence, width, variant)
        for width, variant in ((640.0, "wide"), (360.0, "narrow"))
    )
    return (
        f'<figure class="sso-window s-{status_of(clause)}" id="sso-window-{_slug(api)}" '
        f'data-accepted="{e(format_number(accepted))}" '
        f'data-documented="{e(format_number(documented))}" '
        f'data-resolution="{e(format_number(resolution))}">'
        f'<figcaption><a href="#clause-{_slug(api)}-{_slug(clause.get("id"))}">'
        f"{e(clause.get('id'))}</a> {e(sentence)}</figcaption>{svgs}</figure>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{css}</style>
<noscript><style>tr.evidence-row[hidden]{{display:table-row!important}}</style></noscript>
</head>
<body>
{body}
<footer class="foot">Generated by teleconform. Evidence is redacted; the full data is in
report.json next to this file.</footer>
<script>{js}</script>
</body>
</html>
"""

_CSS = """
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#d9dde3;
--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#c62828;--fail-bg:#ffe3e3;--error:#9a5b00;
--error-bg:#fff1cc;--skip:#57606a;--skip-bg:#eaeef2;--waived:#7a5c00;--waived-bg:#fcf3c0;
--accent:#0b5cad;--code:#f0f2f5;--advisory:#0b5cad;--advisory-bg:#e3eefb}
@media (prefers-color-scheme:dark){:root{--bg:#0f1216;--fg:#e6e9ed;--muted:#9aa4b0;
--card:#181c22;--line:#2c333c;--pass:#4ac26b;--pass-bg:#12301c;--fail:#ff7b72;
--fail-bg:#3b1717;--error:#e3b341;--error-bg:#33270b;--skip:#9aa4b0;--skip-bg:#242a31;
--waived:#e3c341;--waived-bg:#332c0b;--accent:#58a6ff;--code:#11151a;--advisory:#79b8ff;
--advisory-bg:#10243a}}
*{box-sizing:border-box}
[hidden],.filtered{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);line-height:1.45;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code,pre,.cid,.url{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",
monospace;font-size:.9em}
a{color:var(--accent)}
.top{padding:14px 20px;color:#fff;background:#3d4650;display:flex;flex-wrap:wrap;
align-items:baseline;gap:6px 18px}
.top.state-bad{background:#a32020}.top.state-warn{background:#8a5a00}.top.state-good{background:#1a6b34}
.top.state-partial{background:#8f6a00}.unverified{flex-basis:100%;margin:0;padding-left:1.2em}
.top h1{margin:0;font-size:1.3em}.overall{margin:0;font-weight:600}
.summary,.filters,.run{max-width:1200px;margin:14px auto;padding:0 16px}
.totals{list-style:none;display:flex;flex-wrap:wrap;gap:8px;padding:0;margin:0 0 10px}
.total{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--c);
border-radius:6px;padding:6px 12px;min-width:96px}
.total .num{display:block;font-size:1.5em;font-weight:700;color:var(--c)}
.total .lbl{color:var(--muted);font-size:.9em}
.s-pass{--c:var(--pass);--cb:var(--pass-bg)}.s-fail{--c:var(--fail);--cb:var(--fail-bg)}
.s-error{--c:var(--error);--cb:var(--error-bg)}.s-skip{--c:var(--skip);--cb:var(--skip-bg)}
.s-waived{--c:var(--waived);--cb:var(--waived-bg)}
.s-advisory{--c:var(--advisory);--cb:var(--advisory-bg)}
.total a{display:block;color:inherit;text-decoration:none}
.adv-count{color:var(--advisory);font-size:.85em;margin-top:2px}
.advisory-note{font-size:.9em;color:var(--muted);margin:0 0 4px;overflow-wrap:anywhere}
.clause-advisories{margin:0 0 10px;padding-left:18px;font-size:.9em;overflow-wrap:anywhere}
.clause-advisories .op,.advisories .op{font-family:ui-monospace,monospace}
.clause-advisories .chk{font-weight:600}
.advisories{max-width:1200px;margin:14px auto;padding:0 16px}
.advisories h2{font-size:1.2em;margin:18px 0 4px}
.advisories .note{color:var(--muted);margin:0 0 8px}
.advisories-table tr.advisory{border-left:4px solid var(--advisory)}
.advisories-table td{overflow-wrap:anywhere}
table.advisories-table th:nth-child(2){width:230px}
table.advisories-table th:nth-child(3){width:220px}
.advisories details{margin-top:6px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0;
background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
.meta dt{color:var(--muted)}.meta dd{margin:0;min-width:0;overflow-wrap:anywhere}
.targets{list-style:none;margin:0;padding:0}
.mode{display:inline-block;font-size:.8em;padding:0 6px;border-radius:8px;
background:var(--skip-bg);color:var(--fg);vertical-align:middle}
.attention{margin-top:10px;background:var(--card);border:1px solid var(--line);
border-left:5px solid var(--fail);border-radius:6px;padding:6px 14px}
.attention h2{font-size:1em;margin:4px 0}.attention ul{margin:4px 0;padding-left:18px}
.attention a{font-weight:600;text-decoration:none;color:var(--c)}
.lvl{font-size:.8em;color:var(--muted)}
.filters{position:sticky;top:0;z-index:2;background:var(--bg);padding-top:8px;
padding-bottom:8px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:8px;
align-items:center;justify-content:space-between}
.chips,.actions{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.chip{display:inline-flex;align-items:center;gap:4px;border:1px solid var(--line);
border-radius:16px;padding:3px 10px;background:var(--card);cursor:pointer;user-select:none}
.chip:has(input:checked){background:var(--cb);border-color:var(--c)}
.chip input{margin:0}.chip .count{font-weight:700;color:var(--c)}
button{font:inherit;border:1px solid var(--line);background:var(--card);color:var(--fg);
border-radius:6px;padding:3px 10px;cursor:pointer}
button:hover{border-color:var(--accent)}
.shown{color:var(--muted);font-size:.9em}
.run h2{font-size:1.2em;margin:18px 0 4px;display:flex;flex-wrap:wrap;gap:4px 10px;
align-items:baseline}
.run h2 .url{font-weight:400;color:var(--muted);overflow-wrap:anywhere}
.run-totals{margin:0 0 8px;color:var(--muted)}
.area{margin:12px 0}
.area h3{font-size:1em;margin:0;padding:6px 10px;background:var(--card);
border:1px solid var(--line);border-bottom:0;border-radius:6px 6px 0 0}
.area-counts{font-weight:400;font-size:.85em;color:var(--muted);margin-left:8px}
.mini{margin-right:6px}
table.matrix{width:100%;border-collapse:collapse;background:var(--card);
border:1px solid var(--line);table-layout:fixed}
.matrix th{text-align:left;font-size:.8em;color:var(--muted);font-weight:600;
padding:4px 10px;border-bottom:1px solid var(--line)}
.matrix th:nth-child(1){width:150px}.matrix th:nth-child(2){width:80px}
.matrix th:nth-child(3){width:130px}
.matrix td{padding:6px 10px;border-top:1px solid var(--line);vertical-align:top}
tr.clause{cursor:pointer;border-left:4px solid var(--c)}
tr.clause:hover,tr.clause:focus{background:var(--cb);outline:none}
tr.clause.open{background:var(--cb)}
.cid{white-space:nowrap;font-weight:600}
.chev{display:inline-block;width:1em;color:var(--muted);transition:transform .15s}
.chev::before{content:"\\25B8"}
tr.clause.open .chev{transform:rotate(90deg)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:.85em;
white-space:nowrap}
.v-pass,.v-fail,.v-error,.v-skip,.v-waived{background:var(--cb);color:var(--c);
font-weight:600}
.lv-MUST{border:1px solid var(--fg)}.lv-SHOULD{border:1px dashed var(--muted);
color:var(--muted)}
.desc .title{overflow-wrap:anywhere}
.desc .reason{color:var(--muted);font-size:.9em;overflow-wrap:anywhere;
display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
tr.clause.open .desc .reason{display:block}
tr.evidence-row>td{background:var(--bg);border-left:4px solid var(--line);padding:10px}
.evidence .why{margin:0 0 8px;overflow-wrap:anywhere}
.measurements{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;
margin:0 0 10px;font-size:.9em}
.measurements dt{color:var(--muted);overflow-wrap:anywhere}
.measurements dd{margin:0;min-width:0;overflow-wrap:anywhere}
.measurements dd.scalar{font-weight:600}.measurements pre{max-height:12em}
.exchange{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:8px 10px;margin:0 0 10px;min-width:0}
.exchange h4{margin:0 0 6px;font-size:.9em;font-weight:600;overflow-wrap:anywhere}
.exchange h4 .n{color:var(--muted)}.exchange h4 .u{font-family:ui-monospace,monospace;
font-weight:400}
.exchange h5{margin:4px 0 2px;font-size:.75em;text-transform:uppercase;letter-spacing:.04em;
color:var(--muted);display:flex;align-items:center;gap:8px}
.pair{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:10px}
pre{margin:0;background:var(--code);border:1px solid var(--line);border-radius:4px;
padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:22em;overflow:auto}
.copy{font-size:.9em;padding:0 8px;text-transform:none;letter-spacing:0}
.sso-window{margin:10px 0;background:var(--card);border:1px solid var(--line);
border-left:5px solid var(--c);border-radius:6px;padding:8px 12px}
.sso-window figcaption{font-size:.9em;margin-bottom:4px;overflow-wrap:anywhere}
.sso-window svg{display:block;width:100%;max-width:720px;height:auto}
.sso-window svg.narrow{display:none}
.sso-window text{fill:var(--fg);font:12px system-ui,sans-serif}
.sso-window .tick-label,.sso-window .axis-label{fill:var(--muted);font-size:11px}
.sso-window .bar.documented{fill:var(--skip-bg);stroke:var(--skip)}
.sso-window .bar.accepted{fill:var(--cb);stroke:var(--c);stroke-width:1.5}
.sso-window .bar-label{font-weight:600}
.sso-window .limit{stroke:var(--accent);stroke-dasharray:4 3;stroke-width:1.5}
.sso-window .axis,.sso-window .tick{stroke:var(--muted)}
.sso-window .resolution{stroke:var(--fg);stroke-width:1.5;fill:none}
.foot{max-width:1200px;margin:24px auto;padding:0 16px;color:var(--muted);font-size:.85em}
.empty,.none,.more{color:var(--muted)}
@media (max-width:720px){
body{font-size:14px}
.summary,.filters,.run,.advisories{padding:0 8px}
.advisories-table thead{display:none}
.advisories-table tr.advisory{display:grid;grid-template-columns:1fr;gap:2px;padding:6px 8px;
border-top:1px solid var(--line)}
.filters{padding-top:6px;padding-bottom:6px}
.matrix thead{display:none}
table.matrix,.matrix tbody{display:block}
tr.clause{display:grid;grid-template-columns:1fr auto auto;gap:2px 8px;padding:6px 8px;
border-top:1px solid var(--line)}
.matrix td{padding:0;border:0;min-width:0}
tr.clause td.desc{grid-column:1/-1}
tr.evidence-row{display:block}
tr.evidence-row>td{display:block;padding:8px}
.pair{grid-template-columns:minmax(0,1fr)}
.meta{grid-template-columns:1fr}.meta dt{margin-top:4px}
.filters{position:static}
.sso-window svg.wide{display:none}.sso-window svg.narrow{display:block}
}
"""

_JS = """
(function () {
  "use strict";
  var doc = document;
  function all(sel) { return Array.prototype.slice.call(doc.querySelectorAll(sel)); }
  function evidenceRow(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("evidence-row") ? next : null;
  }
  function setOpen(row, open) {
    var ev = evidenceRow(row);
    if (!ev) { return; }
    ev.hidden = !open;
    row.classList.toggle("open", open);
    row.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function toggle(row) { setOpen(row, row.getAttribute("aria-expanded") !== "true"); }
  doc.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element) || t.closest("a")) { return; }
    var row = t.closest("tr.clause");
    if (row) { toggle(row); }
  });
  doc.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (t instanceof Element && t.matches("tr.clause") && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      toggle(t);
    }
  });
  var boxes = all("input.filter");
  function applyFilters() {
    var on = {};
    boxes.forEach(function (b) { on[b.getAttribute("data-filter")] = b.checked; });
    var rows = all("tr.clause"), shown = 0;
    rows.forEach(function (row) {
      var show = on[row.getAttribute("data-status")] !== false;
      row.classList.toggle("filtered", !show);
      var ev = evidenceRow(row);
      if (ev) { ev.classList.toggle("filtered", !show); }
      if (show) { shown += 1; }
    });
    all("section.area").forEach(function (area) {
      area.hidden = area.querySelector("tr.clause:not(.filtered)") === null;
    });
    var counter = doc.getElementById("shown-count");
    if (counter) { counter.textContent = shown + " of " + rows.length + " clauses shown"; }
  }
  boxes.forEach(function (b) { b.addEventListener("change", applyFilters); });
  function byId(id, fn) {
    var el = doc.getElementById(id);
    if (el) { el.addEventListener("click", fn); }
  }
  byId("expand-failing", function () {
    all("tr.clause").forEach(function (row) {
      var s = row.getAttribute("data-status");
      setOpen(row, (s === "fail" || s === "error") && !row.classList.contains("filtered"));
    });
  });
  byId("collapse-all", function () {
    all("tr.clause").forEach(function (row) { setOpen(row, false); });
  });
  all("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var pre = button.closest(".curl").querySelector("pre");
      var text = pre.textContent;
      function selectIt() {
        var range = doc.createRange();
        range.selectNodeContents(pre);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = "selected";
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = "copied";
        }, selectIt);
      } else { selectIt(); }
    });
  });
  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? doc.getElementById(id) : null;
    if (el && el.matches("tr.clause")) {
      if (el.classList.contains("filtered")) {
        var status = el.getAttribute("data-status");
        var box = doc.querySelector('input.filter[data-filter="' + status + '"]');
        if (box) { box.checked = true; applyFilters(); }
      }
      setOpen(el, true);
      el.scrollIntoView({block: "start"});
    }
  }
  window.addEventListener("hashchange", openFromHash);
  applyFilters();
  openFromHash();
})();
"""
