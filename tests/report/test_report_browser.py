"""report.html in a real headless Chromium: rows, evidence panels, filters, no network, layout."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import chromium_driver

from teleconform.report import write_reports

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
EXPECTED_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    report = json.loads((FIXTURES / "mixed.json").read_text(encoding="utf-8"))
    out = write_reports(report, tmp_path_factory.mktemp("html"))
    url = out["html"].resolve().as_uri()
    with chromium_driver() as driver:
        yield driver, url


def _load(page: tuple[Any, str]) -> Any:
    driver, url = page
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get(url)
    return driver


def _css(driver: Any, selector: str) -> list[Any]:
    return list(driver.find_elements("css selector", selector))


def _one(driver: Any, selector: str) -> Any:
    found = _css(driver, selector)
    assert len(found) == 1, f"{selector}: {len(found)} matches"
    return found[0]


def _wait_for(predicate: Any, what: str, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_clause_rows_carry_stable_attributes(page: tuple[Any, str]) -> None:
    driver = _load(page)
    rows = _css(driver, "tr.clause")
    assert len(rows) == 10
    assert [r.get_attribute("data-id") for r in _css(driver, 'tr.clause[data-api="leah"]')] == [
        "LEAH-GEN-01",
        "LEAH-HYDRA-04",
        "LEAH-WH-02",
    ]
    sso = _one(driver, 'tr.clause[data-id="HCW-SSO-02"][data-verdict="fail"]')
    assert sso.get_attribute("data-status") == "fail"
    assert sso.get_attribute("data-area") == "SSO"
    waived = _one(driver, 'tr.clause[data-id="HCW-SSO-07"]')
    assert (waived.get_attribute("data-verdict"), waived.get_attribute("data-status")) == (
        "fail",
        "waived",
    )
    statuses = sorted(r.get_attribute("data-status") for r in rows)
    assert statuses == sorted(["pass"] * 3 + ["fail"] * 3 + ["skip"] * 2 + ["error", "waived"])
    assert all(r.is_displayed() for r in rows)
    panels = _css(driver, ".evidence")
    assert len(panels) == 10 and not any(p.is_displayed() for p in panels)


def test_clicking_a_failing_clause_shows_its_escaped_evidence(page: tuple[Any, str]) -> None:
    driver = _load(page)
    row = _one(driver, 'tr.clause[data-id="HCW-INV-10"]')
    panel = _one(driver, '.evidence[data-id="HCW-INV-10"]')
    assert not panel.is_displayed()
    row.click()
    _wait_for(panel.is_displayed, "the evidence panel to open")
    assert row.get_attribute("aria-expanded") == "true"
    text = panel.text
    assert "HTTP 500" in text and "curl -sS" in text
    # The server body's markup is shown as text and never becomes live elements.
    assert "<script>document.title='pwned'</script>" in text
    assert '<iframe src="https://evil.example/"></iframe>' in text
    assert driver.title.startswith("teleconform report")
    assert driver.execute_script("return document.body.dataset.pwned === undefined") is True
    assert _css(driver, "iframe") == [] and _css(driver, "img") == []
    assert len(_css(driver, "script")) == 1
    # Other panels stay closed; a second click closes this one again.
    assert not _one(driver, '.evidence[data-id="HCW-SSO-02"]').is_displayed()
    row.click()
    _wait_for(lambda: not panel.is_displayed(), "the evidence panel to close")


def test_verdict_filters_hide_rows(page: tuple[Any, str]) -> None:
    driver = _load(page)
    shown = _one(driver, "#shown-count")
    assert shown.text == "10 of 10 clauses shown"
    _one(driver, 'input.filter[data-filter="pass"]').click()
    passing = _css(driver, 'tr.clause[data-status="pass"]')
    _wait_for(lambda: not any(r.is_displayed() for r in passing), "pass rows to hide")
    others = _css(driver, 'tr.clause:not([data-status="pass"])')
    assert len(others) == 7 and all(r.is_displayed() for r in others)
    assert shown.text == "7 of 10 clauses shown"
    # An area left without visible rows is hidden as a whole (leah's "General").
    assert not _one(
        driver, 'section.run[data-api="leah"] section.area[data-area="General"]'
    ).is_displayed()
    _one(driver, 'input.filter[data-filter="fail"]').click()
    _wait_for(lambda: shown.text == "4 of 10 clauses shown", "fail rows to hide")
    assert not _one(driver, 'tr.clause[data-id="HCW-SSO-02"]').is_displayed()
    assert _one(driver, 'tr.clause[data-id="HCW-SSO-07"]').is_displayed()  # waived stays
    _one(driver, 'input.filter[data-filter="pass"]').click()
    _wait_for(lambda: all(r.is_displayed() for r in passing), "pass rows to come back")


def test_expand_failing_and_links_from_the_summary(page: tuple[Any, str]) -> None:
    driver = _load(page)
    _one(driver, "#expand-failing").click()
    opened = {p.get_attribute("data-id") for p in _css(driver, ".evidence") if p.is_displayed()}
    assert opened == {"HCW-AUTH-05", "HCW-INV-10", "HCW-SSO-02", "HCW-CONS-02"}
    _one(driver, "#collapse-all").click()
    assert not any(p.is_displayed() for p in _css(driver, ".evidence"))
    _one(driver, '.attention a[href="#clause-hcw-HCW-CONS-02"]').click()
    panel = _one(driver, "#evidence-hcw-HCW-CONS-02")
    _wait_for(panel.is_displayed, "the linked clause to open")


def test_sso_window_timeline(page: tuple[Any, str]) -> None:
    driver = _load(page)
    figure = _one(driver, "figure.sso-window")
    assert figure.is_displayed()
    assert figure.get_attribute("data-accepted") == "900"
    assert figure.get_attribute("data-documented") == "300"
    assert "measured 900 s" in figure.text and "documented 300 s (5 min)" in figure.text
    wide = _one(driver, "figure.sso-window svg.wide")
    assert wide.is_displayed() and not _one(driver, "figure.sso-window svg.narrow").is_displayed()
    accepted = float(_one(driver, "svg.wide rect.accepted").get_attribute("width"))
    documented = float(_one(driver, "svg.wide rect.documented").get_attribute("width"))
    assert accepted == pytest.approx(3 * documented, rel=0.01)


def test_the_page_makes_no_network_requests(page: tuple[Any, str]) -> None:
    driver, url = page
    driver.get_log("performance")  # drop what earlier tests left
    _load(page)
    _one(driver, "#expand-failing").click()
    for box in _css(driver, "input.filter"):
        box.click()
    requested: list[tuple[str, str]] = []  # (document that asked, URL)
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            requested.append((params.get("documentURL", ""), params["request"]["url"]))
    # Chromium's own new-tab page, open when the window starts, logs its chrome:// and data:
    # resources here too, sometimes late: only what the report's document asked counts, and
    # nothing at all may go to the network.
    assert [u for doc, u in requested if doc == url and not u.startswith("data:")] == [url]
    network = ("http:", "https:", "ws:", "wss:", "ftp:")
    assert [u for _doc, u in requested if u.startswith(network)] == []
    csp = _one(driver, 'meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert csp.startswith(EXPECTED_CSP)
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src],[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
    )
    assert links and all(link.startswith("#") for link in links), links
    assert not [m for m in driver.get_log("browser") if m["level"] == "SEVERE"]


def _full_page_png(driver: Any) -> bytes:
    driver.execute_script("window.scrollTo(0, 0)")  # else the sticky filter bar sits mid-page
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


def test_advisory_tile_is_visible_and_leads_to_the_advisories(page: tuple[Any, str]) -> None:
    driver = _load(page)
    tile = _one(driver, "li#advisory-tile")
    assert tile.is_displayed() and tile.find_element("css selector", ".num").text == "2"
    assert "advisories" in tile.text
    section = _one(driver, "section#advisories")
    assert [r.get_attribute("data-id") for r in _css(driver, "tr.advisory")] == [
        "LEAH-GEN-01",
        "LEAH-GEN-01",
    ]
    tile.find_element("css selector", "a").click()
    _wait_for(
        lambda: driver.execute_script("return location.hash") == "#advisories", "the tile's link"
    )
    assert section.is_displayed()
    # the clause row says it carries advisories, and its panel lists them
    row = _one(driver, 'tr.clause[data-id="LEAH-GEN-01"]')
    assert row.get_attribute("data-advisories") == "2" and "2 advisories" in row.text
    row.click()
    listed = _one(driver, "#evidence-leah-LEAH-GEN-01 ul.clause-advisories")
    _wait_for(listed.is_displayed, "the clause's advisories")
    assert "Schema-valid request rejected" in listed.text


def test_screenshots_desktop_and_phone(page: tuple[Any, str]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = _load(page)
    _one(driver, 'tr.clause[data-id="HCW-SSO-02"]').click()
    _one(driver, 'tr.clause[data-id="HCW-INV-10"]').click()
    desktop = SCREENSHOTS / "report-html.png"
    desktop.write_bytes(_full_page_png(driver))
    assert desktop.stat().st_size > 10_000

    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    driver.get(page[1])
    for cid in ("HCW-INV-10", "HCW-SSO-02", "LEAH-HYDRA-04", "LEAH-GEN-01"):
        _one(driver, f'tr.clause[data-id="{cid}"]').click()
    assert _one(driver, "figure.sso-window svg.narrow").is_displayed()
    # Nothing may be wider than the phone's screen (no sideways scrolling).
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    phone = SCREENSHOTS / "report-html-phone.png"
    phone.write_bytes(_full_page_png(driver))
    assert phone.stat().st_size > 10_000
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
