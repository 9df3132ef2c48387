"""Helpers for the report writer tests: the hand-written fixtures and small report builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of tests/fixtures/report/<name>.json."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def clause(cid: str, verdict: str = "pass", **extra: Any) -> dict[str, Any]:
    """A clause entry with the CONTRACT fields, overridable."""
    entry: dict[str, Any] = {
        "id": cid,
        "level": "MUST",
        "title": f"title of {cid}",
        "verdict": verdict,
        "waived": False,
        "reason": "",
        "evidence": [],
    }
    entry.update(extra)
    return entry


def report_with(*clauses: dict[str, Any], api: str = "hcw") -> dict[str, Any]:
    """A minimal one-run report around the given clauses (no totals: writers count)."""
    return {
        "schema_version": 1,
        "tool": {"name": "teleconform", "version": "0.1.0"},
        "seed": 7,
        "started_at": "2025-01-01T00:00:00Z",
        "finished_at": "2025-01-01T00:00:01Z",
        "runs": [
            {
                "api": api,
                "target": {"mode": "sandbox", "base_url": "http://127.0.0.1:1"},
                "clauses": list(clauses),
            }
        ],
    }
