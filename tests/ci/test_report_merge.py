"""`teleconform report merge DIR... [--report-dir OUT]`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from teleconform.catalogue import load_catalogue
from teleconform.cli.report import main
from teleconform.report import FILENAMES, write_reports

from ._gha import clean_env
from .conftest import VENV_BIN


def _clause(
    cid: str, verdict: str, level: str = "MUST", waived: bool = False, reason: str = ""
) -> dict[str, Any]:
    return {
        "id": cid,
        "level": level,
        "title": cid,
        "verdict": verdict,
        "waived": waived,
        "reason": reason or f"{verdict} in this shard",
        "evidence": [],
    }


def _report(
    runs: list[dict[str, Any]],
    seed: int = 1,
    started: str = "2026-01-01T10:00:00+00:00",
    finished: str = "2026-01-01T10:05:00+00:00",
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "teleconform", "version": "0.1.0"},
        "seed": seed,
        "started_at": started,
        "finished_at": finished,
        "totals": {"pass": 0, "fail": 0, "skip": 0, "error": 0, "waived": 0},
        "runs": runs,
    }


def _run(
    api: str,
    clauses: list[dict[str, Any]],
    mode: str = "replay",
    url: str = "https://hcw.example.org",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "api": api,
        "target": {"mode": mode, "base_url": url},
        "clauses": clauses,
        "totals": {},
        **extra,
    }


def _shard(tmp_path: Path, name: str, report: dict[str, Any]) -> str:
    write_reports(report, tmp_path / name)
    return str(tmp_path / name)


def _merged(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "out" / "report.json").read_text())
    return data


def test_disjoint_shards_become_one_report_in_catalogue_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _shard(
        tmp_path,
        "a",
        _report(
            [
                _run(
                    "hcw",
                    [_clause("HCW-SSO-02", "pass"), _clause("HCW-AUTH-01", "pass")],
                    requests_sent=10,
                    elapsed_s=4.0,
                    created=[{"kind": "invite", "id": "1"}],
                )
            ],
            seed=1,
            started="2026-01-01T10:00:02+00:00",
            finished="2026-01-01T10:03:00+00:00",
        ),
    )
    b = _shard(
        tmp_path,
        "b",
        _report(
            [
                _run(
                    "hcw",
                    [_clause("HCW-INV-01", "pass"), _clause("HCW-SSO-06", "skip", "SHOULD")],
                    requests_sent=5,
                    elapsed_s=6.5,
                    created=[{"kind": "invite", "id": "2"}],
                )
            ],
            seed=2,
            started="2026-01-01T10:00:01+00:00",
            finished="2026-01-01T10:04:00+00:00",
        ),
    )
    assert main([a, b, "--report-dir", str(tmp_path / "out")]) == 0
    for name in FILENAMES.values():
        assert (tmp_path / "out" / name).is_file()
    merged = _merged(tmp_path)
    assert merged["schema_version"] == 1 and len(merged["runs"]) == 1
    run = merged["runs"][0]
    order = list(load_catalogue())
    ids = [c["id"] for c in run["clauses"]]
    assert sorted(ids) == sorted({"HCW-SSO-02", "HCW-AUTH-01", "HCW-INV-01", "HCW-SSO-06"})
    assert ids == sorted(ids, key=order.index)
    expected = {"pass": 3, "fail": 0, "skip": 1, "error": 0, "waived": 0}
    assert merged["totals"] == run["totals"] == expected
    assert run["requests_sent"] == 15 and run["elapsed_s"] == 6.5
    assert [c["id"] for c in run["created"]] == ["1", "2"]
    assert merged["started_at"] == "2026-01-01T10:00:01+00:00"
    assert merged["finished_at"] == "2026-01-01T10:04:00+00:00"
    assert [m["seed"] for m in merged["merged_from"]] == [1, 2]
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert junit.count("<testcase") == 4
    assert "3 pass, 0 fail, 0 error, 1 skip (0 waived); 2 reports merged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        ("fail", "error", "fail"),
        ("error", "pass", "error"),
        ("pass", "skip", "pass"),
        ("skip", "fail", "fail"),
        ("pass", "error", "error"),
        ("skip", "pass", "pass"),
    ],
)
def test_a_clause_in_two_shards_keeps_the_worse_verdict(
    tmp_path: Path, first: str, second: str, kept: str
) -> None:
    a = _shard(tmp_path, "a", _report([_run("hcw", [_clause("HCW-INV-13", first)])]))
    b = _shard(tmp_path, "b", _report([_run("hcw", [_clause("HCW-INV-13", second)])]))
    status = main([a, b, "--report-dir", str(tmp_path / "out"), "-q"])
    clauses = _merged(tmp_path)["runs"][0]["clauses"]
    assert [(c["verdict"], c["reason"]) for c in clauses] == [(kept, f"{kept} in this shard")]
    assert status == {"fail": 1, "error": 1, "pass": 0}[kept]


def test_an_unwaived_failure_beats_a_waived_one(tmp_path: Path) -> None:
    a = _shard(tmp_path, "a", _report([_run("hcw", [_clause("HCW-INV-13", "fail", waived=True)])]))
    b = _shard(tmp_path, "b", _report([_run("hcw", [_clause("HCW-INV-13", "fail")])]))
    for order in ([a, b], [b, a]):
        assert main([*order, "--report-dir", str(tmp_path / "out"), "-q"]) == 1
        (clause,) = _merged(tmp_path)["runs"][0]["clauses"]
        assert clause["waived"] is False


def test_a_waived_failure_stays_waived_and_green(tmp_path: Path) -> None:
    a = _shard(
        tmp_path,
        "a",
        _report(
            [
                _run(
                    "hcw",
                    [_clause("HCW-INV-13", "fail", waived=True), _clause("HCW-INV-01", "pass")],
                )
            ]
        ),
    )
    assert main([a, "--report-dir", str(tmp_path / "out"), "-q"]) == 0
    assert _merged(tmp_path)["totals"]["waived"] == 1
    assert "fail (waived)" in (tmp_path / "out" / "summary.md").read_text()


@pytest.mark.parametrize(
    ("clauses", "flags", "status"),
    [
        ([_clause("HCW-SSO-06", "fail", "SHOULD"), _clause("HCW-AUTH-01", "pass")], [], 0),
        (
            [_clause("HCW-SSO-06", "fail", "SHOULD"), _clause("HCW-AUTH-01", "pass")],
            ["--strict"],
            1,
        ),
        ([_clause("HCW-AUTH-01", "skip")], [], 2),
        ([_clause("HCW-AUTH-01", "skip")], ["--allow-empty"], 0),
    ],
)
def test_the_exit_status_is_that_of_the_merged_run(
    tmp_path: Path, clauses: list[dict[str, Any]], flags: list[str], status: int
) -> None:
    a = _shard(tmp_path, "a", _report([_run("hcw", clauses)]))
    assert main([a, "--report-dir", str(tmp_path / "out"), "-q", *flags]) == status


def test_apis_from_different_shards_are_separate_runs(tmp_path: Path) -> None:
    a = _shard(
        tmp_path,
        "a",
        _report([_run("leah", [_clause("LEAH-AUTH-01", "pass")], url="https://leah.example.org")]),
    )
    b = _shard(tmp_path, "b", _report([_run("hcw", [_clause("HCW-AUTH-01", "pass")])]))
    assert main([a, f"{b}/report.json", "--report-dir", str(tmp_path / "out"), "-q"]) == 0
    assert [r["api"] for r in _merged(tmp_path)["runs"]] == ["hcw", "leah"]


def test_sandbox_shards_on_different_ports_merge(tmp_path: Path) -> None:
    a = _shard(
        tmp_path,
        "a",
        _report(
            [
                _run(
                    "hcw",
                    [_clause("HCW-AUTH-01", "pass")],
                    mode="sandbox",
                    url="http://127.0.0.1:4001",
                )
            ]
        ),
    )
    b = _shard(
        tmp_path,
        "b",
        _report(
            [
                _run(
                    "hcw",
                    [_clause("HCW-INV-01", "pass")],
                    mode="sandbox",
                    url="http://127.0.0.1:4002",
                )
            ]
        ),
    )
    assert main([a, b, "--report-dir", str(tmp_path / "out"), "-q"]) == 0
    assert len(_merged(tmp_path)["runs"][0]["clauses"]) == 2


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = _shard(tmp_path, "good", _report([_run("hcw", [_clause("HCW-AUTH-01", "pass")])]))
    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "report.json").write_text('{"schema_version": 1, "runs": [')
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "report.json").write_text('{"version": 2}')
    no_verdict = _report([_run("hcw", [{"id": "HCW-AUTH-01", "level": "MUST"}])])
    (tmp_path / "noverdict").mkdir()
    (tmp_path / "noverdict" / "report.json").write_text(json.dumps(no_verdict))
    live = _shard(
        tmp_path, "live", _report([_run("hcw", [_clause("HCW-INV-01", "pass")], mode="live")])
    )
    live2 = _shard(
        tmp_path,
        "live2",
        _report(
            [_run("hcw", [_clause("HCW-INV-01", "pass")], mode="live", url="https://b.example.org")]
        ),
    )
    return {
        "missing": ([good, str(tmp_path / "nowhere")], "nowhere: no such report directory"),
        "no report.json": ([good, str(tmp_path / "empty")], "empty/report.json: no such file"),
        "corrupt": ([good, str(tmp_path / "corrupt")], "not JSON"),
        "not a report": ([str(tmp_path / "other")], "not a teleconform report"),
        "no verdict": ([str(tmp_path / "noverdict")], "needs id, level and a verdict"),
        "modes differ": ([good, live], "different modes (live, replay)"),
        "live targets differ": ([live, live2], "different targets"),
        "no inputs": ([], "the following arguments are required"),
        "bad flag": ([good, "--shard", "1/2"], "unrecognized arguments"),
    }


def test_unusable_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for case, (argv, message) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out-{case.replace(' ', '-')}"
        assert main([*argv, "--report-dir", str(out)]) == 2, case
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and message in captured.err, (case, captured.err)
        assert not out.exists(), case


def test_the_cli_command_is_wired_to_merge(tmp_path: Path) -> None:
    a = _shard(tmp_path, "a", _report([_run("hcw", [_clause("HCW-AUTH-04", "fail")])]))
    b = _shard(tmp_path, "b", _report([_run("hcw", [_clause("HCW-AUTH-01", "pass")])]))
    env = clean_env(VENV_BIN)
    teleconform = str(VENV_BIN / "teleconform")
    proc = subprocess.run(
        [teleconform, "report", "merge", a, b],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    merged = json.loads((tmp_path / "reports" / "report.json").read_text())  # default OUT
    assert [c["id"] for c in merged["runs"][0]["clauses"]] == ["HCW-AUTH-01", "HCW-AUTH-04"]
    proc = subprocess.run(
        [teleconform, "report", "merge", str(tmp_path / "nowhere")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_merging_loads_no_runner_http_client_or_command_line() -> None:
    # a merge job pays for merging only: not the runner, httpx, schemathesis or the CLI parser
    code = (
        "import sys, teleconform.report.merge; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('teleconform', 'httpx', 'schemathesis'))))"
    )
    proc = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code],
        env=clean_env(VENV_BIN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    assert "teleconform.report.merge" in loaded
    heavy = [
        m
        for m in loaded
        if m.startswith(("teleconform.runner", "teleconform.cli", "httpx", "schemathesis"))
    ]
    assert heavy == []
