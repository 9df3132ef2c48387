"""Pick the client under test: the good one (default) or EXAMPLE_CLIENT=broken_integration."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def client() -> ModuleType:
    return importlib.import_module(os.environ.get("EXAMPLE_CLIENT", "integration"))
