"""Summarise a pyinstrument session: where a teleconform run spends its time.

Only the main thread is sampled: time the in-process sandbox (a uvicorn thread) spends
answering shows up as the client waiting in socket calls.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

# (label, function name, path suffix): inclusive time of these frames, recursion counted once.
LANDMARKS: tuple[tuple[str, str, str], ...] = (
    ("property tests (both APIs)", "run_property_tests", "teleconform/properties.py"),
    (
        "  case generation (Hypothesis + schemathesis strategies)",
        "generate",
        "teleconform/_properties_gen.py",
    ),
    ("  sending generated cases (incl. the sandbox's answer)", "_send", "properties.py"),
    ("  sending generated cases (incl. the sandbox's answer)", "_send", "_properties_run.py"),
    ("  response validation (schemathesis checks)", "validate", "teleconform/_properties_check.py"),
    ("  spec loading (once per process)", "load_spec", "teleconform/_properties_spec.py"),
    ("every HTTP request (engine client)", "request", "teleconform/runner/_http.py"),
    ("suite import (load_checks)", "load_checks", "teleconform/runner/_loading.py"),
    ("cleanup of created resources", "clean_up", "teleconform/runner/_cleanup.py"),
    ("report writing", "write_reports", "teleconform/report/__init__.py"),
    ("sandbox start", "start", "teleconform/runner/_targets.py"),
    ("sandbox stop", "stop", "teleconform/runner/_targets.py"),
)


def _package(frame: Any) -> str:
    path = str(frame.file_path_short or "")
    if path.startswith("<built-in>") or not path:
        return "built-in"
    if "suites/" in str(frame.file_path or ""):
        return "suites"
    head = path.split("/", 1)[0]
    return head.removesuffix(".py")


def top_costs(session_path: Path, limit: int = 10) -> dict[str, Any]:
    """Durations of the landmarks, the check functions, and self time per package."""
    from pyinstrument.session import Session

    session = Session.load(str(session_path))
    root = session.root_frame()
    landmarks: dict[str, float] = defaultdict(float)
    checks: dict[str, float] = defaultdict(float)
    packages: dict[str, float] = defaultdict(float)

    def walk(frame: Any, active: frozenset[str], parent: Any) -> None:
        path = str(frame.file_path or "")
        for label, function, suffix in LANDMARKS:
            if frame.function == function and path.endswith(suffix) and label not in active:
                landmarks[label] += frame.time
                active = active | {label}
        if parent is not None and parent.function == "_run_check" and "suites/" in path:
            checks[f"{Path(path).parent.name}/{Path(path).name}:{frame.function}"] += frame.time
        if frame.function != "[self]":
            # Own time: what the children (bar pyinstrument's synthetic [self]) do not cover.
            own = frame.time - sum(c.time for c in frame.children if c.function != "[self]")
            package = _package(frame)
            if package == "built-in" and frame.function.startswith("socket."):
                package = "socket I/O (waiting for the in-process sandbox thread)"
            elif package == "built-in":
                package = "built-in functions"
            packages[package] += max(own, 0.0)
        for child in frame.children:
            walk(child, active, frame)

    walk(root, frozenset(), None)
    duration = float(session.duration)

    def ranked(values: dict[str, float]) -> list[list[Any]]:
        items = sorted(values.items(), key=lambda kv: -kv[1])[:limit]
        return [
            [name, round(seconds, 2), round(100 * seconds / duration, 1)] for name, seconds in items
        ]

    return {
        "duration_s": round(duration, 2),
        "cpu_s": round(float(getattr(session, "cpu_time", 0.0) or 0.0), 2),
        "landmarks": [
            [label, round(landmarks[label], 2), round(100 * landmarks[label] / duration, 1)]
            for label in dict.fromkeys(label for label, _, _ in LANDMARKS)
            if label in landmarks
        ],
        "checks": ranked(checks),
        "packages": ranked(packages),
    }
