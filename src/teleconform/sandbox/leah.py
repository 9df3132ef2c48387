"""Leah reference sandbox: an in-memory API Platform JSON-LD/Hydra API as Leah documents it.

Endpoints (all need the header ``LEAH-AUTH-TOKEN``; a missing or wrong key gets 401, no data):

- ``GET /api/healthcare_workers`` (filter ``email``), ``GET /api/offices`` (filter
  ``healthcareWorker.email``): Hydra collections, ``page`` (1-based) and client-controlled
  ``itemsPerPage``; ``hydra:view`` and ``hydra:search`` written as API Platform writes them.
- ``POST /api/appointments`` (application/json or application/ld+json) → 201;
  ``GET``/``PATCH /api/appointments/{id}`` (PATCH only as application/merge-patch+json).
  A startTime without offset is UTC; startTime must lie in the future (run clock).
- ``POST /api/transfers`` → 201, ``GET /api/transfers/{id}``,
  ``POST /api/transfers/{id}/files`` (multipart, repeatable ``file[]``: png/jpg/pdf by content
  and name, at most 15,000,000 bytes each, at most 10 per transfer),
  ``POST /api/transfers/{id}/share`` ``{email}``.
- ``GET /api``, ``GET /api/contexts/{Type}``, item GETs of workers and offices.

Test control (not part of Leah's API, API key required):

- ``POST /_sandbox/webhooks {"url": ...}`` registers a receiver.
- ``POST /_sandbox/appointments/{id}/guest-online`` makes the sandbox POST
  ``{"event": "appointment.guest.online", "payload": {"externalId": ..., "administrativeFileNumber":
  null}}`` to every receiver from a background thread. Retry policy: up to 3 attempts per
  receiver, an attempt succeeds only on 200; after a failure it waits 0.5 s then 1 s, each
  multiplied by ``create_app(webhook_backoff=...)`` (use e.g. 0.01 in tests).
- ``GET /_sandbox/webhooks/deliveries`` lists every attempt (url, event, attempt, status, error).

Dialects: ``create_app(hydra_prefix=True)`` (default, as in Leah's documentation: API Platform
2.x style, ``hydra:`` keys, legacy ld+json errors, nulls kept) or ``False`` (API Platform 4.x:
unprefixed keys, application/problem+json errors, nulls skipped).

Faults: ``FAULTS`` (name → clauses it breaks); switch them on for the app with
``create_app(faults=[...])`` or per request with the header ``X-Teleconform-Fault: a,b``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._faults import Fault, check_fault_names
from ._leah_api import LeahApi, Reject
from ._leah_data import SEED, LeahState
from ._leah_faults import LEAH_FAULTS
from ._leah_inventory import inventory_route
from ._leah_render import Dialect

__all__ = ["CREDENTIALS", "DEFAULT_PAGE_SIZE", "FAULTS", "create_app"]

FAULTS: dict[str, Fault] = LEAH_FAULTS
DEFAULT_PAGE_SIZE = 30
CREDENTIALS: dict[str, str] = {
    "TELECONFORM_LEAH_API_KEY": SEED.api_key,
    "TELECONFORM_LEAH_HCW_EMAIL": SEED.configured_worker.email,
}


def create_app(
    *,
    faults: Iterable[str] = (),
    clock: Callable[[], float] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    hydra_prefix: bool = True,
    webhook_backoff: float = 1.0,
) -> Starlette:
    """A fresh Leah sandbox app (its own state) with the given faults switched on.

    ``clock`` returns epoch seconds (default ``time.time``); it dates transfers and decides
    what a future startTime is. ``app.state.leah`` exposes the handler object for tests.
    """
    if page_size < 1:
        raise ValueError("page_size must be >= 1")
    api = LeahApi(
        state=LeahState(SEED),
        dialect=Dialect(prefixed=hydra_prefix),
        page_size=page_size,
        clock=clock or time.time,
        faults=check_fault_names(faults, FAULTS),
        webhook_backoff=webhook_backoff,
    )
    routes = [
        Route("/api", api.entrypoint, methods=["GET"]),
        Route("/api/contexts/{name}", api.context, methods=["GET"]),
        Route("/api/healthcare_workers", api.list_workers, methods=["GET"]),
        Route("/api/healthcare_workers/{id}", api.get_worker, methods=["GET"]),
        Route("/api/offices", api.list_offices, methods=["GET"]),
        Route("/api/offices/{id}", api.get_office, methods=["GET"]),
        Route("/api/appointments", api.create_appointment, methods=["POST"]),
        Route("/api/appointments/{id}", api.appointment_item, methods=["GET", "PATCH"]),
        Route("/api/transfers", api.create_transfer, methods=["POST"]),
        Route("/api/transfers/{id}", api.get_transfer, methods=["GET"]),
        Route("/api/transfers/{id}/files", api.upload_files, methods=["POST"]),
        Route("/api/transfers/{id}/share", api.share_transfer, methods=["POST"]),
        Route("/_sandbox/webhooks", api.register_webhook, methods=["POST"]),
        Route("/_sandbox/webhooks/deliveries", api.list_deliveries, methods=["GET"]),
        Route("/_sandbox/appointments/{id}/guest-online", api.guest_online, methods=["POST"]),
        Route("/_sandbox/inventory", inventory_route(api.state), methods=["GET"]),
    ]

    async def rejected(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Reject)
        return exc.response

    app = Starlette(
        routes=routes,
        exception_handlers={Reject: rejected, HTTPException: api.http_error, Exception: api.crash},
    )
    app.state.credentials = dict(CREDENTIALS)
    app.state.leah = api
    app.state.faults = sorted(api.faults)
    return app
