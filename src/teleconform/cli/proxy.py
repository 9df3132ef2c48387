"""``teleconform proxy``: serve the validating proxy until SIGINT/SIGTERM, then report."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from teleconform._errors import EXIT_TARGET, EXIT_USAGE, UsageError
from teleconform.proxy import Proxy


def check_target(url: str) -> str:
    """``--target`` as a base URL without its trailing slash; anything else is exit 2."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise UsageError(f"teleconform proxy: --target must be an http(s) base URL, not {url!r}")
    return url.rstrip("/")


def proxy_command(args: argparse.Namespace) -> int:
    """Run the proxy until interrupted; write DIR/client and DIR/server reports."""
    from teleconform.report import write_reports
    from teleconform.report._document import exit_status

    target = check_target(args.target)
    if not 0 <= args.port <= 65535:
        raise UsageError("teleconform proxy: --port must be 0..65535")
    record = Path(args.record) if args.record else None
    if record is not None and record.is_dir() and any(record.iterdir()) and not args.overwrite:
        raise UsageError(f"teleconform proxy: --record {record} is not empty (use --overwrite)")
    proxy = Proxy(
        target,
        api=args.api,
        host=args.host,
        port=args.port or None,
        record_dir=record,
        overwrite=args.overwrite,
        timeout_s=args.timeout,
    )
    try:
        proxy.start()
    except (OSError, RuntimeError) as exc:
        raise UsageError(
            f"teleconform proxy: cannot listen on {args.host}:{args.port}: {exc}"
        ) from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"TELECONFORM_TARGET={proxy.base_url}", flush=True)
    print(f"TELECONFORM_PROXY_UPSTREAM={target}", flush=True)
    print("READY", flush=True)
    stop.wait()
    client, server = proxy.stop()
    report_dir = Path(args.report_dir)
    for name, report in (("client", client), ("server", server)):
        write_reports(report, report_dir / name)
        totals = report["totals"]
        print(
            f"{name} report: {report_dir / name / 'report.json'}: "
            + ", ".join(f"{totals[k]} {k}" for k in ("pass", "fail", "skip")),
            flush=True,
        )
    session = proxy.session
    if session.relayed and not session.reached:
        print(
            f"teleconform proxy: {target} could not be reached "
            f"({session.unreachable[0]}); check the URL and that the server is up",
            file=sys.stderr,
        )
        return EXIT_TARGET
    status = exit_status(list(client["runs"]) + list(server["runs"]), args.strict, args.allow_empty)
    if status == EXIT_USAGE:
        print(
            "teleconform proxy: nothing was verified (no API exchange passed through)",
            file=sys.stderr,
        )
    return status
