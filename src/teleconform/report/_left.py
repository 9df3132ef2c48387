"""What a live run left on its target (``left_behind``), in words for the report writers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def left_behind_items(run: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The run's left_behind items, or None when the run had no live target to leave on."""
    target = run.get("target")
    items = run.get("left_behind")
    if not isinstance(items, list):
        items = []
    live = isinstance(target, Mapping) and target.get("mode") == "live"
    if not live and not items:
        return None
    return [i for i in items if isinstance(i, Mapping)]


def left_behind_sentence(items: list[Mapping[str, Any]]) -> str:
    """The headline: "Nothing left behind on the target." or "Left behind on the target: N."."""
    if not items:
        return "Nothing left behind on the target: everything this run created was removed."
    total = sum(_count(i) for i in items)
    return (
        f"Left behind on the target: {total} (the API offers no way to remove them, "
        "or their removal failed)."
    )


def item_text(item: Mapping[str, Any]) -> str:
    """One item: kind, id (or how many unidentified), why."""
    ident = item.get("id") or f"{_count(item)} unidentified"
    return f"{item.get('kind', '?')} {ident}: {item.get('why', '')}"


def _count(item: Mapping[str, Any]) -> int:
    value = item.get("count", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
