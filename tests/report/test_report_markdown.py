"""summary.md: totals, per-API tables (failing first), escaping, measurements."""

from __future__ import annotations

import re
from typing import Any

from _report_fixtures import clause, report_with
from markdown_it import MarkdownIt

from teleconform.report import markdown

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _table_rows(text: str, heading: str) -> list[str]:
    # the verdict table only: the run's advisories table ("#### ...") follows it
    section = text.split(heading, 1)[1].split("\n### ", 1)[0].split("\n#### ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


def _to_html(text: str) -> str:
    # CommonMark with tables and raw HTML on: what GitHub would render if escaping failed.
    rendered: str = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    return rendered


def test_summary_starts_with_totals(mixed_report: dict[str, Any]) -> None:
    text = markdown.render(mixed_report)
    lines = text.splitlines()
    assert lines[0] == (
        "## teleconform: ❌ 3 MUST clauses failing, 1 SHOULD finding, 2 MUST clauses not verified"
    )
    assert "**Totals:** ❌ 3 fail · ⚠️ 1 error · 🟡 1 waived · ⏭️ 2 skip · ✅ 3 pass" in text
    assert "seed `1337`" in text and "schemathesis `4.32.5`" in text


def test_summary_tables_put_failing_clauses_first(mixed_report: dict[str, Any]) -> None:
    text = markdown.render(mixed_report)
    assert "### hcw (live `https://hcw.staging.example.org`)" in text
    rows = _table_rows(text, "### hcw")
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == [
        "Clause",
        "HCW-INV-10",
        "HCW-SSO-02",
        "HCW-AUTH-05",
        "HCW-CONS-02",
        "HCW-SSO-07",
        "HCW-INV-13",
        "HCW-AUTH-01",
    ]
    assert rows[0] == "| Clause | Level | Verdict | Reason |"
    assert "| ❌ fail |" in rows[1] and "| ⚠️ error |" in rows[4]
    assert "| 🟡 fail (waived) |" in rows[5] and "| ⏭️ skip |" in rows[6]
    assert rows[7].endswith("| ✅ pass | – |")
    leah = _table_rows(text, "### leah")
    assert len(leah) == 4 and "skip" in leah[1]


def test_summary_cells_are_escaped(mixed_report: dict[str, Any]) -> None:
    text = markdown.render(mixed_report)
    for row in _table_rows(text, "### hcw") + _table_rows(text, "### leah"):
        assert len(UNESCAPED_PIPE.findall(row)) == 5, row
    assert "<script>" not in text
    assert "&lt;script&gt;alert\\('reason'\\)&lt;/script&gt;" in text
    assert "set no cookie \\| expected" in text
    html = _to_html(text)
    assert "<script" not in html and "&lt;script&gt;" in html
    # Rendered, every table still has exactly its rows and four cells a row.
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    assert [b.count("<tr>") for b in bodies] == [7, 3, 2]  # hcw, leah, leah's advisories
    assert all(r.count("<td>") == 4 for b in bodies for r in b.split("<tr>")[1:])


def test_summary_escapes_markdown_and_newlines() -> None:
    reason = "line one\nline two | [click](javascript:alert(1)) <img src=x onerror=y> `code` *b*"
    text = markdown.render(report_with(clause("HCW-GEN-01", "fail", reason=reason)))
    row = _table_rows(text, "### hcw")[1]
    assert len(UNESCAPED_PIPE.findall(row)) == 5
    (body,) = re.findall(r"<tbody>(.*?)</tbody>", _to_html(text), re.S)
    for tag in ("<a ", "<img", "<em>", "<code>", "<br"):
        assert tag not in body, tag
    assert "line one line two | [click](javascript:alert(1)) &lt;img src=x onerror=y&gt;" in body
    assert "`code` *b*" in body


def test_summary_truncates_long_reasons() -> None:
    text = markdown.render(report_with(clause("HCW-GEN-01", "fail", reason="x" * 5000)))
    row = _table_rows(text, "### hcw")[1]
    assert len(row) < 400 and row.endswith("… |")


def test_summary_shows_measurements_on_a_line(
    mixed_report: dict[str, Any], passing_report: dict[str, Any]
) -> None:
    text = markdown.render(mixed_report)
    sso = [line for line in text.splitlines() if line.startswith("- **HCW-SSO-02**")]
    assert len(sso) == 1
    assert (
        "accepted\\_window\\_s = 900 · resolution\\_s = 5 · documented\\_window\\_s = 300"
    ) in sso[0]
    assert "measured 900 s \\(±5 s\\), documented 300 s \\(5 min\\)" in sso[0]
    hydra = [line for line in text.splitlines() if line.startswith("- **LEAH-HYDRA-04**")]
    assert len(hydra) == 1
    assert hydra[0].startswith(
        "- **LEAH-HYDRA-04** measurements: pages\\_walked = 3 · items\\_seen = 61 · pages = "
        '\\["/api/healthcare\\_workers?email=someone'
    )
    assert hydra[0].endswith("…")  # structured values are cut; report.json has them whole
    assert "measured 300.4 s \\(±1 s\\)" in markdown.render(passing_report)


def test_summary_headlines() -> None:
    should_only = report_with(clause("HCW-AUTH-05", "fail", level="SHOULD"), clause("HCW-AUTH-01"))
    assert markdown.render(should_only).startswith(
        "## teleconform: ⚠️ 1 SHOULD finding, no MUST clause failing\n"
    )
    assert markdown.render(report_with(clause("HCW-AUTH-01"))).startswith(
        "## teleconform: ✅ no failing clause\n"
    )
    skipped = report_with(clause("HCW-AUTH-01", "skip", reason="needs hcw.email"))
    assert markdown.render(skipped).startswith("## teleconform: ⏭️ nothing verified\n")
    waived = report_with(clause("HCW-SSO-07", "fail", waived=True), clause("HCW-AUTH-01"))
    assert markdown.render(waived).startswith("## teleconform: ✅ no failing clause\n")


def test_summary_lists_advisories_without_changing_a_verdict(
    mixed_report: dict[str, Any],
) -> None:
    text = markdown.render(mixed_report)
    assert "**Advisories:** 💡 2: findings that rest on a guess" in text
    leah = _table_rows(text, "### leah")
    assert any(r.startswith("| LEAH-GEN-01 | MUST | ✅ pass · 💡 2 |") for r in leah)
    section = text.split("#### 💡 Advisories (2, no verdict changed)", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Clause | Operation | Check | Message |"
    assert rows[2].startswith(
        "| LEAH-GEN-01 | GET /api/offices | Schema-violating request accepted |"
    )
    # a server body quoted in a message stays text, and its pipe does not end the cell
    assert all(len(UNESCAPED_PIPE.findall(r)) == 5 for r in rows)
    assert "<img" not in _to_html(text)


def test_summary_without_advisories_has_no_advisory_lines(
    passing_report: dict[str, Any],
) -> None:
    text = markdown.render(passing_report)
    assert "Advisories" not in text and "💡" not in text


def test_skipped_must_clauses_make_the_summary_partial_not_green() -> None:
    """Never a plain green over a MUST clause that was not verified: the headline says how
    many, and every one is listed under what it needs."""
    report = report_with(
        clause("HCW-AUTH-01"),
        clause("HCW-INV-01", "skip", reason="needs hcw.allow_writes (--allow-writes)"),
        clause("HCW-INV-02", "skip", reason="needs hcw.allow_writes (--allow-writes)"),
        clause("HCW-SSO-01", "skip", reason="needs hcw.sso_secret (TELECONFORM_HCW_SSO_SECRET)"),
        clause(
            "HCW-SSO-06",
            "skip",
            level="SHOULD",
            reason="needs hcw.sso_secret (TELECONFORM_HCW_SSO_SECRET)",
        ),
    )
    text = markdown.render(report)
    assert text.startswith("## teleconform: 🟡 partial: 3 MUST clauses not verified\n")
    assert "- need --allow-writes (2): HCW-INV-01, HCW-INV-02\n" in text
    assert "- need TELECONFORM\\_HCW\\_SSO\\_SECRET (1): HCW-SSO-01\n" in text
    assert "SSO-06\n" not in text  # a SHOULD clause does not gate
    failing = report_with(
        clause("HCW-AUTH-01", "fail"), clause("HCW-INV-01", "skip", reason="needs --allow-writes")
    )
    assert markdown.render(failing).startswith(
        "## teleconform: ❌ 1 MUST clause failing, 1 MUST clause not verified\n"
    )
