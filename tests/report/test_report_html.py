"""report.html without a browser: structure, escaping, self-containment, the SSO timeline."""

from __future__ import annotations

import re
import shlex
from html.parser import HTMLParser
from typing import Any

import pytest
from _report_fixtures import clause, report_with

from teleconform.report import html
from teleconform.report._common import area_of, curl_of


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser


def _rows(parsed: _Elements) -> list[dict[str, str | None]]:
    return [a for t, a in parsed.tags if t == "tr" and "clause" in (a.get("class") or "").split()]


def test_clause_rows_and_evidence_panels(mixed_report: dict[str, Any]) -> None:
    parsed = _parse(html.render(mixed_report))
    rows = _rows(parsed)
    assert [r["data-id"] for r in rows] == [
        c["id"] for run in mixed_report["runs"] for c in run["clauses"]
    ]
    by_id = {r["data-id"]: r for r in rows}
    assert by_id["HCW-SSO-02"]["data-verdict"] == "fail"
    assert by_id["HCW-SSO-02"]["data-area"] == "SSO" and by_id["HCW-SSO-02"]["data-api"] == "hcw"
    assert by_id["HCW-SSO-07"]["data-verdict"] == "fail"
    assert (by_id["HCW-SSO-07"]["data-status"], by_id["HCW-SSO-07"]["data-waived"]) == (
        "waived",
        "true",
    )
    assert by_id["HCW-CONS-02"]["data-status"] == "error"
    assert by_id["LEAH-HYDRA-04"]["data-area"] == "Hydra"
    assert by_id["HCW-AUTH-05"]["data-level"] == "SHOULD"
    assert by_id["HCW-SSO-02"]["id"] == "clause-hcw-HCW-SSO-02"
    assert by_id["HCW-SSO-02"]["aria-controls"] == "evidence-hcw-HCW-SSO-02"
    evidence_rows = [a for t, a in parsed.tags if t == "tr" and a.get("class") == "evidence-row"]
    assert len(evidence_rows) == 10 and all("hidden" in a for a in evidence_rows)
    panels = [a for t, a in parsed.tags if t == "div" and a.get("class") == "evidence"]
    assert [p["id"] for p in panels] == [
        "evidence-" + (r["id"] or "").removeprefix("clause-") for r in rows
    ]
    filters = [a["data-filter"] for t, a in parsed.tags if t == "input"]
    assert filters == ["fail", "error", "waived", "skip", "pass"]


def test_areas_group_the_matrix(mixed_report: dict[str, Any]) -> None:
    parsed = _parse(html.render(mixed_report))
    areas = [a["data-area"] for t, a in parsed.tags if t == "section" and a.get("class") == "area"]
    assert areas == [
        "Authentication",
        "Invites",
        "Consultations",
        "SSO",
        "General",
        "Hydra",
        "Webhooks",
    ]


@pytest.mark.parametrize(
    ("entry", "area"),
    [
        ({"id": "HCW-SSO-02"}, "SSO"),
        ({"id": "HCW-INV-01"}, "Invites"),
        ({"id": "LEAH-HCW-02"}, "Healthcare workers"),
        ({"id": "LEAH-HYDRA-01", "area": "Collections"}, "Collections"),
        ({"id": "ACME-XYZ-01"}, "XYZ"),
        ({"id": "ODD"}, "ODD"),
    ],
)
def test_area_of(entry: dict[str, Any], area: str) -> None:
    assert area_of(entry) == area


def test_server_markup_is_escaped(mixed_report: dict[str, Any]) -> None:
    page = html.render(mixed_report)
    parsed = _parse(page)
    tags = {t for t, _ in parsed.tags}
    assert "iframe" not in tags and "img" not in tags
    assert [t for t, _ in parsed.tags].count("script") == 1
    assert "<script>document" not in page and "<iframe" not in page and "<b>bold" not in page
    # markupsafe's entities (the template engine escapes, with autoescape on)
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    text = "".join(parsed.text)
    assert '<img src=x onerror="document.body.dataset.pwned=1">' in text
    assert "Zoë \\x01\\x1b[31m" in text  # control characters made visible, not dropped
    # No event handler attribute anywhere (they would run despite escaping elsewhere).
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]


