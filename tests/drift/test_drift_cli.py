"""The round trip through the command line: `run` with sandbox faults, `drift` its report,
`run --sandbox-profile` with the drifted profile file: the same clauses fail. And the file
drift writes is served as written by `teleconform sandbox --profile`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from teleconform.cli._main import main

CLAUSES = ["HCW-AUTH-03", "HCW-AUTH-06", "HCW-SSO-08", "HCW-SSO-02"]
TELECONFORM = Path(sys.executable).parent / "teleconform"


def _run(report_dir: Path, options: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The verdicts and the target of a quick run of CLAUSES on the embedded sandbox."""
    argv = [
        "run",
        "hcw",
        "--budget",
        "quick",
        "--seed",
        "1",
        "--report-dir",
        str(report_dir),
        "-q",
        *options,
    ]
    for clause in CLAUSES:
        argv += ["--clause", clause]
    main(argv)
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    (run,) = report["runs"]
    return {c["id"]: c["verdict"] for c in run["clauses"]}, run["target"]


def test_run_drift_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = _run(
        tmp_path / "first",
        ["--sandbox-fault", "unknown-email-404", "--sandbox-fault", "sso-replay-accepted"],
    )
    assert {c for c, v in first.items() if v == "fail"} == {"HCW-AUTH-06", "HCW-SSO-08"}
    assert (
        main(
            [
                "drift",
                str(tmp_path / "first" / "report.json"),
                "-o",
                str(tmp_path / "profiles") + "/",
            ]
        )
        == 0
    )
    path = tmp_path / "profiles" / "drift-hcw.yaml"
    profile = yaml.safe_load(path.read_text("utf-8"))
    assert sorted(profile["faults"]) == ["sso-replay-accepted", "unknown-email-404"]
    assert "statuses 404" in profile["evidence"]["unknown-email-404"]
    # the drifted file itself, no fault named on the command line
    second, target = _run(tmp_path / "second", ["--sandbox-profile", str(path)])
    assert second == first
    assert target["profile"] == profile["name"]
    assert "Traceback" not in capsys.readouterr().err


def test_the_sandbox_serves_a_drifted_profile_as_written(tmp_path: Path) -> None:
    """drift's extra keys (description, a non-empty not_reproduced) are accepted."""
    clause = {
        "level": "MUST",
        "waived": False,
        "evidence": [
            {
                "request": {"method": "POST", "url": "https://x/api/v1/login-local"},
                "response": {"status": 404},
            }
        ],
    }
    report = {
        "schema_version": 1,
        "finished_at": "2026-12-07T21:01:00Z",
        "runs": [
            {
                "api": "hcw",
                "target": {"mode": "live", "base_url": "https://hcw.test"},
                "clauses": [
                    {
                        **clause,
                        "id": "HCW-AUTH-06",
                        "title": "t",
                        "verdict": "fail",
                        "reason": "unknown e-mail: 404 (401 expected)",
                    },
                    {
                        **clause,
                        "id": "HCW-AUTH-02",
                        "title": "t",
                        "verdict": "fail",
                        "reason": "asks for a second factor",
                        "evidence": [],
                    },
                    {
                        **clause,
                        "id": "HCW-AUTH-01",
                        "title": "t",
                        "verdict": "pass",
                        "reason": "",
                        "evidence": [],
                    },
                ],
            }
        ],
    }
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    path = tmp_path / "staging.yaml"
    assert main(["drift", str(tmp_path / "report.json"), "-o", str(path)]) == 0
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["description"] and document["not_reproduced"], document
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    proc = subprocess.Popen(
        [str(TELECONFORM), "sandbox", "hcw", "--profile", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # ends at READY, or at EOF if the sandbox refused the file
            lines.append(line.rstrip("\n"))
            if lines[-1] == "READY":
                break
        assert lines[-1:] == ["READY"], (lines, proc.stderr.read() if proc.stderr else "")
        values = dict(line.split("=", 1) for line in lines[:-1])
        # the drifted fault is on: an unknown e-mail gets 404, as staging answered
        with httpx.Client(timeout=30, trust_env=False) as client:
            answer = client.post(
                values["TELECONFORM_HCW_TARGET"] + "/api/v1/login-local",
                json={"email": "nobody@example.org", "password": "x"},
            )
        assert answer.status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"profile {document['name']}" in err
