"""A replay runs the recorded selection and reports the selected part of it; a clause the
cassettes hold no recording of is one usage error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teleconform.__main__ import main


def _run(*argv: str) -> int:
    return main(["run", "hcw", "-q", *argv])


def test_replay_uses_the_recorded_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "rec"
    assert (
        _run(
            "--record",
            str(rec),
            "--clause",
            "HCW-AUTH-01",
            "--clause",
            "HCW-SSO-02",
            "--seed",
            "4",
            "--report-dir",
            str(tmp_path / "r1"),
        )
        == 0
    )
    # no selection on replay: the recorded one is replayed
    assert _run("--replay", "--cassettes", str(rec), "--report-dir", str(tmp_path / "r2")) == 0
    report = json.loads((tmp_path / "r2" / "report.json").read_text())
    assert {c["id"]: c["verdict"] for c in report["runs"][0]["clauses"]} == {
        "HCW-AUTH-01": "pass",
        "HCW-SSO-02": "pass",
    }
    capsys.readouterr()
    # a subset is served from the whole recorded run: only the selected clause is reported
    assert (
        _run(
            "--replay",
            "--cassettes",
            str(rec),
            "--clause",
            "HCW-SSO-02",
            "--report-dir",
            str(tmp_path / "r3"),
        )
        == 0
    )
    report = json.loads((tmp_path / "r3" / "report.json").read_text())
    assert [(c["id"], c["verdict"]) for c in report["runs"][0]["clauses"]] == [
        ("HCW-SSO-02", "pass")
    ]
    capsys.readouterr()
    # a clause that was not recorded cannot be served: one line, exit 2, nothing run
    code = _run(
        "--replay",
        "--cassettes",
        str(rec),
        "--clause",
        "HCW-SSO-02",
        "--clause",
        "HCW-INV-12",
        "--report-dir",
        str(tmp_path / "r4"),
    )
    err = capsys.readouterr().err
    assert code == 2 and "hold no recording of HCW-INV-12" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r4" / "report.json").exists()


def test_recording_with_workers_replays_to_the_same_verdicts(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    clauses = [
        arg
        for cid in ("HCW-AUTH-01", "HCW-SSO-01", "HCW-INV-12", "HCW-INV-13")
        for arg in ("--clause", cid)
    ]
    assert (
        _run(
            "--record",
            str(rec),
            "--workers",
            "2",
            "--seed",
            "9",
            "--budget",
            "quick",
            "--report-dir",
            str(tmp_path / "r1"),
            *clauses,
        )
        == 0
    )
    assert _run("--replay", "--cassettes", str(rec), "--report-dir", str(tmp_path / "r2")) == 0

    def verdicts(folder: str) -> dict[str, str]:
        report = json.loads((tmp_path / folder / "report.json").read_text())
        return {c["id"]: c["verdict"] for c in report["runs"][0]["clauses"]}

    assert verdicts("r1") == verdicts("r2") and set(verdicts("r2").values()) == {"pass"}
