"""Interrupts: SIGTERM raised like Ctrl-C, which signal an interrupt came from, and a latch
that keeps it when Python drops the exception."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

log = logging.getLogger("teleconform.interrupts")


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


@contextlib.contextmanager
def latched_interrupts() -> Iterator[SignalLatch]:
    """SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so cleanup code in `finally` runs;
    both are latched, so an interrupt whose exception Python dropped is not lost (nor printed
    as a traceback: it goes to the log). The previous handlers and unraisable-exception hook
    come back afterwards (the command may run inside another program)."""
    latch = SignalLatch()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        latch.note("SIGTERM")
        raise Terminated

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        latch.note("SIGINT")
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield latch
        return
    previous_hook = sys.unraisablehook

    def dropped_interrupt(unraisable: Any) -> None:
        if latch.signal and isinstance(unraisable.exc_value, KeyboardInterrupt):
            log.info(
                "%s arrived where Python drops exceptions (%r); latched",
                latch.signal,
                unraisable.object,
            )
            return
        previous_hook(unraisable)

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_sigterm),
        signal.SIGINT: signal.signal(signal.SIGINT, on_sigint),
    }
    sys.unraisablehook = dropped_interrupt
    try:
        yield latch
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
