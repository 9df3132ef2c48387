"""report.json and junit.xml writers, and write_reports itself."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _report_fixtures import clause, report_with

from teleconform.report import FILENAMES, junit, write_reports
from teleconform.report import json as json_writer


def test_write_reports_writes_all_four_files(tmp_path: Path, mixed_report: dict[str, Any]) -> None:
    target = tmp_path / "nested" / "reports"
    paths = write_reports(mixed_report, target)
    assert set(paths) == {"json", "junit", "markdown", "html"}
    assert {p.name for p in paths.values()} == set(FILENAMES.values())
    assert sorted(p.name for p in target.iterdir()) == sorted(FILENAMES.values())  # no temp files
    assert all(p.parent == target and p.stat().st_size > 200 for p in paths.values())


def test_write_reports_replaces_existing_reports(
    tmp_path: Path, passing_report: dict[str, Any]
) -> None:
    (tmp_path / "report.json").write_text("stale", encoding="utf-8")
    write_reports(passing_report, tmp_path)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == passing_report


def test_report_json_is_the_dict_as_given(tmp_path: Path, mixed_report: dict[str, Any]) -> None:
    path = write_reports(mixed_report, tmp_path)["json"]
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    assert json.loads(text) == mixed_report
    assert list(json.loads(text)) == list(mixed_report)  # key order kept
    assert text.startswith('{\n  "schema_version": 1,\n')  # indent 2
    assert "Zoë" in text and "\\u00eb" not in text  # ensure_ascii=False
    assert text.endswith("}\n")


def test_report_json_survives_values_json_cannot_hold() -> None:
    report = report_with(
        clause(
            "HCW-SSO-02", measurements={"accepted_window_s": math.nan, "resolution_s": math.inf}
        ),
        clause("HCW-GEN-03", "fail", reason="body had \ud800 in it"),
    )
    data = json_writer.encode(json_writer.render(report))
    data.decode("utf-8")  # strict UTF-8 despite the lone surrogate

    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    back = json.loads(data, parse_constant=no_constants)
    clauses = back["runs"][0]["clauses"]
    assert clauses[0]["measurements"] == {"accepted_window_s": None, "resolution_s": None}
    assert clauses[1]["reason"] == "body had \ud800 in it"


def _junit(report: dict[str, Any]) -> ET.Element:
    return ET.fromstring(junit.render(report).encode("utf-8"))


def _case(root: ET.Element, name: str) -> ET.Element:
    found = [c for c in root.iter("testcase") if c.get("name") == name]
    assert len(found) == 1, name
    return found[0]


def test_junit_counts_match_the_testcases(mixed_report: dict[str, Any]) -> None:
    root = _junit(mixed_report)
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.findall("testsuite")] == ["hcw", "leah"]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "10",
        "3",
        "1",
        "2",
    )
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert suite.get(attr) == str(sum(1 for c in cases if c.find(tag) is not None))
    hcw = root.find("testsuite[@name='hcw']")
    assert hcw is not None
    assert (hcw.get("tests"), hcw.get("failures"), hcw.get("errors"), hcw.get("skipped")) == (
        "7",
        "3",
        "1",
        "1",
    )
    props = {p.get("name"): p.get("value") for p in hcw.iter("property")}
    assert props["seed"] == "1337" and props["target.base_url"] == "https://hcw.staging.example.org"


def test_junit_testcases_are_named_by_clause_id_with_the_api_as_classname(
    mixed_report: dict[str, Any],
) -> None:
    root = _junit(mixed_report)
    expected = [(c["id"], run["api"]) for run in mixed_report["runs"] for c in run["clauses"]]
    assert [(c.get("name"), c.get("classname")) for c in root.iter("testcase")] == expected


def test_junit_fail_error_skip_elements(mixed_report: dict[str, Any]) -> None:
    root = _junit(mixed_report)
    should = _case(root, "HCW-AUTH-05").find("failure")
    assert should is not None and "SHOULD" in should.get("message", "")
    assert should.get("type") == "SHOULD"
    must = _case(root, "HCW-INV-10").find("failure")
    assert must is not None and "SHOULD" not in must.get("message", "")
    assert must.get("message", "").startswith("MUST clause HCW-INV-10 not met: ")
    assert "<script>alert('reason')</script>" in must.get("message", "")  # text, parsed back
    assert must.text is not None and "curl -sS" in must.text and "-> 500" in must.text
    sso = _case(root, "HCW-SSO-02").find("failure")
    assert sso is not None and sso.text is not None
    assert "accepted_window_s = 900" in sso.text
    error = _case(root, "HCW-CONS-02").find("error")
    assert error is not None and "ReadTimeout" in error.get("message", "")
    assert error.text is not None and "no response" in error.text
    skipped = _case(root, "HCW-INV-13").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "needs hcw.allow_writes (pass --allow-writes)"
    assert list(_case(root, "HCW-AUTH-01")) == []  # a pass is an empty testcase


def test_junit_waived_fail_is_a_passing_testcase_with_a_note(mixed_report: dict[str, Any]) -> None:
    case = _case(_junit(mixed_report), "HCW-SSO-07")
    assert [child.tag for child in case] == ["system-out"]
    out = case.findtext("system-out") or ""
    assert out.startswith("fail (waived): redirects to https://evil.example/ | accepted until")


def test_junit_stays_valid_with_hostile_text() -> None:
    nasty = "a\x00b\x1b[31m \ud83d ]]> <x/> & \" ' \ufffe"
    report = report_with(
        clause(
            "HCW-GEN-01",
            "fail",
            level="SHOULD",
            reason=nasty,
            title=nasty,
            evidence=[
                {
                    "request": {
                        "method": "POST",
                        "url": f"http://h/?q={nasty}",
                        "headers": {"x": nasty},
                        "body": nasty,
                    },
                    "response": {"status": 500, "body": nasty},
                }
            ],
        ),
        clause(nasty, "skip", reason=nasty),
        api=nasty,
    )
    root = _junit(report)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    message = failure.get("message", "")
    assert "SHOULD" in message and "\\x00" in message and "\\x1b" in message
    assert "]]> <x/> & \" '" in message
    assert root.get("tests") == "2" and root.get("failures") == "1" and root.get("skipped") == "1"


def test_junit_of_a_passing_run_has_no_failures(passing_report: dict[str, Any]) -> None:
    root = _junit(passing_report)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "0",
        "0",
        "0",
    )
    out = _case(root, "HCW-SSO-02").findtext("system-out") or ""
    assert "accepted_window_s = 300.4" in out and "documented_window_s = 300" in out


@pytest.mark.parametrize("report", [{}, {"runs": []}, {"runs": [{"api": "hcw"}]}])
def test_writers_accept_reports_without_clauses(tmp_path: Path, report: dict[str, Any]) -> None:
    paths = write_reports(report, tmp_path)
    root = ET.parse(paths["junit"]).getroot()
    assert root.get("tests") == "0"
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == report
    assert "teleconform" in paths["markdown"].read_text(encoding="utf-8")
    assert "nothing verified" in paths["html"].read_text(encoding="utf-8")


def test_junit_advisories_are_properties_and_output_never_a_failure(
    mixed_report: dict[str, Any],
) -> None:
    root = _junit(mixed_report)
    case = _case(root, "LEAH-GEN-01")
    assert [child.tag for child in case] == ["properties", "system-out"]
    values = [p.get("value") for p in case.iter("property") if p.get("name") == "advisory"]
    assert values == [
        "GET /api/offices: Schema-violating request accepted: Invalid component: in query; "
        "Status: 200 OK (4 times)",
        "POST /api/appointments: Schema-valid request rejected: Status: 422; body "
        "<img src=x onerror=alert(1)> | *not* markdown (once)",
    ]
    out = case.findtext("system-out") or ""
    assert out.startswith("advisory (does not fail the run): GET /api/offices: ")
    leah = root.find("testsuite[@name='leah']")
    assert leah is not None and leah.get("failures") == "0" and leah.get("errors") == "0"
    props = {p.get("name"): p.get("value") for p in leah.find("properties") or []}
    assert props["advisories"] == "2"


def test_report_json_keeps_advisories(tmp_path: Path, mixed_report: dict[str, Any]) -> None:
    paths = write_reports(mixed_report, tmp_path)
    back = json.loads(paths["json"].read_text(encoding="utf-8"))
    [gen] = [c for c in back["runs"][1]["clauses"] if c["id"] == "LEAH-GEN-01"]
    assert [(a["operation"], a["check"]) for a in gen["advisories"]] == [
        ("GET /api/offices", "Schema-violating request accepted"),
        ("POST /api/appointments", "Schema-valid request rejected"),
    ]
