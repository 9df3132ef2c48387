"""`teleconform webhooks check URL` and `teleconform webhooks listen`: their command lines.

Options are checked here (one line and exit 2 for a bad one, before anything is sent or
bound); the work is `teleconform.webhooks.check.check_command` / `.listen.listen_command`.
`--baseline` and `--strict` mean what they mean for `run`.
"""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Sequence
from pathlib import Path

import httpx

from teleconform._errors import EXIT_USAGE, ConfigError, UsageError
from teleconform.cli._parser import _HelpFormatter, _Parser
from teleconform.report.baseline import Waiver, load_baseline
from teleconform.webhooks._report import Gate, print_line
from teleconform.webhooks.check import DEFAULT_TIMEOUT_S, CheckSettings, check_command
from teleconform.webhooks.listen import ListenSettings, listen_command

CHECK = "teleconform webhooks check"
LISTEN = "teleconform webhooks listen"

EPILOG = """\
exit status (as for `run`):
  0    the clause passed (or its failure is waived by --baseline)
  1    the clause failed (a MUST clause; with --strict: any)
  2    usage or configuration error, or nothing was verified{more}
"""


def _gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="accepted deviations (clause, target, reason, expires), as for `run`: a listed "
        "fail shows as `fail (waived)` and does not count until it expires (default: none)",
    )
    p.add_argument("--strict", action="store_true", help="SHOULD findings also fail, as for `run`")


def check_parser() -> _Parser:
    """The parser of `teleconform webhooks check`."""
    p = _Parser(
        prog=CHECK,
        description="Deliver the LEAH-WH-02 cases to a webhook receiver; each must get a 200.",
        epilog=EPILOG.format(more="\n  3    the receiver could not be reached"),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("url", metavar="URL", help="the receiver's URL, as registered with Leah")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help="time limit per delivery (default: %(default)g, the clause's limit)",
    )
    p.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where the reports go (default: %(default)s)",
    )
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K:V",
        help="extra header on every delivery (repeatable); never printed",
    )
    p.add_argument(
        "--seed", type=int, metavar="N", help="fixes the externalIds sent (default: random)"
    )
    p.add_argument(
        "--cacert",
        metavar="FILE",
        help="CA bundle to verify an HTTPS receiver (default: the system's)",
    )
    p.add_argument("--insecure", action="store_true", help="do not verify the receiver's TLS")
    _gate_options(p)
    return p


def listen_parser() -> _Parser:
    """The parser of `teleconform webhooks listen`."""
    p = _Parser(
        prog=LISTEN,
        description="Receive Leah webhook deliveries, answer 200 and validate them (LEAH-WH-01).",
        epilog=EPILOG.format(more=" (no delivery arrived)\n       unless --allow-empty"),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=0, help="0 (default): a free port")
    p.add_argument(
        "--certfile",
        metavar="PEM",
        help="serve HTTPS with this certificate (chain) (default: plain HTTP)",
    )
    p.add_argument("--keyfile", metavar="PEM", help="its private key (if not in --certfile)")
    p.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where the reports go (default: %(default)s)",
    )
    p.add_argument(
        "--max-events", type=int, metavar="N", help="stop after N deliveries (default: no limit)"
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="stop after S seconds (default: at SIGINT/SIGTERM)",
    )
    p.add_argument(
        "--allow-empty", action="store_true", help="exit 0 even when no delivery arrived"
    )
    _gate_options(p)
    return p


def check_main(argv: list[str]) -> int:
    """Entry point of `teleconform webhooks check URL`; returns the exit status."""
    try:
        try:
            args = check_parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        settings = _check_settings(args)
    except (UsageError, ConfigError) as exc:
        print_line(str(exc).splitlines()[0], err=True)
        return EXIT_USAGE
    return check_command(settings)


def listen_main(argv: list[str]) -> int:
    """Entry point of `teleconform webhooks listen`; returns the exit status."""
    try:
        try:
            args = listen_parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        return listen_command(_listen_settings(args))
    except (UsageError, ConfigError) as exc:
        print_line(str(exc).splitlines()[0], err=True)
        return EXIT_USAGE


def _gate(prog: str, args: argparse.Namespace) -> Gate:
    waivers: tuple[Waiver, ...] = ()
    if args.baseline:
        from teleconform.catalogue import load_catalogue

        try:
            waivers = tuple(load_baseline(args.baseline, set(load_catalogue())))
        except ConfigError as exc:
            raise ConfigError(f"{prog}: {exc}") from None
    return Gate(
        strict=args.strict, allow_empty=bool(getattr(args, "allow_empty", False)), waivers=waivers
    )


def _check_settings(args: argparse.Namespace) -> CheckSettings:
    _check_url(args.url)
    if not args.timeout > 0:
        raise UsageError(f"{CHECK}: --timeout must be positive")
    headers = _parse_headers(args.header)
    verify: bool | ssl.SSLContext = True
    if args.insecure:
        verify = False
    elif args.cacert:
        if not Path(args.cacert).is_file():
            raise UsageError(f"{CHECK}: --cacert {args.cacert}: no such file")
        try:
            verify = ssl.create_default_context(cafile=args.cacert)
        except ssl.SSLError as exc:
            raise UsageError(f"{CHECK}: --cacert {args.cacert}: {exc.reason}") from None
    gate = _gate(CHECK, args)
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{CHECK}: cannot write --report-dir {report_dir}: {exc.strerror}"
        ) from None
    return CheckSettings(
        url=args.url,
        report_dir=report_dir,
        timeout_s=args.timeout,
        headers=headers,
        seed=args.seed,
        verify=verify,
        gate=gate,
    )


def _listen_settings(args: argparse.Namespace) -> ListenSettings:
    if args.keyfile and not args.certfile:
        raise UsageError(f"{LISTEN}: --keyfile needs --certfile")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"{LISTEN}: --port must be 0..65535")
    if args.max_events is not None and args.max_events < 1:
        raise UsageError(f"{LISTEN}: --max-events must be at least 1")
    if args.duration is not None and not args.duration > 0:
        raise UsageError(f"{LISTEN}: --duration must be positive")
    for flag, value in (("--certfile", args.certfile), ("--keyfile", args.keyfile)):
        if value and not Path(value).is_file():
            raise UsageError(f"{LISTEN}: {flag} {value}: no such file")
    return ListenSettings(
        report_dir=Path(args.report_dir),
        host=args.host,
        port=args.port,
        certfile=args.certfile,
        keyfile=args.keyfile,
        max_events=args.max_events,
        duration=args.duration,
        gate=_gate(LISTEN, args),
    )


def _parse_headers(raw: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition(":")
        name = name.strip()
        if not sep or not name or any(c in name for c in ' \t()<>@,;"/[]?={}'):
            raise UsageError(f"{CHECK}: --header expects NAME:VALUE, got {name!r}")
        headers[name] = value.strip()
    return headers


def _check_url(url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise UsageError(f"{CHECK}: invalid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"{CHECK}: URL must be http:// or https:// with a host")
