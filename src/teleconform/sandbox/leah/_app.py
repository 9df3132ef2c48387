"""Leah reference sandbox: an in-memory API Platform JSON-LD/Hydra API as Leah documents it.

Endpoints (all need the header ``LEAH-AUTH-TOKEN``; a missing or wrong key gets 401, no data):

- ``GET /api/healthcare_workers`` (filter ``email``), ``GET /api/offices`` (filter
  ``healthcareWorker.email``): Hydra collections, ``page`` (1-based) and client-controlled
  ``itemsPerPage``; ``hydra:view`` and ``hydra:search`` written as API Platform writes them.
- ``POST /api/appointments`` (application/json or application/ld+json) → 201;
  ``GET``/``PATCH /api/appointments/{id}`` (PATCH only as application/merge-patch+json).
  A startTime without offset is UTC; startTime must lie in the future (run clock).
- ``POST /api/transfers`` → 201 (200 on some profiles), ``GET /api/transfers/{id}``,
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

- ``GET /_sandbox/inventory``: everything created since start (appointments still on the
  server with their status, transfers with their file count, webhook receivers), as stable JSON;
  ``inventory(app)`` in process.

Profiles: ``create_app(profile=NAME|Profile|path)`` picks a behaviour profile (``PROFILES``,
readings in ``READINGS``; default ``as-documented``, as in Leah's documentation: ``hydra:``
keys, escaped slashes, legacy ld+json errors, nulls kept). ``hydra_prefix``/``page_size``, when
given, override the profile's readings (``hydra_prefix=False``: API Platform 4.x unprefixed
keys, application/problem+json errors, nulls skipped).

Faults: ``FAULTS`` (name → clauses it breaks); switch them on for the app with
``create_app(faults=[...])`` (added to the profile's) or per request with the header
``X-Teleconform-Fault: a,b``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teleconform.sandbox._faults import FAULT_HEADER, check_fault_names, parse_fault_header
from teleconform.sandbox._profiles import Profile
from teleconform.sandbox.leah._appointments import appointment_item, create_appointment
from teleconform.sandbox.leah._context import Ctx, Dialect, Sandbox
from teleconform.sandbox.leah._discovery import entrypoint, jsonld_context
from teleconform.sandbox.leah._faults import FAULTS
from teleconform.sandbox.leah._inventory import inventory, show_inventory
from teleconform.sandbox.leah._offices import get_office, list_offices
from teleconform.sandbox.leah._profiles import PROFILES, READINGS, resolve
from teleconform.sandbox.leah._render import Reject, error_response, unrouted_response
from teleconform.sandbox.leah._store import CREDENTIALS, SEED, LeahState
from teleconform.sandbox.leah._transfers import (
    create_transfer,
    get_transfer,
    share_transfer,
    upload_files,
)
from teleconform.sandbox.leah._webhooks import guest_online, list_deliveries, register_webhook
from teleconform.sandbox.leah._workers import get_worker, list_workers

__all__ = [
    "CREDENTIALS",
    "FAULTS",
    "PROFILES",
    "READINGS",
    "create_app",
    "inventory",
    "resolve",
]

Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    *,
    profile: str | Profile | None = None,
    faults: Iterable[str] = (),
    clock: Callable[[], float] | None = None,
    page_size: int | None = None,
    hydra_prefix: bool | None = None,
    webhook_backoff: float = 1.0,
) -> Starlette:
    """A fresh Leah sandbox app (its own state) with a profile and the given faults on.

    ``clock`` returns epoch seconds (default ``time.time``); it dates transfers and decides
    what a future startTime is. ``app.state.leah`` is the app's ``Sandbox`` (state and
    settings, for tests), ``app.state.profile`` the resolved profile.
    """
    chosen = resolve(profile)
    readings = dict(chosen.readings)
    if page_size is not None:
        readings["page_size"] = page_size
    if hydra_prefix is not None:
        readings["hydra_prefix"] = hydra_prefix
    if readings["page_size"] < 1:
        raise ValueError("page_size must be >= 1")
    error_format = readings["error_format"]
    dialect = Dialect(
        prefixed=bool(readings["hydra_prefix"]),
        problem_errors=None if error_format == "by-version" else error_format == "problem+json",
        escape=readings["json_escaping"] == "php",
    )
    sandbox = Sandbox(
        state=LeahState(SEED),
        dialect=dialect,
        page_size=int(readings["page_size"]),
        clock=clock or time.time,
        faults=chosen.faults | check_fault_names(faults, FAULTS),
        webhook_backoff=webhook_backoff,
        readings=readings,
    )

    def wrap(handler: Callable[[Ctx], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            header = parse_fault_header(request.headers.get(FAULT_HEADER), FAULTS)
            ctx = Ctx(request, sandbox, sandbox.faults | header)
            try:
                return await handler(ctx)
            except Reject as rejected:
                return rejected.response

        return endpoint

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return unrouted_response(sandbox.dialect, request, exc)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(sandbox.dialect, 500, "Internal Server Error")

    routes = [
        Route("/api", wrap(entrypoint), methods=["GET"]),
        Route("/api/contexts/{name}", wrap(jsonld_context), methods=["GET"]),
        Route("/api/healthcare_workers", wrap(list_workers), methods=["GET"]),
        Route("/api/healthcare_workers/{id}", wrap(get_worker), methods=["GET"]),
        Route("/api/offices", wrap(list_offices), methods=["GET"]),
        Route("/api/offices/{id}", wrap(get_office), methods=["GET"]),
        Route("/api/appointments", wrap(create_appointment), methods=["POST"]),
        Route("/api/appointments/{id}", wrap(appointment_item), methods=["GET", "PATCH"]),
        Route("/api/transfers", wrap(create_transfer), methods=["POST"]),
        Route("/api/transfers/{id}", wrap(get_transfer), methods=["GET"]),
        Route("/api/transfers/{id}/files", wrap(upload_files), methods=["POST"]),
        Route("/api/transfers/{id}/share", wrap(share_transfer), methods=["POST"]),
        Route("/_sandbox/webhooks", wrap(register_webhook), methods=["POST"]),
        Route("/_sandbox/webhooks/deliveries", wrap(list_deliveries), methods=["GET"]),
        Route("/_sandbox/appointments/{id}/guest-online", wrap(guest_online), methods=["POST"]),
        Route("/_sandbox/inventory", wrap(show_inventory), methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.credentials = dict(CREDENTIALS)
    app.state.leah = sandbox
    app.state.faults = sorted(sandbox.faults)
    app.state.profile = chosen
    return app
