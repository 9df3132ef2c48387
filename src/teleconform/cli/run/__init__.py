"""`teleconform run`: select (clauses, APIs) → targets (sandbox, live, replay) → executor
(sequential, threads, xdist processes) → report (document, baseline, summary, exit status)."""

from __future__ import annotations

from teleconform.cli.run._command import run_command

__all__ = ["run_command"]
