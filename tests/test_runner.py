"""The runner: selection, needs, verdict folding, exceptions → verdicts."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from teleconform.catalogue import Clause
from teleconform.runner import RunSettings, fold, run_api
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


def _suite_root(root: Path, source: str) -> Path:
    """A suites folder with one HCW module holding ``source``."""
    (root / "hcw").mkdir()
    (root / "hcw" / "__init__.py").write_text("")
    (root / "hcw" / "checks.py").write_text(textwrap.dedent(source))
    return root


@pytest.fixture()
def suites_root(tmp_path: Path) -> Path:
    return _suite_root(tmp_path, SUITE)


def _app() -> Starlette:
    async def ok(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"ok": True})

    async def broken(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"error": "boom"}, status_code=500)

    return Starlette(routes=[Route("/ok", ok), Route("/broken", broken)])


def _run(suites_root: Path, **kwargs):  # type: ignore[no-untyped-def]
    client = TestClient(_app(), base_url="http://sandbox.test", raise_server_exceptions=False)
    kwargs.setdefault("catalogue", CATALOGUE)
    return run_api(
        RunSettings(
            "hcw",
            "http://sandbox.test",
            client=client,
            suites_root=suites_root,
            **kwargs,
        )
    )


def test_verdicts_fold_from_outcomes(suites_root: Path) -> None:
    run = _run(suites_root)
    v = run.verdicts
    assert v["HCW-T-01"] == "pass"
    assert v["HCW-T-02"] == "fail"
    assert v["HCW-T-03"] == "skip" and "hcw.sso_secret" in run.clauses[2].reason
    assert v["HCW-T-04"] == "error" and "setup request failed" in run.clauses[3].reason
    assert v["HCW-T-05"] == "error" and "KeyError" in run.clauses[4].reason
    # ran to its end without a word about its clause: an error, never a silent skip
    assert v["HCW-T-06"] == "error" and run.clauses[5].reason == "not decided by its check silent"
    assert not run.clauses[5].internal
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


ROUTING_CATALOGUE = {
    c.id: c
    for c in [
        _clause("HCW-T-01"),
        _clause("HCW-T-02"),
        _clause("HCW-T-03", ("hcw.sso_secret",)),
        _clause("HCW-T-04"),
        _clause("HCW-T-05"),
        _clause("HCW-T-06"),
        _clause("HCW-T-07"),
        _clause("HCW-T-08", level="SHOULD"),
    ]
}

ROUTING_SUITE = """
from teleconform.suite import clause

@clause("HCW-T-01")
def typo(ctx):
    r = ctx.request("GET", "/ok")
    ctx.passes("HCW-T-01", "ok", r)
    ctx.fails("HCW-T-1", "meant HCW-T-01", r)

@clause("HCW-T-02")
def fine(ctx):
    ctx.passes("HCW-T-02", "fine")

@clause("HCW-T-03", "HCW-T-04")
def skips_one(ctx):
    ctx.skips("HCW-T-04", "no second page to walk")
    ctx.passes("HCW-T-03", "ran")

@clause("HCW-T-05", "HCW-T-06")
def declared_pair(ctx):
    ctx.passes("HCW-T-05", "five")
    ctx.passes("HCW-T-06", "six")

@clause("HCW-T-07")
def measures_elsewhere(ctx):
    ctx.passes("HCW-T-07", "seven")
    ctx.measure("HCW-T-08", "window", 1)

@clause("HCW-T-08")
def advises(ctx):
    r = ctx.request("GET", "/ok")
    ctx.advises("HCW-T-08", "GET /ok", "Schema-valid request rejected", "400 (once)", r)
    ctx.passes("HCW-T-08", "eight")
