"""Client validation over real HTTP: the validating middleware in front of a served sandbox,
driven by httpx, and `teleconform sandbox --validate-requests` as a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest

from teleconform.client import ClientValidator, ValidatingSandbox, validating
from teleconform.sandbox import leah
from teleconform.sandbox._server import ThreadedServer

PDF = b"%PDF-1.4\n" + b"0" * 64 + b"\n%%EOF\n"


def test_the_middleware_judges_without_changing_the_answers() -> None:
    """The same requests get the same answers with and without the validator in front."""
    plain_app = leah.create_app()
    validator = ClientValidator("leah")
    answers = []
    for app in (plain_app, validating(leah.create_app(), validator)):
        with ThreadedServer(app) as server, httpx.Client(base_url=server.base_url) as http:
            key = {"LEAH-AUTH-TOKEN": leah.CREDENTIALS["TELECONFORM_LEAH_API_KEY"]}
            email = leah.CREDENTIALS["TELECONFORM_LEAH_HCW_EMAIL"]
            r1 = http.get("/api/offices", params={"healthcareWorker.email": email}, headers=key)
            r2 = http.get("/api/offices")  # no key: 401, and LEAH-CLIENT-01 fails
            answers.append([(r.status_code, r.headers["content-type"], r.json()) for r in (r1, r2)])
    assert answers[0] == answers[1]
    verdicts = validator.verdicts()
    assert verdicts["LEAH-CLIENT-01"] == "fail" and verdicts["LEAH-CLIENT-06"] == "pass"
    assert validator.exchanges == 2


def test_a_large_multipart_upload_is_judged_whole() -> None:
    """A 14.9 MB PDF and a .gif in one upload: the validator reads every byte of the body
    even though the sandbox refuses the request."""
    with (
        ValidatingSandbox("leah") as sandbox,
        httpx.Client(
            base_url=sandbox.base_url,
            timeout=60,
            headers={"LEAH-AUTH-TOKEN": sandbox.credentials["TELECONFORM_LEAH_API_KEY"]},
        ) as http,
    ):
        worker = http.get(
            "/api/healthcare_workers",
            params={"email": sandbox.credentials["TELECONFORM_LEAH_HCW_EMAIL"]},
        ).json()
        iri = worker["hydra:member"][0]["@id"]
        transfer = http.post("/api/transfers", json={"healthcareWorker": iri}).json()["id"]
        big = PDF + b"\0" * (14_900_000 - len(PDF))
        ok = http.post(
            f"/api/transfers/{transfer}/files",
            files=[("file[]", ("big.pdf", big, "application/pdf"))],
        )
        assert ok.status_code == 200
        assert sandbox.validator.verdicts()["LEAH-CLIENT-05"] == "pass"
        bad = http.post(
            f"/api/transfers/{transfer}/files",
            files=[
                ("file[]", ("ok.pdf", big, "application/pdf")),
                ("file[]", ("logo.gif", b"GIF89a;", "image/gif")),
            ],
        )
        assert bad.status_code >= 400
    messages = [f.message for f in sandbox.validator.violations()]
    assert messages and "logo.gif" in messages[0]
    evidence = sandbox.report()["runs"][0]["clauses"]
    entry = next(c for c in evidence if c["id"] == "LEAH-CLIENT-05")
    assert entry["verdict"] == "fail" and len(json.dumps(entry)) < 20_000


def test_sso_over_http_uses_the_sandbox_secret_and_clock() -> None:
    with ValidatingSandbox("hcw") as sandbox, httpx.Client(base_url=sandbox.base_url) as http:
        c = sandbox.credentials
        secret, doctor = c["TELECONFORM_HCW_SSO_SECRET"], c["TELECONFORM_HCW_DOCTOR_EMAIL"]
        fresh = jwt.encode(
            {"email": doctor, "timestamp": int(sandbox.clock())}, secret, algorithm="HS256"
        )
        assert (
            http.get("/api/v1/external-auth-callback", params={"token": fresh}).status_code == 302
        )
        sandbox.advance(400)  # the same token is now too old, and a replay
        http.get("/api/v1/external-auth-callback", params={"token": fresh})
    verdicts = sandbox.validator.verdicts()
    assert (verdicts["HCW-CLIENT-06"], verdicts["HCW-CLIENT-07"]) == ("fail", "fail")
    assert "more than 5 minutes" in sandbox.validator.violations()[0].message


def _serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "teleconform", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "READY":
            return proc, env
        key, _, value = line.strip().partition("=")
        env[key] = value
    raise AssertionError(f"sandbox exited: {proc.stderr.read() if proc.stderr else ''}")


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_validate_requests_writes_the_client_report_on_stop(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, env = _serve(tmp_path, "hcw", "--validate-requests", "--report-dir", "out")
    try:
        with httpx.Client(base_url=env["TELECONFORM_TARGET"]) as http:
            r = http.post(
                "/api/v1/login-local",
                json={
                    "email": env["TELECONFORM_HCW_EMAIL"],
                    "password": env["TELECONFORM_HCW_PASSWORD"],
                },
            )
            token = r.json()["user"]["token"]
            http.get("/api/v1/invite", headers={"Authorization": f"Bearer {token}"})
    finally:
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, stderr  # HCW-CLIENT-02 (MUST) is broken
    assert "HCW-CLIENT-02" in stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    run = report["runs"][0]
    assert run["target"]["mode"] == "client"
    verdicts = {c["id"]: c["verdict"] for c in run["clauses"]}
    assert verdicts["HCW-CLIENT-01"] == "pass" and verdicts["HCW-CLIENT-02"] == "fail"
    assert verdicts["HCW-CLIENT-04"] == "skip"
    for name in ("junit.xml", "summary.md", "report.html"):
        text = (tmp_path / "out" / name).read_text()
        assert "HCW-CLIENT-02" in text
        assert env["TELECONFORM_HCW_PASSWORD"] not in text and token not in text
    assert token not in json.dumps(report)


@pytest.mark.e2e
def test_sandbox_validate_requests_with_no_traffic_is_exit_2(tmp_path: Path) -> None:
    proc, _ = _serve(tmp_path, "leah", "--validate-requests", "--report-dir", "out")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 2
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {c["verdict"] for c in report["runs"][0]["clauses"]} == {"skip"}


def test_report_dir_without_validate_requests_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "teleconform", "sandbox", "hcw", "--report-dir", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == ("teleconform sandbox: --report-dir needs --validate-requests")


def test_the_middleware_works_in_process_too() -> None:
    """No server: the validating app under starlette's TestClient (an httpx.Client)."""
    from starlette.testclient import TestClient

    from teleconform.sandbox import hcw

    validator = ClientValidator("hcw", credentials=hcw.CREDENTIALS)
    with TestClient(validating(hcw.create_app(), validator)) as http:
        r = http.post(
            "/api/v1/login-local",
            data={
                "email": hcw.CREDENTIALS["TELECONFORM_HCW_EMAIL"],
                "password": hcw.CREDENTIALS["TELECONFORM_HCW_PASSWORD"],
            },
        )
    assert r.status_code in (400, 415)  # the sandbox still answers as it does
    assert validator.verdicts()["HCW-CLIENT-01"] == "fail"
    assert "not application/json" in validator.violations()[0].message
