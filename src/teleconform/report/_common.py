"""Helpers shared by the report writers: reading the report dict defensively.

The writers take the CONTRACT-shaped report dict (what becomes report.json). Everything
below tolerates absent optional fields, because a crashed or interrupted run still has to
produce readable reports.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STATUSES: tuple[str, ...] = ("fail", "error", "waived", "skip", "pass")
"""Display statuses, in "most urgent first" order (a waived fail is its own status)."""

VERDICTS: tuple[str, ...] = ("pass", "fail", "skip", "error")

SYMBOLS: dict[str, str] = {
    "pass": "✅",
    "fail": "❌",
    "error": "⚠️",
    "skip": "⏭️",
    "waived": "🟡",
}

LABELS: dict[str, str] = {
    "pass": "pass",
    "fail": "fail",
    "error": "error",
    "skip": "skip",
    "waived": "fail (waived)",
}

# Names for the middle part of clause ids, used when the runner gives no `area`.
AREA_NAMES: dict[str, str] = {
    "GEN": "General",
    "AUTH": "Authentication",
    "INV": "Invites",
    "CONS": "Consultations",
    "SSO": "SSO",
    "HYDRA": "Hydra",
    "HCW": "Healthcare workers",
    "OFF": "Offices",
    "APT": "Appointments",
    "TRF": "Transfers",
    "WH": "Webhooks",
}

SSO_WINDOW_CLAUSE = "HCW-SSO-02"
DOCUMENTED_SSO_WINDOW_S = 300.0

# XML 1.0 forbids most C0 controls and lone surrogates; server bodies can contain both.
_ILLEGAL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object) -> str:
    """Text safe for XML/HTML/Markdown output: control characters become visible escapes."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _ILLEGAL_CHARS.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one (absent optional objects)."""
    return value if isinstance(value, Mapping) else {}


def status_of(clause: Mapping[str, Any]) -> str:
    """The display status of a clause: its verdict, or "waived" for a waived fail."""
    verdict = str(clause.get("verdict", "error"))
    if verdict == "fail" and clause.get("waived"):
        return "waived"
    # An unknown verdict is a runner bug; show it loudly rather than as a pass.
    return verdict if verdict in VERDICTS else "error"


def area_of(clause: Mapping[str, Any]) -> str:
    """The clause's area: the runner's `area`, else derived from the id (HCW-SSO-02 -> SSO)."""
    area = clause.get("area")
    if isinstance(area, str) and area.strip():
        return area.strip()
    parts = str(clause.get("id", "")).split("-")
    code = "-".join(parts[1:-1]) if len(parts) >= 3 else (parts[0] if parts else "")
    return AREA_NAMES.get(code.upper(), code or "Other")


