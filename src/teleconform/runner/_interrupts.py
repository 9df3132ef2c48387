"""Interrupts: SIGTERM raised like Ctrl-C, and which signal an interrupt came from."""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that cleanup runs; the exit status is 143, not 130."""


def signal_name(exc: BaseException) -> str:
    """Which signal an interrupt came from: SIGTERM or SIGINT."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
