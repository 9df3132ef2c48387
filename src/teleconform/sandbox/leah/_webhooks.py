"""Webhooks of the Leah sandbox (test control): receivers, the guest-online event, delivery.

Delivery: JSON POSTs with retry and backoff, in a thread.

Policy: up to ``ATTEMPTS`` attempts per receiver; an attempt succeeds only on HTTP 200; after
failed attempt n the sender waits ``BACKOFF_S[n-1] * factor`` seconds (0.5 s, 1 s, then gives
up after the third). Each attempt is recorded as a Delivery.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from teleconform.sandbox.leah._appointments import find_appointment
from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import PLAIN_JSON, encode
from teleconform.sandbox.leah._store import Delivery
from teleconform.sandbox.leah._validation import json_object

ATTEMPTS = 3
BACKOFF_S = (0.5, 1.0, 2.0)
TIMEOUT_S = 5.0


def _post(url: str, body: bytes) -> tuple[int | None, str | None]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "leah-sandbox-webhooks/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            response.read()
            return int(response.status), None
    except urllib.error.HTTPError as exc:
        return int(exc.code), None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def deliver_all(
    urls: Sequence[str], event: dict[str, Any], factor: float, record: Callable[[Delivery], None]
) -> threading.Thread:
    """Start a daemon thread that delivers ``event`` to every URL; returns the thread."""
    body = json.dumps(event).encode("utf-8")
    name = str(event.get("event"))

    def run() -> None:
        for url in urls:
            for attempt in range(1, ATTEMPTS + 1):
                status, error = _post(url, body)
                at = datetime.now(UTC).isoformat(timespec="milliseconds")
                record(Delivery(url, name, attempt, status, error, at))
                if status == 200:
                    break
                if attempt < ATTEMPTS:
                    time.sleep(BACKOFF_S[attempt - 1] * factor)

    thread = threading.Thread(target=run, name="leah-webhooks", daemon=True)
    thread.start()
    return thread


async def register_webhook(ctx: Ctx) -> Response:
    """POST /_sandbox/webhooks {url}: add a receiver (test control)."""
    authenticate(ctx)
    body = await json_object(ctx)
    url = body.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
        return JSONResponse({"detail": "url must be an http(s) URL"}, status_code=422)
    with ctx.state.lock:
        if url not in ctx.state.webhook_urls:
            ctx.state.webhook_urls.append(url)
        count = len(ctx.state.webhook_urls)
    return JSONResponse({"url": url, "receivers": count}, status_code=201)


async def list_deliveries(ctx: Ctx) -> Response:
    """GET /_sandbox/webhooks/deliveries: every attempt so far (test control)."""
    authenticate(ctx)
    with ctx.state.lock:
        rows = [
            {
                "url": d.url,
                "event": d.event,
                "attempt": d.attempt,
                "status": d.status,
                "error": d.error,
                "at": d.at,
            }
            for d in ctx.state.deliveries
        ]
    return Response(encode(rows), media_type=PLAIN_JSON)


async def guest_online(ctx: Ctx) -> Response:
    """POST /_sandbox/appointments/{id}/guest-online: send the event (test control)."""
    authenticate(ctx)
    appt = find_appointment(ctx)
    payload: dict[str, Any] = {"externalId": appt.external_id, "administrativeFileNumber": None}
    if ctx.on("webhook-payload-missing-externalId"):
        del payload["externalId"]
    name = "appointment.guest.online"
    if ctx.on("webhook-bad-event-name"):
        name = "appointment.guest_online"
    event = {"event": name, "payload": payload}
    with ctx.state.lock:
        urls = list(ctx.state.webhook_urls)
    if urls:
        deliver_all(urls, event, ctx.webhook_backoff, ctx.state.record_delivery)
    return JSONResponse({"event": event, "receivers": len(urls)}, status_code=202)
