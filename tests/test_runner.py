"""The runner: selection, needs, verdict folding, exceptions → verdicts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from teleconform.catalogue import Clause
from teleconform.runner import fold, run_api
from teleconform.suite import Outcome


def _clause(cid: str, needs: tuple[str, ...] = (), level: str = "MUST") -> Clause:
    return Clause(cid, "hcw", "General", level, cid.lower(), "", needs, "hcw-guide", "")


CATALOGUE = {
    c.id: c
    for c in [
        _clause("HCW-T-01"),
        _clause("HCW-T-02"),
        _clause("HCW-T-03", ("hcw.sso_secret",)),
        _clause("HCW-T-04"),
        _clause("HCW-T-05"),
        _clause("HCW-T-06"),
        _clause("HCW-T-07", ("hcw.allow_writes",)),
    ]
}

SUITE = """
from teleconform.suite import clause, preflight

CALLS = []

@clause("HCW-T-01", "HCW-T-02")
def status_checks(ctx):
    r = ctx.request("GET", "/ok")
    ctx.expect("HCW-T-01", r.status_code == 200, "ok is 200", r)
    r2 = ctx.request("GET", "/broken")
    ctx.expect("HCW-T-02", r2.status_code == 200, "broken is 200", r2)

@clause("HCW-T-03")
def needs_secret(ctx):
    CALLS.append("needs_secret")
    ctx.passes("HCW-T-03", "ran")

@clause("HCW-T-04")
def precondition(ctx):
    r = ctx.request("GET", "/broken")
    ctx.precondition(r.status_code == 200, "setup request failed", r)

@clause("HCW-T-05")
def crashes(ctx):
    ctx.request("GET", "/ok").json()["missing"]

@clause("HCW-T-06")
def silent(ctx):
    ctx.request("GET", "/ok")

@clause("HCW-T-07")
def writes(ctx):
    ctx.passes("HCW-T-07", "wrote")
"""


@pytest.fixture()
def suites_root(tmp_path: Path) -> Path:
    (tmp_path / "hcw").mkdir()
    (tmp_path / "hcw" / "__init__.py").write_text("")
    (tmp_path / "hcw" / "checks.py").write_text(textwrap.dedent(SUITE))
    return tmp_path


def _app() -> Starlette:
    async def ok(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"ok": True})

    async def broken(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"error": "boom"}, status_code=500)

    return Starlette(routes=[Route("/ok", ok), Route("/broken", broken)])


def _run(suites_root: Path, **kwargs):  # type: ignore[no-untyped-def]
    client = TestClient(_app(), base_url="http://sandbox.test", raise_server_exceptions=False)
    return run_api(
        "hcw",
        "http://sandbox.test",
        catalogue=CATALOGUE,
        client=client,
        suites_root=suites_root,
        **kwargs,
    )


def test_verdicts_fold_from_outcomes(suites_root: Path) -> None:
    run = _run(suites_root)
    v = run.verdicts
    assert v["HCW-T-01"] == "pass"
    assert v["HCW-T-02"] == "fail"
    assert v["HCW-T-03"] == "skip" and "hcw.sso_secret" in run.clauses[2].reason
    assert v["HCW-T-04"] == "error" and "setup request failed" in run.clauses[3].reason
    assert v["HCW-T-05"] == "error" and "KeyError" in run.clauses[4].reason
    assert v["HCW-T-06"] == "skip" and run.clauses[5].reason == "not exercised by any check"
    assert v["HCW-T-07"] == "pass"  # sandbox mode implies --allow-writes
    failing = run.clauses[1]
    assert failing.evidence and failing.evidence[0]["response"]["status"] == 500
    assert failing.evidence[0]["curl"].startswith("curl -i -X GET")


def test_live_mode_without_allow_writes_skips_write_clauses(suites_root: Path) -> None:
    run = _run(suites_root, mode="live")
    assert run.verdicts["HCW-T-07"] == "skip"
    assert "--allow-writes" in run.clauses[6].reason


def test_selection_runs_only_selected(suites_root: Path) -> None:
    run = _run(suites_root, clauses=["HCW-T-01"], credentials={"hcw.sso_secret": "s"})
    assert [c.id for c in run.clauses] == ["HCW-T-01"]
    assert run.requests_sent == 2  # the shared function ran once


def test_needs_given_runs_the_check(suites_root: Path) -> None:
    run = _run(suites_root, credentials={"hcw.sso_secret": "s"})
    assert run.verdicts["HCW-T-03"] == "pass"


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["pass", "fail"], "fail"),
        (["pass", "error"], "error"),
        (["fail", "error"], "fail"),
        (["skip"], "skip"),
        ([], "skip"),
        (["pass", "skip"], "pass"),
    ],
)
def test_fold(verdicts: list[str], expected: str) -> None:
    assert fold([Outcome("X", v, v) for v in verdicts])[0] == expected
