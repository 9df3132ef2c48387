"""What a sandbox served as a live target still holds after a run, compared with a report.

``leftovers`` reads ``GET /_sandbox/inventory`` and keeps what a run's cleanup did not
dispose of: invites, consultations not closed and patient accounts (HCW); appointments not
cancelled and transfers (Leah). A closed consultation and a cancelled appointment are as far
as the API goes: they stay as records and are not "left behind".
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from teleconform.sandbox import leah

KINDS = {
    "invites": "invite",
    "consultations": "consultation",
    "patient_accounts": "patient_account",
    "appointments": "appointment",
    "transfers": "transfer",
}
DISPOSED = {"consultation": {"closed"}, "appointment": {"cancelled"}}


def inventory(base_url: str) -> dict[str, list[dict[str, Any]]]:
    # the Leah sandbox's test routes want its key like the API; the HCW one ignores the header
    key = leah.CREDENTIALS["TELECONFORM_LEAH_API_KEY"]
    answer = httpx.get(
        base_url.rstrip("/") + "/_sandbox/inventory", headers={"LEAH-AUTH-TOKEN": key}, timeout=10
    )
    answer.raise_for_status()
    data: dict[str, list[dict[str, Any]]] = answer.json()
    return data


def everything(base_url: str) -> set[tuple[str, str]]:
    """(kind, id) of everything created after start, whatever became of it."""
    return {
        (KINDS[key], short_id(item["id"]))
        for key, items in inventory(base_url).items()
        if key in KINDS and isinstance(items, list)
        for item in items
    }


def leftovers(base_url: str) -> set[tuple[str, str]]:
    """(kind, id) of what is still there and not disposed of as far as the API allows."""
    found = set()
    for key, items in inventory(base_url).items():
        kind = KINDS.get(key)
        if kind is None or not isinstance(items, list):
            continue
        for item in items:
            if item.get("status") in DISPOSED.get(kind, ()):
                continue
            found.add((kind, short_id(item["id"])))
    return found


def short_id(ident: object) -> str:
    """An id as the inventories write it: a Leah IRI (/api/appointments/UUID) is its UUID."""
    return str(ident).rstrip("/").rsplit("/", 1)[-1]


def listed(left_behind: list[dict[str, Any]]) -> tuple[set[tuple[str, str]], Counter[str]]:
    """The report's left_behind as (kind, id) items, and counts of unidentified ones."""
    named = {(i["kind"], short_id(i["id"])) for i in left_behind if i.get("id") is not None}
    unnamed: Counter[str] = Counter()
    for item in left_behind:
        if item.get("id") is None:
            unnamed[item["kind"]] += int(item["count"])
    return named, unnamed


def unlisted(base_url: str, left_behind: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What is left on the target that the report does not list (unidentified items of a
    kind cover as many of that kind)."""
    named, unnamed = listed(left_behind)
    missing = []
    for kind, ident in sorted(leftovers(base_url) - named):
        if unnamed[kind] > 0:
            unnamed[kind] -= 1
            continue
        missing.append((kind, ident))
    return missing
