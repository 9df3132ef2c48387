"""Command-line parsing and dispatch. Every failure becomes one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from ._version import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TARGET, EXIT_BUG = 0, 1, 2, 3, 4


class UsageError(Exception):
    """Bad flags: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _run_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("run", help="verify the clauses against a target")
    p.add_argument("api", nargs="?", default="all", choices=["hcw", "leah", "all"])
    p.add_argument("--target", action="append", default=[], metavar="URL")
    p.add_argument("--replay", action="store_true")
    p.add_argument("--cassettes", metavar="DIR")
    p.add_argument("--record", metavar="DIR")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--report-dir", default="reports", metavar="DIR")
    p.add_argument("--clause", action="append", default=[], metavar="ID")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--baseline", metavar="FILE")
    p.add_argument("--allow-writes", action="store_true")
    p.add_argument("--allow-disruptive", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run work units in up to N pytest-xdist worker processes (one rate limit)",
    )
    p.add_argument("--rate-limit", type=float, default=5.0, metavar="R")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S")
    p.add_argument("--deadline", type=float, metavar="S")
    p.add_argument("--budget", choices=["quick", "standard", "deep"], default="standard")
    p.add_argument("--allow-empty", action="store_true")
    p.add_argument(
        "--shard", metavar="I/N", help="run the I-th of N slices of the clauses (by area)"
    )
    p.add_argument(
        "--sandbox-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a fault on in the embedded sandbox (to see a failing report)",
    )
    p.add_argument(
        "--webhook-events",
        metavar="FILE",
        help="events received by `teleconform webhooks listen` (LEAH-WH-01 on a live target)",
    )
    p.add_argument(
        "--webhook-receiver",
        metavar="URL",
        help="the integrator's webhook receiver to check (LEAH-WH-02)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", "-q", action="store_true")
    g.add_argument("--verbose", "-v", action="store_true")