def test_hostile_ids_and_attributes_are_escaped() -> None:
    nasty = '"><script>alert(1)</script>'
    page = html.render(
        report_with(
            clause(nasty, "fail", reason=nasty, title=nasty, area=nasty, level=nasty), api=nasty
        )
    )
    parsed = _parse(page)
    assert [t for t, _ in parsed.tags].count("script") == 1
    (row,) = _rows(parsed)
    assert row["data-id"] == nasty and row["data-api"] == nasty and row["data-area"] == nasty
    assert re.fullmatch(r"clause-[A-Za-z0-9_-]+", row["id"] or "")


SCRIPT = "<script>alert(1)</script>"
IMG = "\"'><img src=x onerror=alert(2)>"
HOSTILE = (SCRIPT, IMG, "</textarea></pre></style></title></svg>-->", "{{ 7*7 }}{% raw %}")


def _everywhere(text: str) -> dict[str, Any]:
    """A report carrying `text` in every field the page shows, in text and attributes."""
    exchange = {
        "request": {
            "method": "post",
            "url": f"http://h/x?q={text}",
            "headers": [["x-h", text]],
            "body": {"k": text},
        },
        "response": {"status": 500, "headers": {"x-r": text}, "body": text},
    }
    report = report_with(
        clause(
            text,
            "fail",
            title=text,
            reason=text,
            level=text,
            area=text,
            evidence=[exchange],
            measurements={text: text, "structured": [text], "accepted_window_s": 900},
            advisories=[
                {"operation": text, "check": text, "message": text, "evidence": [exchange]}
            ],
        ),
        clause("HCW-SSO-02", "fail", measurements={"accepted_window_s": 900}, title=text),
        clause("HCW-INV-01", "skip", reason=f"{text} needs --allow-writes"),
        api=text,
    )
    report["tool"]["version"] = text
    report["started_at"] = text
    report["runs"][0]["target"] = {"mode": "live", "base_url": text}
    report["runs"][0]["left_behind"] = [{"kind": text, "id": text, "why": text}]
    return report


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_every_field_stays_text(text: str) -> None:
    page = html.render(_everywhere(text))
    parsed = _parse(page)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1 and tags.count("style") == 2  # ours (and the noscript one)
    assert "img" not in tags and "textarea" not in tags
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]
    assert "<img" not in page and "<textarea" not in page
    assert page.count("<script>") == 1 and SCRIPT not in page
    assert "49" not in "".join(parsed.text)  # no template syntax evaluated from data
    # Each field is still shown, unchanged, once the page is parsed back.
    shown = "".join(parsed.text)
    assert shown.count(text) >= 10, shown.count(text)
    attrs = [v for _, a in parsed.tags for v in a.values()]
    assert attrs.count(text) >= 4  # data-id, data-api, data-area, data-level


def test_every_template_is_autoescaped() -> None:
    from teleconform.report.html import _templates

    env = _templates.environment()
    names = env.list_templates()
    assert "report.html" in names and "_timeline.svg" in names
    assert all(env.autoescape(name) for name in names)  # type: ignore[operator]


def test_page_is_self_contained(mixed_report: dict[str, Any]) -> None:
    page = html.render(mixed_report)
    parsed = _parse(page)
    metas = {
        (a.get("http-equiv") or a.get("name")): a.get("content")
        for t, a in parsed.tags
        if t == "meta"
    }
    assert (metas["Content-Security-Policy"] or "").startswith(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    )
    assert metas["viewport"] == "width=device-width, initial-scale=1"
    refs = [a.get("src") or a.get("href") for _, a in parsed.tags if "src" in a or "href" in a]
    assert refs and all((r or "").startswith("#") for r in refs), refs
    assert "link" not in {t for t, _ in parsed.tags}
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    for api in ("fetch(", "XMLHttpRequest", "WebSocket", "import(", "sendBeacon", "http"):
        assert api not in script, api


