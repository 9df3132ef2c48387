"""`teleconform run` as a subprocess against sandboxes served by `teleconform sandbox`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ._sandbox import cli_env, sandbox_process

pytestmark = pytest.mark.e2e


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "teleconform", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_hcw_against_a_served_sandbox_passes(tmp_path: Path) -> None:
    with sandbox_process("hcw") as sb:
        target = sb.pop("TELECONFORM_TARGET")
        proc = _run(
            [
                "run",
                "hcw",
                "--target",
                target,
                "--allow-writes",
                "--seed",
                "7",
                "--budget",
                "quick",
                "--report-dir",
                "out",
            ],
            cli_env(sb),
            tmp_path,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    run = report["runs"][0]
    assert run["api"] == "hcw" and run["target"] == {"mode": "live", "base_url": target}
    verdicts = {c["id"]: c["verdict"] for c in run["clauses"]}
    assert verdicts["HCW-SSO-02"] == "pass"
    assert set(verdicts.values()) == {"pass"}
    for name in ("report.json", "junit.xml", "summary.md", "report.html"):
        assert (tmp_path / "out" / name).is_file()
    # the sandbox's seeded secrets never reach a report
    text = "".join(p.read_text() for p in (tmp_path / "out").iterdir() if p.is_file())
    assert sb["TELECONFORM_HCW_PASSWORD"] not in text
    assert sb["TELECONFORM_HCW_SSO_SECRET"] not in text


def test_run_against_a_faulty_served_sandbox_fails_that_clause(tmp_path: Path) -> None:
    with sandbox_process("hcw", "bearer-only") as sb:
        target = sb.pop("TELECONFORM_TARGET")
        proc = _run(
            [
                "run",
                "hcw",
                "--target",
                target,
                "--seed",
                "7",
                "--budget",
                "quick",
                "--clause",
                "HCW-AUTH-04",
                "--clause",
                "HCW-AUTH-01",
                "--report-dir",
                "out",
            ],
            cli_env(sb),
            tmp_path,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in report["runs"][0]["clauses"]}
    assert verdicts == {"HCW-AUTH-01": "pass", "HCW-AUTH-04": "fail"}
    assert "Traceback" not in proc.stderr


def test_live_run_without_credentials_skips_and_exits_2(tmp_path: Path) -> None:
    with sandbox_process("leah") as sb:
        proc = _run(
            [
                "run",
                "leah",
                "--target",
                sb["TELECONFORM_TARGET"],
                "--clause",
                "LEAH-AUTH-02",
                "--report-dir",
                "out",
            ],
            cli_env({}),
            tmp_path,
        )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    clause = report["runs"][0]["clauses"][0]
    assert clause["verdict"] == "skip" and "TELECONFORM_LEAH_API_KEY" in clause["reason"]
