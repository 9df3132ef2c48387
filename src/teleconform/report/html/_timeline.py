"""The SSO window timeline of report.html: where its bars, labels and ticks go.

Only geometry and label texts; the drawing itself is the template `_timeline.svg`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from teleconform.report._common import format_number

HEIGHT = 134


@dataclass(frozen=True)
class BarLabel:
    """A bar's label: inside the bar, right-aligned before its end, or just after it."""

    cls: str
    x: str
    text: str
    outside: bool


@dataclass(frozen=True)
class Tick:
    """One tick on the time axis and its label."""

    x: str
    label: str


@dataclass(frozen=True)
class Timeline:
    """One drawing of the timeline (the page has a wide and a narrow one)."""

    variant: str
    width: str
    sentence: str
    left: str
    axis_end: str
    documented_width: str
    accepted_width: str
    documented_x: str
    documented_label: BarLabel
    accepted_label: BarLabel
    whisker: str | None  # the path of the ± resolution whisker
    ticks: tuple[Tick, ...]


def _ticks(limit: float, most: int) -> Iterable[float]:
    """Tick positions (seconds) at the smallest round step giving at most `most` ticks."""
    for step in (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400):
        if limit / step <= most:
            break
    else:
        step = int(math.ceil(limit / most / 86400)) * 86400
    tick = 0.0
    while tick <= limit + 1e-9:
        yield tick
        tick += step


def duration_label(seconds: float) -> str:
    """A tick label: 0, whole hours, whole minutes, else seconds."""
    if seconds == 0:
        return "0"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{format_number(seconds)} s"


def _text_width(text: str) -> float:
    """Rough width in SVG units of 12px sans-serif text (labels go outside a too-short bar)."""
    return 7.0 * len(text)


def timeline(
    accepted: float, documented: float, resolution: float, sentence: str, width: float, variant: str
) -> Timeline:
    """The documented and the measured window as bars on one axis, `width` units wide."""
    # A scale a bit past the larger of both windows, so both ends are visible.
    limit = max(documented, accepted + resolution, 1.0) * 1.15
    left, right = (88.0, 16.0) if width < 500 else (110.0, 20.0)
    span = width - left - right

    def x(seconds: float) -> float:
        return left + max(0.0, min(seconds, limit)) / limit * span

    def bar_label(cls: str, text: str, end: float, after: float) -> BarLabel:
        if end - left >= _text_width(text) + 12:
            return BarLabel(cls, f"{end - 6:.1f}", text, outside=False)
        return BarLabel(cls, f"{after + 6:.1f}", text, outside=True)

    whisker = None
    lo = hi = x(accepted)
    if resolution:
        lo, hi = x(accepted - resolution), x(accepted + resolution)
        whisker = f"M{lo:.1f},62 V84 M{lo:.1f},73 H{hi:.1f} M{hi:.1f},62 V84"
    precision = f" ±{format_number(resolution)} s" if resolution else ""
    doc_text = f"{duration_label(documented)}" + (
        f" ({format_number(documented)} s)" if documented % 60 == 0 else ""
    )
    return Timeline(
        variant=variant,
        width=f"{width:.0f}",
        sentence=sentence,
        left=f"{left:.1f}",
        axis_end=f"{width - right:.1f}",
        documented_width=f"{x(documented) - left:.1f}",
        accepted_width=f"{x(accepted) - left:.1f}",
        documented_x=f"{x(documented):.1f}",
        documented_label=bar_label("doc", doc_text, x(documented), x(documented)),
        accepted_label=bar_label("acc", f"{format_number(accepted)} s{precision}", lo, hi),
        whisker=whisker,
        ticks=tuple(
            Tick(f"{x(t):.1f}", duration_label(t)) for t in _ticks(limit, max(4, int(span // 64)))
        ),
    )
