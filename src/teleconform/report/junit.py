"""junit.xml: one testsuite per API run, one testcase per clause.

Mapping (CONTRACT "Reports"): `fail` -> `<failure>` whose message starts with the clause
level, so a SHOULD finding says "SHOULD"; `error` -> `<error>`; `skip` -> `<skipped>` with
the reason. A fail waived by the baseline is deliberately a *passing* testcase with a
`<system-out>` note "fail (waived): reason": CI gates that count JUnit failures must not
trip on accepted deviations, while the note keeps the deviation visible in the CI UI.
Advisories are never a failure either: each is a testcase `<property name="advisory">` and a
`advisory: ...` line in `<system-out>`; the testsuite's `advisories` property counts them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from teleconform.report._common import (
    advisories_of,
    advisory_count,
    advisory_line,
    clauses_of,
    clean_text,
    curl_of,
    evidence_of,
    format_number,
    mapping,
    measurements_line,
    measurements_of,
    runs_of,
    status_of,
)


def render(report: Mapping[str, Any]) -> str:
    """The JUnit XML document for the report."""
    root = ET.Element("testsuites", name="teleconform")
    sums = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in runs_of(report):
        suite = _testsuite(report, run)
        root.append(suite)
        for key in sums:
            sums[key] += int(suite.get(key, "0"))
    for key, value in sums.items():
        root.set(key, str(value))
    if report.get("started_at"):
        root.set("timestamp", clean_text(report["started_at"]))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _attr(value: object) -> str:
    return clean_text(value)


def _testsuite(report: Mapping[str, Any], run: Mapping[str, Any]) -> ET.Element:
    api = _attr(run.get("api") or "unknown")
    suite = ET.Element("testsuite", name=api)
    props = ET.SubElement(suite, "properties")
    target = mapping(run.get("target"))
    tool = mapping(report.get("tool"))
    for name, value in (
        ("api", api),
        ("target.mode", target.get("mode")),
        ("target.base_url", target.get("base_url")),
        ("seed", report.get("seed")),
        ("teleconform.version", tool.get("version")),
        ("schemathesis.version", tool.get("schemathesis")),
        ("hypothesis.version", tool.get("hypothesis")),
        ("advisories", advisory_count(clauses_of(run)) or None),
    ):
        if value is not None and value != "":
            ET.SubElement(props, "property", name=name, value=_attr(format_number(value)))

    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for clause in clauses_of(run):
        case, kind = _testcase(api, clause)
        suite.append(case)
        counts["tests"] += 1
        if kind in counts:
            counts[kind] += 1
        total_time += float(case.get("time", "0"))
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{total_time:.3f}")
    if report.get("started_at"):
        suite.set("timestamp", _attr(report["started_at"]))
    return suite


def _testcase(api: str, clause: Mapping[str, Any]) -> tuple[ET.Element, str]:
    """The testcase element and which counter it adds to (failures/errors/skipped/pass)."""
    cid = _attr(clause.get("id") or "?")
    case = ET.Element("testcase", name=cid, classname=api)
    duration = clause.get("duration_s")
    case.set("time", f"{float(duration):.3f}" if isinstance(duration, int | float) else "0.000")
    level = _attr(str(clause.get("level") or "MUST").upper())
    title = _attr(clause.get("title") or "")
    reason = _attr(clause.get("reason") or "")
    status = status_of(clause)
    out: list[str] = []
    kind = "pass"
    advisories = advisories_of(clause)
    if advisories:
        # testcase-level properties (as pytest writes them) come before the outcome element
        props = ET.SubElement(case, "properties")
        for advisory in advisories:
            ET.SubElement(props, "property", name="advisory", value=advisory_line(advisory))
    if status == "fail":
        kind = "failures"
        if level == "SHOULD":
            message = f"SHOULD clause {cid} not met (fails the run only with --strict)"
        else:
            message = f"{level} clause {cid} not met"
        el = ET.SubElement(
            case, "failure", message=f"{message}: {reason}" if reason else message, type=level
        )
        el.text = _details(title, reason, clause)
    elif status == "error":
        kind = "errors"
        message = f"{level} clause {cid} could not be verified"
        el = ET.SubElement(
            case, "error", message=f"{message}: {reason}" if reason else message, type="error"
        )
        el.text = _details(title, reason, clause)
    elif status == "skip":
        kind = "skipped"
        ET.SubElement(case, "skipped", message=reason or "not exercised")
    elif status == "waived":
        out.append(f"fail (waived): {reason}" if reason else "fail (waived)")
        details = _details(title, reason, clause)
        if details:
            out.append(details)
    measured = measurements_of(clause)
    if measured and status not in ("fail", "error", "waived"):
        out.append("measurements: " + _attr(measurements_line(measured)))
    out += [f"advisory (does not fail the run): {advisory_line(a)}" for a in advisories]
    if out:
        ET.SubElement(case, "system-out").text = "\n".join(out)
    return case, kind


def _details(title: str, reason: str, clause: Mapping[str, Any]) -> str:
    lines = [title] if title else []
    if reason:
        lines.append(f"reason: {reason}")
    measured = measurements_of(clause)
    if measured:
        lines.append("measurements: " + _attr(measurements_line(measured)))
    for exchange in evidence_of(clause):
        request = mapping(exchange.get("request"))
        response = exchange.get("response")
        status = response.get("status") if isinstance(response, Mapping) else None
        lines.append(
            f"evidence: {_attr(request.get('method') or '?')} {_attr(request.get('url') or '')}"
            f" -> {_attr(format_number(status)) if status is not None else 'no response'}"
        )
        lines.append("  " + _attr(curl_of(exchange)))
    return "\n".join(lines)
