"""The baseline: accepted deviations (waivers) that keep a known failure from failing a gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import yaml

from teleconform._errors import ConfigError
from teleconform.report.model import Run

_WAIVER_KEYS = frozenset({"clause", "target", "reason", "expires"})


class Waiver(TypedDict):
    """An accepted deviation: clause id, target ("*", a mode or a base URL), why, until when."""

    clause: str
    target: str
    reason: str
    expires: dt.date


def load_baseline(path: str, known: Collection[str] | None = None) -> list[Waiver]:
    """Accepted deviations: entries with clause, target, reason, expires (YYYY-MM-DD).

    `known`: the catalogue's clause ids; a waiver for any other id is a typo that would
    silently waive nothing, so it is a configuration error.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--baseline {path}: unreadable ({type(exc).__name__})") from exc
    entries = data.get("waivers") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError(f"--baseline {path}: expected a list of waivers")
    checked: list[Waiver] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not _WAIVER_KEYS <= set(entry):
            raise ConfigError(f"--baseline {path}: entry {i} needs clause, target, reason, expires")
        for key in ("clause", "target", "reason"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise ConfigError(f"--baseline {path}: entry {i} {key} must be a non-empty string")
        if known is not None and entry["clause"] not in known:
            raise ConfigError(f"--baseline {path}: entry {i}: unknown clause id {entry['clause']}")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as exc:
                raise ConfigError(
                    f"--baseline {path}: entry {i} expires is not YYYY-MM-DD"
                ) from exc
        if isinstance(expires, dt.datetime):  # YAML reads `2026-01-31 12:00` as a datetime
            expires = expires.date()
        if not isinstance(expires, dt.date):
            raise ConfigError(f"--baseline {path}: entry {i} expires is not a date")
        checked.append(
            {
                "clause": entry["clause"],
                "target": entry["target"],
                "reason": entry["reason"],
                "expires": expires,
            }
        )
    return checked


def _waiver_target_matches(wanted: str, target: Mapping[str, Any]) -> bool:
    if wanted in ("*", target["mode"]):
        return True
    return wanted.rstrip("/") == str(target.get("base_url", "")).rstrip("/")


def apply_baseline(run: Run | dict[str, Any], waivers: Sequence[Waiver], today: dt.date) -> None:
    """Mark listed failures waived (until their expiry date, inclusive).

    ``run``: a `Run`, or (until `run` builds its document with `build_report`) its untyped
    dict.

    When several entries match a clause, a current one wins over expired ones, so renewing a
    waiver by appending an entry works.
    """
    for clause in run["clauses"]:
        if clause["verdict"] != "fail":
            continue
        matching = [
            w
            for w in waivers
            if w["clause"] == clause["id"] and _waiver_target_matches(w["target"], run["target"])
        ]
        if not matching:
            continue
        current = [w for w in matching if today <= w["expires"]]
        if current:
            w = max(current, key=lambda w: w["expires"])
            clause["waived"] = True
            clause["reason"] = f"{clause['reason']} [waived until {w['expires']}: {w['reason']}]"
        else:
            w = max(matching, key=lambda w: w["expires"])
            clause["reason"] = f"{clause['reason']} [waiver expired on {w['expires']}]"
