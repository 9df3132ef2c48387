"""The in-process network guard of a replay: any attempt to reach the network is an error.

While a replay session is open, every httpx transport that would open a connection refuses
with an error naming the request, and any other socket connect (AF_INET/AF_INET6) refuses
with an error naming the address. The replay client's own transport serves the cassettes
and never gets here.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx

_lock = threading.Lock()
_depth = 0
_saved: dict[str, Any] = {}


class NetworkBlocked(ConnectionRefusedError):
    """A socket tried to connect during a replay."""


class ReplayNetworkBlocked(httpx.ConnectError):
    """An httpx request tried to reach the network during a replay."""


def _guarded_connect(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        raise NetworkBlocked(f"teleconform --replay blocks network access: connect to {address!r}")
    return _saved["connect"](sock, address)


def _guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        raise NetworkBlocked(f"teleconform --replay blocks network access: connect to {address!r}")
    return _saved["connect_ex"](sock, address)


def _blocked_message(request: httpx.Request) -> str:
    return f"teleconform --replay blocks network access: {request.method} {request.url}"


def _guarded_handle(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    raise ReplayNetworkBlocked(_blocked_message(request), request=request)


async def _guarded_handle_async(
    transport: httpx.AsyncHTTPTransport, request: httpx.Request
) -> httpx.Response:
    raise ReplayNetworkBlocked(_blocked_message(request), request=request)


def _patches() -> list[tuple[type, str, Any]]:
    return [
        (socket.socket, "connect", _guarded_connect),
        (socket.socket, "connect_ex", _guarded_connect_ex),
        (httpx.HTTPTransport, "handle_request", _guarded_handle),
        (httpx.AsyncHTTPTransport, "handle_async_request", _guarded_handle_async),
    ]


def block_network() -> None:
    """Start refusing network access (nests; each call needs one ``unblock_network``)."""
    global _depth
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        for owner, name, guarded in _patches():
            _saved[name] = getattr(owner, name)
            setattr(owner, name, guarded)


def unblock_network() -> None:
    """Undo one ``block_network``; the last one restores network access."""
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth:
            return
        for owner, name, _ in _patches():
            setattr(owner, name, _saved[name])
        _saved.clear()


def network_blocked() -> bool:
    """Whether a replay's guard is active."""
    return _depth > 0
