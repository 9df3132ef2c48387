"""Helpers for the live-target tests: served sandboxes, the CLI in-process or as a subprocess,
reports."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from teleconform.sandbox import hcw, leah
from teleconform.sandbox._server import ThreadedServer

from ._chaos import ChaosProxy, RequestLog, Rule

__all__ = ["ChaosProxy", "RequestLog", "Rule", "cli_env"]

FAST = ["--rate-limit", "1000", "--budget", "quick", "--seed", "3"]
SIGN_IN = (
    ("POST", "/api/v1/login-local"),
    ("POST", "/api/v1/external-auth-callback"),
    ("GET", "/api/v1/external-auth-callback"),
)


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without TELECONFORM_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    env.update(extra)
    return env


def creds_env(api: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI run against sandboxes of ``api`` (hcw, leah or all): their
    seeded credentials."""
    modules = {"hcw": [hcw], "leah": [leah], "all": [hcw, leah]}[api]
    creds = {k: v for module in modules for k, v in module.CREDENTIALS.items()}
    return cli_env({**creds, **extra})


@contextmanager
def served(
    api: str,
    rules: list[Rule] | None = None,
    *,
    log: RequestLog | None = None,
    faults: tuple[str, ...] = (),
    **options: Any,
) -> Iterator[tuple[Starlette, ChaosProxy]]:
    """A fresh sandbox app of ``api`` served on loopback, behind a chaos proxy; ``options``
    go to its ``create_app``."""
    module = hcw if api == "hcw" else leah
    app = module.create_app(faults=faults, **options)
    with ThreadedServer(app) as server:
        proxy = ChaosProxy(server.base_url, list(rules or []), log or RequestLog(), name=api)
        with proxy:
            yield app, proxy


def run_cli(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m teleconform ARGV`` with its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "teleconform", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_main(
    argv: list[str], env: dict[str, str], cwd: Path, warm: tuple[str, ...] = ("hcw", "leah")
) -> subprocess.CompletedProcess[str]:
    """``teleconform.__main__.main(ARGV)`` in this process, as ``run_cli`` would run it.

    A subprocess spends a third of a CPU second on imports (seconds on a busy machine);
    in-process runs share them. The
    environment, working directory, SIGTERM handler and the ``teleconform`` logger are
    restored afterwards. ``warm`` imports the suites first, so a run's clock (``--deadline``)
    does not include their import.
    """
    from teleconform.__main__ import main
    from teleconform.runner import load_checks

    for api in warm:
        load_checks(api)
    logger = logging.getLogger("teleconform")
    saved_logger = (list(logger.handlers), logger.level, logger.propagate)
    saved_env = dict(os.environ)
    saved_term = signal.getsignal(signal.SIGTERM)
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        with (
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        if saved_term is not None:  # None: a handler installed outside Python, left alone
            signal.signal(signal.SIGTERM, saved_term)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            if handler not in saved_logger[0]:
                handler.close()
        for handler in saved_logger[0]:
            logger.addHandler(handler)
        logger.setLevel(saved_logger[1])
        logger.propagate = saved_logger[2]
    return subprocess.CompletedProcess(["teleconform", *argv], code, out.getvalue(), err.getvalue())


def start_cli(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m teleconform ARGV`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "teleconform", *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def report_of(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return data


def clauses_of(report: dict[str, Any], api: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        c["id"]: c for run in report["runs"] if api in (None, run["api"]) for c in run["clauses"]
    }


def ledger_records(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def wait_for(condition: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def hcw_leftovers(app: Starlette) -> list[str]:
    """What the HCW sandbox still holds of a run: live invites, unclosed consultations."""
    store = app.state.store
    left = [f"invite {i}" for i in store.invites]
    left += [
        f"consultation {c.id} ({c.status})"
        for c in store.consultations.values()
        if c.status != "closed"
    ]
    return left


def hcw_written(app: Starlette) -> list[str]:
    """Anything a run created in the HCW sandbox, whatever became of it."""
    store = app.state.store
    return (
        [f"invite {i}" for i in store.invites]
        + [f"consultation {c}" for c in store.consultations]
        + [f"user {u.email}" for u in store.users.values() if u.role not in ("scheduler", "doctor")]
    )


def one_line(text: str) -> str:
    """The single non-empty line of ``text`` (asserts there is exactly one)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]
