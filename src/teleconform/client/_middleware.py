"""ASGI middleware: feed every exchange of an app (a sandbox) to a client validator."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from teleconform.client._exchange import Exchange
from teleconform.client._validator import ClientValidator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _url(scope: Scope) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    scheme = scope.get("scheme", "http")
    server = scope.get("server")
    host = headers.get("host") or (f"{server[0]}:{server[1]}" if server else "localhost")
    path = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    text = path.decode("latin-1") if isinstance(path, bytes) else str(path)
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme}://{host}{text}" + (f"?{query}" if query else "")


def validating(
    app: ASGIApp, validator: ClientValidator, *, clock: Callable[[], float] = time.time
) -> ASGIApp:
    """``app`` answering exactly as before, with each HTTP exchange fed to ``validator``.

    ``clock`` stamps when each request arrived (give the sandbox's clock when it has one).
    Attributes of the wrapped app (``state``, with the sandbox's credentials) stay reachable
    through the returned app's ``app`` attribute.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        at = clock()
        # Read the whole request first: an app that answers without reading the body (a 401
        # on an upload) must not hide the body from the validator.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await app(scope, receive, send)  # the client went away; nothing to judge
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False
        response: dict[str, Any] = {"status": 0, "headers": [], "body": bytearray()}

        async def replaying_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = int(message["status"])
                response["headers"] = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                ]
            elif message["type"] == "http.response.body":
                response["body"].extend(message.get("body", b""))
            await send(message)

        try:
            await app(scope, replaying_receive, recording_send)
        finally:
            exchange = Exchange(
                method=scope["method"].upper(),
                url=_url(scope),
                request_headers=tuple(
                    (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]
                ),
                request_body=bytes(body),
                status=response["status"],
                response_headers=tuple((k.lower(), v) for k, v in response["headers"]),
                response_body=bytes(response["body"]),
                at=at,
            )
            validator.observe(exchange)

    middleware.app = app  # type: ignore[attr-defined]
    middleware.state = getattr(app, "state", None)  # type: ignore[attr-defined]
    return middleware