def test_evidence_shows_exchange_and_curl(mixed_report: dict[str, Any]) -> None:
    text = "".join(_parse(html.render(mixed_report)).text)
    assert "POST https://hcw.staging.example.org/api/v1/login-local" in text
    assert "set-cookie: token=[REDACTED]; Path=/; HttpOnly" in text  # header list form
    assert '"message": "Login Successful"' in text  # a JSON string body is pretty-printed
    assert (
        "curl -sS 'https://hcw.staging.example.org/api/v1/external-auth-callback"
        "?token=[REDACTED]&returnUrl=%2Fdashboard'"
    ) in text  # the runner's own line
    assert "(no response)" in text
    assert "No exchange recorded for this clause." in text


def test_measurements_in_the_evidence_panel(mixed_report: dict[str, Any]) -> None:
    page = html.render(mixed_report)
    panel = page.split('id="evidence-leah-LEAH-HYDRA-04"', 1)[1].split("</dl>", 1)[0]
    assert '<dt>pages_walked</dt><dd class="scalar">3</dd>' in panel
    assert '<dt>pages</dt><dd class="structured"><pre>[\n  &#34;/api/healthcare_workers' in panel


def test_long_bodies_and_many_exchanges_are_cut() -> None:
    exchange = {
        "request": {"method": "GET", "url": "http://h/x"},
        "response": {"status": 200, "body": "y" * (html.MAX_BODY_CHARS + 500)},
    }
    page = html.render(report_with(clause("HCW-GEN-03", "fail", evidence=[exchange] * 25)))
    assert "… 500 more characters in report.json" in page
    assert "5 more exchanges in report.json" in page
    assert page.count('class="exchange"') == html.MAX_EXCHANGES


def test_sso_timeline_against_the_documented_window(mixed_report: dict[str, Any]) -> None:
    parsed = _parse(html.render(mixed_report))
    figures = [a for t, a in parsed.tags if t == "figure"]
    assert len(figures) == 1 and figures[0]["id"] == "sso-window-hcw"
    assert (figures[0]["data-accepted"], figures[0]["data-documented"]) == ("900", "300")
    svgs = [a for t, a in parsed.tags if t == "svg"]
    assert [s["class"] for s in svgs] == ["timeline wide", "timeline narrow"]
    rects = [a for t, a in parsed.tags if t == "rect"]
    widths = {(a["class"]): float(a["width"] or 0) for a in rects[:2]}
    assert widths["bar accepted"] == pytest.approx(3 * widths["bar documented"], rel=0.01)
    text = "".join(parsed.text)
    assert "5 min (300 s)" in text and "900 s ±5 s" in text and "15 min" in text


@pytest.mark.parametrize(
    "measurements", [None, {}, {"accepted_window_s": "n/a"}, {"accepted_window_s": float("nan")}]
)
def test_no_timeline_without_a_numeric_window(measurements: dict[str, Any] | None) -> None:
    extra = {} if measurements is None else {"measurements": measurements}
    page = html.render(report_with(clause("HCW-SSO-02", "fail", **extra)))
    assert "<figure" not in page and "<svg" not in page


def test_timeline_labels_move_outside_short_bars() -> None:
    entry = clause("HCW-SSO-02", "fail", measurements={"accepted_window_s": 86400})
    parsed = _parse(html.render(report_with(entry)))
    labels = [a for t, a in parsed.tags if t == "text" and "doc" in (a.get("class") or "")]
    assert labels and all("outside" in (a.get("class") or "") for a in labels)
    assert "1 day" not in "".join(parsed.text)  # ticks in hours, not an invented unit
    assert "24 h" in "".join(parsed.text)


