"""_browser's decision: install when root, skip loudly when impossible, fail under CI=true."""

from __future__ import annotations

from pathlib import Path

import _browser
import pytest


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(_browser, "CHROMEDRIVER", tmp_path / "chromedriver")


@pytest.mark.usefixtures("no_chromium")
def test_missing_browser_skips_loudly_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"!!! BROWSER TEST NOT RUN: .*not root"):
        _browser.ensure_chromium()


@pytest.mark.usefixtures("no_chromium")
def test_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _browser.ensure_chromium()


@pytest.mark.usefixtures("no_chromium")
def test_root_installs_with_apt_get(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    class Done:
        returncode = 100
        stdout = ""
        stderr = "E: Unable to locate package chromium"

    def fake_run(argv: list[str], **kwargs: object) -> Done:
        calls.append(argv)
        assert kwargs["timeout"] == _browser.INSTALL_TIMEOUT_S
        return Done()

    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr("subprocess.run", fake_run)
    with pytest.raises(_browser.BrowserUnavailable, match="exited 100: E: Unable to locate"):
        _browser.install_chromium()
    assert calls == [
        ["sh", "-c", "apt-get update -qq && apt-get install -y -qq chromium chromium-driver"]
    ]


def test_present_browser_needs_no_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("chromium", "chromedriver"):
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.setattr(_browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(_browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.setattr("subprocess.run", None)  # any install attempt would crash
    assert _browser.ensure_chromium() == (tmp_path / "chromium", tmp_path / "chromedriver")
