"""The round trip through the command line: `run` with sandbox faults, `drift` its report,
`run` again with the drifted profile's faults: the same clauses fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from teleconform._cli import main

CLAUSES = ["HCW-AUTH-03", "HCW-AUTH-06", "HCW-SSO-08", "HCW-SSO-02"]


def _run(report_dir: Path, faults: list[str]) -> dict[str, str]:
    argv = ["run", "hcw", "--budget", "quick", "--seed", "1", "--report-dir", str(report_dir),
            "-q"]
    for fault in faults:
        argv += ["--sandbox-fault", fault]
    for clause in CLAUSES:
        argv += ["--clause", clause]
    main(argv)
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return {c["id"]: c["verdict"] for c in report["runs"][0]["clauses"]}


def test_run_drift_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _run(tmp_path / "first", ["unknown-email-404", "sso-replay-accepted"])
    assert {c for c, v in first.items() if v == "fail"} == {"HCW-AUTH-06", "HCW-SSO-08"}
    assert main(["drift", str(tmp_path / "first" / "report.json"), "-o",
                 str(tmp_path / "profiles") + "/"]) == 0
    profile = yaml.safe_load((tmp_path / "profiles" / "drift-hcw.yaml").read_text("utf-8"))
    assert sorted(profile["faults"]) == ["sso-replay-accepted", "unknown-email-404"]
    assert "statuses 404" in profile["evidence"]["unknown-email-404"]
    second = _run(tmp_path / "second", profile["faults"])
    assert second == first
    assert "Traceback" not in capsys.readouterr().err
