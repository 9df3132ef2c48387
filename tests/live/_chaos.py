"""A chaos reverse proxy for end-to-end tests of live-target behaviour.

``ChaosProxy(upstream_url, rules=[...])`` is an ASGI app (Starlette requests and responses)
served on 127.0.0.1 by ``ThreadedServer``. It forwards every request to the upstream sandbox
unless a ``Rule`` picks it, in which case it misbehaves like a broken server or gateway would:
added delay, a TCP reset, a garbage / truncated / empty body, an HTML 502 page, another
status, a 429 with Retry-After, a redirect loop or a hang. Every request is recorded in a
``RequestLog`` (which several proxies may share) with its monotonic arrival time, so tests
measure the request rate where a real server would see it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from teleconform.sandbox._server import ThreadedServer

ACTIONS = frozenset(
    {
        "delay",
        "reset",
        "garbage",
        "truncate",
        "html502",
        "empty",
        "status",
        "429",
        "redirect_loop",
        "hang",
    }
)
# Synthetic answers never reach the upstream: a misbehaving gateway swallowed the request.
_NOT_FORWARDED = frozenset(
    {
        "reset",
        "garbage",
        "html502",
        "status",
        "429",
        "redirect_loop",
        "hang",
    }
)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "host",
        "accept-encoding",
    }
)
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
GARBAGE = b'\x00\xff\xfe<<garbage>>\x1b[31m{"not": json\x00\x89PNG'


@dataclass
class Rule:
    """When and how to misbehave.

    ``path`` is a regex searched in the request path ("" matches every path) and ``method``
    restricts the rule to one method. The first ``skip`` matching requests pass untouched,
    then the rule applies ``times`` times (None: forever). ``armed_by`` ("METHOD regex")
    keeps the rule asleep until a request like that got a 2xx answer from the upstream.
    ``seconds`` is the delay, the hang or the Retry-After value; ``status`` the answer of
    the "status" action.
    """

    action: str
    path: str = ""
    method: str | None = None
    skip: int = 0
    times: int | None = None
    seconds: float = 0.0
    status: int = 500
    armed_by: str | None = None
    matched: int = 0
    applied: int = 0
    armed: bool = False

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown chaos action {self.action!r}")
        self.armed = self.armed_by is None

    def picks(self, method: str, path: str) -> bool:
        """Whether this request gets the rule's treatment (counts matches)."""
        if not self.armed or (self.method and self.method.upper() != method):
            return False
        if self.path and not re.search(self.path, path):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        self.applied += 1
        return True

    def observe(self, method: str, path: str, status: int) -> None:
        """Arm the rule when its trigger request was answered 2xx by the upstream."""
        if self.armed or self.armed_by is None or not 200 <= status < 300:
            return
        want_method, _, want_path = self.armed_by.partition(" ")
        if want_method.upper() == method and re.search(want_path, path):
            self.armed = True


@dataclass
class Seen:
    """One request as the proxy saw it."""

    at: float  # time.monotonic() at arrival
    proxy: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    action: str = "forward"
    status: int | None = None  # what the client was answered (None: reset or still hanging)
    upstream_status: int | None = None
    upstream_body: bytes = b""


