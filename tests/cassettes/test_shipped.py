"""The shipped cassettes (cassettes/): current, clean, small, and the fast gate passes on them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from teleconform.cassettes import cassettes_dir, load_api_cassettes, stale_reason
from teleconform.cli._main import main
from teleconform.cli.run._select import APIS

SHIPPED = cassettes_dir()
MAX_FILE_BYTES = 1024 * 1024


@pytest.mark.parametrize("api", APIS)
def test_shipped_cassettes_match_the_specs(api: str) -> None:
    cassettes = load_api_cassettes(SHIPPED, api)
    reason = stale_reason(cassettes, api)
    assert reason is None, f"cassettes/{api} are stale ({reason}): run scripts/record-cassettes.sh"
    assert {c.seed for c in cassettes} == {load_api_cassettes(SHIPPED, APIS[0])[0].seed}


def test_shipped_cassettes_are_small_and_pass_the_audit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = sorted(SHIPPED.rglob("*.yaml"))
    assert files
    too_big = [
        f"{p.relative_to(SHIPPED)}: {p.stat().st_size}"
        for p in files
        if p.stat().st_size > MAX_FILE_BYTES
    ]
    assert not too_big
    assert main(["cassettes", "audit", str(SHIPPED)]) == 0, capsys.readouterr().out


def test_replaying_the_shipped_cassettes_is_green_and_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "fast" is what the run does, not what a loaded machine lets it do in wall time: a
    # replay sends nothing and so never waits (no rate limit, back-off or Retry-After).
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    code = main(["run", "--replay", "--report-dir", str(tmp_path), "-q"])
    report = json.loads((tmp_path / "report.json").read_text())
    bad = [
        f"{run['api']} {c['id']}: {c['verdict']}: {c['reason'][:160]}"
        for run in report["runs"]
        for c in run["clauses"]
        if c["verdict"] in ("fail", "error")
    ]
    # "not in cassette" here means suites or generation changed: run scripts/record-cassettes.sh
    assert code == 0, bad
    assert [run["target"]["mode"] for run in report["runs"]] == ["replay"] * len(APIS)
    assert report["totals"]["pass"] > 0
    assert slept == []
