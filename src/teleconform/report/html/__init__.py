"""report.html: one self-contained page (see _view for its stable hooks)."""

from __future__ import annotations

from teleconform.report.html._view import MAX_BODY_CHARS, MAX_EXCHANGES, render

__all__ = ["MAX_BODY_CHARS", "MAX_EXCHANGES", "render"]
