"""`teleconform sandbox --profile/--list-profiles` and `run --sandbox-profile` (CONTRACT.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from teleconform.__main__ import main
from teleconform._errors import ConfigError
from teleconform.runner._targets import parse_sandbox_profiles, sandbox_profiles
from teleconform.sandbox.hcw import PROFILES


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_profiles_prints_one_per_line_name_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _main(["sandbox", "hcw", "--list-profiles"], capsys)
    assert code == 0 and not err
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(PROFILES)
    assert lines[0].split()[:2] == ["as-documented", "conformant"]
    assert any(line.split()[:2] == ["hcw-athome-5.4.62", "observed"] for line in lines)


def test_leah_lists_at_least_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(["sandbox", "leah", "--list-profiles"], capsys)
    assert code == 0 and out.splitlines()[0].split()[0] == "as-documented"
    assert "as-documented" in sandbox_profiles("leah")


@pytest.mark.parametrize(
    "profile,needle",
    [
        ("no-such-profile", "unknown hcw profile 'no-such-profile'"),
        ("/nonexistent/p.yaml", "cannot read profile"),
    ],
)
def test_a_bad_profile_is_one_line_and_exit_2(
    profile: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _main(["sandbox", "hcw", "--profile", profile], capsys)
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_a_malformed_profile_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("readings: [1, 2\n")
    code, _, err = _main(["sandbox", "hcw", "--profile", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not valid YAML" in err


def test_the_served_sandbox_runs_its_profile_and_prints_the_api_target() -> None:
    argv = [sys.executable, "-m", "teleconform", "sandbox", "hcw", "--profile", "hcw-athome-5.4.62"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline().strip()
            if not line or line == "READY":
                break
            lines.append(line)
        env = dict(line.split("=", 1) for line in lines)
        assert [line.split("=")[0] for line in lines[:2]] == [
            "TELECONFORM_TARGET",
            "TELECONFORM_HCW_TARGET",
        ]
        base = env["TELECONFORM_HCW_TARGET"]
        assert base == env["TELECONFORM_TARGET"]
        assert httpx.get(f"{base}/_sandbox/inventory").json()["profile"] == "hcw-athome-5.4.62"
        login = httpx.post(
            f"{base}/api/v1/login-local",
            json={"email": env["TELECONFORM_HCW_EMAIL"], "password": "wrong"},
        )
        assert login.status_code == 400  # wrong-creds-400, one of the profile's faults
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


# -- run --sandbox-profile ------------------------------------------------------------------------


def test_parse_sandbox_profiles(tmp_path: Path) -> None:
    got = parse_sandbox_profiles(["hcw-athome-5.4.62"], ["hcw", "leah"])
    assert set(got) == {"hcw"} and got["hcw"] is not None
    assert got["hcw"].name == "hcw-athome-5.4.62"
    # a name both sandboxes know applies to both
    assert set(parse_sandbox_profiles(["as-documented"], ["hcw", "leah"])) == {"hcw", "leah"}
    path = tmp_path / "mine.yaml"
    path.write_text("api: hcw\nbase: guide-literal\nreadings: {refused_delete_status: 422}\n")
    by_file = parse_sandbox_profiles([str(path)], ["hcw", "leah"])
    assert by_file["hcw"] is not None and by_file["hcw"].readings["close_pending"] == "allowed"
    explicit = parse_sandbox_profiles([f"hcw={path}"], ["hcw"])
    assert explicit["hcw"] is not None and explicit["hcw"].name == "mine"


@pytest.mark.parametrize(
    "values,apis,message",
    [
        (["nothing-like-it"], ["hcw", "leah"], "no selected sandbox has that profile"),
        (["nothing-like-it"], ["hcw"], "unknown hcw profile"),
        (["hcw=guide-literal"], ["leah"], "hcw is not selected"),
        (["hcw=guide-literal", "hcw=waiting-room"], ["hcw"], "given twice"),
        (["leah=guide-literal"], ["leah"], "unknown leah profile"),
    ],
)
def test_bad_sandbox_profiles(values: list[str], apis: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sandbox_profiles(values, apis)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--sandbox-profile", "nothing-like-it"],
        ["run", "leah", "--sandbox-profile", "hcw=guide-literal"],
        ["run", "hcw", "--target", "http://127.0.0.1:9", "--sandbox-profile", "guide-literal"],
        ["run", "hcw", "--replay", "--sandbox-profile", "guide-literal"],
    ],
)
def test_run_refuses_a_bad_sandbox_profile_before_running(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _main([*argv, "--report-dir", str(tmp_path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--sandbox-profile" in err
    assert not (tmp_path / "report.json").exists()


def test_run_records_the_profile_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _main(
        [
            "run",
            "hcw",
            "--sandbox-profile",
            "guide-literal",
            "--clause",
            "HCW-AUTH-01",
            "--clause",
            "HCW-AUTH-05",
            "--seed",
            "3",
            "--report-dir",
            str(tmp_path),
            "-q",
        ],
        capsys,
    )
    assert code == 0
    run = json.loads((tmp_path / "report.json").read_text())["runs"][0]
    assert run["target"]["profile"] == "guide-literal"


def test_run_with_workers_records_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _main(
        [
            "run",
            "hcw",
            "--sandbox-profile",
            "hcw=hcw-athome-5.4.62",
            "--clause",
            "HCW-AUTH-06",
            "--clause",
            "HCW-SSO-08",
            "--workers",
            "2",
            "--seed",
            "3",
            "--report-dir",
            str(tmp_path),
            "-q",
        ],
        capsys,
    )
    run = json.loads((tmp_path / "report.json").read_text())["runs"][0]
    assert run["target"]["profile"] == "hcw-athome-5.4.62"
    assert {c["id"]: c["verdict"] for c in run["clauses"]} == {
        "HCW-AUTH-06": "fail",
        "HCW-SSO-08": "fail",
    }
    assert code == 0  # both are SHOULD clauses
