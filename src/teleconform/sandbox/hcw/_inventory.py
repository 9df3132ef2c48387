"""Test control of the HCW@Home sandbox: what a run created (``GET /_sandbox/inventory``)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response

from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._store import Store


def inventory(app: Starlette) -> dict[str, Any]:
    """What exists in a sandbox app that was created after it started (test-only).

    ``{"api": "hcw", "profile": NAME, "invites": [{"id", "status"}], "consultations":
    [{"id", "status", "invite", "invite_exists"}], "patient_accounts": [{"id", "invite"}]}``;
    closed consultations are listed (with their status): the API has no way to remove one.
    """
    store: Store = app.state.store
    return {"api": "hcw", "profile": app.state.profile.name, **store.inventory()}


async def show_inventory(ctx: Ctx) -> Response:
    """GET /_sandbox/inventory: ``inventory()`` of this app (not part of the API)."""
    return JSONResponse(inventory(ctx.request.app))