def build_parser() -> _Parser:
    parser = _Parser(prog="teleconform", description="Conformance suite for HCW@Home and Leah APIs")
    parser.add_argument("--version", action="version", version=f"teleconform {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _run_parser(sub)
    c = sub.add_parser("clauses", help="print the clause catalogue")
    c.add_argument("api", nargs="?", default="all", choices=["hcw", "leah", "all"])
    c.add_argument("--json", action="store_true")
    c.add_argument("--client", action="store_true",
                   help="the client-side clauses (sandbox --validate-requests, proxy)")
    s = sub.add_parser("sandbox", help="serve a reference sandbox over HTTP")
    s.add_argument("api", choices=["hcw", "leah"])
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--fault", action="append", default=[], metavar="NAME")
    s.add_argument("--list-faults", action="store_true")
    s.add_argument("--validate-requests", action="store_true",
                   help="judge the client's requests (client clauses); report on stop")
    s.add_argument("--report-dir", metavar="DIR", help="client report directory "
                   "(with --validate-requests; default reports)")
    s.add_argument("--strict", action="store_true",
                   help="with --validate-requests: SHOULD client clauses also fail")
    ct = sub.add_parser(
        "check-traffic",
        help="validate recorded exchanges (HAR, cassettes)",
        add_help=False,
        prefix_chars="+",
    )
    ct.add_argument("rest", nargs=argparse.REMAINDER)
    ca = sub.add_parser("cassettes", help="cassette tools")
    ca_sub = ca.add_subparsers(dest="cassettes_command", parser_class=_Parser)
    audit = ca_sub.add_parser("audit", add_help=False, prefix_chars="+")
    audit.add_argument("rest", nargs=argparse.REMAINDER)
    rp = sub.add_parser("report", help="report tools")
    rp_sub = rp.add_subparsers(dest="report_command", parser_class=_Parser)
    merge = rp_sub.add_parser("merge", add_help=False, prefix_chars="+")
    merge.add_argument("rest", nargs=argparse.REMAINDER)
    cl = sub.add_parser("cleanup", help="remove what an interrupted live run created")
    cl.add_argument("ledger", metavar="LEDGER")
    cl.add_argument("--timeout", type=float, default=10.0)
    wh = sub.add_parser("webhooks", help="Leah webhook receiver check and listener")
    wh_sub = wh.add_subparsers(dest="webhooks_command", parser_class=_Parser)
    for name in ("check", "listen"):
        w = wh_sub.add_parser(name, add_help=False, prefix_chars="+")  # pass "--x" through
        w.add_argument("rest", nargs=argparse.REMAINDER)
    _proxy_parser(sub)
    _drift_parser(sub)
    return parser


def _proxy_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    px = sub.add_parser(
        "proxy",
        help="validating reverse proxy between a client and a real server",
        description="Forward every exchange to --target unchanged; check requests against the "
        "client clauses and responses against the spec and the one-exchange server clauses; "
        "write the client report (report.json target.mode client) into DIR/client and the "
        "server report (target.mode live) into DIR/server when stopped (SIGINT/SIGTERM, the "
        "normal end). Exit status as for run, over both reports: 0, 1 (a MUST fail), 2 "
        "(nothing verified), 3 (the target was never reached).",
    )
    px.add_argument("--target", required=True, metavar="URL")
    px.add_argument("--host", default="127.0.0.1")
    px.add_argument("--port", type=int, default=0)
    px.add_argument("--report-dir", default="reports", metavar="DIR")
    px.add_argument("--record", metavar="DIR", help="record the traffic, redacted, into DIR")
    px.add_argument("--overwrite", action="store_true")
    px.add_argument("--api", choices=["hcw", "leah"],
                    help="the API behind --target (default: from the first request's path)")
    px.add_argument("--timeout", type=float, default=60.0, metavar="S",
                    help="per exchange, waiting for the target (default 60)")
    px.add_argument("--strict", action="store_true")
    px.add_argument("--allow-empty", action="store_true")


def _drift_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    dr = sub.add_parser(
        "drift",
        help="a sandbox profile reproducing the deviations a run observed",
        description="Map each failing clause of a run's report.json to the sandbox fault(s) "
        "that reproduce it, with the evidence; clauses no fault reproduces are listed under "
        "not_reproduced. -o FILE.yaml: one API -> FILE.yaml, two APIs -> FILE-hcw.yaml and "
        "FILE-leah.yaml; -o DIR (existing, or ending in /) -> DIR/drift-<api>.yaml; "
        "no -o -> drift-<api>.yaml in the current directory.",
    )
    dr.add_argument("report", metavar="REPORT.json")
    dr.add_argument("-o", "--output", metavar="PROFILE")


def _delegate(target: str, argv: list[str]) -> int:
    module_name, _, func_name = target.partition(":")
    import importlib

    func: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), func_name)
    return func(argv)


def main(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    argv = list(argv)
    verbose = "--verbose" in argv or "-v" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "run":
            from ._run import run_command

            return run_command(args)
        if args.command == "clauses":
            from ._commands import clauses_command

            return clauses_command(args)
        if args.command == "sandbox":
            from ._commands import sandbox_command

            return sandbox_command(args)
        if args.command == "report":
            if args.report_command != "merge":
                raise UsageError("teleconform report: expected `merge DIR...`")
            return _delegate("teleconform.report.merge:main", args.rest)
        if args.command == "cleanup":
            from ._commands import cleanup_command

            return cleanup_command(args)
        if args.command == "check-traffic":
            return _delegate("teleconform.traffic:main", args.rest)
        if args.command == "cassettes":
            if args.cassettes_command != "audit":
                raise UsageError("teleconform cassettes: expected `audit DIR`")
            return _delegate("teleconform.audit:main", args.rest)
        if args.command == "webhooks":
            if args.webhooks_command not in ("check", "listen"):
                raise UsageError("teleconform webhooks: expected `check URL` or `listen`")
            return _delegate(f"teleconform.webhooks:{args.webhooks_command}_main", args.rest)
        if args.command == "drift":
            from .drift import drift_command

            return drift_command(args.report, args.output)
        if args.command == "proxy":
            from .proxy import proxy_command

            return proxy_command(args)
        raise UsageError(f"unknown command {args.command}")
    except UsageError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("teleconform: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: exit 4, never a traceback
        from ._logging import log_path, write_crash

        path = write_crash(exc)
        if verbose:
            import traceback

            traceback.print_exc()
        print(
            f"teleconform: internal error ({type(exc).__name__}); this is a bug, "
            f"full log: {path or log_path()}",
            file=sys.stderr,
        )
        return EXIT_BUG
