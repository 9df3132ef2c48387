"""Command-line parsing and dispatch. Every failure becomes one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from teleconform._errors import (
    EXIT_BUG,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
)
from teleconform._version import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


RUN_EPILOG = """\
exit status:
  0    every selected MUST clause passed (or was skipped; with --require-all: passed), and
       at least one clause reached pass or fail
  1    a MUST clause failed or errored (--strict: any clause; --require-all: or was skipped)
  2    usage or configuration error, or nothing was verified (unless --allow-empty)
  3    the target could not be reached, or refused the credentials
  4    a bug in teleconform (one line on stderr names the full log)
  130  interrupted by Ctrl-C (SIGINT); 143: by SIGTERM. Cleanup ran; the reports hold every
       clause that finished, the rest are error "run interrupted"

environment variables:
  TELECONFORM_HCW_TARGET, TELECONFORM_LEAH_TARGET
                          base URLs used when no --target is given (`teleconform sandbox`
                          prints them); neither: the embedded sandbox
  TELECONFORM_HCW_EMAIL, TELECONFORM_HCW_PASSWORD
                          the HCW@Home scheduler service account (login-local)
  TELECONFORM_HCW_DOCTOR_EMAIL
                          the doctor invites are made for; the only identity SSO probes use
  TELECONFORM_HCW_QUEUE   name of an existing queue
  TELECONFORM_HCW_SSO_SECRET
                          the target's SHARED_EXTERNAL_AUTH_SECRET
  TELECONFORM_LEAH_API_KEY
                          the LEAH-AUTH-TOKEN value
  TELECONFORM_LEAH_HCW_EMAIL
                          an existing healthcare worker of the Leah organization
  TELECONFORM_SAFE_EMAIL, TELECONFORM_SAFE_PHONE
                          contact data for anything that may send an e-mail or SMS
                          (default: an example.org address and a fictitious +1 555 number)
  NO_COLOR                no colours in the progress output
A clause whose variables are absent (or empty) is skipped with the reason; half of a pair or
a malformed value is exit 2.
"""


def _run_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "run",
        help="verify the clauses against a target",
        description="Verify the catalogue's clauses against a target and write the reports.",
        epilog=RUN_EPILOG,
        formatter_class=_HelpFormatter,
    )
    p.add_argument(
        "api",
        nargs="?",
        default="all",
        choices=["hcw", "leah", "all"],
        help="which API to verify (default: %(default)s)",
    )
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="URL",
        help="live base URL of the API under test; for `all`: --target hcw=URL --target "
        "leah=URL (default: TELECONFORM_<API>_TARGET, else the embedded sandbox)",
    )
    p.add_argument(
        "--replay",
        action="store_true",
        help="replay recorded cassettes instead of a target; no network is touched",
    )
    p.add_argument(
        "--cassettes",
        metavar="DIR",
        help="where --replay reads (default: the cassettes shipped with teleconform)",
    )
    p.add_argument(
        "--record",
        metavar="DIR",
        help="record the run's traffic, redacted, into DIR (default: no recording)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="let --record replace the cassettes of a non-empty DIR",
    )
    p.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where report.json, junit.xml, summary.md and report.html go (default: %(default)s)",
    )
    p.add_argument(
        "--clause",
        action="append",
        default=[],
        metavar="ID",
        help="run only this clause (repeatable; default: every clause of the API)",
    )
    p.add_argument("--strict", action="store_true", help="SHOULD findings also fail the run")
    p.add_argument(
        "--require-all",
        action="store_true",
        help="a selected MUST clause that is skipped counts like a failure (exit 1): for CI "
        "gates that must not go green on a missing secret",
    )
    p.add_argument(
        "--fail-on-advisory",
        action="store_true",
        help="advisories (property-test findings the documents do not back) count like a "
        "SHOULD fail: the run fails",
    )
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="accepted deviations (clause, target, reason, expires): a listed fail shows as "
        "`fail (waived)` and does not count until it expires (default: none)",
    )
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="permit requests that create or change data on a live target (always allowed "
        "on sandboxes and replays)",
    )
    p.add_argument(
        "--allow-disruptive",
        action="store_true",
        help="permit probes known to crash or disturb servers",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print per clause the requests that would be sent; send nothing",
    )
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="fixes generated data (default: random, printed and recorded; a replay uses "
        "the recorded seed)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run work units in up to N pytest-xdist worker processes, one rate limit "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=5.0,
        metavar="R",
        help="live requests per second for the whole run, all workers together "
        "(default: %(default)g)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per-request timeout in seconds (default: %(default)g)",
    )
    p.add_argument(
        "--deadline",
        type=float,
        metavar="S",
        help="stop sending checks' requests after S seconds, then clean up (default: none)",
    )
    p.add_argument(
        "--budget",
        choices=["quick", "standard", "deep"],
        default="standard",
        help="how much generated (property-based) testing (default: %(default)s)",
    )
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 even when every clause was skipped",
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="run the I-th of N slices of the clauses, by area (default: all)",
    )
    p.add_argument(
        "--sandbox-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a fault on in the embedded sandbox, to see a failing report "
        "(repeatable; `teleconform sandbox hcw --list-faults`)",
    )
    p.add_argument(
        "--sandbox-profile",
        action="append",
        default=[],
        metavar="[API=]NAME|FILE",
        help="run the embedded sandbox with a behaviour profile (repeatable): API=NAME|FILE for "
        "one API; a bare NAME applies to each selected API whose sandbox has it, a bare FILE to "
        "the API it names (`api:`) or to the one selected API; recorded in report.json "
        "(target.profile) (default: as-documented; see `teleconform sandbox API "
        "--list-profiles`)",
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
    g.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only failures and the final summary",
    )
    g.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print every clause's verdict, and tracebacks of internal errors",
    )


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout (exit codes, variables) as written."""


