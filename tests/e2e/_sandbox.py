"""Start `teleconform sandbox API` as a subprocess and read its environment lines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sandbox_process(api: str, *faults: str) -> Iterator[dict[str, str]]:
    """Yields the sandbox's printed TELECONFORM_* variables; stops the process afterwards."""
    argv = [sys.executable, "-m", "teleconform", "sandbox", api]
    for fault in faults:
        argv += ["--fault", fault]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox exited: {proc.stderr.read() if proc.stderr else ''}")
            line = line.strip()
            if line == "READY":
                break
            key, _, value = line.partition("=")
            env[key] = value
        else:
            raise RuntimeError("sandbox did not become ready")
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without TELECONFORM_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    env.update(extra)
    return env
