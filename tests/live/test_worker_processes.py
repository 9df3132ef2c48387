"""`run --workers N` on a live target: the units run in pytest-xdist worker processes.

What a single process guarantees must hold across processes: a refused target is still
exit 3 with one line, and what a worker created is cleaned up even when the worker dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ._chaos import Rule
from ._live import (
    FAST,
    clauses_of,
    creds_env,
    hcw_leftovers,
    ledger_records,
    one_line,
    report_of,
    run_cli,
    served,
    start_cli,
    wait_for,
)

pytestmark = pytest.mark.e2e

INVITE = "/api/v1/invite"
# two work units (invites, sso), so --workers 2 starts two worker processes
CLAUSES = ("HCW-INV-01", "HCW-INV-04", "HCW-INV-05", "HCW-SSO-02")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize(
    ("api", "variable"), [("hcw", "TELECONFORM_HCW_PASSWORD"), ("leah", "TELECONFORM_LEAH_API_KEY")]
)
def test_refused_credentials_in_workers_are_exit_3_one_line(
    tmp_path: Path, api: str, variable: str
) -> None:
    env = creds_env(api, **{variable: "teleconform-wrong-secret"})
    with served(api) as (_app, proxy):
        proc = run_cli(
            [
                "run",
                api,
                "--target",
                proxy.base_url,
                "--workers",
                "2",
                *FAST,
                "--timeout",
                "3",
                "--report-dir",
                "out",
            ],
            env,
            tmp_path,
        )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    line = one_line(proc.stderr)
    assert variable in line and "check" in line
    assert "teleconform-wrong-secret" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_dead_worker_is_reported_and_what_it_created_is_cleaned(tmp_path: Path) -> None:
    """SIGKILL of every worker mid-run (the OOM killer): the controller reports their clauses
    as errors, writes the reports, and removes what they created from the ledger."""
    hang = Rule("hang", rf"^{INVITE}", seconds=30, times=1, armed_by=f"POST ^{INVITE}$")
    selection = [arg for cid in CLAUSES for arg in ("--clause", cid)]
    with served("hcw", [hang]) as (app, proxy):
        proc = start_cli(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                "--timeout",
                "20",
                "--workers",
                "2",
                *selection,
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        wait_for(lambda: proxy.hanging() == 1 or proc.poll() is not None, 30, "the hung request")
        assert proc.poll() is None, proc.communicate()
        assert hcw_leftovers(app) != []
        workers = _children(proc.pid)
        assert len(workers) == 2, workers  # two processes, not threads
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)  # a hang guard, not a measure
        left = hcw_leftovers(app)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert "died" in out
    assert left == []
    clauses = clauses_of(report_of(tmp_path / "out"))
    assert set(clauses) == set(CLAUSES)  # every selected clause has a verdict
    died = [c for c in clauses.values() if "worker process died" in c["reason"]]
    assert died and all(c["verdict"] == "error" for c in died)
    records = ledger_records(tmp_path / "out" / "ledger-hcw.jsonl")
    created = [r["created"] for r in records if "created" in r]
    assert created and all({"cleaned": e, "detail": "cleaned"} in records for e in created)
