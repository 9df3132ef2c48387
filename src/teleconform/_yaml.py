"""YAML loading with libyaml's C loader when available (the pure-Python one is ~10x slower)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML text safely."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


@cache
def _load_file(path: str, mtime: float) -> Any:
    return load_yaml(Path(path).read_text(encoding="utf-8"))


def load_yaml_file(path: Path) -> Any:
    """Parse a YAML file once per process (re-read when it changes on disk).

    Callers must not mutate the result: it is shared.
    """
    return _load_file(str(path), path.stat().st_mtime)
