"""Replay: an httpx transport that answers from cassettes and never touches the network.

Matching (see also the teleconform.cassettes docstring): the outgoing request is redacted as
at recording, then placeholders (whose numbers depend on the order values were first seen)
and run ids are normalised. Candidates are the unused interactions of the request's clause
group (the ``teleconform.label`` request extension; all groups when it is absent) with the
same method and normalised path, in recorded order. The first candidate whose normalised
query and body also match is served; else the first whose query matches; else the first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from ._cassette_format import Cassette, Interaction
from .redact import Redactor

LABEL_EXTENSION = "teleconform.label"

_NORMALISE = [
    (re.compile(r"person-\d+(@|%40)redacted\.example"), "person-#@redacted.example"),
    (re.compile(r"(\+|%2B)1555010\d{4}"), "+1555010####"),
    (re.compile(r"\b(Name|REDACTED|redacted|file)-\d+"), r"\1-#"),
    (re.compile(r"\b0{3,}[1-9]\d{0,5}\b"), "0#"),
    (re.compile(r"\b1900-\d\d-\d\d"), "1900-#"),
    (re.compile(r"\b\d\d([./])\d\d[./]1900\b"), r"#\g<1>1900"),
    # JWT placeholders: any header, payload {"redacted": N}, fixed or empty signature.
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJyZWRhY3RlZCI6[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "JWT#"),
    # Run ids mark created resources and differ from run to run (teleconform._run, runner).
    (re.compile(r"\btc-[0-9a-f]{10}\b"), "tc-#"),
]


def normalise(text: str) -> str:
    """Text with placeholder numbers and run ids replaced by fixed marks."""
    for rx, repl in _NORMALISE:
        text = rx.sub(repl, text)
    return text


class NotInCassette(httpx.ConnectError):
    """A replayed request has no recorded counterpart ('not in cassette')."""


@dataclass(slots=True)
class _Entry:
    label: str
    item: Interaction
    query: str
    body: str
    used: bool = False


@dataclass(frozen=True, slots=True)
class _Key:
    method: str
    path: str


def _boundary(headers: Mapping[str, list[str]] | httpx.Headers) -> str | None:
    if isinstance(headers, httpx.Headers):
        ctype = headers.get("content-type", "")
    else:
        ctype = next((v[0] for k, v in headers.items() if k.lower() == "content-type" and v), "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    return m.group(1) if m else None


def _key_parts(
    method: str, url: str, body: str | None, boundary: str | None
) -> tuple[_Key, str, str]:
    parts = urlsplit(url)
    path = normalise(unquote(parts.path)).rstrip("/") or "/"
    query = "&".join(
        f"{k}={normalise(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    text = body or ""
    if boundary:
        text = text.replace(boundary, "BOUNDARY")
    return _Key(method.upper(), path), query, normalise(text)


class ReplayTransport(httpx.BaseTransport):
    """Serves the recorded responses of one API; unknown requests raise NotInCassette."""

    def __init__(self, api: str, cassettes: Iterable[Cassette], start: float) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._now = start
        self.redactor = Redactor()
        self._pools: dict[str, dict[_Key, list[_Entry]]] = {}
        self._all: dict[_Key, list[_Entry]] = {}
        entries: list[_Entry] = []
        for cassette in cassettes:
            pool = self._pools.setdefault(cassette.label, {})
            for item in cassette.interactions:
                key, query, body = _key_parts(
                    item.method, item.uri, item.request_body, _boundary(item.request_headers)
                )
                entry = _Entry(cassette.label, item, query, body)
                pool.setdefault(key, []).append(entry)
                entries.append(entry)
        for entry in sorted(entries, key=lambda e: e.item.at):
            key, _, _ = _key_parts(entry.item.method, entry.item.uri, None, None)
            self._all.setdefault(key, []).append(entry)
        self._last_error: tuple[httpx.Request, httpx.TransportError] | None = None
        self.served = 0

    def clock(self) -> float:
        """The recorded time of the latest served interaction (the run clock of a replay)."""
        return self._now

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self._last_error is not None and self._last_error[0] is request:
                raise self._last_error[1]  # a retry of a request whose recording failed
            label = request.extensions.get(LABEL_EXTENSION)
            body = request.read()
            redacted = self.redactor.redact_exchange({"request": {
                "method": request.method,
                "url": str(request.url),
                "body": body or None,
                "headers": [("content-type", request.headers.get("content-type", ""))],
            }})["request"]
            red_body = redacted.get("body")
            text = red_body.decode("utf-8", "replace") if isinstance(red_body, bytes) else ""
            key, query, norm_body = _key_parts(
                request.method, redacted["url"], text, _boundary(request.headers)
            )
            if label is None:
                pool = self._all
                where = f"the {self.api} cassettes"
            else:
                found = self._pools.get(str(label))
                where = f"cassette {self.api}/{label}.yaml"
                if found is None:
                    raise NotInCassette(
                        f"not in cassette: {request.method} {redacted['url']} "
                        f"(no cassette {self.api}/{label}.yaml)",
                        request=request,
                    )
                pool = found
            entry = _pick(pool.get(key, ()), query, norm_body)
            if entry is None:
                raise NotInCassette(
                    f"not in cassette: {request.method} {redacted['url']} (no unused recording "
                    f"of this request in {where})",
                    request=request,
                )
            entry.used = True
            self.served += 1
            item = entry.item
            self._now = max(self._now, item.at)
            if item.error is not None:
                exc = _replayed_error(item.error, request)
                self._last_error = (request, exc)
                raise exc
            headers = [(k, v) for k, values in item.response_headers.items() for v in values]
            return httpx.Response(
                item.status,
                headers=headers,
                content=item.response_body.encode("utf-8"),
                request=request,
                extensions={"reason_phrase": item.message.encode("ascii", "replace")},
            )

    def unused(self) -> list[tuple[str, Interaction]]:
        """Recorded interactions no request asked for (label, interaction)."""
        return [
            (e.label, e.item)
            for pool in self._pools.values()
            for entries in pool.values()
            for e in entries
            if not e.used
        ]


def _pick(candidates: Iterable[_Entry], query: str, body: str) -> _Entry | None:
    first: _Entry | None = None
    same_query: _Entry | None = None
    for entry in candidates:
        if entry.used:
            continue
        if entry.query == query:
            if entry.body == body:
                return entry
            if same_query is None:
                same_query = entry
        if first is None:
            first = entry
    return same_query or first


def _replayed_error(error: str, request: httpx.Request) -> httpx.TransportError:
    name = error.split(":", 1)[0].strip()
    cls = getattr(httpx, name, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.TransportError)):
        cls = httpx.TransportError
    return cls(f"replayed: {error}", request=request)
