"""Helpers for the live-target tests: served sandboxes, the CLI as a subprocess, reports."""

from __future__ import annotations

import json
import os
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
    """The environment of a CLI run against a sandbox of ``api`` (its seeded credentials)."""
    module = hcw if api == "hcw" else leah
    return cli_env({**module.CREDENTIALS, **extra})


@contextmanager
def served(api: str, rules: list[Rule] | None = None, *, log: RequestLog | None = None,
           faults: tuple[str, ...] = ()) -> Iterator[tuple[Starlette, ChaosProxy]]:
    """A fresh sandbox app of ``api`` served on loopback, behind a chaos proxy."""
    module = hcw if api == "hcw" else leah
    app = module.create_app(faults=faults)
    with ThreadedServer(app) as server:
        proxy = ChaosProxy(server.base_url, list(rules or []), log or RequestLog(), name=api)
        with proxy:
            yield app, proxy


def run_cli(argv: list[str], env: dict[str, str], cwd: Path,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m teleconform ARGV`` with its output captured."""
    return subprocess.run([sys.executable, "-m", "teleconform", *argv], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def start_cli(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m teleconform ARGV`` in the background."""
    return subprocess.Popen([sys.executable, "-m", "teleconform", *argv], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def report_of(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return data


def clauses_of(report: dict[str, Any], api: str | None = None) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for run in report["runs"] if api in (None, run["api"])
            for c in run["clauses"]}


def ledger_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


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
    left += [f"consultation {c.id} ({c.status})" for c in store.consultations.values()
             if c.status != "closed"]
    return left


def hcw_written(app: Starlette) -> list[str]:
    """Anything a run created in the HCW sandbox, whatever became of it."""
    store = app.state.store
    return ([f"invite {i}" for i in store.invites]
            + [f"consultation {c}" for c in store.consultations]
            + [f"user {u.email}" for u in store.users.values()
               if u.role not in ("scheduler", "doctor")])


def one_line(text: str) -> str:
    """The single non-empty line of ``text`` (asserts there is exactly one)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]
