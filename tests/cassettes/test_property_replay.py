"""Replaying property tests sends the recorded cases; nothing is generated again.

Records the fixture property suite against the planted-bug items API (in-process), then
replays it through the real replay session with another seed and budget than the recording:
every recorded property request must be served, in order, with the recorded verdicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from _planted import planted_app_module
from starlette.testclient import TestClient

from teleconform.cassettes import Session, open_session
from teleconform.cassettes._format import load_cassette
from teleconform.properties import _gen as _properties_gen
from teleconform.runner import ApiRun, RunSettings, run_api

from ._toy import args
from .conftest import TOOL

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "properties"
IDS = ["HCW-GEN-01", "HCW-GEN-02", "HCW-GEN-03", "HCW-GEN-04"]
BASE = "http://testserver"


PLANTED = planted_app_module()


def _record(folder: Path, fault: str | None) -> ApiRun:
    session = open_session(args(record=str(folder)), ["hcw"], 5, TOOL)
    credentials = {"hcw.email": PLANTED.EMAIL, "hcw.password": PLANTED.PASSWORD}
    hook = session.recorder("hcw", BASE, credentials)
    run = run_api(
        RunSettings(
            "hcw",
            BASE,
            credentials,
            clauses=IDS,
            seed=5,
            budget="quick",
            client=TestClient(PLANTED.create_app(), raise_server_exceptions=False),
            suites_root=FIXTURES / "suites",
            state=session.state("hcw"),
            on_exchange=[hook],
            extra_headers={"X-Teleconform-Fault": fault} if fault else None,
        )
    )
    session.finish()
    return run


def _replay(folder: Path, *, seed: int, budget: str) -> tuple[ApiRun, Session]:
    session = open_session(args(replay=True, cassettes=str(folder)), ["hcw"], 0, TOOL)
    try:
        run = run_api(
            RunSettings(
                "hcw",
                session.base_url("hcw"),
                session.credentials("hcw"),
                clauses=IDS,
                seed=seed,
                budget=budget,
                mode="replay",
                client=session.client("hcw"),
                clock=session.clock("hcw"),
                suites_root=FIXTURES / "suites",
                state=session.state("hcw"),
            )
        )
    finally:
        session.finish()
    return run, session


def _cases(run: ApiRun) -> Any:
    return next(c for c in run.clauses if c.id == "HCW-GEN-04").measurements.get("cases")


@pytest.mark.parametrize("fault", [None, "extra_field"])
def test_replay_with_another_seed_and_budget_serves_every_recorded_property_request(
    tmp_path: Path,
    fault: str | None,
) -> None:
    recorded = _record(tmp_path / "cassettes", fault)
    cassette = load_cassette(tmp_path / "cassettes" / "hcw" / "properties.yaml")
    assert len(cassette.interactions) > 50
    described = [i.case for i in cassette.interactions if i.case is not None]
    assert {c["kind"] for c in described} == {"case", "probe", "deleted"}
    assert {c["mode"] for c in described if c["kind"] == "case"} == {"positive", "negative"}

    _properties_gen.clear_cache()  # nothing generated before may help the replay
    replayed, session = _replay(tmp_path / "cassettes", seed=99, budget="standard")

    assert replayed.verdicts == recorded.verdicts
    if fault:
        assert recorded.verdicts["HCW-GEN-04"] == "fail"
    assert not [c.reason for c in replayed.clauses if "not in cassette" in c.reason]
    transport = session.transport("hcw")
    assert [i.seq for label, i in transport.unused() if label == "properties"] == []
    assert _cases(replayed) == _cases(recorded)
    assert [e["id"] for e in replayed.created] == [e["id"] for e in recorded.created]


def test_a_cassette_without_case_descriptions_is_an_error_not_a_regeneration(
    tmp_path: Path,
) -> None:
    _record(tmp_path / "cassettes", None)
    path = tmp_path / "cassettes" / "hcw" / "properties.yaml"
    cassette = load_cassette(path)
    for item in cassette.interactions:
        item.case = None  # as recorded by a teleconform that did not describe its cases
    cassette.write(path)
    replayed, _ = _replay(tmp_path / "cassettes", seed=5, budget="quick")
    result = next(c for c in replayed.clauses if c.id == "HCW-GEN-04")
    assert result.verdict == "error" and "re-record" in result.reason


def test_not_in_cassette_is_answered_at_once_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from teleconform.cassettes._replay import NotInCassette, ReplayTransport
    from teleconform.runner import _http as _http
    from teleconform.runner._http import HttpClient, TransportError

    slept: list[float] = []
    monkeypatch.setattr(_http.time, "sleep", slept.append)

    calls: list[str] = []

    class Empty(ReplayTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            calls.append(request.method)
            return super().handle_request(request)

    http = HttpClient("http://replay.invalid", httpx.Client(transport=Empty("hcw", [], 0.0)))
    with pytest.raises(TransportError) as caught:
        http.request("GET", "/api/v1/invite")
    assert isinstance(caught.value.cause, NotInCassette)
    assert calls == ["GET"]
    assert slept == []  # no back-off sleep (0.2 s, then 0.4 s)
