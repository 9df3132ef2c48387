"""`teleconform proxy` as a process: READY, reports and cassettes on SIGTERM, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from teleconform.cassettes.audit import main as audit_main
from teleconform.runner import sandbox_credentials
from teleconform.sandbox import hcw
from teleconform.sandbox._server import ThreadedServer, free_port


@contextmanager
def proxy_process(argv: list[str]) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "teleconform", "proxy", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    printed: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline().strip()
            if not line:
                raise RuntimeError(f"proxy exited: {proc.stderr.read() if proc.stderr else ''}")
            if line == "READY":
                break
            key, _, value = line.partition("=")
            printed[key] = value
        yield proc, printed
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_sigterm_writes_both_reports_and_redacted_cassettes(tmp_path: Path) -> None:
    app = hcw.create_app()
    creds = sandbox_credentials("hcw", app)
    reports, record = tmp_path / "reports", tmp_path / "cassettes"
    with (
        ThreadedServer(app) as server,
        proxy_process(
            ["--target", server.base_url, "--report-dir", str(reports), "--record", str(record)]
        ) as (proc, printed),
    ):
        with httpx.Client(base_url=printed["TELECONFORM_TARGET"]) as client:
            login = client.post(
                "/api/v1/login-local",
                json={"email": creds["hcw.email"], "password": creds["hcw.password"]},
            )
            assert login.status_code == 200
            token = login.json()["user"]["token"]
            # The JWT only as Bearer: HCW-CLIENT-02 (MUST) wants x-access-token.
            listed = client.get("/api/v1/invite", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200
        status, out, err = _stop(proc)
    assert status == 1, (out, err)
    assert "Traceback" not in err
    client_report = json.loads((reports / "client" / "report.json").read_text("utf-8"))
    server_report = json.loads((reports / "server" / "report.json").read_text("utf-8"))
    assert client_report["runs"][0]["target"]["mode"] == "client"
    assert server_report["runs"][0]["target"]["mode"] == "live"
    verdicts = {c["id"]: c["verdict"] for c in client_report["runs"][0]["clauses"]}
    assert verdicts["HCW-CLIENT-02"] == "fail" and verdicts["HCW-CLIENT-01"] == "pass"
    assert {f.name for f in (reports / "client").iterdir()} >= {
        "report.json",
        "junit.xml",
        "summary.md",
        "report.html",
    }
    cassettes = list((record / "hcw").glob("*.yaml"))
    assert cassettes
    text = "".join(p.read_text("utf-8") for p in cassettes)
    for secret in (creds["hcw.password"], token, creds["hcw.email"]):
        assert secret not in text
        assert secret not in (reports / "client" / "report.json").read_text("utf-8")
    assert audit_main([str(record)]) == 0


def test_an_unreachable_target_is_exit_3(tmp_path: Path) -> None:
    target = f"http://127.0.0.1:{free_port()}"
    with proxy_process(["--target", target, "--report-dir", str(tmp_path)]) as (proc, printed):
        with httpx.Client(base_url=printed["TELECONFORM_TARGET"]) as client:
            assert client.get("/api/v1/invite").status_code == 502
        status, _, err = _stop(proc)
    assert status == 3
    assert err.count("\n") == 1 and "could not be reached" in err


def test_a_bad_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "teleconform", "proxy", "--target", "ftp://x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--target" in done.stderr