def test_header_summarises_the_run(
    mixed_report: dict[str, Any], passing_report: dict[str, Any]
) -> None:
    page = html.render(mixed_report)
    assert 'class="top state-bad"' in page
    assert (
        "<title>teleconform report: 3 MUST clauses failing, 1 SHOULD finding, "
        "2 MUST clauses not verified</title>"
    ) in page
    assert 'href="#clause-hcw-HCW-CONS-02"' in page  # "needs attention" links
    assert "Duration</dt><dd>2 min 8 s" in page
    good = html.render(passing_report)
    assert 'class="top state-good"' in good and "Needs attention" not in good


@pytest.mark.parametrize(
    ("request_", "argv"),
    [
        ({"method": "GET", "url": "http://h/a?b=1&c=2"}, ["curl", "-sS", "http://h/a?b=1&c=2"]),
        (
            {
                "method": "post",
                "url": "http://h/login",
                "headers": {"Content-Type": "application/json", "Content-Length": "12"},
                "body": {"email": "o'brien@example.org"},
            },
            [
                "curl",
                "-sS",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data-raw",
                '{"email": "o\'brien@example.org"}',
                "http://h/login",
            ],
        ),
        (
            {
                "method": "PATCH",
                "url": "http://h/x",
                "headers": [["accept", "a"], ["accept", "b"]],
                "body": "raw $text `here`",
            },
            [
                "curl",
                "-sS",
                "-X",
                "PATCH",
                "-H",
                "accept: a",
                "-H",
                "accept: b",
                "--data-raw",
                "raw $text `here`",
                "http://h/x",
            ],
        ),
        ({"method": "HEAD", "url": "http://h/"}, ["curl", "-sS", "--head", "http://h/"]),
    ],
)
def test_curl_line_is_built_from_the_redacted_request(
    request_: dict[str, Any], argv: list[str]
) -> None:
    assert shlex.split(curl_of({"request": request_})) == argv


def test_advisories_have_their_own_tile_and_section(mixed_report: dict[str, Any]) -> None:
    page = html.render(mixed_report)
    parsed = _parse(page)
    [tile] = [a for t, a in parsed.tags if t == "li" and a.get("id") == "advisory-tile"]
    assert tile["data-count"] == "2" and "s-advisory" in (tile["class"] or "")
    assert 'href="#advisories"><span class="num">2</span>' in page
    advisories = [a for t, a in parsed.tags if t == "tr" and a.get("class") == "advisory"]
    assert [(a["data-id"], a["data-api"]) for a in advisories] == [("LEAH-GEN-01", "leah")] * 2
    assert 'href="#clause-leah-LEAH-GEN-01"' in page
    # a quoted server body stays text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    rows = {r["data-id"]: r for r in _rows(parsed)}
    assert rows["LEAH-GEN-01"]["data-advisories"] == "2"
    assert rows["LEAH-GEN-01"]["data-verdict"] == "pass"  # an advisory changes no verdict
    assert rows["HCW-AUTH-01"]["data-advisories"] == "0"
    panel = page.split('id="evidence-leah-LEAH-GEN-01"', 1)[1].split("</ul>", 1)[0]
    assert 'class="clause-advisories"' in panel and "Schema-valid request rejected" in panel
    # the counts of the verdict filters are those of the clauses, advisories apart
    assert "3 MUST clauses failing, 1 SHOULD finding" in page


def test_no_advisory_tile_counts_zero(passing_report: dict[str, Any]) -> None:
    page = html.render(passing_report)
    assert 'id="advisory-tile" data-count="0"' in page
    assert "No advisory in this run." in page and 'class="advisory"' not in page


def test_the_banner_is_amber_over_skipped_must_clauses() -> None:
    report = report_with(
        clause("HCW-AUTH-01"),
        clause("HCW-INV-01", "skip", reason="needs hcw.allow_writes (--allow-writes)"),
    )
    page = html.render(report)
    header = page.split("<header", 1)[1].split("</header>", 1)[0]
    assert 'class="top state-partial"' in header and "state-good" not in header
    assert '<p class="overall" id="overall">partial: 1 MUST clause not verified</p>' in page
    assert '<span class="need">need --allow-writes</span> (1): <span class="ids">HCW-INV-01' in page
    assert "<title>teleconform report: partial: 1 MUST clause not verified</title>" in page
