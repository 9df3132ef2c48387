"""`--baseline FILE`: accepted deviations keep the gate green until they expire.

The end-to-end tests run `teleconform run hcw` against the HCW sandbox with the faults that
reproduce the deviations of the real HCW@Home 5.4.62 (../shared/reference/hcw-athome-observed.md)
and the shipped examples/baseline-hcw-athome-5.4.62.yaml, its expiry dates moved relative to
today so the tests do not depend on the calendar.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
import yaml

from teleconform._errors import ConfigError
from teleconform.catalogue import load_catalogue
from teleconform.report._document import exit_status
from teleconform.report.baseline import apply_baseline, load_baseline
from teleconform.sandbox import hcw

from ._gha import clean_env
from .conftest import REPO, VENV_BIN

EXAMPLE = REPO / "examples" / "baseline-hcw-athome-5.4.62.yaml"
TELECONFORM = str(VENV_BIN / "teleconform")
# The sandbox faults that reproduce HCW@Home 5.4.62 as observed (one per deviation).
HCW_5_4_62_FAULTS = (
    "bearer-only",  # x-access-token ignored (HCW-AUTH-04)
    "wrong-creds-400",  # wrong credentials: 400, not 401 (HCW-AUTH-06)
    "delete-after-consultation-allowed",  # DELETE after the consultation request (HCW-INV-13)
    "sso-future-accepted",  # future SSO timestamps accepted (HCW-SSO-06)
    "sso-replay-accepted",  # an SSO token works again (HCW-SSO-08)
    "invalid-email-500",  # 500 on an invalid e-mail (HCW-GEN-01)
    "malformed-json-500",  # 500 on malformed JSON (HCW-GEN-01)
)
TODAY = dt.date.today()


def _example_entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(EXAMPLE.read_text())["waivers"]
    return entries


def _write_baseline(path: Path, expired: Collection[str] = ()) -> Path:
    entries = []
    for entry in _example_entries():
        days = -1 if entry["clause"] in expired else 365
        entries.append({**entry, "expires": (TODAY + dt.timedelta(days=days)).isoformat()})
    path.write_text(yaml.safe_dump({"waivers": entries}, sort_keys=False))
    return path


def _run_hcw(
    tmp_path: Path, baseline: Path, *extra: str, report_dir: str = "reports"
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    argv = [
        TELECONFORM,
        "run",
        "hcw",
        "--budget",
        "quick",
        "--seed",
        "11",
        "--report-dir",
        str(tmp_path / report_dir),
        "--baseline",
        str(baseline),
        *extra,
    ]
    for fault in HCW_5_4_62_FAULTS:
        argv += ["--sandbox-fault", fault]
    proc = subprocess.run(
        argv, env=clean_env(VENV_BIN), capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    report_file = tmp_path / report_dir / "report.json"
    assert report_file.is_file(), proc.stdout + proc.stderr
    return proc, json.loads(report_file.read_text())


def _clauses(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for run in report["runs"] for c in run["clauses"]}


def test_the_hcw_5_4_62_deviations_are_all_waived(tmp_path: Path) -> None:
    """The whole HCW catalogue in two CI shards, then merged, as the README's matrix does."""
    baseline = _write_baseline(tmp_path / "baseline.yaml")
    listed = {e["clause"] for e in _example_entries()}
    for i in (1, 2):
        proc, shard = _run_hcw(tmp_path, baseline, "--shard", f"{i}/2", report_dir=f"shard-{i}")
        # every shard's gate is green: its failing clauses are all listed, and waived
        failing = {cid for cid, c in _clauses(shard).items() if c["verdict"] == "fail"}
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.count("fail (waived)") == len(failing)
    proc = subprocess.run(
        [TELECONFORM, "report", "merge", "shard-1", "shard-2", "--report-dir", "reports"],
        env=clean_env(VENV_BIN),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    clauses = _clauses(report)
    assert sorted(clauses) == sorted(c.id for c in load_catalogue().values() if c.api == "hcw")
    failing = {cid for cid, c in clauses.items() if c["verdict"] == "fail"}
    waived = {cid for cid, c in clauses.items() if c.get("waived")}
    # the faults make exactly the listed clauses fail, and each of them is waived
    assert failing == listed
    assert waived == listed
    assert {c["verdict"] for cid, c in clauses.items() if cid not in listed} == {"pass"}
    assert any(clauses[cid]["level"] == "MUST" for cid in waived)
    for cid in waived:
        assert "[waived until " in clauses[cid]["reason"]
    assert report["totals"]["waived"] == len(listed) == report["totals"]["fail"]
    assert proc.stdout.count("fail (waived)") == len(listed)
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert "HCW-INV-13" in summary and "waived" in summary


def test_an_expired_waiver_counts_again(tmp_path: Path) -> None:
    baseline = _write_baseline(tmp_path / "baseline.yaml", expired={"HCW-INV-13"})
    proc, report = _run_hcw(tmp_path, baseline, "--clause", "HCW-INV-13", "--clause", "HCW-AUTH-04")
    clauses = _clauses(report)
    assert clauses["HCW-INV-13"]["verdict"] == "fail" and not clauses["HCW-INV-13"]["waived"]
    assert "[waiver expired on " in clauses["HCW-INV-13"]["reason"]
    assert clauses["HCW-AUTH-04"]["verdict"] == "fail" and clauses["HCW-AUTH-04"]["waived"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert re.search(r"HCW-INV-13\s+MUST\s+fail:", proc.stdout), proc.stdout
    assert re.search(r"HCW-AUTH-04\s+MUST\s+fail \(waived\):", proc.stdout), proc.stdout


def test_the_shipped_example_names_real_clauses_and_faults() -> None:
    catalogue = load_catalogue()
    entries = load_baseline(str(EXAMPLE), catalogue)
    assert entries and {e["target"] for e in entries} == {"*"}
    for entry in entries:
        assert catalogue[entry["clause"]].api == "hcw"
        named = re.findall(r"\(([a-z0-9, -]+)\)\s*$", entry["reason"])
        faults = [f.strip() for group in named for f in group.split(",")]
        assert faults, f"{entry['clause']}: the reason names no sandbox fault"
        for fault in faults:
            assert fault in HCW_5_4_62_FAULTS, fault
            assert entry["clause"] in hcw.FAULTS[fault].clauses, (entry["clause"], fault)


def test_a_waiver_for_an_unknown_clause_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("- {clause: HCW-AUTH-99, target: '*', reason: typo, expires: 2999-01-01}\n")
    proc = subprocess.run(
        [
            TELECONFORM,
            "run",
            "hcw",
            "--baseline",
            str(path),
            "--report-dir",
            str(tmp_path / "reports"),
        ],
        env=clean_env(VENV_BIN),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "unknown clause id HCW-AUTH-99" in proc.stderr
    assert not (tmp_path / "reports" / "report.json").exists()


# -- load_baseline / apply_baseline ------------------------------------------------------------
def _load(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    return load_baseline(str(path), load_catalogue())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {clause: HCW-AUTH-04, target: '*', reason: r}\n", "needs clause, target"),
        (
            "- {clause: HCW-AUTH-04, target: '*', reason: '', expires: 2030-01-01}\n",
            "reason must be a non-empty string",
        ),
        (
            "- {clause: HCW-AUTH-04, target: 5, reason: r, expires: 2030-01-01}\n",
            "target must be a non-empty string",
        ),
        ("- {clause: HCW-AUTH-04, target: '*', reason: r, expires: soon}\n", "not YYYY-MM-DD"),
        ("waivers: {}\n", "expected a list"),
        ("- [unclosed\n", "unreadable"),
    ],
)
def test_malformed_baselines_are_configuration_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(tmp_path, text)


def test_a_timestamp_expiry_is_read_as_its_date(tmp_path: Path) -> None:
    entries = _load(
        tmp_path, "- {clause: HCW-AUTH-04, target: '*', reason: r, expires: 2030-01-31 12:00:00}\n"
    )
    assert entries[0]["expires"] == dt.date(2030, 1, 31)
    run = _run_dict("live", "https://x", [("HCW-AUTH-04", "MUST", "fail")])
    apply_baseline(run, entries, dt.date(2030, 1, 31))  # compared without a TypeError
    assert run["clauses"][0]["waived"]


def _run_dict(mode: str, url: str, clauses: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "api": "hcw",
        "target": {"mode": mode, "base_url": url},
        "clauses": [
            {"id": i, "level": lvl, "verdict": v, "waived": False, "reason": "r"}
            for i, lvl, v in clauses
        ],
    }


def _waiver(clause: str, target: str, expires: dt.date) -> dict[str, Any]:
    return {"clause": clause, "target": target, "reason": "known", "expires": expires}


def test_the_expiry_date_itself_is_still_waived() -> None:
    day = dt.date(2030, 6, 30)
    for today, waived, status in ((day, True, 0), (day + dt.timedelta(days=1), False, 1)):
        run = _run_dict("live", "https://hcw.example", [("HCW-INV-13", "MUST", "fail")])
        apply_baseline(run, [_waiver("HCW-INV-13", "*", day)], today)
        assert run["clauses"][0]["waived"] is waived
        assert exit_status([run], strict=False, allow_empty=False) == status


def test_a_renewed_entry_wins_over_the_expired_one() -> None:
    today = dt.date(2030, 1, 1)
    old = _waiver("HCW-INV-13", "*", dt.date(2029, 1, 1))
    new = _waiver("HCW-INV-13", "*", dt.date(2031, 1, 1))
    for waivers in ([old, new], [new, old]):
        run = _run_dict("live", "https://hcw.example", [("HCW-INV-13", "MUST", "fail")])
        apply_baseline(run, waivers, today)
        assert run["clauses"][0]["waived"], waivers
        assert "waived until 2031-01-01" in run["clauses"][0]["reason"]


@pytest.mark.parametrize(
    ("target", "waived"),
    [
        ("*", True),
        ("live", True),
        ("replay", False),
        ("https://hcw.example.org", True),
        ("https://hcw.example.org/", True),
        ("https://other.example.org", False),
    ],
)
def test_the_target_scopes_a_waiver(target: str, waived: bool) -> None:
    run = _run_dict("live", "https://hcw.example.org", [("HCW-AUTH-04", "MUST", "fail")])
    apply_baseline(run, [_waiver("HCW-AUTH-04", target, dt.date(2999, 1, 1))], dt.date(2030, 1, 1))
    assert run["clauses"][0]["waived"] is waived


def test_only_failures_are_waived() -> None:
    run = _run_dict(
        "live", "https://x", [("HCW-GEN-01", "MUST", "error"), ("HCW-AUTH-04", "MUST", "pass")]
    )
    waivers = [
        _waiver("HCW-GEN-01", "*", dt.date(2999, 1, 1)),
        _waiver("HCW-AUTH-04", "*", dt.date(2999, 1, 1)),
    ]
    apply_baseline(run, waivers, dt.date(2030, 1, 1))
    assert [c["waived"] for c in run["clauses"]] == [False, False]
    assert exit_status([run], strict=False, allow_empty=False) == 1  # the error still counts
