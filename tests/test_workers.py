"""--workers: independent work units run in parallel and merge into one report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from teleconform.runner import (
    RunSettings,
    run_api,
    run_api_parallel,
    sandbox_credentials,
    work_units,
)
from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.hcw import create_app


def test_work_units_partition_the_selection() -> None:
    units = work_units("hcw", None)
    ids = [cid for unit in units for cid in unit]
    assert len(ids) == len(set(ids)), "a clause in two units would run twice"
    assert len(units) > 1
    sso = next(u for u in units if "HCW-SSO-02" in u)
    assert "HCW-SSO-05" in sso  # one module's chained checks stay together
    assert work_units("hcw", ["HCW-SSO-01"]) == [{"HCW-SSO-01"}]


def test_parallel_run_gives_the_sequential_verdicts() -> None:
    app = create_app(faults=("bearer-only", "sso-replay-accepted"))
    with ThreadedServer(app) as server:
        creds = sandbox_credentials("hcw", app)
        clauses = [
            "HCW-AUTH-01",
            "HCW-AUTH-04",
            "HCW-SSO-01",
            "HCW-SSO-08",
            "HCW-INV-12",
            "HCW-CONS-01",
        ]
        settings = RunSettings(
            "hcw", server.base_url, creds, clauses=clauses, seed=5, budget="quick"
        )
        sequential = run_api(settings)
        parallel = run_api_parallel(settings, workers=3)
    assert parallel.verdicts == sequential.verdicts
    assert parallel.verdicts["HCW-AUTH-04"] == "fail" and parallel.verdicts["HCW-SSO-08"] == "fail"
    assert [c.id for c in parallel.clauses] == [c.id for c in sequential.clauses]


# -- `teleconform run --workers N`: pytest-xdist worker processes ------------------------------
def _cli(
    tmp_path: Path, *argv: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "teleconform", "run", *argv, "--report-dir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    return proc, report


FAULTS = (
    "--sandbox-fault",
    "bearer-only",
    "--sandbox-fault",
    "sso-replay-accepted",
    "--sandbox-fault",
    "duplicate-member-across-pages",
)


def test_workers_are_processes_one_per_unit_with_the_sequential_verdicts(tmp_path: Path) -> None:
    """Each work unit runs whole on one xdist worker (gw0, gw1: processes, not threads),
    exactly once, and the verdicts, planted faults included, equal a one-worker run's."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    common = ("all", "--seed", "11", "--budget", "quick", *FAULTS)
    one, sequential = _cli(tmp_path / "one", *common)
    two, parallel = _cli(tmp_path / "two", *common, "--workers", "2")
    assert one.returncode == two.returncode == 1, two.stdout + two.stderr
    assert "2 worker processes (pytest-xdist)" in two.stdout

    def verdicts(report: dict[str, Any]) -> dict[str, str]:
        return {c["id"]: c["verdict"] for run in report["runs"] for c in run["clauses"]}

    assert verdicts(parallel) == verdicts(sequential)
    failing = {cid for cid, v in verdicts(parallel).items() if v == "fail"}
    assert {"HCW-AUTH-04", "HCW-SSO-08"} <= failing
    assert "LEAH-HYDRA-04" in failing
    workers = set()
    for run in parallel["runs"]:
        units = run["units"]
        names = [u["unit"] for u in units]
        assert len(names) == len(set(names)), f"a unit ran twice: {names}"
        ids = [cid for u in units for cid in u["clauses"]]
        assert len(ids) == len(set(ids)), "a clause ran in two units"
        assert sorted(ids) == sorted(c["id"] for c in run["clauses"])
        assert run["requests_sent"] == sum(u["requests_sent"] for u in units) > 0
        workers |= {u["worker"] for u in units}
    assert workers == {"gw0", "gw1"}
    assert [c["id"] for r in parallel["runs"] for c in r["clauses"]] == [
        c["id"] for r in sequential["runs"] for c in r["clauses"]
    ]


def test_workers_never_exceed_the_work_units(tmp_path: Path) -> None:
    proc, report = _cli(
        tmp_path, "hcw", "--clause", "HCW-SSO-01", "--workers", "4", "--budget", "quick"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 worker processes" in proc.stdout
    assert [u["worker"] for u in report["runs"][0]["units"]] == ["gw0"]


def test_the_deadline_reaches_the_workers(tmp_path: Path) -> None:
    """--deadline is the whole run's, measured from the controller's start: worker processes
    that start after it has passed run no check, and say so."""
    proc, report = _cli(tmp_path, "hcw", "--workers", "2", "--deadline", "0.2", "--budget", "quick")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (run,) = report["runs"]
    assert {c["verdict"] for c in run["clauses"]} == {"error"}
    assert all("deadline" in c["reason"] for c in run["clauses"])
    assert len({u["worker"] for u in run["units"]}) == 2


def test_the_host_projects_pytest_configuration_does_not_reach_the_workers(
    tmp_path: Path,
) -> None:
    """Run from a project whose pytest set-up would break or empty the session: its
    conftest.py, ini options and PYTEST_ADDOPTS stay out of teleconform's own session."""
    import os

    (tmp_path / "conftest.py").write_text('raise RuntimeError("the host conftest ran")\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -k nothing -p no:xdist\n")
    env = {**os.environ, "PYTEST_ADDOPTS": "-k nothing --maxfail=1"}
    proc, report = _cli(
        tmp_path,
        "hcw",
        "--workers",
        "2",
        "--budget",
        "quick",
        "--clause",
        "HCW-SSO-01",
        "--clause",
        "HCW-AUTH-01",
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = report["runs"]
    assert {c["id"]: c["verdict"] for c in run["clauses"]} == {
        "HCW-SSO-01": "pass",
        "HCW-AUTH-01": "pass",
    }
    assert len({u["worker"] for u in run["units"]}) == 2


_BREAK_A_UNIT = """
import sys
if sys.argv == ["-c"]:  # an execnet worker process, not the teleconform controller
    import teleconform.runner as runner
    real = runner.run_api
    def run_api(settings):
        if "HCW-SSO-01" in set(settings.clauses or ()):
            raise KeyError("planted bug in the runner")
        return real(settings)
    runner.run_api = run_api
"""


def test_an_exception_escaping_a_worker_is_an_error_logged_not_reported(
    tmp_path: Path,
) -> None:
    """A teleconform bug inside one worker's unit: that unit's clauses are `error` pointing
    to the log, where the traceback is; the other units' verdicts stand."""
    import os

    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "sitecustomize.py").write_text(_BREAK_A_UNIT)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "planted")}
    proc, report = _cli(
        tmp_path,
        "hcw",
        "--workers",
        "2",
        "--budget",
        "quick",
        "--clause",
        "HCW-SSO-01",
        "--clause",
        "HCW-AUTH-01",
        env=env,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (run,) = report["runs"]
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in run["clauses"]}
    assert verdicts["HCW-AUTH-01"][0] == "pass"
    assert verdicts["HCW-SSO-01"] == (
        "error",
        "teleconform internal error while running this clause (see teleconform.log)",
    )
    assert "planted bug" not in json.dumps(report)
    run_log = (tmp_path / "out" / "teleconform.log").read_text()
    assert "KeyError: 'planted bug in the runner'" in run_log