# `teleconform <command> ...` handled by a module with its own parser: (module, parser builder,
# entry point). The CLI passes the arguments through; `all_parsers` walks these parsers too.
DELEGATED = {
    ("check-traffic",): ("teleconform.traffic", "build_parser", "main"),
    ("cassettes", "audit"): ("teleconform.cassettes.audit", "build_parser", "main"),
    ("report", "merge"): ("teleconform.report.merge", "_parser", "main"),
    ("webhooks", "check"): ("teleconform.webhooks.check", "_parser", "check_main"),
    ("webhooks", "listen"): ("teleconform.webhooks.listen", "_parser", "listen_main"),
}


def _delegated(sub: argparse._SubParsersAction[_Parser], name: str, help_: str) -> None:
    # "+" prefix: every "--x" (and --help) reaches the module's own parser untouched
    d = sub.add_parser(name, help=help_, add_help=False, prefix_chars="+")
    d.add_argument("rest", nargs=argparse.REMAINDER, help="the command's own arguments")


def build_parser() -> _Parser:
    parser = _Parser(prog="teleconform", description="Conformance suite for HCW@Home and Leah APIs")
    parser.add_argument("--version", action="version", version=f"teleconform {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _run_parser(sub)
    c = sub.add_parser("clauses", help="print the clause catalogue")
    c.add_argument(
        "api",
        nargs="?",
        default="all",
        choices=["hcw", "leah", "all"],
        help="whose clauses (default: %(default)s)",
    )
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.add_argument(
        "--client",
        action="store_true",
        help="the client-side clauses (judged by sandbox --validate-requests and proxy)",
    )
    s = sub.add_parser("sandbox", help="serve a reference sandbox over HTTP")
    s.add_argument("api", choices=["hcw", "leah"], help="which API's sandbox")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    s.add_argument(
        "--port",
        type=int,
        default=0,
        help="port to listen on (default: %(default)s, a free port)",
    )
    s.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a fault on (repeatable; default: none; see --list-faults)",
    )
    s.add_argument("--list-faults", action="store_true", help="print the fault switches and exit")
    s.add_argument(
        "--profile",
        metavar="NAME|FILE",
        help="behaviour profile: a built-in name (see --list-profiles; default: as-documented) "
        "or a profile file (.yaml/.json); --fault adds faults on top of it",
    )
    s.add_argument(
        "--list-profiles",
        action="store_true",
        help="print one profile per line, name first, and exit",
    )
    s.add_argument(
        "--validate-requests",
        action="store_true",
        help="judge the client's requests against the client clauses; write the client "
        "report on stop",
    )
    s.add_argument(
        "--report-dir",
        metavar="DIR",
        help="client report directory (with --validate-requests; default: reports)",
    )
    s.add_argument(
        "--strict",
        action="store_true",
        help="with --validate-requests: SHOULD client clauses also fail",
    )
    _delegated(sub, "check-traffic", "validate recorded exchanges (HAR, cassettes)")
    ca = sub.add_parser("cassettes", help="cassette tools")
    ca_sub = ca.add_subparsers(dest="cassettes_command", parser_class=_Parser)
    _delegated(ca_sub, "audit", "find credentials and personal data left in cassettes")
    rp = sub.add_parser("report", help="report tools")
    rp_sub = rp.add_subparsers(dest="report_command", parser_class=_Parser)
    _delegated(rp_sub, "merge", "merge the reports of several runs (e.g. --shard jobs)")
    cl = sub.add_parser("cleanup", help="remove what an interrupted live run created")
    cl.add_argument(
        "ledger", metavar="LEDGER", help="the ledger-<api>.jsonl the run left in its report dir"
    )
    cl.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per-request timeout in seconds (default: %(default)g)",
    )
    wh = sub.add_parser("webhooks", help="Leah webhook receiver check and listener")
    wh_sub = wh.add_subparsers(dest="webhooks_command", parser_class=_Parser)
    _delegated(wh_sub, "check", "deliver Leah webhook events to a receiver (LEAH-WH-02)")
    _delegated(wh_sub, "listen", "receive and validate Leah webhook deliveries (LEAH-WH-01)")
    _proxy_parser(sub)
    _drift_parser(sub)
    return parser


