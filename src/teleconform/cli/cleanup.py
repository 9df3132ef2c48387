"""``teleconform cleanup LEDGER``: remove what an interrupted live run created."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from teleconform._errors import EXIT_FAIL, EXIT_OK, EXIT_TARGET, ConfigError, UsageError
from teleconform.runner import PreflightFailed, cleanup_from_ledger
from teleconform.runner._http import TransportError
from teleconform.runner._needs import needs_from_env
from teleconform.runner.ledger import left_behind, left_behind_lines, read_ledger


def cleanup_command(args: argparse.Namespace) -> int:
    """`teleconform cleanup LEDGER`: undo what a killed run created."""
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
        print(f"teleconform cleanup: cannot reach the target: {exc}", file=sys.stderr)
        return EXIT_TARGET
    for entry in failures:
        print(f"not cleaned: {entry['kind']} {entry['id']}: {entry['detail']}")
    print(f"{tried - len(failures)} of {tried} created resources cleaned")
    for line in left_behind_lines(
        str(header.get("api")), str(header.get("base_url")), left_behind(failures)
    ):
        print(line)
    return EXIT_FAIL if failures else EXIT_OK
