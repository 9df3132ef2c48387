"""`teleconform report merge`: advisories survive the merge and count only on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _report_fixtures import clause, report_with

from teleconform.cli.report import main
from teleconform.report import write_reports

REFUSED = {
    "operation": "POST /api/v1/invite",
    "check": "Schema-valid request rejected",
    "message": "answered 400: ... (2 times)",
}
ACCEPTED = {
    "operation": "GET /api/v1/invite",
    "check": "Schema-violating request accepted",
    "message": "answered 200: ... (once)",
}


def _shard(tmp_path: Path, name: str, *clauses: dict[str, Any]) -> str:
    write_reports(report_with(*clauses), tmp_path / name)
    return str(tmp_path / name)


def _gen04(tmp_path: Path) -> dict[str, Any]:
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    [entry] = [c for run in report["runs"] for c in run["clauses"] if c["id"] == "HCW-GEN-04"]
    return dict(entry)


def test_merge_keeps_the_advisories_of_every_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same clause from two inputs: the worse verdict wins, the advisories of both stay
    # (the better input's own advisory is not lost to the worse one's; a repeat counts once)
    a = _shard(tmp_path, "a", clause("HCW-GEN-04", "pass", advisories=[ACCEPTED, REFUSED]))
    b = _shard(tmp_path, "b", clause("HCW-GEN-04", "fail", reason="500", advisories=[REFUSED]))
    assert main([a, b, "--report-dir", str(tmp_path / "out"), "-q"]) == 1
    merged = _gen04(tmp_path)
    assert (merged["verdict"], merged["reason"]) == ("fail", "500")
    assert merged["advisories"] == [ACCEPTED, REFUSED]
    assert "Advisories (2, no verdict changed)" in (tmp_path / "out" / "summary.md").read_text()
    assert "2 advisories" in capsys.readouterr().out


def test_merged_advisories_fail_only_with_fail_on_advisory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _shard(tmp_path, "a", clause("HCW-GEN-04", "pass", advisories=[REFUSED]))
    b = _shard(tmp_path, "b", clause("HCW-AUTH-01", "pass"))
    out = str(tmp_path / "out")
    assert main([a, b, "--report-dir", out, "-q"]) == 0
    assert _gen04(tmp_path)["advisories"] == [REFUSED]
    assert main([a, b, "--report-dir", out, "-q", "--fail-on-advisory"]) == 1
