"""A real headless Chromium for browser tests (Debian's `chromium` + `chromium-driver`).

`ensure_chromium()` finds /usr/bin/chromium and /usr/bin/chromedriver; when they are missing
and we run as root it installs them with apt-get (quiet, bounded by a timeout). When that is
impossible the test is skipped with a loud reason, except in CI (`CI=true`), where it fails:
a CI job must never go green because its browser tests silently did not run.

Run `python tests/report/_browser.py` to do just the install step (CI entry scripts).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_TIMEOUT_S = 900
INSTALL_COMMAND = "apt-get update -qq && apt-get install -y -qq chromium chromium-driver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


class BrowserUnavailable(RuntimeError):
    """Chromium or its driver is missing and could not be installed."""


def in_ci() -> bool:
    """Whether we run in CI (CI=true, as GitHub Actions, GitLab and most others set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _present() -> bool:
    return CHROMIUM.is_file() and CHROMEDRIVER.is_file()


def install_chromium() -> None:
    """Install Debian's chromium and chromium-driver, or raise BrowserUnavailable."""
    if _present():
        return
    if os.geteuid() != 0:
        raise BrowserUnavailable(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing and we are not root, so cannot run "
            f"`{INSTALL_COMMAND}`"
        )
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"{CHROMIUM} is missing and there is no apt-get to install it")
    # Parallel test workers must not run apt-get at the same time (dpkg lock).
    lock_path = Path(tempfile.gettempdir()) / "teleconform-chromium-install.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _present():
            return
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            done = subprocess.run(
                ["sh", "-c", INSTALL_COMMAND],
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserUnavailable(
                f"`{INSTALL_COMMAND}` did not finish within {INSTALL_TIMEOUT_S} s"
            ) from exc
        if done.returncode != 0 or not _present():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BrowserUnavailable(
                f"`{INSTALL_COMMAND}` exited {done.returncode}: {' / '.join(tail)}"
            )


def unavailable(reason: str) -> NoReturn:
    """Skip loudly, or fail in CI, because the browser test cannot run."""
    import pytest

    message = f"BROWSER TEST NOT RUN: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing browser is a failure, not a skip)")
    pytest.skip(f"!!! {message} !!! (install chromium and chromium-driver; CI=true fails)")


def ensure_chromium() -> tuple[Path, Path]:
    """Paths of chromium and chromedriver, installing them if needed (see module doc)."""
    try:
        install_chromium()
    except BrowserUnavailable as exc:
        unavailable(str(exc))
    return CHROMIUM, CHROMEDRIVER


@contextlib.contextmanager
def chromium_driver(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A Selenium Chrome WebDriver on headless Chromium, with network events logged.

    The driver path is passed explicitly, so Selenium Manager never runs (it would try to
    download a driver). A fresh user-data-dir keeps runs independent of each other.
    """
    chromium, chromedriver = ensure_chromium()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:  # pragma: no cover - depends on the environment
        unavailable(f"the selenium package is not installed ({exc}); pip install -e .[test]")
    with tempfile.TemporaryDirectory(prefix="teleconform-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(chromium)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(
            service=Service(executable_path=str(chromedriver)), options=options
        )
        try:
            yield driver
        finally:
            driver.quit()


if __name__ == "__main__":
    try:
        install_chromium()
    except BrowserUnavailable as exc:
        print(f"teleconform tests: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"chromium: {CHROMIUM}\nchromedriver: {CHROMEDRIVER}")
