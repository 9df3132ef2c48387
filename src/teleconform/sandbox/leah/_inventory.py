"""Test control of the Leah sandbox: what a run created (``GET /_sandbox/inventory``)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from starlette.applications import Starlette
from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx, Sandbox
from teleconform.sandbox.leah._render import PLAIN_JSON


def inventory(app: Starlette) -> dict[str, list[Any]]:
    """What exists in a sandbox app that was created after it started (test-only).

    ``{"appointments": [{"id", "status"}], "transfers": [{"id", "files"}],
    "webhook_receivers": [url]}``, in creation order; what ``GET /_sandbox/inventory`` answers.
    """
    sandbox: Sandbox = app.state.leah
    return sandbox.inventory()


async def show_inventory(ctx: Ctx) -> Response:
    """GET /_sandbox/inventory: ``inventory()`` as stable JSON (not part of the API)."""
    # readable with the key even when a fault makes the API refuse it
    authenticate(replace(ctx, faults=ctx.faults - {"valid-key-refused"}))
    text = json.dumps(ctx.app.inventory(), sort_keys=True, separators=(",", ":"))
    return Response(text.encode("utf-8"), media_type=PLAIN_JSON)