class RequestLog:
    """Thread-safe record of requests, shareable by several proxies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[Seen] = []

    def add(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    @property
    def entries(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def max_in_window(self, window_s: float = 1.0, proxy: str | None = None) -> int:
        """The largest number of arrivals within any closed window of ``window_s`` seconds."""
        times = sorted(s.at for s in self.entries if proxy is None or s.proxy == proxy)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] > window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def count(self, proxy: str | None = None) -> int:
        return sum(1 for s in self.entries if proxy is None or s.proxy == proxy)


@dataclass
class ChaosProxy:
    """The proxy app; ``start()``/``stop()`` or a ``with`` block serve it on loopback."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    log: RequestLog = field(default_factory=RequestLog)
    name: str = "proxy"
    _server: ThreadedServer | None = None
    _client: httpx.AsyncClient | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _rules_lock: threading.Lock = field(default_factory=threading.Lock)

    # -- serving ----------------------------------------------------------------------------
    def start(self) -> ChaosProxy:
        self._server = ThreadedServer(self).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._client is not None and self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop).result(timeout=5)
            self._client = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "proxy not started"
        return self._server.base_url

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def set_rules(self, rules: Iterable[Rule]) -> None:
        """Replace the rules while serving (e.g. before a cleanup run)."""
        with self._rules_lock:
            self.rules = list(rules)

    def hanging(self) -> int:
        """Requests held by a hang rule right now."""
        return sum(
            1
            for s in self.log.entries
            if s.proxy == self.name and s.action == "hang" and s.status is None
        )

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        method, path = request.method.upper(), request.url.path
        seen = Seen(
            time.monotonic(),
            self.name,
            method,
            path,
            request.url.query,
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        self.log.add(seen)
        with self._rules_lock:
            rule = next((r for r in self.rules if r.picks(method, path)), None)
        action = rule.action if rule else "forward"
        seen.action = action
        if rule is not None and action in _NOT_FORWARDED:
            await self._misbehave(rule, seen, request, scope, receive, send)
            return
        if rule is not None and action == "delay":
            await asyncio.sleep(rule.seconds)
        upstream = await self._forward(request, body)
        seen.upstream_status, seen.upstream_body = upstream.status_code, upstream.content
        with self._rules_lock:
            for r in self.rules:
                r.observe(method, path, upstream.status_code)
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        content = upstream.content
        if action == "truncate":
            content = content[: max(1, len(content) // 2)]
        elif action == "empty":
            content = b""
        seen.status = upstream.status_code
        await Response(content, upstream.status_code, headers)(scope, receive, send)

    async def _forward(self, request: Request, body: bytes) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        # The upstream builds absolute URLs (SSO redirects) from Host: keep them on the proxy.
        headers.append(("host", request.headers.get("host", "")))
        headers.append(("accept-encoding", "identity"))
        # The raw (still percent-encoded) target: generated ids hold any character.
        raw = request.scope.get("raw_path") or request.url.path.encode()
        url = self.upstream.rstrip("/") + raw.decode("latin-1")
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            url += "?" + query
        if self._client is None:  # made in uvicorn's loop, closed there by stop()
            self._loop = asyncio.get_running_loop()
            self._client = httpx.AsyncClient(timeout=30.0)
        return await self._client.request(request.method, url, headers=headers, content=body)

    async def _misbehave(
        self,
        rule: Rule,
        seen: Seen,
        request: Request,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
    ) -> None:
        action = rule.action
        if action == "reset":
            _reset(send)
            await asyncio.sleep(0)
            return
        if action == "hang":
            await self._hang(request, rule.seconds)
            seen.status = 504
            await Response(b"", 504)(scope, receive, send)
            return
        response: Response
        if action == "garbage":
            response = Response(GARBAGE, 200, media_type="application/json")
        elif action == "html502":
            response = Response(HTML_502, 502, media_type="text/html")
        elif action == "status":
            response = Response(b'{"error": "chaos"}', rule.status, media_type="application/json")
        elif action == "429":
            response = Response(
                b'{"error": "Too Many Requests"}',
                429,
                {"Retry-After": str(int(rule.seconds))},
                media_type="application/json",
            )
        else:  # redirect_loop: the same URL again, forever
            location = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response = Response(b"", 302, {"Location": location})
        seen.status = response.status_code
        await response(scope, receive, send)

    async def _hang(self, request: Request, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stopping.is_set():
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.05)


def _reset(send: Any) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), before any byte of an answer.

    uvicorn's h11 protocol passes its bound ``send``; its cycle object owns the transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("reset needs uvicorn's h11 protocol (no transport on send)")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
