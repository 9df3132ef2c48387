"""The cleanup ledger: what a run created on a target, written to disk before each create.

One JSON object per line. The first line names the API, target and run; then ``pending``
lines (a write is about to be sent), ``created`` lines (what it made and how to undo it) and
``cleaned`` / ``not_cleaned`` lines. ``teleconform cleanup LEDGER`` finishes a killed run's job.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Ledger:
    """Append-only, flushed on every line so a killed run leaves a usable file."""

    def __init__(self, path: Path | None, api: str, base_url: str, run_id: str) -> None:
        self.path = path
        self.api = api
        self.base_url = base_url
        self.run_id = run_id
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write(
                {
                    "ledger": 1,
                    "api": api,
                    "base_url": base_url,
                    "run_id": run_id,
                    "started": time.time(),
                }
            )

    def _write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()

    def pending(self, method: str, path: str, label: str) -> None:
        """A write is about to be sent; if the run dies now, an operator knows where to look."""
        self._write({"pending": method, "path": path, "label": label, "at": time.time()})

    def created(
        self, kind: str, ident: str, cleanup: tuple[str, str] | list[str] | None
    ) -> dict[str, Any]:
        entry = {"kind": kind, "id": ident, "cleanup": list(cleanup) if cleanup else None}
        with self._lock:
            self.entries.append(entry)
        self._write({"created": entry})
        return entry

    def outcome(self, entry: dict[str, Any], cleaned: bool, detail: str) -> None:
        self._write({"cleaned" if cleaned else "not_cleaned": entry, "detail": detail})


def read_ledger(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the entries still to clean (created and not yet cleaned)."""
    header: dict[str, Any] | None = None
    created: list[dict[str, Any]] = []
    cleaned: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == 1:
                raise ValueError(f"{path} is not a teleconform ledger") from exc
            continue  # a run killed mid-write leaves a torn last line
        if header is None:
            if record.get("ledger") != 1:
                raise ValueError(f"{path} is not a teleconform ledger")
            header = record
        elif "created" in record:
            created.append(record["created"])
        elif "cleaned" in record:
            cleaned.append(record["cleaned"])
    if header is None:
        raise ValueError(f"{path} is empty")
    remaining = [e for e in created if e not in cleaned]
    return header, remaining
