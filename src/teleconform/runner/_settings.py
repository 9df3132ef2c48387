"""RunSettings: everything one API run needs, as one value.

``run_api`` and the executors take one ``RunSettings``; a variation for one work unit is a
``dataclasses.replace``. What crosses to pytest-xdist workers (``workerinput``) is written
and read here only (``to_wire`` / ``from_wire``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from teleconform.catalogue import Clause
    from teleconform.redact._evidence import EvidenceBuilder
    from teleconform.runner._http import RateLimiter

Progress = Callable[[str, str, str], None]  # (api, clause id, verdict or "running")


@dataclass(frozen=True, slots=True)
class RunSettings:
    """One API run: where it goes, as whom, what it may do, and the hooks that watch it.

    ``clauses`` None runs every clause of the API. ``writes_allowed`` None means: allowed on
    a sandbox or a replay, not on a live target. ``deadline`` is a ``time.monotonic()`` time.
    ``state`` is the dict the checks share as ``ctx.state`` (the run writes into it).
    """

    api: str
    base_url: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    clauses: frozenset[str] | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0
    budget: str = "standard"
    mode: str = "sandbox"  # sandbox | live | replay
    client: httpx.Client | None = None
    writes_allowed: bool | None = None
    disruptive_allowed: bool = False
    timeout_s: float = 10.0
    rate_limiter: RateLimiter | None = None
    clock: Callable[[], float] | None = None
    run_id: str | None = None
    state: dict[str, Any] | None = None
    catalogue: Mapping[str, Clause] | None = None
    evidence: EvidenceBuilder | None = None
    on_exchange: tuple[Callable[[Any], None], ...] = ()
    on_created: Callable[[dict[str, Any]], None] | None = None
    deadline: float | None = None
    stop: threading.Event | None = None
    progress: Progress | None = None
    suites_root: Path | None = None
    ledger_path: Path | None = None
    cleanup: bool = True
    stream: str = ""  # the random stream of a work unit (two units must not share a jti)

    def __post_init__(self) -> None:
        # callers pass lists, sets or generators: one immutable form
        if self.clauses is not None and not isinstance(self.clauses, frozenset):
            object.__setattr__(self, "clauses", frozenset(self.clauses))
        if self.extra_headers is None:  # as run_api took it: no extra headers
            object.__setattr__(self, "extra_headers", {})
        if not isinstance(self.on_exchange, tuple):
            object.__setattr__(self, "on_exchange", tuple(self.on_exchange))

    @property
    def writes(self) -> bool:
        """Whether the checks may create or change data (``writes_allowed`` resolved)."""
        if self.writes_allowed is None:
            return self.mode in ("sandbox", "replay")
        return self.writes_allowed

    def to_wire(self) -> dict[str, Any]:
        """The JSON-able part, for a worker process (``from_wire`` reads it back).

        Process-local things (client, clock, hooks, stop event, limiter object) stay here;
        the limiter crosses as its rate, the deadline as an epoch time.
        """
        rate = self.rate_limiter.per_second if self.rate_limiter is not None else None
        return {
            "api": self.api,
            "base_url": self.base_url,
            "credentials": dict(self.credentials),
            "clauses": sorted(self.clauses) if self.clauses is not None else None,
            "extra_headers": dict(self.extra_headers),
            "seed": self.seed,
            "budget": self.budget,
            "mode": self.mode,
            "writes_allowed": self.writes,
            "disruptive_allowed": self.disruptive_allowed,
            "timeout_s": self.timeout_s,
            "rate_limit": rate,
            "run_id": self.run_id,
            "state": dict(self.state or {}),
            "deadline_at": time.time() + (self.deadline - time.monotonic())
            if self.deadline is not None
            else None,
            "ledger": str(self.ledger_path.resolve()) if self.ledger_path is not None else None,
            "cleanup": self.cleanup,
            "stream": self.stream,
        }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], **local: Any) -> RunSettings:
        """Settings from ``to_wire``'s dict, plus this process's ``local`` fields
        (``rate_limiter``, ``stop``, ...)."""
        deadline_at = data.get("deadline_at")
        deadline = time.monotonic() + (float(deadline_at) - time.time()) if deadline_at else None
        clauses: Iterable[str] | None = data.get("clauses")
        values: dict[str, Any] = {
            "api": str(data["api"]),
            "base_url": str(data["base_url"]),
            "credentials": dict(data.get("credentials") or {}),
            "clauses": frozenset(clauses) if clauses is not None else None,
            "extra_headers": dict(data.get("extra_headers") or {}),
            "seed": int(data["seed"]),
            "budget": str(data["budget"]),
            "mode": str(data["mode"]),
            "writes_allowed": bool(data["writes_allowed"]),
            "disruptive_allowed": bool(data["disruptive_allowed"]),
            "timeout_s": float(data["timeout_s"]),
            "run_id": data.get("run_id"),
            "state": dict(data.get("state") or {}),
            "deadline": deadline,
            "ledger_path": Path(data["ledger"]) if data.get("ledger") else None,
            "cleanup": bool(data.get("cleanup", True)),
            "stream": str(data.get("stream") or ""),
        }
        values.update(local)
        return cls(**values)

    @staticmethod
    def wire_rate_limit(data: Mapping[str, Any]) -> float | None:
        """The run-wide requests per second in ``to_wire``'s dict (for the worker's limiter)."""
        rate = data.get("rate_limit")
        return float(rate) if rate else None
