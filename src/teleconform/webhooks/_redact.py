"""Redaction of received event bodies before they are written to disk or reports.

The project's ``teleconform.redact.Redactor`` is used when it is installed. Without it, a
conservative stand-in keeps only what LEAH-WH-01 needs to re-validate an event (the event
name, externalId, administrativeFileNumber, and every value's JSON type) and masks every
other string, since an unknown event may carry a guest's contact data.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

MASK = "<redacted>"
_KEPT_PAYLOAD_KEYS = frozenset({"externalId", "administrativeFileNumber"})


class BodyRedactor:
    """Redacts bodies; one instance per report so the project's placeholders stay consistent."""

    def __init__(self) -> None:
        self._project: Any = _project_redactor()

    @property
    def uses_project_redactor(self) -> bool:
        return self._project is not None

    def redact(self, body: bytes, content_type: str | None) -> str:
        """The body as text, redacted."""
        if self._project is not None:
            return _as_text(self._project.redact_body(body, content_type))
        return _fallback(body)


def _project_redactor() -> Any:
    try:
        module = importlib.import_module("teleconform.redact")
    except ImportError:
        return None
    cls = getattr(module, "Redactor", None)
    return cls() if cls is not None else None


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _fallback(body: bytes) -> str:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"<{len(body)} bytes, not JSON: withheld>"
    if not isinstance(doc, dict):
        return json.dumps(_mask(doc), ensure_ascii=False)
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "event" and isinstance(value, str):
            out[key] = value
        elif key == "payload":
            out[key] = _payload(value)
        else:
            out[key] = _mask(value)
    return json.dumps(out, ensure_ascii=False)


def _payload(value: Any) -> Any:
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except ValueError:
            return MASK
        return json.dumps(_payload(inner), ensure_ascii=False) if isinstance(inner, dict) else MASK
    if isinstance(value, dict):
        return {
            k: v if k in _KEPT_PAYLOAD_KEYS and not isinstance(v, dict | list) else _mask(v)
            for k, v in value.items()
        }
    return _mask(value)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return MASK
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value
