"""Interrupts: SIGTERM raised like Ctrl-C, and which signal an interrupt came from."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that cleanup runs; the exit status is 143, not 130."""


def signal_name(exc: BaseException) -> str:
    """Which signal an interrupt came from: SIGTERM or SIGINT."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


@dataclass(slots=True)
class SignalLatch:
    """The first signal that interrupted a run, kept even when its exception was lost.

    A signal handler raises in whatever code the main thread is running; inside a garbage
    collector callback (hypothesis installs one) CPython prints that exception and drops it.
    The latch and the run's ``stop`` event survive: the runner starts no further check and
    the command still reports the interrupt and exits 130/143.
    """

    stop: threading.Event = field(default_factory=threading.Event)
    signal: str = ""

    def note(self, name: str) -> None:
        """Record ``name`` ("SIGINT"/"SIGTERM") unless an earlier signal was, and stop."""
        self.signal = self.signal or name
        self.stop.set()
