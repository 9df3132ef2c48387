"""The cleanup ledger: what a run created on a target, written to disk before each create.

One JSON object per line. The first line names the API, target and run; then ``pending``
lines (a write is about to be sent), ``created`` lines (what it made and how to undo it) and
``cleaned`` / ``not_cleaned`` lines. ``teleconform cleanup LEDGER`` finishes a killed run's job.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teleconform.report.model import LeftBehind

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Creation:
    """An operation that creates something on the target, as a suite declares it.

    ``ids``: JSON pointers to the created thing's id in a 2xx answer (first found wins);
    ``cleanup``: (method, path template) that removes it, the template's ``{id}`` and
    ``{name}`` filled from the answer's pointers in ``refs``; None when the API has no such
    operation, and then ``why`` says so in ``left_behind``. ``secret``: a pointer to a
    credential of the created thing, kept in memory only (a cleaner may use it to check
    that the thing is gone); ``parent``: the ref naming what it belongs to.
    """

    method: str
    path: str
    kind: str
    ids: tuple[str, ...]
    cleanup: tuple[str, str] | None = None
    why: str = ""
    refs: Mapping[str, str] | None = None
    secret: str | None = None
    parent: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if method.upper() != self.method:
            return False
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(pattern, path.rstrip("/") or "/") is not None


def pointer_value(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None."""
    value = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def left_behind(failures: Iterable[Mapping[str, Any]]) -> list[LeftBehind]:
    """The report's ``left_behind``: one item per thing with a known id, else per kind and why.

    ``failures`` are the entries cleanup could not remove (with ``why`` or ``detail``).
    """
    items: list[LeftBehind] = []
    unnamed: dict[tuple[str, str], LeftBehind] = {}
    for entry in failures:
        kind = str(entry.get("kind", "unknown"))
        why = str(entry.get("why") or f"cleanup failed: {entry.get('detail', 'unknown')}")
        ident = entry.get("id")
        if ident is None or ident == "":
            key = (kind, why)
            if key in unnamed:
                unnamed[key]["count"] += int(entry.get("count", 1))
                continue
            unnamed[key] = {
                "kind": kind,
                "id": None,
                "count": int(entry.get("count", 1)),
                "why": why,
            }
            items.append(unnamed[key])
        else:
            items.append({"kind": kind, "id": str(ident), "count": 1, "why": why})
    return items


class Ledger:
    """Append-only, flushed on every line so a killed run leaves a usable file."""

    def __init__(self, path: Path | None, api: str, base_url: str, run_id: str) -> None:
        self.path = path
        self.api = api
        self.base_url = base_url
        self.run_id = run_id
        self.entries: list[dict[str, Any]] = []
        self.interrupted = ""  # the signal that reached cleanup, if one did
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

    def pending(
        self, method: str, path: str, label: str, creates: str | None = None, n: str = ""
    ) -> None:
        """A write is about to be sent; if the run dies now, an operator knows where to look.

        ``creates``: the kind of thing this request creates when it succeeds; ``n`` numbers
        it, and its ``created`` or ``answered`` line carries the same number.
        """
        record: dict[str, Any] = {"pending": method, "path": path, "label": label}
        if creates:
            record.update(creates=creates, n=n)
        self._write({**record, "at": time.time()})

    def find(self, kind: str, ident: str) -> dict[str, Any] | None:
        """The entry of a thing already in the ledger."""
        with self._lock:
            for entry in self.entries:
                if entry.get("kind") == kind and entry.get("id") == ident:
                    return entry
        return None

    def created(
        self,
        kind: str,
        ident: str | None,
        cleanup: tuple[str, str] | list[str] | None,
        *,
        why: str = "",
        parent: str | None = None,
        n: str | None = None,
    ) -> dict[str, Any]:
        """Enter a created thing (once: a second entry of the same kind and id is ignored).

        ``ident`` None: something was (or may have been) created but could not be identified.
        """
        if ident is not None:
            existing = self.find(kind, ident)
            if existing is not None:
                if cleanup and not existing.get("cleanup"):
                    existing["cleanup"] = list(cleanup)
                return existing
        entry: dict[str, Any] = {
            "kind": kind,
            "id": ident,
            "cleanup": list(cleanup) if cleanup else None,
        }
        if why:
            entry["why"] = why
        if parent:
            entry["parent"] = parent
        with self._lock:
            self.entries.append(entry)
        self._write({"created": entry} if n is None else {"created": entry, "n": n})
        return entry

    def answered(self, n: str, status: int) -> None:
        """Creating request ``n`` got an answer that created nothing (closes its ``pending``)."""
        self._write({"answered": status, "n": n})

    def outcome(self, entry: dict[str, Any], cleaned: bool, detail: str) -> None:
        self._write({"cleaned" if cleaned else "not_cleaned": entry, "detail": detail})


def left_behind_lines(api: str, base_url: str, items: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a run (or ``teleconform cleanup``) left on a live target, said plainly."""
    if not items:
        return [f"{api}: nothing left behind on {base_url}"]
    total = sum(int(i.get("count", 1)) for i in items)
    lines = [f"{api}: LEFT BEHIND on {base_url}: {total} (see left_behind in report.json)"]
    for item in items:
        ident = item.get("id") or f"{item.get('count', 1)} unidentified"
        lines.append(f"  {item['kind']} {ident}: {item['why']}")
    return lines


def read_ledger(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the entries still to clean (created and not yet cleaned).

    A ``pending`` creation that never got its ``created`` line (the run died while waiting
    for the answer) is returned as an entry without an id: it may exist.
    """
    header: dict[str, Any] | None = None
    created: list[dict[str, Any]] = []
    cleaned: set[tuple[Any, Any]] = set()
    unanswered: dict[Any, dict[str, Any]] = {}
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
            unanswered.pop(record.get("n"), None)
            created.append(record["created"])
        elif "cleaned" in record:
            entry = record["cleaned"]
            cleaned.add((entry.get("kind"), entry.get("id")))
        elif record.get("creates"):
            unanswered[record.get("n")] = {
                "kind": record["creates"],
                "id": None,
                "cleanup": None,
                "why": f"{record['pending']} {record.get('path', '')} was sent and its answer "
                "not recorded: it may have created one",
            }
        elif "answered" in record:
            unanswered.pop(record.get("n"), None)
    if header is None:
        raise ValueError(f"{path} is empty")
    remaining = [
        e for e in created if e.get("id") is None or (e.get("kind"), e.get("id")) not in cleaned
    ]
    return header, remaining + list(unanswered.values())