"""


@pytest.fixture()
def routing_root(tmp_path: Path) -> Path:
    return _suite_root(tmp_path, ROUTING_SUITE)


def _routed(root: Path, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("catalogue", ROUTING_CATALOGUE)
    return _run(root, **kwargs)


def test_an_outcome_for_an_undeclared_id_is_an_internal_error(routing_root: Path) -> None:
    run = _routed(routing_root, clauses=["HCW-T-01", "HCW-T-02"])
    typo = run.clauses[0]
    # not "pass" from the outcome that was meant, not "skip … not exercised": an error that
    # names the stray id, and counts as teleconform's own bug
    assert typo.verdict == "error" and typo.internal
    assert "HCW-T-1" in typo.reason and "does not declare" in typo.reason
    assert typo.to_json()["internal_error"] is True
    assert run.verdicts["HCW-T-02"] == "pass" and "internal_error" not in run.clauses[1].to_json()


def test_an_internal_error_exits_4_unless_something_else_failed(routing_root: Path) -> None:
    from teleconform.report._document import exit_status
    from teleconform.runner._report_entry import run_to_json

    runs = [run_to_json(_routed(routing_root, clauses=["HCW-T-01", "HCW-T-02"]))]
    assert exit_status(runs, strict=False, allow_empty=False) == 4
    runs[0]["clauses"][1].update(verdict="fail")
    assert exit_status(runs, strict=False, allow_empty=False) == 1


def test_a_skip_the_check_gave_stays_a_skip(routing_root: Path) -> None:
    run = _routed(
        routing_root, clauses=["HCW-T-03", "HCW-T-04"], credentials={"hcw.sso_secret": "s"}
    )
    assert run.verdicts == {"HCW-T-03": "pass", "HCW-T-04": "skip"}
    assert run.clauses[1].reason == "no second page to walk"


def test_a_declared_but_unselected_clause_is_not_a_routing_error(routing_root: Path) -> None:
    run = _routed(routing_root, clauses=["HCW-T-05"])
    assert run.verdicts == {"HCW-T-05": "pass"}


def test_missing_needs_stay_skip_with_the_need(routing_root: Path) -> None:
    run = _routed(routing_root, clauses=["HCW-T-03", "HCW-T-04"])
    assert run.verdicts == {"HCW-T-03": "skip", "HCW-T-04": "skip"}
    assert "hcw.sso_secret" in run.clauses[0].reason
    assert run.clauses[1].reason == "no second page to walk"


def test_a_measurement_for_an_undeclared_id_is_an_internal_error(routing_root: Path) -> None:
    run = _routed(routing_root, clauses=["HCW-T-07", "HCW-T-08"])
    assert run.verdicts["HCW-T-07"] == "error" and run.clauses[0].internal
    assert "HCW-T-08" in run.clauses[0].reason
    assert "window" not in run.clauses[1].measurements


def test_advisories_are_listed_and_never_change_the_verdict(routing_root: Path) -> None:
    from teleconform.report._document import exit_status
    from teleconform.runner._report_entry import run_to_json

    run = _routed(routing_root, clauses=["HCW-T-08"])
    entry = run.clauses[0].to_json()
    assert entry["verdict"] == "pass"
    [advisory] = entry["advisories"]
    assert advisory["operation"] == "GET /ok"
    assert advisory["check"] == "Schema-valid request rejected"
    assert advisory["message"] == "400 (once)"
    assert advisory["evidence"][0]["response"]["status"] == 200
    runs = [run_to_json(run)]
    assert exit_status(runs, strict=True, allow_empty=False) == 0
    # --fail-on-advisory: they count like a SHOULD fail under --strict
    assert exit_status(runs, strict=False, allow_empty=False, fail_on_advisory=True) == 1


def test_a_clause_without_advisories_has_no_advisories_key(suites_root: Path) -> None:
    run = _run(suites_root)
    assert all("advisories" not in c.to_json() for c in run.clauses)


PLANTED_TYPO = """
from teleconform.suite import clause

@clause("HCW-AUTH-01")
def login_with_a_typo(ctx):
    r = ctx.request("POST", "/api/v1/login-local",
                    json={"email": ctx.need("hcw.email"), "password": ctx.need("hcw.password")})
    ctx.expect("HCW-AUTH-1", r.status_code == 200, "login answered 200", r)

@clause("HCW-AUTH-03")
def wrong_password(ctx):
    r = ctx.request("POST", "/api/v1/login-local",
                    json={"email": ctx.need("hcw.email"), "password": "not-the-password"})
    ctx.expect("HCW-AUTH-03", 400 <= r.status_code < 500, "wrong password refused", r)
