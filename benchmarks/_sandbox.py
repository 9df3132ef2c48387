"""A sandbox served in its own process (`teleconform sandbox API`), for schemathesis runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from types import TracebackType

from _measure import process_peak_rss_kb


class SandboxError(RuntimeError):
    """The sandbox process did not come up or its credentials did not work."""


class SandboxProcess:
    """`python -m teleconform sandbox API [--fault F]` until stopped; knows its credentials."""

    def __init__(self, api: str, *, faults: tuple[str, ...] = (), cwd: Path, python: str) -> None:
        self.api = api
        self.faults = faults
        self.cwd = cwd
        self.python = python
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.env: dict[str, str] = {}
        self.peak_rss_kb = 0

    def start(self, timeout_s: float = 30.0) -> SandboxProcess:
        cmd = [self.python, "-m", "teleconform", "sandbox", self.api]
        for fault in self.faults:
            cmd += ["--fault", fault]
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        lines: list[str] = []
        done = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.strip() == "READY":
                    done.set()
                    break
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(timeout_s) or "READY" not in lines:
            self.stop()
            raise SandboxError(f"sandbox {self.api} did not print READY within {timeout_s:g}s")
        for line in lines:
            name, sep, value = line.partition("=")
            if sep:
                self.env[name] = value
        self.base_url = self.env.get("TELECONFORM_TARGET", "")
        if not self.base_url:
            self.stop()
            raise SandboxError(f"sandbox {self.api} printed no TELECONFORM_TARGET")
        return self

    def auth_header(self) -> str:
        """The `-H NAME: VALUE` a schemathesis run needs (HCW logs in once for a token)."""
        if self.api == "leah":
            return f"LEAH-AUTH-TOKEN: {self.env['TELECONFORM_LEAH_API_KEY']}"
        body = json.dumps(
            {
                "email": self.env["TELECONFORM_HCW_EMAIL"],
                "password": self.env["TELECONFORM_HCW_PASSWORD"],
            }
        ).encode()
        request = urllib.request.Request(
            self.base_url + "/api/v1/login-local",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                data = json.load(response)
        except OSError as exc:  # urllib's HTTPError is an OSError too
            raise SandboxError(f"login-local failed on the {self.api} sandbox: {exc}") from exc
        user = data.get("user") if isinstance(data, dict) else None
        token = user.get("token") if isinstance(user, dict) else None
        if not token:
            raise SandboxError("login-local answered no user.token (is a login fault on?)")
        return f"Authorization: Bearer {token}"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.peak_rss_kb = max(self.peak_rss_kb, process_peak_rss_kb(self.proc.pid))
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def default_python() -> str:
    """The interpreter running this script (the project venv's, when run as documented)."""
    return os.environ.get("TELECONFORM_BENCH_PYTHON") or sys.executable
