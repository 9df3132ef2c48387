"""`teleconform report merge DIR... [--report-dir OUT]`: one set of reports from several runs.

CI jobs that split the clauses with `--shard i/n` each write a report directory; this reads
their report.json files, merges the runs of each API (a clause reported by two inputs keeps the
worse verdict: fail > error > pass > skip), recomputes the totals and writes report.json,
junit.xml, summary.md and report.html again. The exit status is the CONTRACT one of the merged
result, so a merge job can be the gate of a sharded pipeline.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from teleconform._errors import EXIT_USAGE, UsageError
from teleconform.cli._parser import _Parser

# Higher is worse. Among two `fail` results an unwaived one is worse than a waived one, so a
# shard whose baseline did not cover the failure cannot be hidden by one whose baseline did.
_SEVERITY = {"skip": 0, "pass": 1, "error": 2, "fail": 3}
_API_ORDER = ("hcw", "leah")


class MergeError(Exception):
    """An input that is missing, unreadable or not a teleconform report: exit 2."""


def _parser() -> _Parser:
    p = _Parser(
        prog="teleconform report merge",
        description="Merge the report.json of several runs (e.g. --shard jobs) into one set.",
    )
    p.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="a report directory holding report.json (or the report.json itself)",
    )
    p.add_argument(
        "--report-dir",
        default="reports",
        metavar="OUT",
        help="where the merged reports go (default reports/)",
    )
    p.add_argument(
        "--strict", action="store_true", help="SHOULD findings also fail (as `run --strict`)"
    )
    p.add_argument(
        "--fail-on-advisory",
        action="store_true",
        help="advisories fail the run too (as `run --fail-on-advisory`)",
    )
    p.add_argument(
        "--allow-empty", action="store_true", help="exit 0 even when no clause reached pass or fail"
    )
    p.add_argument(
        "--require-all",
        action="store_true",
        help="a skipped MUST clause counts like a failure (as `run --require-all`)",
    )
    p.add_argument(
        "--quiet", "-q", action="store_true", help="print only the totals, not the failing clauses"
    )
    return p


def load_report(source: Path) -> dict[str, Any]:
    """The report dict of a report directory (or a report.json), checked for the CONTRACT shape."""
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
    return report


def _worse(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The worse of two results of one clause (the first one on a tie), with the advisories
    of both: an advisory never decides a verdict, so none may be lost to the other input's."""
    rank_a = (_SEVERITY[a["verdict"]], not a.get("waived"))
    rank_b = (_SEVERITY[b["verdict"]], not b.get("waived"))
    worse = b if rank_b > rank_a else a
    advisories = _union(_list(a.get("advisories")), _list(b.get("advisories")))
    if advisories:
        worse = {**worse, "advisories": advisories}
    return worse


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    """Advisories of both lists, each (operation, check, message) once, in first-seen order."""
    seen: set[tuple[str, str, str]] = set()
    merged = []
    for item in [*first, *second]:
        if not isinstance(item, dict):
            continue
        key = (str(item.get("operation")), str(item.get("check")), str(item.get("message")))
        if key not in seen:
            seen.add(key)
            merged.append(item)
    return merged


def _catalogue_order() -> dict[str, int]:
    try:
        from teleconform.catalogue import load_catalogue

        return {cid: i for i, cid in enumerate(load_catalogue())}
    except Exception:  # an unreadable catalogue only costs the ordering
        return {}


