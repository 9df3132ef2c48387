"""Locate the specs/ and suites/ folders: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    """Folder holding specs/ and suites/ (`teleconform/_data` in a wheel, else the repo root)."""
    bundled = _PACKAGE_DIR / "_data"
    if (bundled / "specs").is_dir():
        return bundled
    checkout = _PACKAGE_DIR.parents[1]
    if (checkout / "specs").is_dir():
        return checkout
    raise FileNotFoundError("teleconform's specs/ folder is missing from this installation")


def specs_dir() -> Path:
    return data_root() / "specs"


def suites_dir() -> Path:
    return data_root() / "suites"


def spec_path(name: str) -> Path:
    """Path of one spec file, e.g. ``spec_path("leah.openapi.yaml")``."""
    return specs_dir() / name


SPEC_FILES = {"hcw": "hcw-athome.openapi.yaml", "leah": "leah.openapi.yaml"}
