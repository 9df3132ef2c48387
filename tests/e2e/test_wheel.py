"""The built wheel carries specs, suites and catalogue: it works outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    wheel = next(dist.glob("teleconform-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    # Dependencies come from this environment's site-packages (added after the fresh venv's own),
    # so the test needs no network; teleconform itself comes only from the wheel.
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELECONFORM_", "PYTHON"))}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    py = venv / "bin" / "python"
    where = subprocess.run(
        [py, "-c", "import teleconform, sys; print(teleconform.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(site) in where.stdout, where.stdout
    proc = subprocess.run(
        [py, "-m", "teleconform", "run", "hcw", "--clause", "HCW-SSO-01", "--report-dir", "r"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((work / "r" / "report.json").read_text())
    assert [c["id"] for c in report["runs"][0]["clauses"]] == ["HCW-SSO-01"]
    assert report["runs"][0]["clauses"][0]["verdict"] == "pass"
