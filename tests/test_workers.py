"""--workers: independent work units run in parallel and merge into one report."""

from __future__ import annotations

from teleconform.runner import run_api, run_api_parallel, sandbox_credentials, work_units
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
        sequential = run_api("hcw", server.base_url, creds, clauses=clauses, seed=5, budget="quick")
        parallel = run_api_parallel(
            "hcw", server.base_url, creds, clauses=clauses, seed=5, budget="quick", workers=3
        )
    assert parallel.verdicts == sequential.verdicts
    assert parallel.verdicts["HCW-AUTH-04"] == "fail" and parallel.verdicts["HCW-SSO-08"] == "fail"
    assert [c.id for c in parallel.clauses] == [c.id for c in sequential.clauses]
