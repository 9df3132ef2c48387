"""The planted-bug app of tests/fixtures/properties, loaded once per process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "properties"


def planted_app_module() -> Any:
    """The ``planted_app`` module (shared by every test module that needs it)."""
    if "planted_app" in sys.modules:
        return sys.modules["planted_app"]
    spec = importlib.util.spec_from_file_location("planted_app", FIXTURES / "planted_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["planted_app"] = module
    spec.loader.exec_module(module)
    return module
