"""`teleconform webhooks check URL` against real receivers on loopback (LEAH-WH-02)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from teleconform.cli.webhooks import check_main
from teleconform.sandbox._server import ThreadedServer, free_port
from teleconform.webhooks import build_deliveries, run_cases, validate_event
from teleconform.webhooks.check import httpx_sender

from . import _receivers as rx

CASES = [
    "object-payload",
    "repeat",
    "string-payload",
    "null-file-number",
    "unknown-event",
    "extra-fields",
]


def _check(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = check_main([url, "--report-dir", str(tmp_path), "--seed", "7", *extra])
    report_file = tmp_path / "report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    return code, report


def _case_verdicts(report: dict[str, Any]) -> dict[str, str]:
    (run,) = report["runs"]
    (entry,) = run["clauses"]
    assert entry["id"] == "LEAH-WH-02"
    return {c["case"]: c["verdict"] for c in entry["cases"]}


def test_the_cases_are_the_documented_deliveries() -> None:
    deliveries = build_deliveries("abc")
    assert [d.case for d in deliveries] == CASES
    docs = {d.case: json.loads(d.body) for d in deliveries}
    # Every well-formed case is itself a valid LEAH-WH-01 event (clause rules, no spec).
    for case in ("object-payload", "string-payload", "null-file-number", "extra-fields"):
        assert validate_event(docs[case], schema=None).ok, case
    assert isinstance(docs["string-payload"]["payload"], str)
    assert isinstance(docs["object-payload"]["payload"], dict)
    assert docs["null-file-number"]["payload"]["administrativeFileNumber"] is None
    assert docs["unknown-event"]["event"] != "appointment.guest.online"
    assert deliveries[1].body == deliveries[0].body  # the repeat is byte-identical
    ids = [validate_event(docs[c], schema=None).external_id for c in CASES if c != "repeat"]
    ids[CASES.index("unknown-event") - 1] = docs["unknown-event"]["payload"]["externalId"]
    assert len(set(ids)) == len(ids)  # one repeat only, even for receivers keyed on externalId


def test_a_conformant_receiver_passes_every_case(tmp_path: Path) -> None:
    receiver = rx.Receiver(rx.conformant)
    with ThreadedServer(receiver.app) as server:
        code, report = _check(
            server.base_url + "/hooks/leah?token=s3cret",
            tmp_path,
            "--header",
            "X-Receiver-Key: k-123",
        )
    assert code == 0
    assert _case_verdicts(report) == dict.fromkeys(CASES, "pass")
    assert report["runs"][0]["clauses"][0]["verdict"] == "pass"
    assert report["totals"]["pass"] == 1 and report["schema_version"] == 1
    assert len(receiver.seen) == len(CASES)
    assert all(h["content-type"] == "application/json" for h in receiver.headers)
    assert all(h["x-receiver-key"] == "k-123" for h in receiver.headers)
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert "s3cret" not in text and "k-123" not in text  # URL secrets and headers never shown
    junit = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert 'name="LEAH-WH-02"' in junit and "<failure" not in junit
    assert (tmp_path / "summary.md").exists() and (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("rule", "broken"),
    [
        (rx.unknown_event_500, "unknown-event"),
        (rx.string_payload_400, "string-payload"),
        (rx.repeat_409, "repeat"),
    ],
    ids=["500-on-unknown-event", "400-on-string-payload", "409-on-repeat"],
)
def test_a_receiver_breaking_one_case_fails_exactly_that_case(
    rule: rx.Rule, broken: str, tmp_path: Path
) -> None:
    receiver = rx.Receiver(rule)
    with ThreadedServer(receiver.app) as server:
        code, report = _check(server.base_url + "/", tmp_path)
    assert code == 1
    verdicts = _case_verdicts(report)
    assert {c for c, v in verdicts.items() if v == "fail"} == {broken}
    entry = report["runs"][0]["clauses"][0]
    assert entry["verdict"] == "fail" and entry["level"] == "MUST"
    assert entry["reason"].startswith(f"{broken}: answered ")
    assert "the document demands 200" in entry["reason"]


def test_an_answer_later_than_the_time_limit_fails_that_case(tmp_path: Path) -> None:
    receiver = rx.Receiver(rx.slow_on_extra_fields(1.0))
    with ThreadedServer(receiver.app) as server:
        code, report = _check(server.base_url + "/", tmp_path, "--timeout", "0.5")
    assert code == 1
    verdicts = _case_verdicts(report)
    assert {c for c, v in verdicts.items() if v == "fail"} == {"extra-fields"}
    assert "no answer within 0.5 s" in report["runs"][0]["clauses"][0]["reason"]


def test_a_slow_receiver_fails_every_case_without_waiting_for_it(tmp_path: Path) -> None:
    receiver = rx.Receiver(rx.slow(0.8))
    with ThreadedServer(receiver.app) as server:
        code, report = _check(server.base_url + "/", tmp_path, "--timeout", "0.2")
    assert code == 1
    assert set(_case_verdicts(report).values()) == {"fail"}
    # each case is cut at the limit, not awaited: the client's timeout ended every one
    (entry,) = report["runs"][0]["clauses"]
    assert {c["reason"] for c in entry["cases"]} == {"no answer within 0.2 s"}


def test_only_200_counts(tmp_path: Path) -> None:
    receiver = rx.Receiver(rx.answers_204)
    with ThreadedServer(receiver.app) as server:
        code, report = _check(server.base_url + "/", tmp_path)
    assert code == 1
    assert set(_case_verdicts(report).values()) == {"fail"}
    assert "answered 204" in report["runs"][0]["clauses"][0]["reason"]


def test_an_unreachable_receiver_is_exit_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?key=s3cret"
    code, report = _check(url, tmp_path)
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) == 1
    assert "cannot reach the receiver" in err and "s3cret" not in err
    assert report == {}  # nothing was verified, nothing reported


def test_a_receiver_that_dies_midway_fails_the_rest(tmp_path: Path) -> None:
    receiver = rx.Receiver(rx.conformant)
    server = ThreadedServer(receiver.app).start()
    url = server.base_url + "/"
    calls = {"n": 0}

    def send(body: bytes, timeout_s: float) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 3:
            server.stop()
        return httpx.post(
            url, content=body, timeout=timeout_s, headers={"Content-Type": "application/json"}
        )

    try:
        results = run_cases(url, send, timeout_s=2.0, token="x")
    finally:
        server.stop()
    assert [r.verdict for r in results] == ["pass", "pass"] + ["fail"] * (len(CASES) - 2)
    assert "stopped answering" in results[2].reason


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["ftp://example.org/hook"],
        ["not a url"],
        ["http://127.0.0.1:9/", "--timeout", "0"],
        ["http://127.0.0.1:9/", "--timeout", "soon"],
        ["http://127.0.0.1:9/", "--header", "no-colon"],
        ["http://127.0.0.1:9/", "--cacert", "/nonexistent/ca.pem"],
        ["http://127.0.0.1:9/", "--bogus"],
    ],
)
def test_bad_usage_is_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_main(argv) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err and captured.out == ""


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["--help"]) == 0
    assert "--timeout" in capsys.readouterr().out


def test_https_receiver_with_cacert(tmp_path: Path, tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    receiver = rx.Receiver(rx.conformant)
    server = ThreadedServer(receiver.app, ssl_certfile=str(cert), ssl_keyfile=str(key))
    with server:
        assert server.base_url.startswith("https://")
        code, report = _check(server.base_url + "/", tmp_path / "ok", "--cacert", str(cert))
        assert code == 0 and set(_case_verdicts(report).values()) == {"pass"}
        # Without the CA the TLS handshake fails before anything is learnt: unreachable.
        code, _ = _check(server.base_url + "/", tmp_path / "untrusted")
        assert code == 3


def test_the_sender_posts_json_without_following_redirects() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "/elsewhere"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        results = run_cases(
            "http://receiver.test/hook",
            httpx_sender(client, "http://receiver.test/hook"),
            token="t",
        )
    assert len(seen) == len(CASES)
    assert all(r.verdict == "fail" and r.status == 302 for r in results)
    assert all(req.method == "POST" for req in seen)


@pytest.mark.e2e
def test_the_cli_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    receiver = rx.Receiver(rx.conformant)
    cmd = [sys.executable, "-m", "teleconform", "webhooks", "check"]
    with ThreadedServer(receiver.app) as server:
        done = subprocess.run(
            [*cmd, "--timeout", "2", server.base_url + "/hook", "--report-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert "LEAH-WH-02 pass" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["totals"]["pass"] == 1
    usage = subprocess.run([*cmd, "--timeout", "2"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and len(usage.stderr.strip().splitlines()) == 1
