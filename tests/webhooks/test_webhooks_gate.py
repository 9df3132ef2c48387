"""`webhooks check|listen --baseline FILE --strict`: the exit status counts as for `run`.

Waivers and `--strict` go through the same code as `run` (report.baseline, report._document
.exit_status), so a waived LEAH-WH-01/02 failure keeps the gate green until its expiry date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import teleconform.catalogue
from teleconform.cli.webhooks import check_main, listen_main
from teleconform.sandbox._server import ThreadedServer, free_port

TODAY = dt.date.today()


class _Refusing:
    """A receiver answering 204 to every delivery: every LEAH-WH-02 case fails."""

    def __init__(self) -> None:
        self.deliveries = 0
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> PlainTextResponse:
        self.deliveries += 1
        return PlainTextResponse("", status_code=204)


def _baseline(tmp_path: Path, clause: str, days: int) -> str:
    path = tmp_path / "baseline.yaml"
    entry = {
        "clause": clause,
        "target": "*",
        "reason": "the receiver is being fixed (ticket 42)",
        "expires": (TODAY + dt.timedelta(days=days)).isoformat(),
    }
    path.write_text(yaml.safe_dump({"waivers": [entry]}), encoding="utf-8")
    return str(path)


def _check(receiver: _Refusing, report_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    with ThreadedServer(receiver.app) as server:
        code = check_main(
            [server.base_url + "/hook", "--report-dir", str(report_dir), "--seed", "1", *extra]
        )
    path = report_dir / "report.json"
    return code, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def test_a_current_waiver_keeps_a_failed_check_green(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _baseline(tmp_path, "LEAH-WH-02", days=30)
    code, report = _check(_Refusing(), tmp_path / "r", "--baseline", baseline)
    assert code == 0
    (entry,) = report["runs"][0]["clauses"]
    assert entry["verdict"] == "fail" and entry["waived"] is True
    assert "[waived until" in entry["reason"] and "ticket 42" in entry["reason"]
    assert report["totals"]["waived"] == 1 and report["runs"][0]["totals"]["waived"] == 1
    assert "LEAH-WH-02 fail (waived)" in capsys.readouterr().out


def test_an_expired_waiver_counts_again(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, "LEAH-WH-02", days=-1)
    code, report = _check(_Refusing(), tmp_path / "r", "--baseline", baseline)
    assert code == 1
    (entry,) = report["runs"][0]["clauses"]
    assert entry["waived"] is False and "[waiver expired on" in entry["reason"]


def test_a_waiver_for_another_clause_waives_nothing(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path, "LEAH-WH-01", days=30)
    code, report = _check(_Refusing(), tmp_path / "r", "--baseline", baseline)
    assert code == 1 and report["totals"]["waived"] == 0


def test_a_bad_baseline_is_exit_2_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = _Refusing()
    for baseline in (_baseline(tmp_path, "LEAH-WH-99", days=30), str(tmp_path / "absent.yaml")):
        code, report = _check(receiver, tmp_path / "r", "--baseline", baseline)
        err = capsys.readouterr().err
        assert code == 2 and report == {}
        assert len(err.strip().splitlines()) == 1 and "--baseline" in err, err
    assert receiver.deliveries == 0


@pytest.fixture
def wh02_is_should(monkeypatch: pytest.MonkeyPatch) -> None:
    """LEAH-WH-02 read as a SHOULD clause (both webhook clauses are MUST in the catalogue, so
    only a SHOULD one shows what --strict changes)."""
    real = teleconform.catalogue.load_catalogue()
    patched = {**real, "LEAH-WH-02": dataclasses.replace(real["LEAH-WH-02"], level="SHOULD")}
    monkeypatch.setattr(teleconform.catalogue, "load_catalogue", lambda *a, **k: patched)


@pytest.mark.usefixtures("wh02_is_should")
def test_strict_makes_a_should_failure_fail_the_check(tmp_path: Path) -> None:
    code, report = _check(_Refusing(), tmp_path / "lenient")
    assert report["runs"][0]["clauses"][0]["level"] == "SHOULD"
    assert code == 0  # a SHOULD fail does not count without --strict, as for `run`
    code, _ = _check(_Refusing(), tmp_path / "strict", "--strict")
    assert code == 1


def _listen(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """`webhooks listen --max-events 1` in a thread, fed one undocumented event."""
    port = free_port()
    result: dict[str, int] = {}
    argv = ["--port", str(port), "--max-events", "1", "--report-dir", str(tmp_path), *extra]
    thread = threading.Thread(target=lambda: result.update(code=listen_main(argv)), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/hook"
    for _ in range(200):  # until it listens (a GET is answered as a health probe)
        try:
            httpx.get(url, timeout=5)
            break
        except httpx.ConnectError:
            thread.join(0.05)
    event = {"event": "appointment.teleconform.unknown", "payload": {"externalId": "x-1"}}
    assert httpx.post(url, json=event, timeout=10).status_code == 200
    thread.join(30)
    assert not thread.is_alive()
    return result["code"], json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_listen_honours_the_baseline(tmp_path: Path) -> None:
    code, report = _listen(tmp_path / "plain")
    assert code == 1 and report["runs"][0]["clauses"][0]["verdict"] == "fail"
    baseline = _baseline(tmp_path, "LEAH-WH-01", days=30)
    code, report = _listen(tmp_path / "waived", "--baseline", baseline, "--strict")
    assert code == 0 and report["runs"][0]["clauses"][0]["waived"] is True
