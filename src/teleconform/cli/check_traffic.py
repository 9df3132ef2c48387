"""``teleconform check-traffic FILE...``: validate recorded exchanges against the specs.

:func:`teleconform.traffic.main` (public API) parses its own arguments; the CLI hands it
everything after ``check-traffic``.
"""

from __future__ import annotations

from teleconform.traffic._check import build_parser, main

__all__ = ["build_parser", "main"]
