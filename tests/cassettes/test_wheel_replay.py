"""The shipped cassettes replay green when teleconform is installed as a user installs it: the
built wheel, without constraints.txt, so pip takes the latest compatible releases from PyPI
(hypothesis publishes several a week). Their versions are notes in the report, never exit 2.

Needs PyPI (the one network the tests may use); pip's own cache makes reruns fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from teleconform.cassettes import GENERATOR_TOOLS, cassettes_dir, load_api_cassettes
from teleconform.cli._main import main
from teleconform.cli.run._select import APIS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# bounds, not expectations: a cold pip cache on a slow link stays well inside them
BUILD_TIMEOUT_S = 300
INSTALL_TIMEOUT_S = 1200
REPLAY_TIMEOUT_S = 300


def _verdicts(report: dict[str, object]) -> dict[str, str]:
    runs = report["runs"]
    assert isinstance(runs, list)
    return {c["id"]: c["verdict"] for run in runs for c in run["clauses"]}


def test_the_wheel_with_todays_releases_replays_the_shipped_cassettes(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELECONFORM_", "PYTHON", "PIP_CONSTRAINT", "VIRTUAL_ENV"))
    }
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
        timeout=BUILD_TIMEOUT_S,
    )
    wheel = next(dist.glob("teleconform-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=BUILD_TIMEOUT_S
    )
    py = venv / "bin" / "python"
    install = subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "--progress-bar", "off", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    versions = json.loads(
        subprocess.run(
            [
                py,
                "-c",
                "import json, importlib.metadata as m; print(json.dumps("
                f"{{n: m.version(n) for n in {list(GENERATOR_TOOLS)!r}}}))",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            timeout=REPLAY_TIMEOUT_S,
        ).stdout
    )

    work = tmp_path / "elsewhere"  # outside the checkout: the wheel's own cassettes
    work.mkdir()
    proc = subprocess.run(
        [venv / "bin" / "teleconform", "run", "--replay", "--report-dir", "r"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=REPLAY_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    fresh = json.loads((work / "r" / "report.json").read_text())
    assert fresh["tool"]["hypothesis"] == versions["hypothesis"]

    assert main(["run", "--replay", "--report-dir", str(tmp_path / "here"), "-q"]) == 0
    here = json.loads((tmp_path / "here" / "report.json").read_text())
    assert _verdicts(fresh) == _verdicts(here)

    # each generator whose installed version differs from the recorded one is named in a note
    notes = fresh.get("notes", [])
    for api in APIS:
        recorded = load_api_cassettes(cassettes_dir(), api)[0].metadata["tool"]
        for name in GENERATOR_TOOLS:
            named = [n for n in notes if n.startswith(f"{api} ") and f" {name} " in n]
            if recorded[name] != versions[name]:
                assert named and versions[name] in named[0], notes
                assert named[0] in (work / "r" / "summary.md").read_text()
            else:
                assert not named, notes
