"""Recording and replaying the toy API: verdicts, redaction, size, matching, clock, guard."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from teleconform._errors import ConfigError
from teleconform.cassettes import open_session
from teleconform.cassettes._format import load_cassette

from ._toy import EMAIL, PASSWORD, TOKEN, UPLOAD_SIZE, args
from .conftest import TOOL, Recording, replay_toy


def _verdicts(run: object) -> dict[str, str]:
    return dict(run.verdicts)  # type: ignore[attr-defined]


def test_replay_gives_the_recorded_verdicts(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy()
    assert _verdicts(rec.run) == {f"HCW-T-0{i}": "pass" for i in range(1, 6)} | {
        "HCW-T-06": "skip",
        "HCW-T-07": "error",
    }
    replayed = replay_toy(rec.folder, rec.suites)
    assert _verdicts(replayed) == _verdicts(rec.run)
    errors = [c.reason for r in (rec.run, replayed) for c in r.clauses if c.id == "HCW-T-07"]
    assert all("POST http://127.0.0.1:9/closed: no response (ConnectError" in e for e in errors)


def test_replay_of_a_faulty_target_fails_the_same_clause(
    record_toy: Callable[..., Recording],
) -> None:
    rec = record_toy(faults=("limit-ignored",))
    assert rec.run.verdicts["HCW-T-03"] == "fail"
    replayed = replay_toy(rec.folder, rec.suites)
    assert _verdicts(replayed) == _verdicts(rec.run)


def test_one_cassette_per_clause_group_with_metadata(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy(seed=1234)
    names = sorted(p.name for p in (rec.folder / "hcw").iterdir())
    assert names == ["auth.yaml", "items.yaml"]
    for name in names:
        cassette = load_cassette(rec.folder / "hcw" / name)
        meta = cassette.metadata
        assert meta["seed"] == 1234 and meta["label"] == name[:-5]
        assert meta["tool"]["schemathesis"] == TOOL["schemathesis"]
        assert meta["tool"]["hypothesis"] == TOOL["hypothesis"]
        assert meta["spec"]["digest"].startswith("sha256=") and len(meta["spec"]["digest"]) == 71
        assert isinstance(meta["clock"], float)
        assert [i.seq for i in cassette.interactions] == list(range(len(cassette.interactions)))


def test_nothing_sensitive_reaches_the_disk(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy()
    text = "".join(p.read_text() for p in (rec.folder / "hcw").iterdir())
    for secret in (EMAIL, PASSWORD, TOKEN, "Grace", "Hopper", "clinic.example"):
        assert secret not in text
    meta = load_cassette(rec.folder / "hcw" / "auth.yaml").metadata
    assert set(meta["credentials"]) == {"hcw.email", "hcw.password"}
    assert meta["credentials"]["hcw.email"].endswith("@redacted.example")


def test_an_upload_is_kept_as_size_and_digest(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy(upload_size=UPLOAD_SIZE)
    assert rec.run.verdicts["HCW-T-04"] == "pass"
    path = rec.folder / "hcw" / "items.yaml"
    assert path.stat().st_size < 64 * 1024  # the upload alone is 15 MiB
    upload = next(i for i in load_cassette(path).interactions if i.uri.endswith("/upload"))
    assert upload.request_body is not None
    assert "sha256=" in upload.request_body and len(upload.request_body) < 2048
    assert str(UPLOAD_SIZE // 256 * 256 + 9) in upload.request_body


def test_vcrpy_reads_and_serves_our_cassettes(record_toy: Callable[..., Recording]) -> None:
    import vcr
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    rec = record_toy()
    path = rec.folder / "hcw" / "items.yaml"
    requests, responses, metadata = deserialize(path.read_text(), yamlserializer)
    assert len(requests) == len(responses) == len(load_cassette(path).interactions)
    assert metadata["label"] == "items"
    listing = next(r for r in requests if r.method == "GET")
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        answer = httpx.get(listing.uri)
    assert answer.status_code == 200 and len(answer.json()["items"]) == 2


def _edit(path: Path, edit: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_an_edited_response_makes_its_clause_fail(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy()
    assert rec.run.verdicts["HCW-T-03"] == "pass"

    def five_items(data: dict[str, object]) -> None:
        for item in data["interactions"]:  # type: ignore[attr-defined]
            if item["request"]["method"] == "GET" and "/items" in item["request"]["uri"]:
                body = '{"items":[{"id":0},{"id":1},{"id":2},{"id":3},{"id":4}]}'
                item["response"]["body"]["string"] = body

    _edit(rec.folder / "hcw" / "items.yaml", five_items)
    replayed = replay_toy(rec.folder, rec.suites)
    assert replayed.verdicts["HCW-T-03"] == "fail"
    assert "limit=2 gives 5 items" in next(c for c in replayed.clauses if c.id == "HCW-T-03").reason
    others = {k: v for k, v in _verdicts(replayed).items() if k != "HCW-T-03"}
    assert others == {k: v for k, v in _verdicts(rec.run).items() if k != "HCW-T-03"}


def test_a_request_without_recording_is_an_error(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy()

    def drop_listing(data: dict[str, object]) -> None:
        data["interactions"] = [  # type: ignore[index]
            i
            for i in data["interactions"]  # type: ignore[attr-defined]
            if not (i["request"]["method"] == "GET" and "/items" in i["request"]["uri"])
        ]

    _edit(rec.folder / "hcw" / "items.yaml", drop_listing)
    replayed = replay_toy(rec.folder, rec.suites)
    clause = next(c for c in replayed.clauses if c.id == "HCW-T-03")
    assert clause.verdict == "error"
    assert "not in cassette" in clause.reason and "GET" in clause.reason


def test_replay_uses_the_recorded_seed_and_clock(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy(seed=777)
    recorded = next(c for c in rec.run.clauses if c.id == "HCW-T-05").measurements
    session = open_session(args(replay=True, cassettes=str(rec.folder)), ["hcw"], 1, TOOL)
    session.finish()
    assert session.seed == 777
    replayed = replay_toy(rec.folder, rec.suites)
    measured = next(c for c in replayed.clauses if c.id == "HCW-T-05").measurements
    assert measured["seed"] == 777
    # The clock is the recorded time of the last served answer: close to the recording's.
    assert abs(measured["now"] - recorded["now"]) < 5.0
    assert measured["now"] <= recorded["now"] + 0.01  # times are stored to the millisecond


def test_the_network_is_blocked_during_a_replay(record_toy: Callable[..., Recording]) -> None:
    rec = record_toy()
    session = open_session(args(replay=True, cassettes=str(rec.folder)), ["hcw"], 0, TOOL)
    try:
        with pytest.raises(httpx.ConnectError, match="blocks network access: GET http://"):
            httpx.get("http://127.0.0.1:9/anything")
        with pytest.raises(ConnectionError, match="blocks network access"):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        with pytest.raises(httpx.ConnectError, match="not in cassette: GET .*/nowhere"):
            session.client("hcw").get(session.base_url("hcw") + "/nowhere")
    finally:
        session.finish()
    with pytest.raises(httpx.ConnectError) as caught:  # lifted: a real (refused) attempt
        httpx.get("http://127.0.0.1:9/anything", timeout=2)
    assert "blocks network access" not in str(caught.value)


def test_record_refuses_a_non_empty_folder_without_overwrite(
    record_toy: Callable[..., Recording],
) -> None:
    rec = record_toy(seed=1)
    with pytest.raises(ConfigError, match="not empty; add --overwrite"):
        open_session(args(record=str(rec.folder)), ["hcw"], 1, TOOL)
    stale = rec.folder / "hcw" / "gone.yaml"
    stale.write_text((rec.folder / "hcw" / "auth.yaml").read_text())
    again = record_toy(seed=2, overwrite=True)
    assert not stale.exists()
    assert load_cassette(again.folder / "hcw" / "auth.yaml").seed == 2


def test_record_and_replay_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--record and --replay exclude each other"):
        open_session(args(record=str(tmp_path / "c"), replay=True), ["hcw"], 1, TOOL)
