"""Small commands: `clauses` and `sandbox`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from teleconform._errors import EXIT_FAIL, EXIT_OK, EXIT_TARGET, UsageError
from teleconform.catalogue import load_catalogue, load_client_catalogue


def clauses_command(args: argparse.Namespace) -> int:
    """Print the clause catalogue (a table, or JSON with --json)."""
    catalogue = load_client_catalogue() if args.client else load_catalogue()
    clauses = [c for c in catalogue.values() if args.api in ("all", c.api)]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "api": c.api,
                        "area": c.area,
                        "level": c.level,
                        "title": c.title,
                        "statement": c.statement,
                        "needs": list(c.needs),
                        "source": {"document": c.source_document, "quote": c.source_quote},
                    }
                    for c in clauses
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    for c in clauses:
        needs = ", ".join(c.needs) or "-"
        print(f"{c.id:<14} {c.level:<6} {c.area:<18} {c.title}  [needs: {needs}]")
    return EXIT_OK


def sandbox_command(args: argparse.Namespace) -> int:
    """Serve a sandbox until interrupted; print its URL and seeded credentials, then READY."""
    import importlib

    from teleconform._errors import ConfigError
    from teleconform.runner._targets import (
        SANDBOX_MODULES,
        create_sandbox_app,
        resolve_sandbox_profile,
        sandbox_profiles,
    )
    from teleconform.sandbox._server import ThreadedServer

    module = importlib.import_module(SANDBOX_MODULES[args.api])
    if args.list_faults:
        for name, fault in sorted(module.FAULTS.items()):
            print(f"{name:<36} {','.join(sorted(fault.clauses)):<28} {fault.description}")
        return EXIT_OK
    if args.list_profiles:
        for name, builtin in sandbox_profiles(args.api).items():
            kind = "conformant" if builtin.conformant and not builtin.faults else "observed"
            print(f"{name:<24} {kind:<10} {builtin.description}")
        return EXIT_OK
    unknown = [f for f in args.fault if f not in module.FAULTS]
    if unknown:
        raise UsageError(f"teleconform sandbox: unknown fault {unknown[0]} (see --list-faults)")
    if not 0 <= args.port <= 65535:
        raise UsageError("teleconform sandbox: --port must be 0..65535")
    try:
        profile = resolve_sandbox_profile(args.api, args.profile)
    except ConfigError as exc:
        raise UsageError(f"teleconform sandbox: {exc}") from exc
    app = create_sandbox_app(args.api, faults=tuple(args.fault), profile=profile)
    served, finish = app, None
    if args.validate_requests:  # judge the client's requests; report on stop
        from teleconform.client._command import validated

        served, finish = validated(args, app)
    elif args.report_dir is not None:
        raise UsageError("teleconform sandbox: --report-dir needs --validate-requests")
    try:
        server = ThreadedServer(served, host=args.host, port=args.port or None).start()
    except (OSError, RuntimeError) as exc:
        raise UsageError(
            f"teleconform sandbox: cannot listen on {args.host}:{args.port}: {exc}"
        ) from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"TELECONFORM_TARGET={server.base_url}", flush=True)
    print(f"TELECONFORM_{args.api.upper()}_TARGET={server.base_url}", flush=True)  # `run` reads it
    for var, value in app.state.credentials.items():
        print(f"{var}={value}", flush=True)
    if profile is not None:
        print(f"teleconform sandbox {args.api}: profile {profile.name}", file=sys.stderr)
    print("READY", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    return finish(server.base_url) if finish is not None else EXIT_OK


def cleanup_command(args: argparse.Namespace) -> int:
    """`teleconform cleanup LEDGER`: undo what a killed run created."""
    import os
    from pathlib import Path

    from teleconform._errors import ConfigError
    from teleconform.runner import PreflightFailed, cleanup_from_ledger
    from teleconform.runner._http import TransportError
    from teleconform.runner._needs import needs_from_env
    from teleconform.runner.ledger import left_behind, left_behind_lines, read_ledger

    path = Path(args.ledger)
    try:
        header, _ = read_ledger(path)
        credentials = needs_from_env(os.environ, str(header.get("api")))
    except (OSError, ValueError) as exc:
        raise UsageError(f"teleconform cleanup: cannot read ledger {path}: {exc}") from exc
    except ConfigError as exc:
        raise UsageError(f"teleconform cleanup: {exc}") from exc
    try:
        tried, failures = cleanup_from_ledger(path, credentials, timeout_s=args.timeout)
    except (TransportError, PreflightFailed) as exc:
        print(f"teleconform cleanup: cannot reach the target: {exc}", file=__import__("sys").stderr)
        return EXIT_TARGET
    for entry in failures:
        print(f"not cleaned: {entry['kind']} {entry['id']}: {entry['detail']}")
    print(f"{tried - len(failures)} of {tried} created resources cleaned")
    for line in left_behind_lines(
        str(header.get("api")), str(header.get("base_url")), left_behind(failures)
    ):
        print(line)
    return EXIT_FAIL if failures else EXIT_OK