def _merge_runs(
    api: str, runs: list[tuple[Path, dict[str, Any]]], order: dict[str, int]
) -> dict[str, Any]:
    modes = sorted({run["target"]["mode"] for _, run in runs})
    if len(modes) > 1:
        raise MergeError(f"{api}: the inputs ran in different modes ({', '.join(modes)})")
    urls = list(dict.fromkeys(str(r["target"].get("base_url", "")).rstrip("/") for _, r in runs))
    # Sandboxes listen on a fresh port in every run, so only live targets must agree.
    if modes[0] == "live" and len(urls) > 1:
        raise MergeError(f"{api}: the inputs ran against different targets ({', '.join(urls)})")
    first = runs[0][1]
    clauses: dict[str, dict[str, Any]] = {}
    for _, run in runs:
        for clause in run["clauses"]:
            seen = clauses.get(clause["id"])
            clauses[clause["id"]] = clause if seen is None else _worse(seen, clause)
    appearance = {cid: i for i, cid in enumerate(clauses)}
    ordered = sorted(clauses, key=lambda c: (c not in order, order.get(c, 0), appearance[c]))
    merged: dict[str, Any] = {
        "api": api,
        "target": dict(first["target"]),
        "clauses": [clauses[cid] for cid in ordered],
        "totals": {},
        "requests_sent": sum(_int(run.get("requests_sent")) for _, run in runs),
        # the shards ran side by side: the slowest one is the wall time of the whole
        "elapsed_s": max(_float(run.get("elapsed_s")) for _, run in runs),
        "created": [item for _, run in runs for item in _list(run.get("created"))],
        "cleanup_failures": [x for _, run in runs for x in _list(run.get("cleanup_failures"))],
        # each shard's claim holds for what it created: together, what the whole run left
        "left_behind": [x for _, run in runs for x in _list(run.get("left_behind"))],
    }
    return merged


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _timestamp(values: Iterable[Any], pick: Any) -> str | None:
    parsed = []
    for value in values:
        if isinstance(value, str):
            try:
                parsed.append((dt.datetime.fromisoformat(value.replace("Z", "+00:00")), value))
            except ValueError:
                continue
    try:
        return str(pick(parsed)[1]) if parsed else None
    except TypeError:  # naive and aware timestamps mixed: not comparable
        return str(parsed[0][1])


def merge_reports(reports: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """One CONTRACT report dict from several; raises MergeError when they cannot be combined."""
    from teleconform.report._document import totals_of

    by_api: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for source, report in reports:
        for run in report["runs"]:
            by_api.setdefault(run["api"], []).append((source, run))
    order = _catalogue_order()
    apis = sorted(by_api, key=lambda a: (_API_ORDER.index(a) if a in _API_ORDER else 99, a))
    runs = [_merge_runs(api, by_api[api], order) for api in apis]
    first = reports[0][1]
    seeds = list(dict.fromkeys(r.get("seed") for _, r in reports))
    merged: dict[str, Any] = {
        "schema_version": 1,
        "tool": first.get("tool", {}),
        "seed": seeds[0],
        "started_at": _timestamp((r.get("started_at") for _, r in reports), min),
        "finished_at": _timestamp((r.get("finished_at") for _, r in reports), max),
        "totals": totals_of(runs),
        "runs": runs,
        # shards without --seed each drew their own seed; all of them are needed to reproduce
        "merged_from": [{"source": str(src), "seed": r.get("seed")} for src, r in reports],
    }
    return merged


def main(argv: list[str]) -> int:
    """Entry point of ``teleconform report merge``; returns the CONTRACT exit status."""
    try:
        args = _parser().parse_args(argv)
    except UsageError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    try:
        reports = [(Path(d), load_report(Path(d))) for d in args.dirs]
        merged = merge_reports(reports)
    except MergeError as exc:
        print(f"teleconform report merge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from teleconform.report import write_reports
    from teleconform.report._document import exit_status

    out = Path(args.report_dir)
    try:
        write_reports(merged, out)
    except OSError as exc:
        print(
            f"teleconform report merge: cannot write --report-dir {out}: "
            f"{exc.strerror or type(exc).__name__}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not args.quiet:
        for run in merged["runs"]:
            for c in run["clauses"]:
                if c["verdict"] in ("fail", "error"):
                    label = "fail (waived)" if c.get("waived") else c["verdict"]
                    reason = str(c.get("reason", ""))[:200]
                    print(f"  {c['id']:<14} {c['level']:<6} {label}: {reason}")
    t = merged["totals"]
    advised = sum(len(_list(c.get("advisories"))) for r in merged["runs"] for c in r["clauses"])
    print(
        f"{t['pass']} pass, {t['fail']} fail, {t['error']} error, {t['skip']} skip"
        f" ({t['waived']} waived"
        + (f", {advised} advisor{'y' if advised == 1 else 'ies'}" if advised else "")
        + f"); {len(reports)} reports merged into {out}/"
    )
    return exit_status(
        merged["runs"],
        args.strict,
        args.allow_empty,
        args.fail_on_advisory,
        require_all=args.require_all,
    )
