"""A recording replays what it recorded: a read-only live recording (no --allow-writes) gives
the clauses it skipped `skip` on replay, with the recorded reason, not `error` not in cassette."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from teleconform.cli._main import main
from teleconform.sandbox import hcw
from teleconform.sandbox._server import ThreadedServer

FAST = ["--rate-limit", "1000", "--budget", "quick", "--seed", "5", "-q"]


def _clauses(report_dir: Path) -> dict[str, dict[str, str]]:
    report = json.loads((report_dir / "report.json").read_text())
    return {c["id"]: c for run in report["runs"] for c in run["clauses"]}


def test_a_read_only_recording_replays_its_skips_with_the_recorded_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("TELECONFORM_"):
            monkeypatch.delenv(name)
    for name, value in hcw.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    rec = tmp_path / "rec"
    # the sandbox served over real HTTP, treated as a live target: no writes without the flag
    with ThreadedServer(hcw.create_app()) as server:
        code = main(
            [
                "run",
                "hcw",
                "--target",
                server.base_url,
                "--record",
                str(rec),
                "--report-dir",
                str(tmp_path / "live"),
                *FAST,
            ]
        )
    assert code == 0
    live = _clauses(tmp_path / "live")
    skipped = {cid for cid, c in live.items() if c["verdict"] == "skip"}
    writes = {cid for cid in skipped if "--allow-writes" in live[cid]["reason"]}
    assert len(writes) >= 10, skipped  # the issue saw 18

    assert (
        main(
            [
                "run",
                "hcw",
                "--replay",
                "--cassettes",
                str(rec),
                "--report-dir",
                str(tmp_path / "replay"),
                *FAST[-1:],
            ]
        )
        == 0
    )
    replayed = _clauses(tmp_path / "replay")
    assert {cid: c["verdict"] for cid, c in replayed.items()} == {
        cid: c["verdict"] for cid, c in live.items()
    }
    for cid in skipped:
        assert live[cid]["reason"] in replayed[cid]["reason"], (cid, replayed[cid]["reason"])
    assert not [c for c in replayed.values() if "not in cassette" in c["reason"]]
