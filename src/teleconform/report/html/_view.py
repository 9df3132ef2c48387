"""What report.html shows, computed from the report dict: texts, counts, ids, order.

The markup is in the package's templates (templates/*.html); this module reads the report
defensively (through report._common) and hands the templates plain values, so no template
decides anything about verdicts. Text is made safe by the template environment, not here:
control characters made visible (`clean_text`) and markup escaped on output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teleconform.report._common import (
    ADVISORY_NOTE,
    SSO_WINDOW_CLAUSE,
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
from teleconform.report.html._timeline import Timeline, timeline

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
TILE_ORDER = ("fail", "error", "waived", "skip", "pass")


@dataclass(frozen=True)
class Exchange:
    """One request/response pair as shown: a heading, both messages as text, a curl line."""

    n: int
    method: str
    url: str
    status: str
    request: str
    response: str
    curl: str


@dataclass(frozen=True)
class Advisory:
    """One advisory of a clause; `example` is its first exchange (the advisories section)."""

    cid: str
    api: str
    anchor: str
    operation: str
    check: str
    message: str
    example: Exchange | None


@dataclass(frozen=True)
class Measurement:
    """One measurement: a scalar, or a structure shown as indented JSON."""

    name: str
    value: str
    structured: bool


@dataclass(frozen=True)
class Clause:
    """A clause row and its evidence panel."""

    key: str  # unique on the page: the row is clause-<key>, its panel evidence-<key>
    cid: str
    api: str
    area: str
    level: str
    level_class: str
    verdict: str
    status: str
    waived: bool
    title: str
    reason: str
    advisories: tuple[Advisory, ...]
    measurements: tuple[Measurement, ...]
    exchanges: tuple[Exchange, ...]
    more_exchanges: int  # exchanges past MAX_EXCHANGES, left to report.json


@dataclass(frozen=True)
class Area:
    """The clauses of one area of a run, with their counts by status (non-zero only)."""

    name: str
    counts: tuple[tuple[str, int], ...]
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Figure:
    """The SSO window figure of a run (two drawings: wide and narrow screens)."""

    api_slug: str
    status: str
    anchor: str
    cid: str
    accepted: str
    documented: str
    resolution: str
    sentence: str
    drawings: tuple[Timeline, ...]


@dataclass(frozen=True)
class LeftBehind:
    """What a live run left on its target."""

    sentence: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Run:
    """One API's section."""

    api: str
    slug: str
    mode: str
    base_url: str
    totals: tuple[tuple[str, int], ...]
    left_behind: LeftBehind | None
    figures: tuple[Figure, ...]
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class Target:
    """A run in the summary's target list."""

    anchor: str
    api: str
    mode: str
    base_url: str


@dataclass(frozen=True)
class Attention:
    """A failing or erring clause linked from the summary."""

    anchor: str
    status: str
    cid: str
    level: str
    title: str


@dataclass(frozen=True)
class Page:
    """Everything the page template needs."""

    csp: str
    title: str
    state: str
    overall: str
    unverified: tuple[tuple[str, int, str], ...]  # (what is needed, how many, their ids)
    counts: dict[str, int]
    total: int
    advised: int
    seed: str
    started_at: str
    finished_at: str
    duration: str | None
    tools: str
    targets: tuple[Target, ...]
    attention: tuple[Attention, ...]
    runs: tuple[Run, ...]
    advisories: tuple[Advisory, ...]
    advisory_sentence: str  # ADVISORY_NOTE as a sentence, for the advisories section


