"""`teleconform run --record/--replay` end to end on the real HCW@Home sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from teleconform.cli._main import main

FAULT, FAULTY_CLAUSE = "patch-ignored", "HCW-INV-11"


def _verdicts(report_dir: Path) -> dict[str, str]:
    report = json.loads((report_dir / "report.json").read_text())
    return {c["id"]: c["verdict"] for run in report["runs"] for c in run["clauses"]}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One recording of the HCW sandbox with a fault switched on (cassettes, verdicts)."""
    root = tmp_path_factory.mktemp("hcw-record")
    code = main(
        [
            "run",
            "hcw",
            "--budget",
            "quick",
            "--seed",
            "11",
            "--sandbox-fault",
            FAULT,
            "--record",
            str(root / "cassettes"),
            "--report-dir",
            str(root / "report"),
            "-q",
        ]
    )
    verdicts = _verdicts(root / "report")
    assert code == 1 and verdicts[FAULTY_CLAUSE] == "fail"
    return root / "cassettes", verdicts


def _copy(cassettes: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cassettes"
    shutil.copytree(cassettes, target)
    return target


def _replay(cassettes: Path, report: Path) -> int:
    return main(
        ["run", "hcw", "--replay", "--cassettes", str(cassettes), "--report-dir", str(report), "-q"]
    )


def test_replay_gives_identical_verdicts(
    recorded: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    cassettes, verdicts = recorded
    assert _replay(cassettes, tmp_path / "report") == 1
    assert _verdicts(tmp_path / "report") == verdicts
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["seed"] == 11 and report["runs"][0]["target"]["mode"] == "replay"


def test_an_edited_response_fails_its_clause(
    recorded: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    cassettes, verdicts = recorded
    assert verdicts["HCW-AUTH-01"] == "pass"
    copy = _copy(cassettes, tmp_path)
    edited = 0
    for path in (copy / "hcw").glob("*.yaml"):
        text = path.read_text()
        if "Login Successful" in text:
            path.write_text(text.replace("Login Successful", "Welcome back"))
            edited += 1
    assert edited
    assert _replay(copy, tmp_path / "report") == 1
    replayed = _verdicts(tmp_path / "report")
    assert replayed["HCW-AUTH-01"] == "fail"
    assert replayed[FAULTY_CLAUSE] == "fail"


def _edit_metadata(cassettes: Path, key: str, sub: str, value: str) -> None:
    for path in (cassettes / "hcw").glob("*.yaml"):
        text = path.read_text()
        needle = f"{sub}: "
        start = text.index(needle, text.index(f"  {key}:"))
        end = text.index("\n", start)
        path.write_text(text[:start] + needle + value + text[end:])


def test_cassettes_of_another_spec_are_a_configuration_error(
    recorded: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = _copy(recorded[0], tmp_path)
    _edit_metadata(copy, "spec", "digest", "sha256=" + "0" * 64)
    assert _replay(copy, tmp_path / "report") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "another version of specs/hcw-athome.openapi.yaml" in err and "re-record" in err
    assert not (tmp_path / "report" / "report.json").exists()


def test_other_generator_versions_are_a_note_not_a_refusal(
    recorded: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The recorded cases are replayed as recorded: the installed hypothesis/schemathesis play
    # no part, so a release of either must not turn the gate red.
    cassettes, verdicts = recorded
    copy = _copy(cassettes, tmp_path)
    _edit_metadata(copy, "tool", "hypothesis", "'1.0.0'")
    _edit_metadata(copy, "tool", "schemathesis", "'2.0.0'")
    code = main(
        [
            "run",
            "hcw",
            "--replay",
            "--cassettes",
            str(copy),
            "--report-dir",
            str(tmp_path / "report"),
        ]
    )
    assert code == 1  # the recording's own fault, as recorded
    assert _verdicts(tmp_path / "report") == verdicts
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    notes = report["notes"]
    assert [n for n in notes if "hypothesis 1.0.0" in n] and [
        n for n in notes if "schemathesis 2.0.0" in n
    ]
    for note in notes:
        assert f"note: {note}" in out
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "hypothesis 1.0.0" in summary and "schemathesis 2.0.0" in summary


def test_a_corrupt_or_missing_cassette_is_a_configuration_error(
    recorded: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = _copy(recorded[0], tmp_path)
    (copy / "hcw" / "auth.yaml").write_text("version: 1\ninteractions: [\n")
    assert _replay(copy, tmp_path / "r1") == 2
    assert "auth.yaml: not valid YAML" in capsys.readouterr().err
    assert _replay(tmp_path / "nowhere", tmp_path / "r2") == 2
    assert "no such folder" in capsys.readouterr().err
    shutil.rmtree(copy / "hcw")
    assert _replay(copy, tmp_path / "r3") == 2
    assert "no cassettes for hcw" in capsys.readouterr().err


def test_record_into_a_non_empty_folder_needs_overwrite(
    recorded: tuple[Path, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    copy = _copy(recorded[0], tmp_path)
    before = {p: p.read_bytes() for p in copy.rglob("*.yaml")}
    code = main(
        [
            "run",
            "hcw",
            "--clause",
            "HCW-AUTH-01",
            "--record",
            str(copy),
            "--report-dir",
            str(tmp_path / "report"),
            "-q",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "not empty; add --overwrite" in err and len(err.splitlines()) == 1
    assert {p: p.read_bytes() for p in copy.rglob("*.yaml")} == before
    code = main(
        [
            "run",
            "hcw",
            "--replay",
            "--record",
            str(tmp_path / "new"),
            "--report-dir",
            str(tmp_path / "report"),
            "-q",
        ]
    )
    assert code == 2
    assert "exclude each other" in capsys.readouterr().err
