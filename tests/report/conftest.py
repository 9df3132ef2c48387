"""Fixtures for the report writer tests: hand-written report.json files."""

from __future__ import annotations

from typing import Any

import pytest
from _report_fixtures import load_fixture


@pytest.fixture
def mixed_report() -> dict[str, Any]:
    """Two APIs with pass, MUST and SHOULD fails, an error, skips, a waived fail, injections."""
    return load_fixture("mixed")


@pytest.fixture
def passing_report() -> dict[str, Any]:
    """Two APIs, everything passes; HCW-SSO-02 carries its window measurement."""
    return load_fixture("passing")
