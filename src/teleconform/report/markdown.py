"""summary.md: a compact Markdown summary for CI pages (e.g. GitHub's job summary).

One totals line (and one for the advisories), then per API a table
`| Clause | Level | Verdict | Reason |` with failing clauses first, a line per clause that has
measurements, and a table of the advisories `| Clause | Operation | Check | Message |`. Every
cell is escaped: reasons can quote server bodies, and GitHub renders inline HTML and Markdown
inside table cells.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from teleconform.report._common import (
    ADVISORY_NOTE,
    LABELS,
    SSO_WINDOW_CLAUSE,
    SYMBOLS,
    advisories_of,
    advisory_count,
    clauses_of,
    clean_text,
    format_number,
    headline,
    mapping,
    measurements_line,
    measurements_of,
    runs_of,
    sso_window_sentence,
    status_counts,
    status_of,
    unverified_musts,
    urgency_sorted,
)
from teleconform.report._left import item_text, left_behind_items, left_behind_sentence

MAX_REASON = 300
ADVISORY_SYMBOL = "💡"
MAX_MEASUREMENT = 160  # per value; report.json has the full structure
_STATE_SYMBOL = {
    "bad": SYMBOLS["fail"],
    "warn": SYMBOLS["error"],
    "good": SYMBOLS["pass"],
    "partial": SYMBOLS["waived"],
    "empty": SYMBOLS["skip"],
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~])")


def md_escape(value: object, limit: int | None = None) -> str:
    """Text safe inside a Markdown table cell: one line, no live HTML, no Markdown syntax."""
    text = clean_text(value)
    text = " ".join(text.split())  # newlines would end the table row
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(value: object) -> str:
    """An inline code span; backticks inside are replaced because escapes do not work there."""
    text = " ".join(clean_text(value).split()).replace("`", "'")
    return f"`{text}`" if text else "`-`"


def _totals_line(totals: Mapping[str, int]) -> str:
    return " · ".join(
        f"{SYMBOLS[k]} {totals.get(k, 0)} {k}" for k in ("fail", "error", "waived", "skip", "pass")
    )


def render(report: Mapping[str, Any]) -> str:
    """The Markdown summary of the report."""
    runs = runs_of(report)
    all_clauses = [c for run in runs for c in clauses_of(run)]
    totals = status_counts(all_clauses)
    state, text = headline(all_clauses)
    lines = [
        f"## teleconform: {_STATE_SYMBOL[state]} {md_escape(text)}",
        "",
        f"**Totals:** {_totals_line(totals)}",
        "",
    ]
    lines += _unverified_lines(all_clauses)
    advised = advisory_count(all_clauses)
    if advised:
        lines += [f"**Advisories:** {ADVISORY_SYMBOL} {advised}: {md_escape(ADVISORY_NOTE)}", ""]

    tool = mapping(report.get("tool"))
    meta = [f"seed {_code(format_number(report.get('seed')))}"]
    if tool:
        versions = ", ".join(
            f"{name} {_code(tool[key])}"
            for name, key in (
                ("teleconform", "version"),
                ("schemathesis", "schemathesis"),
                ("hypothesis", "hypothesis"),
            )
            if tool.get(key)
        )
        if versions:
            meta.append(versions)
    if report.get("started_at"):
        meta.append(f"started {_code(report['started_at'])}")
    if report.get("finished_at"):
        meta.append(f"finished {_code(report['finished_at'])}")
    lines += [" · ".join(meta), ""]
    for note in report.get("notes") or []:
        lines += [f"> **Note:** {md_escape(note)}", ""]

    for run in runs:
        lines += _run_section(run)
    if not runs:
        lines += ["_No API was run._", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _unverified_lines(clauses: list[Mapping[str, Any]]) -> list[str]:
    """The skipped MUST clauses, every one, grouped by what would let them run."""
    groups = unverified_musts(clauses)
    if not groups:
        return []
    count = sum(len(ids) for _, ids in groups)
    lines = [f"**{count} MUST clause{'s' if count != 1 else ''} not verified:**", ""]
    for label, ids in groups:
        lines.append(f"- {md_escape(label)} ({len(ids)}): {md_escape(', '.join(ids))}")
    return [*lines, ""]


def _run_section(run: Mapping[str, Any]) -> list[str]:
    clauses = clauses_of(run)
    target = mapping(run.get("target"))
    api = md_escape(run.get("api") or "unknown")
    where = f"{md_escape(target.get('mode') or '?')} {_code(target.get('base_url') or '')}"
    lines = [f"### {api} ({where})", "", _totals_line(status_counts(clauses)), ""]
    if not clauses:
        return [*lines, "_No clause selected._", ""]
    lines += ["| Clause | Level | Verdict | Reason |", "| --- | --- | --- | --- |"]
    for clause in urgency_sorted(clauses):
        status = status_of(clause)
        reason = md_escape(clause.get("reason") or "", MAX_REASON) or "–"
        advised = len(advisories_of(clause))
        marker = f" · {ADVISORY_SYMBOL} {advised}" if advised else ""
        lines.append(
            f"| {md_escape(clause.get('id') or '?')} | {md_escape(clause.get('level') or '')} "
            f"| {SYMBOLS[status]} {LABELS[status]}{marker} | {reason} |"
        )
    lines.append("")
    lines += _left_behind(run)
    for clause in clauses:
        measured = measurements_of(clause)
        if not measured:
            continue
        sentence = sso_window_sentence(clause) if clause.get("id") == SSO_WINDOW_CLAUSE else None
        extra = f" ({md_escape(sentence)})" if sentence else ""
        lines.append(
            f"- **{md_escape(clause.get('id'))}** measurements: "
            f"{md_escape(measurements_line(measured, MAX_MEASUREMENT))}{extra}"
        )
    if lines[-1] != "":
        lines.append("")
    return lines + _advisories_table(clauses)


def _left_behind(run: Mapping[str, Any]) -> list[str]:
    items = left_behind_items(run)
    if items is None:
        return []
    lines = [f"**{md_escape(left_behind_sentence(items))}**", ""]
    lines += [f"- {md_escape(item_text(item))}" for item in items]
    return [*lines, ""] if items else lines


def _advisories_table(clauses: list[Mapping[str, Any]]) -> list[str]:
    rows = [
        f"| {md_escape(clause.get('id') or '?')} | {md_escape(a.get('operation') or '')} "
        f"| {md_escape(a.get('check') or '')} | {md_escape(a.get('message') or '', MAX_REASON)} |"
        for clause in clauses
        for a in advisories_of(clause)
    ]
    if not rows:
        return []
    return [
        f"#### {ADVISORY_SYMBOL} Advisories ({len(rows)}, no verdict changed)",
        "",
        "| Clause | Operation | Check | Message |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]
