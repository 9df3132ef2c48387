"""The forwarding half of the proxy: an ASGI app that relays each exchange to the target.

Bodies stream both ways (a 15 MB upload is never held back before forwarding); a copy of
each body is kept for the validators. Only what RFC 9110 makes hop-by-hop changes: those
headers (section 7.6.1) are not forwarded, Host names the target (section 7.2), and the
framing of a streamed body is the connection's own. Redirects are answered to the client as
they are (never followed); cookies, authentication and compression pass through untouched
(the upstream transport is used directly: no client cookie jar, no added headers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# RFC 9110 section 7.6.1: connection-specific fields a proxy does not forward.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(slots=True)
class Relayed:
    """One exchange as it passed through (bodies as bytes on the wire, maybe compressed)."""

    method: str
    url: str  # the target URL the request went to
    request_headers: list[tuple[str, str]]  # as the client sent them
    request_body: bytes
    status: int  # 0: the target could not be reached
    response_headers: list[tuple[str, str]]
    response_body: bytes
    at: float
    elapsed_s: float
    error: str | None = None


def hop_by_hop(headers: list[tuple[str, str]]) -> set[str]:
    """The header names not to forward: the fixed set and those the Connection field names."""
    names = set(HOP_BY_HOP)
    for key, value in headers:
        if key.lower() == "connection":
            names |= {token.strip().lower() for token in value.split(",") if token.strip()}
    return names


def _decode(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


class ForwardingApp:
    """ASGI app: every HTTP request goes to ``target`` + its path; ``on_exchange`` gets a copy.

    ``on_exchange`` is called after the client has its whole answer; it must be quick (the
    proxy hands the copy to a worker thread).
    """

    def __init__(
        self,
        target: str,
        on_exchange: Callable[[Relayed], None],
        *,
        timeout_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(target)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")
        self.on_exchange = on_exchange
        self.clock = clock
        self.timeout = {
            "connect": timeout_s,
            "read": timeout_s,
            "write": timeout_s,
            "pool": timeout_s,
        }
        self.transport = httpx.AsyncHTTPTransport(retries=0)
        self._loop: asyncio.AbstractEventLoop | None = None

    def close(self, timeout_s: float = 5.0) -> None:
        """Close the upstream connections (from any thread, while the server still runs)."""
        if self._loop is None or self._loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(self.transport.aclose(), self._loop)
        try:
            future.result(timeout=timeout_s)
        except (TimeoutError, RuntimeError):
            pass

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self._loop = self._loop or asyncio.get_running_loop()
        await self._relay(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.transport.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _target_url(self, scope: Scope) -> str:
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{self.origin}{self.prefix}{path}" + (f"?{query}" if query else "")

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        at = self.clock()
        started = time.perf_counter()
        incoming = _decode(scope["headers"])
        dropped = hop_by_hop(incoming) | {"host"}
        forwarded = [(k, v) for k, v in incoming if k.lower() not in dropped]
        has_body = any(k.lower() in ("content-length", "transfer-encoding") for k, v in incoming)
        body = bytearray()

        async def request_body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientGone
                chunk = message.get("body", b"")
                if chunk:
                    body.extend(chunk)
                    yield chunk
                if not message.get("more_body", False):
                    return

        url = self._target_url(scope)
        request = httpx.Request(
            scope["method"],
            url,
            headers=forwarded,
            content=request_body() if has_body else None,
            extensions={"timeout": self.timeout},
        )
        status, response_headers, response_body = 0, [], bytearray()
        error = None
        try:
            response = await self.transport.handle_async_request(request)
        except ClientGone:
            return
        except httpx.HTTPError as exc:
            error = f"the target could not be reached: {type(exc).__name__}"
            await _answer_unreachable(send, error)
        else:
            status = response.status_code
            response_headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
            ]
            dropped_back = hop_by_hop(response_headers)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (k.encode("latin-1"), v.encode("latin-1"))
                        for k, v in response_headers
                        if k.lower() not in dropped_back
                    ],
                }
            )
            try:
                async for chunk in response.aiter_raw():
                    response_body.extend(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx.HTTPError as exc:
                # Too late for a 502: the client sees the connection end, as from the target.
                error = f"the target broke off its answer: {type(exc).__name__}"
            finally:
                await response.aclose()
            if error is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.on_exchange(
            Relayed(
                method=scope["method"],
                url=url,
                request_headers=incoming,
                request_body=bytes(body),
                status=status,
                response_headers=response_headers,
                response_body=bytes(response_body),
                at=at,
                elapsed_s=time.perf_counter() - started,
                error=error,
            )
        )


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


async def _answer_unreachable(send: Send, error: str) -> None:
    body = ('{"error": "teleconform proxy: ' + error + '"}').encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
