"""Merging reports: one report document from the report.json of several runs.

CI jobs that split the clauses with `--shard i/n` each write a report directory; `report
merge` (its command line: `teleconform.cli.report`) reads their report.json files, merges the
runs of each API (a clause reported by two inputs keeps the worse verdict: fail > error >
pass > skip) and builds one document, its totals counted again by `build_report`.

Only merging lives here: no command line, no runner, no HTTP client.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from teleconform.report._document import ReportHeader, build_report
from teleconform.report.model import (
    Advisory,
    ClauseEntry,
    MergedFrom,
    Report,
    Run,
    Target,
    empty_totals,
)

# Higher is worse. Among two `fail` results an unwaived one is worse than a waived one, so a
# shard whose baseline did not cover the failure cannot be hidden by one whose baseline did.
_SEVERITY = {"skip": 0, "pass": 1, "error": 2, "fail": 3}
_API_ORDER = ("hcw", "leah")


class MergeError(Exception):
    """An input that is missing, unreadable or not a teleconform report: exit 2."""


def load_report(source: Path) -> Report:
    """The report of a report directory (or a report.json), checked for the CONTRACT shape.

    Read from disk: the keys merging relies on (runs, api, target mode, clause id, level and
    verdict) are checked; everything else is taken as found.
    """
    if not source.exists():
        raise MergeError(f"{source}: no such report directory")
    path = source / "report.json" if source.is_dir() else source
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{path}: no such file") from None
    except OSError as exc:
        raise MergeError(f"{path}: unreadable ({exc.strerror or type(exc).__name__})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MergeError(f"{path}: not JSON ({type(exc).__name__})") from None
    if not isinstance(report, dict) or report.get("schema_version") != 1:
        raise MergeError(f"{path}: not a teleconform report (schema_version 1 expected)")
    runs = report.get("runs")
    if not isinstance(runs, list):
        raise MergeError(f"{path}: not a teleconform report (no runs list)")
    for i, run in enumerate(runs):
        where = f"{path}: runs[{i}]"
        if not isinstance(run, dict) or not isinstance(run.get("api"), str):
            raise MergeError(f"{where}: no api")
        target = run.get("target")
        if not isinstance(target, dict) or not isinstance(target.get("mode"), str):
            raise MergeError(f"{where}: no target mode")
        clauses = run.get("clauses")
        if not isinstance(clauses, list):
            raise MergeError(f"{where}: no clauses list")
        for j, clause in enumerate(clauses):
            if (
                not isinstance(clause, dict)
                or not isinstance(clause.get("id"), str)
                or clause.get("verdict") not in _SEVERITY
                or not isinstance(clause.get("level"), str)
            ):
                raise MergeError(f"{where}.clauses[{j}]: needs id, level and a verdict")
    return cast(Report, report)


def _worse(a: ClauseEntry, b: ClauseEntry) -> ClauseEntry:
    """The worse of two results of one clause (the first one on a tie), with the advisories
    of both: an advisory never decides a verdict, so none may be lost to the other input's."""
    rank_a = (_SEVERITY[a["verdict"]], not a.get("waived"))
    rank_b = (_SEVERITY[b["verdict"]], not b.get("waived"))
    worse = b if rank_b > rank_a else a
    advisories = _union(_list(a.get("advisories")), _list(b.get("advisories")))
    if advisories:
        worse = {**worse, "advisories": advisories}
    return worse


def _union(first: list[Any], second: list[Any]) -> list[Advisory]:
    """Advisories of both lists, each (operation, check, message) once, in first-seen order."""
    seen: set[tuple[str, str, str]] = set()
    merged: list[Advisory] = []
    for item in [*first, *second]:
        if not isinstance(item, dict):  # read from disk: anything may be there
            continue
        key = (str(item.get("operation")), str(item.get("check")), str(item.get("message")))
        if key not in seen:
            seen.add(key)
            merged.append(cast(Advisory, item))
    return merged


