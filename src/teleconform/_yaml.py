"""YAML loading with libyaml's C loader when available (the pure-Python one is ~10x slower)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML text safely."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


@lru_cache(maxsize=64)
def _parse(path: str, text: str) -> Any:
    del path  # part of the key only: a file is parsed again when its text changes
    return load_yaml(text)


def load_yaml_file(path: Path) -> Any:
    """Parse a YAML file once per process (again when its content changes).

    Callers must not mutate the result: it is shared. OpenAPI documents are read through
    :mod:`teleconform.specs`, which says so in its types.
    """
    # Keyed by the text, not the modification time: a file rewritten within one clock tick
    # (same mtime) must not be served stale. Reading is cheap; parsing is what is saved.
    return _parse(str(path.resolve()), path.read_text(encoding="utf-8"))
