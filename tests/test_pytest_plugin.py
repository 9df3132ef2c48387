"""The pytest plugin, driven through pytester (a real host pytest session)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from teleconform.cassettes import cassettes_dir, normalise
from teleconform.cli._main import main
from teleconform.pytest_plugin import clause_of_nodeid, unit_map

pytest_plugins = ["pytester"]


def test_one_item_per_clause_and_keyword_selection(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--teleconform-api", "hcw", "--collect-only", "-q", "-p", "no:xdist"
    )
    out = result.stdout.str()
    assert "HCW-SSO-02" in out and "HCW-INV-13" in out and "LEAH-" not in out
    result = pytester.runpytest(
        "--teleconform-api", "all", "--collect-only", "-q", "-k", "HCW-SSO", "-p", "no:xdist"
    )
    collected = [line for line in result.stdout.lines if "HCW-SSO-" in line]
    assert len(collected) == 8


def test_clauses_run_against_the_sandbox_and_write_reports(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "--teleconform-api",
        "hcw",
        "-k",
        "HCW-SSO-01 or HCW-SSO-05 or HCW-AUTH-01",
        "--teleconform-seed",
        "3",
        "--teleconform-report-dir",
        "rep",
        "-p",
        "no:xdist",
    )
    result.assert_outcomes(passed=3)
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    ids = sorted(c["id"] for run in report["runs"] for c in run["clauses"])
    assert ids == ["HCW-AUTH-01", "HCW-SSO-01", "HCW-SSO-05"]
    assert report["seed"] == 3


def test_a_failing_clause_fails_its_item(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teleconform.sandbox._server import ThreadedServer
    from teleconform.sandbox.hcw import create_app

    app = create_app(faults=("bearer-only",))
    with ThreadedServer(app) as server:
        for var, value in app.state.credentials.items():
            monkeypatch.setenv(var, value)
        result = pytester.runpytest(
            "--teleconform-api",
            "hcw",
            "--teleconform-target",
            server.base_url,
            "-k",
            "HCW-AUTH-04 or HCW-AUTH-01",
            "-p",
            "no:xdist",
        )
    result.assert_outcomes(passed=1, failed=1)
    assert "HCW-AUTH-04 fail" in result.stdout.str()


@pytest.mark.parametrize("dist", ["load", "loadgroup"])
def test_under_xdist_units_stay_together_and_one_report_is_merged(
    pytester: pytest.Pytester, dist: str
) -> None:
    """Each work unit runs on one worker, whether or not xdist's own grouping works (pytest
    9.2 broke it: pytest-xdist #1386); ``-n`` alone (``--dist load``) keeps units too."""
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "--dist",
        dist,
        "-v",
        "--teleconform-api",
        "hcw",
        "--teleconform-seed",
        "3",
        "-k",
        "HCW-SSO or HCW-AUTH or HCW-INV-01",
        "--teleconform-report-dir",
        "rep",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=15)
    ran_on: dict[str, str] = {}
    for line in result.stdout.lines:
        found = re.match(r"\[(gw\d+)\] .*PASSED (\S+)", line)
        if found:
            cid = clause_of_nodeid(found.group(2))
            assert cid is not None
            ran_on[cid] = found.group(1)
    assert len(ran_on) == 15
    units: dict[str, set[str]] = {}
    for cid, worker in ran_on.items():
        units.setdefault(unit_map("hcw")[cid], set()).add(worker)
    assert len(units) >= 2 and all(len(w) == 1 for w in units.values()), units
    assert len(set(ran_on.values())) == 2  # and the units were spread over both workers
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    (run,) = report["runs"]
    assert sorted(c["id"] for c in run["clauses"]) == sorted(
        [f"HCW-SSO-0{i}" for i in range(1, 9)]
        + [f"HCW-AUTH-0{i}" for i in range(1, 7)]
        + ["HCW-INV-01"]
    )
    assert report["totals"]["pass"] == 15 and run["target"]["mode"] == "sandbox"


def test_clause_of_nodeid_reads_plain_and_grouped_ids() -> None:
    assert clause_of_nodeid("::teleconform::HCW-SSO-02") == "HCW-SSO-02"
    assert clause_of_nodeid("::teleconform::HCW-SSO-02@hcw-unit-1") == "HCW-SSO-02"
    assert clause_of_nodeid("tests/test_x.py::test_y") is None
    assert clause_of_nodeid("HCW-SSO-02") is None


