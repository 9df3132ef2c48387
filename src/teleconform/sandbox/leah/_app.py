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
  ``app.state.leah.inventory()`` in process.

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
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from teleconform.sandbox._faults import Fault, check_fault_names
from teleconform.sandbox._profiles import Profile, resolve_profile
from teleconform.sandbox.leah._faults import LEAH_FAULTS
from teleconform.sandbox.leah._validation import LeahApi, Reject
from teleconform.sandbox.leah._profiles import PROFILES, READINGS
from teleconform.sandbox.leah._render import Dialect
from teleconform.sandbox.leah._store import SEED, LeahState

__all__ = [
    "CREDENTIALS",
    "DEFAULT_PAGE_SIZE",
    "FAULTS",
    "PROFILES",
    "READINGS",
    "create_app",
    "resolve",
]

FAULTS: dict[str, Fault] = LEAH_FAULTS
DEFAULT_PAGE_SIZE = 30
CREDENTIALS: dict[str, str] = {
    "TELECONFORM_LEAH_API_KEY": SEED.api_key,
    "TELECONFORM_LEAH_HCW_EMAIL": SEED.configured_worker.email,
}


def resolve(profile: str | Profile | None = None) -> Profile:
    """A Leah profile by name, file path or object, with every reading filled in."""
    return resolve_profile(profile, "leah", PROFILES, READINGS, FAULTS)


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
    what a future startTime is. ``app.state.leah`` exposes the handler object for tests,
    ``app.state.profile`` the resolved profile.
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
    api = LeahApi(
        state=LeahState(SEED),
        dialect=dialect,
        page_size=int(readings["page_size"]),
        clock=clock or time.time,
        faults=chosen.faults | check_fault_names(faults, FAULTS),
        webhook_backoff=webhook_backoff,
        readings=readings,
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
        Route("/_sandbox/inventory", api.inventory_route, methods=["GET"]),
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
    app.state.profile = chosen
    return app
