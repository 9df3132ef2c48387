"""``teleconform cassettes audit DIR...``: find credentials and personal data left in cassettes.

:func:`teleconform.cassettes.audit.main` (also ``python -m teleconform.cassettes.audit``)
parses its own arguments; the CLI hands it everything after ``audit``.
"""

from __future__ import annotations

from teleconform.cassettes.audit import build_parser as build_audit_parser
from teleconform.cassettes.audit import main as audit_main

__all__ = ["audit_main", "build_audit_parser"]
