"""Access to ../shared (reference material beside the checkout) with a visible skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or a visible skip when this checkout has no shared/ beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("TELECONFORM_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing but TELECONFORM_REQUIRE_SHARED is set")
        pytest.skip(
            f"../shared is not beside this checkout ({path} missing); shipped fixtures cover this"
        )
    return path
