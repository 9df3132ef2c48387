"""`teleconform report merge DIR... [--report-dir OUT]`: one set of reports from several runs.

Reads the inputs' report.json, merges them (`teleconform.report.merge`), writes report.json,
junit.xml, summary.md and report.html again and prints the failures and the totals. The exit
status is the CONTRACT one of the merged result, so a merge job can gate a sharded pipeline.
"""

from __future__ import annotations

import sys
from pathlib import Path

from teleconform._errors import EXIT_USAGE, UsageError
from teleconform.cli._parser import _Parser
from teleconform.report.merge import MergeError, load_report, merge_reports
from teleconform.report.model import Report

PROG = "teleconform report merge"


def parser() -> _Parser:
    """The parser of `teleconform report merge`."""
    p = _Parser(
        prog=PROG,
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


def main(argv: list[str]) -> int:
    """Entry point of ``teleconform report merge``; returns the CONTRACT exit status."""
    try:
        args = parser().parse_args(argv)
    except UsageError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    try:
        reports = [(Path(d), load_report(Path(d))) for d in args.dirs]
        merged = merge_reports(reports)
    except MergeError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from teleconform.report import write_reports
    from teleconform.report._document import exit_status

    out = Path(args.report_dir)
    try:
        write_reports(merged, out)
    except OSError as exc:
        print(
            f"{PROG}: cannot write --report-dir {out}: {exc.strerror or type(exc).__name__}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    _print_summary(merged, out, len(reports), quiet=args.quiet)
    return exit_status(
        merged["runs"],
        args.strict,
        args.allow_empty,
        args.fail_on_advisory,
        require_all=args.require_all,
    )


def _print_summary(merged: Report, out: Path, inputs: int, *, quiet: bool) -> None:
    if not quiet:
        for run in merged["runs"]:
            for c in run["clauses"]:
                if c["verdict"] in ("fail", "error"):
                    label = "fail (waived)" if c.get("waived") else c["verdict"]
                    reason = str(c.get("reason", ""))[:200]
                    print(f"  {c['id']:<14} {c['level']:<6} {label}: {reason}")
    t = merged["totals"]
    advised = sum(_count(c.get("advisories")) for r in merged["runs"] for c in r["clauses"])
    print(
        f"{t['pass']} pass, {t['fail']} fail, {t['error']} error, {t['skip']} skip"
        f" ({t['waived']} waived"
        + (f", {advised} advisor{'y' if advised == 1 else 'ies'}" if advised else "")
        + f"); {inputs} reports merged into {out}/"
    )


def _count(advisories: object) -> int:
    # an input's clause passes through as read from disk
    return len(advisories) if isinstance(advisories, list) else 0
