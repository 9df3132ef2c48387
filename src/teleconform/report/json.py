"""report.json: the report dict exactly as given (indent 2, UTF-8, non-ASCII kept)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def render(report: Mapping[str, Any]) -> str:
    """The report as JSON text, key order preserved, with a trailing newline."""
    try:
        # allow_nan=False: NaN/Infinity are not JSON and break strict readers (jq, browsers).
        text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(
            _finite(report), indent=2, ensure_ascii=False, allow_nan=False, default=str
        )
    return text + "\n"


def _finite(value: Any) -> Any:
    """The value with non-finite floats (not representable in JSON) replaced by null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode(text: str) -> bytes:
    """UTF-8 bytes of `text`. A lone surrogate (valid as a JSON escape, not in UTF-8) becomes
    its backslash escape, which inside a JSON string denotes the same code point again."""
    return text.encode("utf-8", errors="backslashreplace")
