"""``teleconform sandbox API``: serve a reference sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from types import FrameType

from teleconform._errors import EXIT_OK, ConfigError, UsageError
from teleconform.runner._targets import (
    SANDBOX_MODULES,
    create_sandbox_app,
    resolve_sandbox_profile,
    sandbox_profiles,
)
from teleconform.sandbox._server import ThreadedServer


def sandbox_command(args: argparse.Namespace) -> int:
    """Serve a sandbox until interrupted; print its URL and seeded credentials, then READY."""
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
        from teleconform.cli._validate_requests import validated

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
