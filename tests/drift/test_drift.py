"""`teleconform drift`: fault choice by evidence, what is not reproduced, output files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from teleconform.cli._main import main
from teleconform.drift import drift_report, output_paths
from teleconform.runner import RunSettings, run_api, sandbox_credentials
from teleconform.sandbox import hcw
from teleconform.sandbox._server import ThreadedServer


def _clause(
    cid: str, verdict: str, reason: str = "", statuses: tuple[int, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "id": cid,
        "level": "MUST",
        "title": cid,
        "verdict": verdict,
        "waived": False,
        "reason": reason,
        **extra,
        "evidence": [
            {
                "request": {"method": "POST", "url": "https://x/api/v1/login-local"},
                "response": {"status": s},
            }
            for s in statuses
        ],
    }


def _report(*runs: tuple[str, list[dict[str, Any]]], mode: str = "live") -> dict[str, Any]:
    return {
        "schema_version": 1,
        "finished_at": "2026-12-07T21:01:00Z",
        "runs": [
            {
                "api": api,
                "target": {"mode": mode, "base_url": f"https://{api}.test"},
                "clauses": clauses,
            }
            for api, clauses in runs
        ],
    }


def _faults(report: dict[str, Any]) -> list[list[str]]:
    return [d.faults for d in drift_report(report)]


@pytest.mark.parametrize(
    ("status", "fault"), [(400, "wrong-creds-400"), (404, "unknown-email-404")]
)
def test_the_evidence_chooses_between_faults_of_one_clause(status: int, fault: str) -> None:
    report = _report(
        (
            "hcw",
            [_clause("HCW-AUTH-06", "fail", f"unknown e-mail: {status} (401 expected)", (status,))],
        )
    )
    (drift,) = drift_report(report)
    assert drift.faults == [fault]
    assert f"statuses {status}" in drift.choices[0].evidence
    assert "HCW-AUTH-06 failed: unknown e-mail" in drift.choices[0].evidence
    assert "does not tell" not in drift.choices[0].evidence


def test_alternatives_the_evidence_cannot_separate_are_named() -> None:
    # HCW-GEN-01 alone, worded as no hint knows: three faults fit equally (first by name).
    (drift,) = drift_report(_report(("hcw", [_clause("HCW-GEN-01", "fail", "answered 500")])))
    assert drift.faults == ["invalid-email-500"]
    assert drift.choices[0].evidence.endswith(
        "[the evidence does not tell it from: malformed-json-500, wrong-type-500]"
    )


def test_measurements_choose_the_sso_window() -> None:
    def window(seconds: int) -> list[list[str]]:
        return _faults(
            _report(
                (
                    "hcw",
                    [
                        _clause(
                            "HCW-SSO-02",
                            "fail",
                            "window",
                            measurements={"accepted_window_s": seconds},
                        )
                    ],
                )
            )
        )

    assert window(599) == [["sso-window-10min"]]
    assert window(59) == [["sso-window-1min"]]


def test_a_fault_is_never_chosen_when_it_breaks_a_clause_that_passed() -> None:
    # login-2fa-required breaks AUTH-01/02/05; only AUTH-01 and AUTH-05 failed.
    report = _report(
        (
            "hcw",
            [
                _clause("HCW-AUTH-01", "fail", "no JWT"),
                _clause("HCW-AUTH-02", "pass"),
                _clause("HCW-AUTH-05", "fail", "no cookie"),
            ],
        )
    )
    assert _faults(report) == [["login-no-jwt"]]


def test_what_no_fault_reproduces_is_listed_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(
        (
            "hcw",
            [
                _clause("HCW-AUTH-02", "fail", "asks for a second factor"),
                _clause("HCW-AUTH-01", "pass"),
                _clause("HCW-AUTH-06", "fail", "wrong password: 400", (400,)),
            ],
        )
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    out = tmp_path / "staging.yaml"
    assert main(["drift", str(path), "-o", str(out)]) == 0
    profile = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert profile["api"] == "hcw" and profile["base"] == "as-documented"
    assert profile["faults"] == ["wrong-creds-400"]
    assert profile["not_reproduced"] == [
        {
            "clause": "HCW-AUTH-02",
            "reason": "the sandbox faults that break it (login-2fa-required) also break "
            "HCW-AUTH-01, HCW-AUTH-05, which did not fail in this run",
        }
    ]
    printed = capsys.readouterr().out
    assert "not reproduced HCW-AUTH-02" in printed and "fault wrong-creds-400" in printed


def test_a_clause_no_fault_declares_is_listed() -> None:
    (drift,) = drift_report(_report(("leah", [_clause("LEAH-WH-02", "fail", "receiver")])))
    assert drift.faults == []
    assert drift.not_reproduced == [
        {
            "clause": "LEAH-WH-02",
            "reason": "no sandbox behaviour reproduces this clause's deviation",
        }
    ]


def test_two_apis_write_two_profiles(tmp_path: Path) -> None:
    report = _report(
        ("hcw", [_clause("HCW-AUTH-06", "fail", "", (404,))]),
        ("leah", [_clause("LEAH-TRF-05", "fail", "a .gif image: 200", (200,))]),
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["drift", str(path), "-o", str(tmp_path / "staging.yaml")]) == 0
    hcw_doc = yaml.safe_load((tmp_path / "staging-hcw.yaml").read_text(encoding="utf-8"))
    leah_doc = yaml.safe_load((tmp_path / "staging-leah.yaml").read_text(encoding="utf-8"))
    assert (hcw_doc["api"], hcw_doc["faults"]) == ("hcw", ["unknown-email-404"])
    assert (leah_doc["api"], leah_doc["faults"]) == ("leah", ["gif-accepted"])
    assert output_paths(str(tmp_path), ["hcw"]) == {"hcw": tmp_path / "drift-hcw.yaml"}
    assert output_paths(None, ["leah"]) == {"leah": Path("drift-leah.yaml")}


def test_client_reports_and_bad_input_are_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = tmp_path / "client.json"
    client.write_text(json.dumps(_report(("hcw", []), mode="client")), encoding="utf-8")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    for path in (client, garbage, tmp_path / "missing.json"):
        assert main(["drift", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err


def test_a_drifted_profile_given_to_create_app_reproduces_the_run(tmp_path: Path) -> None:
    """The drifted file, as written (with description and not_reproduced), is a profile."""
    report = _report(
        (
            "hcw",
            [
                _clause("HCW-AUTH-06", "fail", "wrong password: 400", (400,)),
                _clause("HCW-AUTH-03", "pass"),
            ],
        )
    )
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    assert main(["drift", str(path), "-o", str(tmp_path / "p.yaml")]) == 0
    app = hcw.create_app(profile=str(tmp_path / "p.yaml"))
    with ThreadedServer(app) as server, httpx.Client(timeout=30) as client:
        run = run_api(
            RunSettings(
                "hcw",
                server.base_url,
                sandbox_credentials("hcw", app),
                client=client,
                clauses=["HCW-AUTH-06", "HCW-AUTH-03"],
                seed=1,
                budget="quick",
            )
        )
    assert run.verdicts == {"HCW-AUTH-06": "fail", "HCW-AUTH-03": "pass"}
    assert "400" in next(c.reason for c in run.clauses if c.id == "HCW-AUTH-06")
