"""A sandbox served on loopback with a tap recording what its app receives and sends, and
the proxy in front of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from teleconform.proxy import Proxy
from teleconform.runner import sandbox_credentials
from teleconform.sandbox import hcw, leah
from teleconform.sandbox._server import ThreadedServer

Message = MutableMapping[str, Any]


@dataclass
class Seen:
    """One exchange as the sandbox app saw it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytearray = field(default_factory=bytearray)


class Tap:
    """ASGI middleware keeping, per request, the bytes the app received and sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.seen: list[Seen] = []

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = Seen(
            scope["method"],
            scope["path"],
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        )
        self.seen.append(seen)

        async def tapped_receive() -> Message:
            message = await receive()
            seen.body.extend(message.get("body", b""))
            return message

        async def tapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                seen.response_headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                ]
            else:
                seen.response_body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, tapped_receive, tapped_send)


@dataclass
class Setup:
    tap: Tap
    upstream: str
    proxy: Proxy
    credentials: dict[str, str]


@contextmanager
def proxied(sandbox: str, faults: tuple[str, ...] = (), **proxy_kwargs: Any) -> Iterator[Setup]:
    module = hcw if sandbox == "hcw" else leah
    app = module.create_app(faults=faults)
    tap = Tap(app)
    with ThreadedServer(tap) as server:
        proxy = Proxy(server.base_url, credentials={}, **proxy_kwargs)
        with proxy:
            yield Setup(tap, server.base_url, proxy, sandbox_credentials(sandbox, app))
