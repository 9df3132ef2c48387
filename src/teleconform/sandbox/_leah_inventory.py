"""`GET /_sandbox/inventory` of the Leah sandbox: what exists that was created after start.

Test-only: a live-run test compares it, item by item, with a report's ``left_behind``. Shape:
``{"appointments": [{"id", "status"}], "transfers": [{"id", "files"}]}``, ids as the API
shows them (the appointment's IRI, the transfer's id); seeded records are not listed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._leah_data import LeahState


def inventory(state: LeahState) -> dict[str, Any]:
    """Appointments (any status) and transfers (with their number of files)."""
    with state.lock:
        return {
            "appointments": [
                {"id": f"/api/appointments/{a.id}", "status": a.status}
                for a in state.appointments.values()
            ],
            "transfers": [{"id": t.id, "files": len(t.files)} for t in state.transfers.values()],
        }


def inventory_route(state: LeahState) -> Any:
    """The endpoint."""

    async def endpoint(request: Request) -> Response:
        return JSONResponse(inventory(state))

    return endpoint
