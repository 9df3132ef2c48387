"""`teleconform webhooks listen`: receive, answer 200, validate, report (LEAH-WH-01)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from teleconform.cli.webhooks import listen_main
from teleconform.sandbox._server import free_port
from teleconform.webhooks import EVENTS_FILE, WebhookListener

EVENT = "appointment.guest.online"
GOOD = {"event": EVENT, "payload": {"externalId": "A-1", "administrativeFileNumber": None}}
GOOD_STRING = {"event": EVENT, "payload": json.dumps({"externalId": "A-2"})}
BAD_NAME = {"event": "appointment.guest_online", "payload": {"externalId": "A-3"}}
BAD_ID = {"event": EVENT, "payload": {"administrativeFileNumber": "F-1"}}
PERSONAL = {
    "event": "appointment.created",
    "payload": {
        "externalId": "A-4",
        "email": "jeanne.martin@gmail.com",
        "phoneNumber": "+33612345678",
    },
}


def _post(url: str, doc: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, json=doc, timeout=5, **kwargs)


def test_valid_and_invalid_events_are_answered_200_and_judged(tmp_path: Path) -> None:
    events_file = tmp_path / EVENTS_FILE
    with WebhookListener(events_file=events_file, schema=None) as listener:
        hook = listener.url + "/leah/hooks"
        answers = [_post(hook, doc).status_code for doc in (GOOD, GOOD_STRING, BAD_NAME, BAD_ID)]
        text_answer = httpx.post(
            hook, content=b"not json", timeout=5, headers={"Content-Type": "text/plain"}
        )
        probe = httpx.get(listener.url + "/", timeout=5)
        events = listener.events
    assert answers == [200, 200, 200, 200] and text_answer.status_code == 200
    assert probe.status_code == 200  # health probes are answered, not recorded
    assert [e.check.verdict for e in events] == ["pass", "pass", "fail", "fail", "fail"]
    assert [e.path for e in events][0] == "/leah/hooks"
    assert events[1].check.payload_form == "string" and events[1].check.external_id == "A-2"
    assert "documented event" in events[2].check.summary()
    assert 'no "externalId"' in events[3].check.summary()
    assert "Content-Type is text/plain" in events[4].check.summary()
    lines = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines()]
    assert [r["verdict"] for r in lines] == ["pass", "pass", "fail", "fail", "fail"]
    assert lines[0]["method"] == "POST" and lines[0]["path"] == "/leah/hooks"
    assert json.loads(lines[0]["body"]) == GOOD


def test_recorded_events_are_redacted(tmp_path: Path) -> None:
    events_file = tmp_path / EVENTS_FILE
    with WebhookListener(events_file=events_file, schema=None) as listener:
        _post(listener.url, PERSONAL)
        (event,) = listener.events
    assert b"jeanne.martin@gmail.com" in event.body  # in memory, raw
    text = events_file.read_text(encoding="utf-8")
    assert "jeanne.martin" not in text and "612345678" not in text
    record = json.loads(text)
    assert json.loads(record["body"])["payload"]["externalId"] == "A-4"


def test_chunked_deliveries_are_read(tmp_path: Path) -> None:
    body = json.dumps(GOOD).encode()

    def chunks() -> Any:
        yield body[:10]
        yield body[10:]

    with WebhookListener(schema=None) as listener:
        r = httpx.post(
            listener.url, content=chunks(), timeout=5, headers={"Content-Type": "application/json"}
        )
        (event,) = listener.events
    assert r.status_code == 200 and event.body == body and event.check.ok


def test_wait_for_returns_the_next_event_or_none() -> None:
    with WebhookListener(schema=None) as listener:
        assert listener.wait_for(timeout=0.05) is None
        timer = threading.Timer(0.1, _post, args=(listener.url, GOOD))
        timer.start()
        event = listener.wait_for(lambda e: e.check.external_id == "A-1", timeout=5)
        timer.join()
    assert event is not None and event.index == 1


def test_https_listener(tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    with WebhookListener(certfile=cert, keyfile=key, schema=None) as listener:
        assert listener.url.startswith("https://127.0.0.1:")
        r = _post(listener.url + "/hook", GOOD, verify=_ctx(cert))
        # A plain-HTTP client gets no answer but does not disturb the listener.
        with pytest.raises(httpx.HTTPError):
            _post(listener.url.replace("https", "http"), GOOD)
        r2 = _post(listener.url + "/hook", GOOD_STRING, verify=_ctx(cert))
        events = listener.events
    assert r.status_code == r2.status_code == 200
    assert [e.check.verdict for e in events] == ["pass", "pass"]


def _ctx(cert: Path) -> Any:
    import ssl

    return ssl.create_default_context(cafile=str(cert))


# -- the command, as a real subprocess --------------------------------------------------------
def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "teleconform",
            "webhooks",
            "listen",
            "--report-dir",
            str(tmp_path),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    ready = proc.stdout.readline().strip()
    if not first.startswith("TELECONFORM_WEBHOOK_URL="):
        _, err = proc.communicate(timeout=20)
        pytest.fail(f"no URL line: {first!r}; stderr: {err}")
    assert ready == "READY"
    return proc, first.split("=", 1)[1]


def _report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_listen_stops_after_max_events_and_reports_a_pass(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, "--max-events", "2")
    assert _post(url + "/hook", GOOD).status_code == 200
    assert _post(url + "/hook", GOOD_STRING).status_code == 200
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    report = _report(tmp_path)
    (entry,) = report["runs"][0]["clauses"]
    assert entry["id"] == "LEAH-WH-01" and entry["verdict"] == "pass"
    assert entry["measurements"] == {"events_received": 2, "events_conformant": 2}
    assert len((tmp_path / EVENTS_FILE).read_text(encoding="utf-8").splitlines()) == 2
    assert "pass  event 1" in out


@pytest.mark.e2e
def test_listen_reports_a_fail_on_sigterm(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    assert _post(url, BAD_NAME).status_code == 200
    assert _post(url, PERSONAL).status_code == 200
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1, err
    (entry,) = _report(tmp_path)["runs"][0]["clauses"]
    assert entry["verdict"] == "fail" and "2 of 2 deliveries" in entry["reason"]
    everything = out + err + (tmp_path / "report.json").read_text(encoding="utf-8")
    everything += (tmp_path / EVENTS_FILE).read_text(encoding="utf-8")
    assert "jeanne.martin" not in everything and "612345678" not in everything


@pytest.mark.e2e
def test_listen_without_deliveries_verified_nothing(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path, "--duration", "0.3")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2, err
    assert _report(tmp_path)["runs"][0]["clauses"][0]["verdict"] == "skip"
    proc, _ = _start(tmp_path, "--duration", "0.3", "--allow-empty")
    proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.e2e
def test_listen_over_https(tmp_path: Path, tls_cert: tuple[Path, Path]) -> None:
    cert, key = tls_cert
    proc, url = _start(
        tmp_path, "--certfile", str(cert), "--keyfile", str(key), "--max-events", "1"
    )
    assert url.startswith("https://")
    assert _post(url, GOOD, verify=_ctx(cert)).status_code == 200
    proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "70000"],
        ["--port", "x"],
        ["--keyfile", "k.pem"],
        ["--certfile", "/nonexistent/cert.pem"],
        ["--max-events", "0"],
        ["--duration", "-1"],
        ["--bogus"],
    ],
)
def test_bad_usage_is_exit_2_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert listen_main([*argv, "--report-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err and captured.out == ""


def test_a_port_in_use_or_a_bad_certificate_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with WebhookListener() as busy:
        assert listen_main(["--port", str(busy.port), "--report-dir", str(tmp_path)]) == 2
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n", encoding="utf-8")
    assert (
        listen_main(
            ["--certfile", str(junk), "--port", str(free_port()), "--report-dir", str(tmp_path)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "certificate" in err