"""


def test_a_planted_typo_id_gives_error_and_exit_4_not_a_green_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the embedded sandbox, through the CLI: the typo once read `skip … not
    exercised` beside a pass, exit 0."""
    import json

    from teleconform.cli._main import main
    from teleconform.runner import _loading

    root = tmp_path / "suites"
    (root / "hcw").mkdir(parents=True)
    (root / "hcw" / "__init__.py").write_text("")
    (root / "hcw" / "planted.py").write_text(textwrap.dedent(PLANTED_TYPO))
    monkeypatch.setattr(_loading, "suites_dir", lambda: root)
    out = tmp_path / "reports"
    status = main(
        [
            "run",
            "hcw",
            "--clause",
            "HCW-AUTH-01",
            "--clause",
            "HCW-AUTH-03",
            "--seed",
            "1",
            "--report-dir",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert status == 4, err
    assert "internal error" in err and "HCW-AUTH-01" in err and "teleconform.log" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    clauses = {
        c["id"]: c for c in json.loads((out / "report.json").read_text())["runs"][0]["clauses"]
    }
    assert clauses["HCW-AUTH-01"]["verdict"] == "error"
    assert clauses["HCW-AUTH-01"]["internal_error"] is True
    assert "HCW-AUTH-1" in clauses["HCW-AUTH-01"]["reason"]
    assert clauses["HCW-AUTH-03"]["verdict"] == "pass"
    assert "HCW-AUTH-1" in (out / "teleconform.log").read_text()


# -- RunSettings: one value; what crosses to xdist workers ----------------------------------
def test_run_settings_cross_to_a_worker_as_one_value() -> None:
    """Everything a worker needs comes back from the wire; the limiter crosses as its rate,
    the deadline as an epoch time, and the worker adds what is its own (the stop event)."""
    import dataclasses
    import threading
    import time

    from teleconform.runner import RunSettings
    from teleconform.runner._http import RateLimiter

    stop = threading.Event()
    settings = RunSettings(
        "leah",
        "https://leah.example.org",
        {"leah.api_key": "k"},
        clauses=["LEAH-AUTH-01", "LEAH-AUTH-02"],
        extra_headers={"X-A": "1"},
        seed=7,
        budget="deep",
        mode="live",
        writes_allowed=True,
        disruptive_allowed=True,
        timeout_s=3.5,
        rate_limiter=RateLimiter(2.5),
        run_id="tc-abc",
        state={"safe_email": "a@example.org"},
        deadline=time.monotonic() + 600,
        ledger_path=Path("out/ledger-leah.jsonl"),
        cleanup=False,
        stream="unit-3",
    )
    wire = settings.to_wire()
    assert RunSettings.wire_rate_limit(wire) == 2.5
    back = RunSettings.from_wire(wire, stop=stop)
    local = {"client", "rate_limiter", "clock", "catalogue", "evidence", "on_exchange"}
    local |= {"on_created", "stop", "progress", "suites_root", "deadline", "ledger_path"}
    for f in dataclasses.fields(RunSettings):
        if f.name not in local:
            assert getattr(back, f.name) == getattr(settings, f.name), f.name
    assert back.clauses == frozenset({"LEAH-AUTH-01", "LEAH-AUTH-02"})
    assert back.stop is stop and back.ledger_path == Path("out/ledger-leah.jsonl").resolve()
    assert back.deadline is not None and back.deadline > time.monotonic() + 300


def test_every_run_setting_crosses_to_workers_or_is_named_process_local() -> None:
    """A new field must be put on the wire (or named here as this process's own), or
    `run --workers` would silently drop it."""
    import dataclasses

    from teleconform.runner import RunSettings

    wire = set(RunSettings("hcw", "http://x").to_wire())
    renamed = {"rate_limiter": "rate_limit", "deadline": "deadline_at", "ledger_path": "ledger"}
    local = {"client", "clock", "catalogue", "evidence", "on_exchange", "on_created"}
    local |= {"stop", "progress", "suites_root"}
    for f in dataclasses.fields(RunSettings):
        assert renamed.get(f.name, f.name) in wire or f.name in local, f.name


# -- executors --------------------------------------------------------------------------------
def _job(root: Path, api: str, *, unusable: bool = False):  # type: ignore[no-untyped-def]
    from contextlib import contextmanager
    from dataclasses import replace

    from teleconform.runner._executor import ApiJob, TargetUnusable

    @contextmanager
    def open_target(base):  # type: ignore[no-untyped-def]
        if unusable:
            raise TargetUnusable(f"teleconform: {api} target: no connection")
        client = TestClient(_app(), base_url="http://sandbox.test")
        yield replace(base, base_url="http://sandbox.test", client=client, suites_root=root)

    def report(entry):  # type: ignore[no-untyped-def]
        entry["target"]["profile"] = "toy"
        return entry

    return ApiJob(api, frozenset({"HCW-T-01", "HCW-T-02"}), open_target, report)


@pytest.mark.parametrize("kind", ["sequential", "threads"])
def test_an_executor_runs_each_job_and_keeps_why_a_target_was_unusable(
    suites_root: Path, kind: str
) -> None:
    import threading

    from teleconform.runner import RunSettings
    from teleconform.runner._executor import SequentialExecutor, ThreadExecutor

    executor = SequentialExecutor() if kind == "sequential" else ThreadExecutor(2)
    base = RunSettings("", "", catalogue=CATALOGUE, stop=threading.Event())
    jobs = [_job(suites_root, "leah", unusable=True), _job(suites_root, "hcw")]
    executed = executor.run(jobs, base)
    assert executed.refused == ["teleconform: leah target: no connection"]
    assert executed.interrupted == ""
    (entry,) = executed.runs.values()
    assert entry["target"] == {
        "mode": "sandbox",
        "base_url": "http://sandbox.test",
        "profile": "toy",
    }
    assert {c["id"]: c["verdict"] for c in entry["clauses"]} == {
        "HCW-T-01": "pass",
        "HCW-T-02": "fail",
    }


def test_a_stopped_run_starts_no_further_job(suites_root: Path) -> None:
    import threading

    from teleconform.runner import RunSettings
    from teleconform.runner._executor import SequentialExecutor

    stop = threading.Event()
    stop.set()
    base = RunSettings("", "", catalogue=CATALOGUE, stop=stop)
    executed = SequentialExecutor().run([_job(suites_root, "hcw")], base)
    assert executed.runs == {} and executed.refused == []


# -- an interrupt whose exception Python drops --------------------------------------------------
PLANTED_DROPPED_SIGNAL = """
import gc
import os
import signal

from teleconform.suite import clause


@clause("HCW-AUTH-01")
def signalled_inside_a_gc_callback(ctx):
    # SIGTERM arrives while a garbage-collector callback runs (hypothesis installs one): the
    # handler raises there, and CPython prints that exception and drops it
    def callback(phase, info):
        if phase == "start" and callback in gc.callbacks:
            gc.callbacks.remove(callback)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # the handler runs at the next bytecode boundary
                pass

    gc.callbacks.append(callback)
    gc.collect()
    ctx.passes("HCW-AUTH-01", "this check ran to its end")


@clause("HCW-AUTH-03")
def after_the_signal(ctx):
    ctx.passes("HCW-AUTH-03", "ran although the run was interrupted")
"""


def test_a_signal_whose_exception_was_dropped_still_interrupts_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen in CI: SIGTERM during a gc callback was lost and the run exited 0."""
    import json
    import signal

    from teleconform.cli._main import main
    from teleconform.runner import _loading

    root = tmp_path / "suites"
    (root / "hcw").mkdir(parents=True)
    (root / "hcw" / "__init__.py").write_text("")
    (root / "hcw" / "planted.py").write_text(textwrap.dedent(PLANTED_DROPPED_SIGNAL))
    monkeypatch.setattr(_loading, "suites_dir", lambda: root)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), sys.unraisablehook
    out = tmp_path / "reports"
    argv = ["run", "hcw", "--clause", "HCW-AUTH-01", "--clause", "HCW-AUTH-03"]
    status = main([*argv, "--seed", "1", "--report-dir", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert status == 143, err
    assert "Traceback" not in err and "Exception ignored" not in err  # it goes to the log
    assert "arrived where Python drops exceptions" in (out / "teleconform.log").read_text()
    clauses = {
        c["id"]: c for c in json.loads((out / "report.json").read_text())["runs"][0]["clauses"]
    }
    assert clauses["HCW-AUTH-01"]["verdict"] == "pass"
    assert clauses["HCW-AUTH-03"]["verdict"] == "error"
    assert "interrupted" in clauses["HCW-AUTH-03"]["reason"]
    # the command gives the host program its handlers back
    after = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), sys.unraisablehook
    assert after == before