def test_a_live_session_report_lists_what_it_left_behind(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host session against a live Leah: its transfer stays (the API has no delete), and the
    report's left_behind says so, with its id."""
    import httpx

    from teleconform.sandbox._server import ThreadedServer
    from teleconform.sandbox.leah import create_app

    app = create_app()
    with ThreadedServer(app) as server:
        for var, value in app.state.credentials.items():
            monkeypatch.setenv(var, value)
        result = pytester.runpytest(
            "--teleconform-api",
            "leah",
            "--teleconform-target",
            server.base_url,
            "--teleconform-allow-writes",
            "-k",
            "LEAH-TRF-01",
            "--teleconform-report-dir",
            "rep",
            "--teleconform-rate-limit",
            "1000",
            "-p",
            "no:xdist",
        )
        transfers = [
            t["id"]
            for t in httpx.get(
                server.base_url + "/_sandbox/inventory",
                headers={"LEAH-AUTH-TOKEN": app.state.credentials["TELECONFORM_LEAH_API_KEY"]},
            ).json()["transfers"]
        ]
    result.assert_outcomes(passed=1)
    run = json.loads((pytester.path / "rep" / "report.json").read_text())["runs"][0]
    assert transfers
    assert sorted(i["id"] for i in run["left_behind"]) == sorted(transfers)
    assert {i["kind"] for i in run["left_behind"]} == {"transfer"}


@pytest.mark.slow
def test_advisories_travel_with_the_item_and_fail_it_only_on_request(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teleconform.sandbox._server import ThreadedServer
    from teleconform.sandbox.hcw import create_app

    # refuses the documented phone-only invite: HCW-INV-02's failure, only an advisory of
    # HCW-GEN-04 (the property tests' "Schema-valid request rejected")
    app = create_app(faults=("phone-only-rejected",))
    with ThreadedServer(app) as server:
        for var, value in app.state.credentials.items():
            monkeypatch.setenv(var, value)
        args = [
            "--teleconform-api",
            "hcw",
            "--teleconform-target",
            server.base_url,
            "--teleconform-sandbox-target",
            "-k",
            "HCW-GEN-04",
            "--teleconform-seed",
            "1",
            "--teleconform-report-dir",
            "rep",
            "-p",
            "no:xdist",
            "-rA",
        ]
        result = pytester.runpytest(*args)
        strict = pytester.runpytest(*args, "--teleconform-fail-on-advisory")
    result.assert_outcomes(passed=1)
    assert "teleconform advisories" in result.stdout.str()
    report = json.loads((pytester.path / "rep" / "report.json").read_text())
    [gen04] = [c for run in report["runs"] for c in run["clauses"]]
    assert gen04["verdict"] == "pass"
    assert any(
        a["operation"] == "POST /api/v1/invite" and a["check"] == "Schema-valid request rejected"
        for a in gen04["advisories"]
    )
    strict.assert_outcomes(failed=1)
    assert "HCW-GEN-04 advisories" in strict.stdout.str()


def _clause_verdicts(report_path: Path) -> dict[str, tuple[str, str]]:
    report = json.loads(report_path.read_text())
    # reasons may name the run's own id (tc-...), which differs from run to run
    return {
        c["id"]: (c["verdict"], normalise(c["reason"]))
        for run in report["runs"]
        for c in run["clauses"]
    }


@pytest.mark.parametrize(
    ("plugin_args", "cli_args"),
    [
        ((), ()),
        (("-k", "HCW-SSO"), tuple(a for i in range(1, 9) for a in ("--clause", f"HCW-SSO-0{i}"))),
        (("--teleconform-clause", "LEAH-TRF-03"), ("--clause", "LEAH-TRF-03")),
    ],
    ids=["all", "k-HCW-SSO", "clause-LEAH-TRF-03"],
)
def test_plugin_replay_gives_the_verdicts_of_run_replay(
    pytester: pytest.Pytester,
    tmp_path: Path,
    plugin_args: tuple[str, ...],
    cli_args: tuple[str, ...],
) -> None:
    # One replay behaviour: the plugin replays each API's whole recorded run in order, as
    # `teleconform run --replay` does, and reports the selected clauses only.
    result = pytester.runpytest(
        "--teleconform-api",
        "all",
        "--teleconform-replay",
        "--teleconform-report-dir",
        "rep",
        "-p",
        "no:xdist",
        *plugin_args,
    )
    plugin = _clause_verdicts(pytester.path / "rep" / "report.json")
    assert main(["run", "--replay", "--report-dir", str(tmp_path), "-q", *cli_args]) == 0
    cli = _clause_verdicts(tmp_path / "report.json")
    assert plugin == cli
    plugin_report = json.loads((pytester.path / "rep" / "report.json").read_text())
    cli_report = json.loads((tmp_path / "report.json").read_text())
    assert plugin_report["seed"] == cli_report["seed"]  # the recorded one
    assert plugin_report.get("notes") == cli_report.get("notes")
    skipped = sum(1 for verdict, _ in cli.values() if verdict == "skip")
    result.assert_outcomes(passed=len(cli) - skipped, skipped=skipped)


def test_plugin_replay_of_an_unrecorded_clause_is_one_usage_error(
    pytester: pytest.Pytester,
) -> None:
    copy = pytester.path / "cassettes"
    shutil.copytree(cassettes_dir(), copy)
    for path in (copy / "hcw").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        del data["metadata"]["recorded_run"]["verdicts"]["HCW-SSO-01"]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = pytester.runpytest(
        "--teleconform-api",
        "hcw",
        "--teleconform-replay",
        "--teleconform-cassettes",
        str(copy),
        "-k",
        "HCW-SSO",
        "-p",
        "no:xdist",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "hold no recording of HCW-SSO-01" in line]
    assert len(errors) == 1
    assert "NotInCassette" not in result.stdout.str()


def test_the_plugin_and_the_runner_never_import_the_cli() -> None:
    """The CLI sits on top: the runner (xdist controller included) and this plugin, which a
    worker loads, import nothing from `teleconform.cli`, not even inside a function."""
    import ast

    import teleconform

    package = Path(teleconform.__file__).parent
    offenders = []
    for path in [package / "pytest_plugin.py", *sorted((package / "runner").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[:2] == ["teleconform", "cli"]
            ]
    assert not offenders, offenders
