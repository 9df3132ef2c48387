"""`GET /_sandbox/inventory` of the HCW@Home sandbox: what exists that was created after start.

Test-only: a live-run test compares it, item by item, with a report's ``left_behind``. Shape:
``{"invites": [{"id"}], "consultations": [{"id", "status", "invite"}],
"patient_accounts": [{"id"}]}``; seeded records are not listed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._hcw_store import Store


def inventory(store: Store, seeded: frozenset[str]) -> dict[str, Any]:
    """Everything created after start that still exists (closed consultations included)."""
    return {
        "invites": [{"id": i} for i in store.invites if i not in seeded],
        "consultations": [
            {"id": c.id, "status": c.status, "invite": c.invite}
            for c in store.consultations.values()
        ],
        "patient_accounts": [
            {"id": u.id} for u in store.users.values() if u.role == "patient" and u.id not in seeded
        ],
    }


def inventory_route(store: Store) -> Any:
    """The endpoint; what exists when it is made counts as seeded."""
    seeded = frozenset(store.invites) | frozenset(store.users)

    async def endpoint(request: Request) -> Response:
        return JSONResponse(inventory(store, seeded))

    return endpoint