def _catalogue_order() -> dict[str, int]:
    try:
        from teleconform.catalogue import load_catalogue

        return {cid: i for i, cid in enumerate(load_catalogue())}
    except Exception:  # an unreadable catalogue only costs the ordering
        return {}


def _merge_runs(api: str, runs: list[tuple[Path, Run]], order: dict[str, int]) -> Run:
    modes = sorted({run["target"]["mode"] for _, run in runs})
    if len(modes) > 1:
        raise MergeError(f"{api}: the inputs ran in different modes ({', '.join(modes)})")
    urls = list(dict.fromkeys(str(r["target"].get("base_url", "")).rstrip("/") for _, r in runs))
    # Sandboxes listen on a fresh port in every run, so only live targets must agree.
    if modes[0] == "live" and len(urls) > 1:
        raise MergeError(f"{api}: the inputs ran against different targets ({', '.join(urls)})")
    first = runs[0][1]
    clauses: dict[str, ClauseEntry] = {}
    for _, run in runs:
        for clause in run["clauses"]:
            seen = clauses.get(clause["id"])
            clauses[clause["id"]] = clause if seen is None else _worse(seen, clause)
    appearance = {cid: i for i, cid in enumerate(clauses)}
    ordered = sorted(clauses, key=lambda c: (c not in order, order.get(c, 0), appearance[c]))
    return {
        "api": api,
        "target": cast(Target, dict(first["target"])),
        "clauses": [clauses[cid] for cid in ordered],
        "totals": empty_totals(),  # counted by build_report
        "requests_sent": sum(_int(run.get("requests_sent")) for _, run in runs),
        # the shards ran side by side: the slowest one is the wall time of the whole
        "elapsed_s": max(_float(run.get("elapsed_s")) for _, run in runs),
        "created": [item for _, run in runs for item in _list(run.get("created"))],
        "cleanup_failures": [x for _, run in runs for x in _list(run.get("cleanup_failures"))],
        # each shard's claim holds for what it created: together, what the whole run left
        "left_behind": [x for _, run in runs for x in _list(run.get("left_behind"))],
    }


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _timestamp(
    values: Iterable[object],
    pick: Callable[[list[tuple[dt.datetime, str]]], tuple[dt.datetime, str]],
) -> str | None:
    parsed = []
    for value in values:
        if isinstance(value, str):
            try:
                parsed.append((dt.datetime.fromisoformat(value.replace("Z", "+00:00")), value))
            except ValueError:
                continue
    try:
        return pick(parsed)[1] if parsed else None
    except TypeError:  # naive and aware timestamps mixed: not comparable
        return parsed[0][1]


def merge_reports(reports: Sequence[tuple[Path, Report]]) -> Report:
    """One report from several; raises MergeError when they cannot be combined."""
    by_api: dict[str, list[tuple[Path, Run]]] = {}
    for source, report in reports:
        for run in report["runs"]:
            by_api.setdefault(run["api"], []).append((source, run))
    order = _catalogue_order()
    apis = sorted(by_api, key=lambda a: (_API_ORDER.index(a) if a in _API_ORDER else 99, a))
    runs = [_merge_runs(api, by_api[api], order) for api in apis]
    first = reports[0][1]
    seeds = list(dict.fromkeys(r.get("seed") for _, r in reports))
    # shards without --seed each drew their own seed; all of them are needed to reproduce
    merged_from: tuple[MergedFrom, ...] = tuple(
        {"source": str(src), "seed": r.get("seed")} for src, r in reports
    )
    header = ReportHeader(
        seed=seeds[0],
        started_at=_timestamp((r.get("started_at") for _, r in reports), min),
        finished_at=_timestamp((r.get("finished_at") for _, r in reports), max),
        tool=first.get("tool", {}),
        merged_from=merged_from,
    )
    return build_report(header, runs)