def all_parsers() -> list[argparse.ArgumentParser]:
    """Every parser of the CLI: the subcommand tree and the delegated commands' own parsers."""
    import importlib

    found: list[argparse.ArgumentParser] = []

    def walk(p: argparse.ArgumentParser) -> None:
        found.append(p)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in dict.fromkeys(action.choices.values()):
                    walk(child)

    walk(build_parser())
    for module_name, builder, _ in DELEGATED.values():
        found.append(getattr(importlib.import_module(module_name), builder)())
    return found


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
    px.add_argument(
        "--target",
        required=True,
        metavar="URL",
        help="base URL of the real server the client talks to (required)",
    )
    px.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    px.add_argument(
        "--port", type=int, default=0, help="port to listen on (default: %(default)s, a free port)"
    )
    px.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where DIR/client and DIR/server reports go (default: %(default)s)",
    )
    px.add_argument(
        "--record",
        metavar="DIR",
        help="record the traffic, redacted, into DIR (default: no recording)",
    )
    px.add_argument(
        "--overwrite",
        action="store_true",
        help="let --record replace the cassettes of a non-empty DIR",
    )
    px.add_argument(
        "--api",
        choices=["hcw", "leah"],
        help="the API behind --target (default: from the first request's path)",
    )
    px.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="per exchange, waiting for the target (default 60)",
    )
    px.add_argument(
        "--strict", action="store_true", help="SHOULD findings (client or server) also fail"
    )
    px.add_argument(
        "--allow-empty", action="store_true", help="exit 0 even when nothing was verified"
    )


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
    dr.add_argument("report", metavar="REPORT.json", help="the report.json of a (live) run")
    dr.add_argument(
        "-o",
        "--output",
        metavar="PROFILE",
        help="output file or directory (default: drift-<api>.yaml here)",
    )


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
            from teleconform.cli.run import run_command

            return run_command(args)
        if args.command == "clauses":
            from teleconform.cli._commands import clauses_command

            return clauses_command(args)
        if args.command == "sandbox":
            from teleconform.cli._commands import sandbox_command

            return sandbox_command(args)
        if args.command == "report":
            if args.report_command != "merge":
                raise UsageError("teleconform report: expected `merge DIR...`")
            return _delegate("teleconform.report.merge:main", args.rest)
        if args.command == "cleanup":
            from teleconform.cli._commands import cleanup_command

            return cleanup_command(args)
        if args.command == "check-traffic":
            return _delegate("teleconform.traffic:main", args.rest)
        if args.command == "cassettes":
            if args.cassettes_command != "audit":
                raise UsageError("teleconform cassettes: expected `audit DIR`")
            return _delegate("teleconform.cassettes.audit:main", args.rest)
        if args.command == "webhooks":
            if args.webhooks_command not in ("check", "listen"):
                raise UsageError("teleconform webhooks: expected `check URL` or `listen`")
            return _delegate(f"teleconform.webhooks:{args.webhooks_command}_main", args.rest)
        if args.command == "drift":
            from teleconform.drift import drift_command

            return drift_command(args.report, args.output)
        if args.command == "proxy":
            from teleconform.proxy import proxy_command

            return proxy_command(args)
        raise UsageError(f"unknown command {args.command}")
    except UsageError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`teleconform clauses | head`): nothing more to say to it
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:
        from teleconform.runner import Terminated

        terminated = isinstance(exc, Terminated)
        print(
            f"teleconform: interrupted ({'SIGTERM' if terminated else 'SIGINT'})", file=sys.stderr
        )
        return 143 if terminated else 130
    except Exception as exc:  # the last line of defence: exit 4, never a traceback
        from teleconform._logging import log_path, write_crash

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
