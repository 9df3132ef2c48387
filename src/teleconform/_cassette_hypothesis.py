"""Keep generated cases identical between a recording and its replay.

Hypothesis mixes literals found in "local" modules (anything loaded from outside
site-packages: the suites, an editable install, ``__main__``) into its draws, from sets
whose order follows PYTHONHASHSEED. A recording process (which has the sandboxes loaded) and
its replay (which has not) would then generate different cases from the same seed. While a
record or replay session is open, that pool is emptied; Hypothesis' own built-in constants
still apply. This reaches into Hypothesis internals (4.x schemathesis / 6.x hypothesis); if
they move, nothing is patched, and the version check of the cassettes already asks for a
re-recording whenever Hypothesis changes.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_depth = 0
_saved: dict[str, Any] = {}


def pin_generation() -> None:
    """Empty Hypothesis' pool of local constants (nests; pair with ``unpin_generation``)."""
    global _depth
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        try:
            from hypothesis.internal.conjecture import providers
            from hypothesis.internal.constants_ast import Constants
        except ImportError:  # pragma: no cover - a Hypothesis without the constants pool
            return
        if not hasattr(providers, "_get_local_constants"):  # pragma: no cover
            return
        from hypothesis.internal.cache import LRUCache

        _saved["get"] = providers._get_local_constants
        _saved["cache"] = providers.CONSTANTS_CACHE
        providers._get_local_constants = Constants
        # The cache holds constants already filtered per kind of draw, local ones included.
        providers.CONSTANTS_CACHE = LRUCache(1024)


def unpin_generation() -> None:
    """Undo one ``pin_generation``; the last one restores Hypothesis' behaviour."""
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth or "get" not in _saved:
            return
        from hypothesis.internal.conjecture import providers

        providers._get_local_constants = _saved.pop("get")
        providers.CONSTANTS_CACHE = _saved.pop("cache")