def clauses_of(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The clause entries of a run (an absent or malformed list reads as empty)."""
    clauses = run.get("clauses")
    if not isinstance(clauses, list):
        return []
    return [c for c in clauses if isinstance(c, Mapping)]


def runs_of(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The runs of a report (one per API)."""
    runs = report.get("runs")
    if not isinstance(runs, list):
        return []
    return [r for r in runs if isinstance(r, Mapping)]


def status_counts(clauses: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many clauses have each display status.

    Unlike report.json's `totals` (where a waived fail counts under both `fail` and `waived`),
    the buckets are disjoint: the human-facing reports count a waived fail only as `waived`,
    so that their totals match the rows and the verdict filters.
    """
    counts = dict.fromkeys(STATUSES, 0)
    for clause in clauses:
        counts[status_of(clause)] += 1
    return counts


def headline(clauses: Iterable[Mapping[str, Any]]) -> tuple[str, str]:
    """(state, text) for the top of a report: "bad" when a MUST clause fails or errs, "warn"
    for SHOULD findings only, "partial" when nothing failed but a MUST clause was skipped,
    "good" when something passed and nothing failed or went unverified, else "empty"."""
    clauses = list(clauses)
    must_bad = should_bad = passed = 0
    for clause in clauses:
        status = status_of(clause)
        if status in ("fail", "error"):
            if str(clause.get("level", "")).upper() == "SHOULD":
                should_bad += 1
            else:
                must_bad += 1
        passed += status == "pass"
    unverified = sum(len(ids) for _, ids in unverified_musts(clauses))
    partial = f"{unverified} MUST clause{'s' if unverified != 1 else ''} not verified"
    should = f"{should_bad} SHOULD finding{'s' if should_bad != 1 else ''}"
    if must_bad:
        text = f"{must_bad} MUST clause{'s' if must_bad != 1 else ''} failing"
        text = f"{text}, {should}" if should_bad else text
        return "bad", f"{text}, {partial}" if unverified else text
    if should_bad:
        text = f"{should}, no MUST clause failing"
        return "warn", f"{text}, {partial}" if unverified else text
    if passed and unverified:
        return "partial", f"partial: {partial}"
    if passed:
        return "good", "no failing clause"
    return "empty", "nothing verified"


# What a skip reason says is missing: an environment variable, a flag, or a command.
_NEED_MARKS = re.compile(
    r"TELECONFORM_[A-Z0-9_]+|--[a-z][a-z-]*[a-z]|teleconform webhooks (?:check|listen)"
)


# The `run` option that supplies what a webhooks command produces.
_COMMAND_FLAGS = {
    "teleconform webhooks check": "--webhook-receiver",
    "teleconform webhooks listen": "--webhook-events",
}


def needs_in(reason: str) -> tuple[str, ...]:
    """The variables or `run` flags a skip reason names as missing, in order, once each."""
    found: list[str] = []
    for mark in _NEED_MARKS.findall(reason):
        mark = _COMMAND_FLAGS.get(mark, mark)
        if mark not in found:
            found.append(mark)
    return tuple(found)


def unverified_musts(clauses: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """The skipped MUST clauses grouped by what they need: [("need A, B", [ids]), ...].

    A clause whose reason names no variable or flag is grouped under its reason. Largest
    group first; clause ids in report order.
    """
    groups: dict[str, list[str]] = {}
    for clause in clauses:
        if status_of(clause) != "skip" or str(clause.get("level", "")).upper() != "MUST":
            continue
        reason = " ".join(clean_text(clause.get("reason") or "").split())
        needs = needs_in(reason)
        label = f"need {', '.join(needs)}" if needs else (reason[:120] or "no reason given")
        groups.setdefault(label, []).append(str(clause.get("id") or "?"))
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def urgency_sorted(clauses: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failing first (MUST before SHOULD), then error, waived, skip, pass; else report order."""

    def key(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int, int]:
        index, clause = item
        level_rank = 0 if str(clause.get("level", "")).upper() == "MUST" else 1
        return (STATUSES.index(status_of(clause)), level_rank, index)

    return [c for _, c in sorted(enumerate(clauses), key=key)]


def format_number(value: object) -> str:
    """A measurement value for humans: integers without a trailing .0, floats trimmed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def measurements_of(clause: Mapping[str, Any]) -> dict[str, Any]:
    """The clause's measurements dict (empty when absent)."""
    m = clause.get("measurements")
    return dict(m) if isinstance(m, Mapping) else {}


def measurements_line(measurements: Mapping[str, Any], limit: int | None = None) -> str:
    """`key = value` pairs on one line; each value cut to `limit` characters if given."""
    parts = []
    for key, value in measurements.items():
        text = format_number(value)
        if limit is not None and len(text) > limit:
            text = text[: limit - 1] + "…"
        parts.append(f"{key} = {text}")
    return " · ".join(parts)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def sso_window(clause: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """(accepted, documented, resolution) seconds from the SSO window measurement, if present."""
    m = measurements_of(clause)
    accepted = _number(m.get("accepted_window_s"))
    if accepted is None:
        return None
    documented = _number(m.get("documented_window_s")) or DOCUMENTED_SSO_WINDOW_S
    resolution = _number(m.get("resolution_s")) or 0.0
    return accepted, documented, abs(resolution)


def sso_window_sentence(clause: Mapping[str, Any]) -> str | None:
    """One line describing the SSO accepted window against the documented one."""
    window = sso_window(clause)
    if window is None:
        return None
    accepted, documented, resolution = window
    precision = f" (±{format_number(resolution)} s)" if resolution else ""
    return (
        f"SSO accepted window: measured {format_number(accepted)} s{precision}, "
        f"documented {format_number(documented)} s ({format_number(documented / 60)} min)"
    )


def evidence_of(clause: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The clause's evidence exchanges."""
    ev = clause.get("evidence")
    if not isinstance(ev, list):
        return []
    return [e for e in ev if isinstance(e, Mapping)]


def header_pairs(headers: object) -> list[tuple[str, str]]:
    """Headers given as a mapping or as a list of [name, value] pairs."""
    if isinstance(headers, Mapping):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, list):
        items = headers
    else:
        return []
    pairs: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, list | tuple) and len(item) == 2:
            name, value = item
            if isinstance(value, list):
                pairs.extend((str(name), format_number(v)) for v in value)
            else:
                pairs.append((str(name), format_number(value)))
    return pairs


def body_text(body: object) -> str | None:
    """A body as display text: JSON (parsed or in a string) pretty-printed, else as is."""
    if body is None or body == "":
        return None
    if isinstance(body, str):
        stripped = body.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
            except ValueError:
                return body
        return body
    return json.dumps(body, indent=2, ensure_ascii=False, default=str)


# curl computes these itself; copying them makes the command lie once the body is edited.
_CURL_SKIP_HEADERS = frozenset({"content-length", "host", "transfer-encoding", "connection"})


def curl_of(exchange: Mapping[str, Any]) -> str:
    """The exchange's ready curl line, or one built from its (already redacted) request."""
    given = exchange.get("curl")
    if isinstance(given, str) and given.strip():
        return given
    request = exchange.get("request")
    request = request if isinstance(request, Mapping) else {}
    method = str(request.get("method") or "GET").upper()
    url = str(request.get("url") or "")
    parts = ["curl", "-sS"]
    if method == "HEAD":
        parts.append("--head")
    elif method != "GET":
        parts += ["-X", method]
    for name, value in header_pairs(request.get("headers")):
        if name.lower() not in _CURL_SKIP_HEADERS:
            parts += ["-H", f"{name}: {value}"]
    body = request.get("body")
    if body is not None and body != "":
        raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
        parts += ["--data-raw", raw]
    parts.append(url)
    return " ".join(shlex.quote(p) for p in parts)


ADVISORY_NOTE = (
    "findings that rest on a guess the documents do not make (which inputs a server must "
    "accept or refuse); they never change a verdict or the exit status unless "
    "run --fail-on-advisory"
)


def advisories_of(clause: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The clause's advisories ({operation, check, message}; an absent list reads as empty)."""
    items = clause.get("advisories")
    if not isinstance(items, list):
        return []
    return [a for a in items if isinstance(a, Mapping)]


def advisory_count(clauses: Iterable[Mapping[str, Any]]) -> int:
    """How many advisories the clauses carry."""
    return sum(len(advisories_of(c)) for c in clauses)


def advisory_line(advisory: Mapping[str, Any]) -> str:
    """One advisory as `operation: check: message` (parts that are absent left out)."""
    parts = [clean_text(advisory.get(k)) for k in ("operation", "check", "message")]
    return ": ".join(p for p in parts if p) or "advisory"
