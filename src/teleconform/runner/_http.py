"""The one HTTP client every check and property test goes through.

It owns the base URL, timeouts, the run-wide rate limit (live targets), 429 Retry-After,
retries of idempotent requests on connection errors, extra headers, and the exchange log
that recording and evidence read.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_RETRY_AFTER_S = 30.0


class TransportError(Exception):
    """A request got no HTTP response (connection refused, DNS, TLS, timeout)."""

    def __init__(self, method: str, url: str, cause: BaseException) -> None:
        kind = type(cause).__name__
        super().__init__(f"{method} {url}: no response ({kind}: {cause})")
        self.method = method
        self.url = url
        self.cause = cause


class DeadlineReached(Exception):
    """The whole-run deadline passed, or the run was interrupted: no new request is sent
    (preflight and cleanup excepted)."""


# Phases the runner labels that must finish even after the deadline.
_DEADLINE_EXEMPT = frozenset({"preflight", "cleanup"})


class RateLimiter:
    """A thread-safe minimum spacing between requests (requests per second, run-wide)."""

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second  # what a worker process needs to share this limit
        self._interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> float:
        """Sleep until this caller's slot; returns the slot (``time.monotonic()`` seconds)."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return start

    def pause(self, seconds: float) -> None:
        """Push every later request back, e.g. after a 429 with Retry-After."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


class SharedRateLimiter(RateLimiter):
    """One rate limit for several processes (``run --workers`` under pytest-xdist).

    The next allowed send time lives in ``path``, read and advanced under ``flock``, so the
    workers of one run together keep to the limit exactly as threads of one process do.
    ``time.monotonic()`` is the system-wide CLOCK_MONOTONIC on Linux and macOS, so the
    processes of one machine agree on it.
    """

    def __init__(self, per_second: float | None, path: str | os.PathLike[str]) -> None:
        super().__init__(per_second)
        self.path = os.fspath(path)
        # created by the controller; opened by each process once
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _advance(self, update: Callable[[float, float], tuple[float, float]]) -> float:
        import fcntl

        with self._lock:  # flock is per open file: threads of one process need the lock too
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(self._fd, 8, 0)
                stored = struct.unpack("<d", raw)[0] if len(raw) == 8 else 0.0
                value, result = update(time.monotonic(), stored)
                os.pwrite(self._fd, struct.pack("<d", value), 0)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return result

    def wait(self) -> float:
        interval = self._interval
        start = self._advance(lambda now, nxt: (max(now, nxt) + interval, max(now, nxt)))
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return start

    def pause(self, seconds: float) -> None:
        self._advance(lambda now, nxt: (max(nxt, now + seconds), 0.0))

    def close(self) -> None:
        os.close(self._fd)


@dataclass(slots=True)
class Exchange:
    """One request and its response (or the error that replaced it)."""

    request: httpx.Request
    response: httpx.Response | None
    error: str | None = None
    elapsed_s: float = 0.0
    label: str = ""


@dataclass
class HttpClient:
    """Wraps an httpx.Client bound to one target."""

    base_url: str
    client: httpx.Client
    extra_headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 10.0
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    retries: int = 2
    on_exchange: list[Callable[[Exchange], None]] = field(default_factory=list)
    before_send: list[Callable[[httpx.Request], None]] = field(default_factory=list)
    sent: int = 0
    # The suite module (clause group) running now; recording files exchanges under it.
    label: str = ""
    # time.monotonic() after which checks may send nothing more (--deadline).
    deadline: float | None = None
    # Set when the run is interrupted (SIGTERM, Ctrl-C): worker threads, which the signal
    # does not reach, stop sending checks' requests and go on to cleanup.
    stop: threading.Event | None = None
    # Epoch seconds now: Retry-After HTTP-dates are measured against it (tests inject one).
    wall_clock: Callable[[], float] = time.time

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self, method: str, path: str, *, timeout: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        method = method.upper()
        headers = {**self.extra_headers, **(kwargs.pop("headers", None) or {})}
        request = self.client.build_request(
            method, self.url(path), headers=headers, timeout=timeout or self.timeout_s, **kwargs
        )
        request.extensions["teleconform.label"] = self.label  # replay matches per clause group
        for hook in self.before_send:
            hook(request)
        # 429 means "not processed": safe to repeat for any method; connection errors only
        # for idempotent ones, since a lost response may hide a completed write.
        attempts = self.retries + 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            self.limiter.wait()
            if (
                self.deadline is not None
                and self.label not in _DEADLINE_EXEMPT
                and time.monotonic() > self.deadline
            ):
                raise DeadlineReached(f"run deadline reached; {method} {request.url.path} not sent")
            if self.stop is not None and self.stop.is_set() and self.label not in _DEADLINE_EXEMPT:
                raise DeadlineReached(f"run interrupted; {method} {request.url.path} not sent")
            started = time.monotonic()
            try:
                response = self.client.send(request, follow_redirects=False)
                response.read()
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                elapsed = time.monotonic() - started
                # Only real connection errors: a replay's answer ("not in cassette", a recorded
                # error) is final, so waiting to ask again would only slow the run down.
                retryable = (
                    method in IDEMPOTENT
                    and isinstance(
                        exc, httpx.ConnectError | httpx.RemoteProtocolError | httpx.ReadError
                    )
                    and not getattr(exc, "final", False)
                )
                if retryable and not last:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                self._log(
                    Exchange(request, None, f"{type(exc).__name__}: {exc}", elapsed, self.label)
                )
                raise TransportError(method, str(request.url), exc) from exc
            self.sent += 1
            elapsed = time.monotonic() - started
            self._log(Exchange(request, response, None, elapsed, self.label))
            if response.status_code == 429 and not last:
                wait = _retry_after(response, self.wall_clock)
                if wait is not None and wait <= MAX_RETRY_AFTER_S:
                    self.limiter.pause(wait)
                    continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _log(self, exchange: Exchange) -> None:
        for hook in self.on_exchange:
            hook(exchange)

    def close(self) -> None:
        self.client.close()


def _retry_after(
    response: httpx.Response, wall_clock: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from a 429's Retry-After: delay-seconds or an HTTP-date (RFC 9110
    10.2.3), measured against ``wall_clock`` (epoch seconds); None when unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; a naive result means "-0000"
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - wall_clock())