def slug(value: object) -> str:
    """`value` reduced to characters safe in an id (anything else becomes `_`)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", clean_text(value)) or "_"


def plural(count: int, one: str, many: str) -> str:
    """`one` or `many` by count."""
    return one if count == 1 else many


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


def page(report: Mapping[str, Any]) -> Page:
    """The view of the whole page."""
    runs = runs_of(report)
    all_clauses = [c for run in runs for c in clauses_of(run)]
    counts = status_counts(all_clauses)
    state, overall = headline(all_clauses)
    tool = mapping(report.get("tool"))
    tools = ", ".join(
        f"{name} {clean_text(tool[key])}"
        for name, key in (
            ("teleconform", "version"),
            ("schemathesis", "schemathesis"),
            ("hypothesis", "hypothesis"),
        )
        if tool.get(key)
    )
    ids: set[str] = set()
    return Page(
        csp=CSP,
        title=f"teleconform report: {overall}",
        state=state,
        overall=overall,
        unverified=tuple(
            (label, len(members), ", ".join(members))
            for label, members in unverified_musts(all_clauses)
        ),
        counts=counts,
        total=sum(counts.values()),
        advised=advisory_count(all_clauses),
        seed=format_number(report.get("seed")),
        started_at=clean_text(report.get("started_at") or ""),
        finished_at=clean_text(report.get("finished_at") or ""),
        duration=_duration(report),
        tools=tools,
        targets=tuple(
            Target(
                anchor=f"run-{slug(r.get('api'))}",
                api=clean_text(r.get("api") or "?"),
                mode=clean_text(mapping(r.get("target")).get("mode") or "?"),
                base_url=clean_text(mapping(r.get("target")).get("base_url") or ""),
            )
            for r in runs
        ),
        attention=tuple(
            Attention(
                anchor=f"clause-{slug(run.get('api'))}-{slug(c.get('id'))}",
                status=status_of(c),
                cid=clean_text(c.get("id")),
                level=clean_text(c.get("level") or ""),
                title=clean_text(c.get("title") or ""),
            )
            for run in runs
            for c in clauses_of(run)
            if status_of(c) in ("fail", "error")
        ),
        runs=tuple(_run(run, ids) for run in runs),
        advisories=tuple(
            a for run in runs for c in clauses_of(run) for a in _advisories(run, c, example=True)
        ),
        advisory_sentence=ADVISORY_NOTE[0].upper() + ADVISORY_NOTE[1:],
    )


def _run(run: Mapping[str, Any], ids: set[str]) -> Run:
    api = clean_text(run.get("api") or "unknown")
    target = mapping(run.get("target"))
    clauses = clauses_of(run)
    totals = status_counts(clauses)
    areas: dict[str, list[Mapping[str, Any]]] = {}
    for clause in clauses:
        areas.setdefault(area_of(clause), []).append(clause)
    figures = (_figure(api, c) for c in clauses if c.get("id") == SSO_WINDOW_CLAUSE)
    return Run(
        api=api,
        slug=slug(api),
        mode=clean_text(target.get("mode") or "?"),
        base_url=clean_text(target.get("base_url") or ""),
        totals=tuple((k, totals.get(k, 0)) for k in TILE_ORDER),
        left_behind=_left_behind(run),
        figures=tuple(f for f in figures if f is not None),
        # Row ids are handed out in page order (area by area), as the rows appear.
        areas=tuple(_area(api, name, members, ids) for name, members in areas.items()),
    )


def _left_behind(run: Mapping[str, Any]) -> LeftBehind | None:
    items = left_behind_items(run)
    if items is None:
        return None
    return LeftBehind(left_behind_sentence(items), tuple(item_text(i) for i in items))


def _area(api: str, name: str, clauses: list[Mapping[str, Any]], ids: set[str]) -> Area:
    counts = tuple((k, n) for k, n in status_counts(clauses).items() if n)
    return Area(name, counts, tuple(_clause(api, c, ids) for c in clauses))


def _unique(base: str, ids: set[str]) -> str:
    candidate, n = base, 2
    while candidate in ids:
        candidate, n = f"{base}-{n}", n + 1
    ids.add(candidate)
    return candidate


def _clause(api: str, clause: Mapping[str, Any], ids: set[str]) -> Clause:
    cid = clean_text(clause.get("id") or "?")
    level = clean_text(clause.get("level") or "").upper()
    exchanges = evidence_of(clause)
    return Clause(
        key=_unique(f"{slug(api)}-{slug(cid)}", ids),
        cid=cid,
        api=api,
        area=area_of(clause),
        level=level,
        level_class=f"lv-{slug(level)}",
        verdict=clean_text(clause.get("verdict") or "error"),
        status=status_of(clause),
        waived=bool(clause.get("waived")),
        title=clean_text(clause.get("title") or ""),
        reason=clean_text(clause.get("reason") or ""),
        advisories=tuple(_advisories({"api": api}, clause, example=False)),
        measurements=tuple(_measurement(k, v) for k, v in measurements_of(clause).items()),
        exchanges=tuple(_exchange(n, x) for n, x in enumerate(exchanges[:MAX_EXCHANGES], 1)),
        more_exchanges=max(0, len(exchanges) - MAX_EXCHANGES),
    )


def _advisories(
    run: Mapping[str, Any], clause: Mapping[str, Any], *, example: bool
) -> list[Advisory]:
    api = clean_text(run.get("api") or "unknown")
    cid = clean_text(clause.get("id") or "?")
    found = []
    for a in advisories_of(clause):
        exchanges = evidence_of(a) if example else []
        found.append(
            Advisory(
                cid=cid,
                api=api,
                anchor=f"clause-{slug(api)}-{slug(cid)}",
                operation=clean_text(a.get("operation") or ""),
                check=clean_text(a.get("check") or ""),
                message=clean_text(a.get("message") or ""),
                example=_exchange(1, exchanges[0]) if exchanges else None,
            )
        )
    return found


def _measurement(name: str, value: object) -> Measurement:
    if isinstance(value, Mapping | list):
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        return Measurement(name, text, structured=True)
    return Measurement(name, format_number(value), structured=False)


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


def _exchange(n: int, exchange: Mapping[str, Any]) -> Exchange:
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
    return Exchange(n, method, url, status, req, resp, curl_of(exchange))


def _figure(api: str, clause: Mapping[str, Any]) -> Figure | None:
    window = sso_window(clause)
    if window is None:
        return None
    accepted, documented, resolution = window
    sentence = clean_text(sso_window_sentence(clause) or "")
    return Figure(
        api_slug=slug(api),
        status=status_of(clause),
        anchor=f"clause-{slug(api)}-{slug(clause.get('id'))}",
        cid=clean_text(clause.get("id")),
        accepted=format_number(accepted),
        documented=format_number(documented),
        resolution=format_number(resolution),
        sentence=sentence,
        # Two drawings so that the labels keep a readable size: one for wide screens, one
        # for phones; CSS shows exactly one.
        drawings=tuple(
            timeline(accepted, documented, resolution, sentence, width, variant)
            for width, variant in ((640.0, "wide"), (360.0, "narrow"))
        ),
    )


__all__ = [
    "ADVISORY_SYMBOL",
    "MAX_BODY_CHARS",
    "MAX_EXCHANGES",
    "SYMBOLS",
    "TILE_ORDER",
    "Page",
    "page",
    "plural",
    "slug",
]
