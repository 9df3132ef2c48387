"""LEAH-WH-01/02 inside `teleconform run leah` (suites/leah/webhooks.py through the runner)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from teleconform.runner import ApiRun, RunSettings, run_api, sandbox_credentials
from teleconform.sandbox import leah
from teleconform.sandbox._server import ThreadedServer, free_port
from teleconform.webhooks import EVENTS_FILE, WebhookListener

from . import _receivers as rx

EVENT = "appointment.guest.online"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, dict[str, str]]]:
    app = leah.create_app(webhook_backoff=0.01)
    with ThreadedServer(app) as server:
        yield server.base_url, sandbox_credentials("leah", app)


def _run(
    target: tuple[str, dict[str, str]],
    clause: str,
    *,
    mode: str = "sandbox",
    fault: str | None = None,
    **needs: str,
) -> ApiRun:
    base_url, creds = target
    credentials = {**creds, **{k.replace("__", "."): v for k, v in needs.items()}}
    return run_api(
        RunSettings(
            "leah",
            base_url,
            credentials,
            clauses=[clause],
            mode=mode,
            seed=3,
            budget="quick",
            extra_headers={"X-Teleconform-Fault": fault} if fault else None,
        )
    )


def _only(run: ApiRun) -> Any:
    (result,) = run.clauses
    return result


def test_wh01_passes_on_the_sandbox(sandbox: tuple[str, dict[str, str]]) -> None:
    result = _only(_run(sandbox, "LEAH-WH-01"))
    assert result.verdict == "pass", result.reason
    assert "externalId" in result.reason
    (evidence,) = result.evidence
    assert evidence["request"]["method"] == "POST"
    assert json.loads(evidence["request"]["body"])["event"] == EVENT


@pytest.mark.parametrize("fault", ["webhook-payload-missing-externalId", "webhook-bad-event-name"])
def test_wh01_fails_on_each_sandbox_fault(sandbox: tuple[str, dict[str, str]], fault: str) -> None:
    result = _only(_run(sandbox, "LEAH-WH-01", fault=fault))
    assert result.verdict == "fail", result.reason
    assert ("externalId" in result.reason) or ("guest_online" in result.reason)


def _events_file(tmp_path: Path, *docs: Any) -> Path:
    path = tmp_path / EVENTS_FILE
    with WebhookListener(events_file=path) as listener:
        for doc in docs:
            assert httpx.post(listener.url + "/hook", json=doc, timeout=5).status_code == 200
    return path


GOOD = {
    "event": EVENT,
    "payload": json.dumps({"externalId": "C-1", "administrativeFileNumber": "F"}),
}
BAD = {"event": EVENT, "payload": {"externalId": 42}}


def test_wh01_on_a_live_target_reads_the_listeners_events(
    sandbox: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    good = _events_file(tmp_path / "good", GOOD, GOOD)
    result = _only(_run(sandbox, "LEAH-WH-01", mode="live", leah__webhook_events=str(good)))
    assert result.verdict == "pass", result.reason
    mixed = _events_file(tmp_path / "mixed", GOOD, BAD)
    result = _only(_run(sandbox, "LEAH-WH-01", mode="live", leah__webhook_events=str(mixed)))
    assert result.verdict == "fail"
    assert "event 2" in result.reason and "JSON number" in result.reason


def test_wh01_on_a_live_target_without_events(
    sandbox: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = _only(_run(sandbox, "LEAH-WH-01", mode="live", leah__webhook_events=str(empty)))
    assert result.verdict == "skip" and "no deliveries" in result.reason
    junk = tmp_path / "junk.jsonl"
    junk.write_text("this is not a listener record\n", encoding="utf-8")
    result = _only(_run(sandbox, "LEAH-WH-01", mode="live", leah__webhook_events=str(junk)))
    assert result.verdict == "error" and "line 1" in result.reason
    # sandbox_credentials() marks the events as delivered by the sandbox; live runs need a file.
    result = _only(_run(sandbox, "LEAH-WH-01", mode="live", leah__webhook_events=""))
    assert result.verdict == "skip" and "leah.webhook_events" in result.reason


def test_wh02_checks_the_given_receiver(sandbox: tuple[str, dict[str, str]]) -> None:
    good = rx.Receiver(rx.conformant)
    bad = rx.Receiver(rx.unknown_event_500)
    with ThreadedServer(good.app) as ok_server, ThreadedServer(bad.app) as bad_server:
        passing = _only(_run(sandbox, "LEAH-WH-02", leah__webhook_receiver=ok_server.base_url))
        failing = _only(_run(sandbox, "LEAH-WH-02", leah__webhook_receiver=bad_server.base_url))
    assert passing.verdict == "pass", passing.reason
    assert len(good.seen) == 6
    assert failing.verdict == "fail"
    assert failing.reason.startswith("unknown-event: answered 500")


def test_wh02_unreachable_or_absent_receiver(sandbox: tuple[str, dict[str, str]]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    result = _only(_run(sandbox, "LEAH-WH-02", leah__webhook_receiver=dead))
    assert result.verdict == "error" and "could not be reached" in result.reason
    result = _only(_run(sandbox, "LEAH-WH-02"))
    assert result.verdict == "skip" and "leah.webhook_receiver" in result.reason
