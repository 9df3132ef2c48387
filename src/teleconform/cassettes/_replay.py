"""Replay: an httpx transport that answers from cassettes and never touches the network.

Matching and the values put back into responses are described in teleconform.cassettes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from teleconform.cassettes._format import Cassette, Interaction
from teleconform.redact import Redactor

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
    # Run ids mark created resources and differ from run to run (teleconform.cli.run, runner).
    (re.compile(r"\btc-[0-9a-f]{10}\b"), "tc-#"),
]


# A redacted file's digest is keyed per recording (teleconform.redact): only its size compares.
_FILE_DIGEST = re.compile(r"\[redacted file (\d+) bytes [^\]]*\]")


def normalise(text: str) -> str:
    """Text with placeholder numbers, run ids and file digests replaced by fixed marks."""
    for rx, repl in _NORMALISE:
        text = rx.sub(repl, text)
    return _FILE_DIGEST.sub(r"[redacted file \1 bytes]", text)


# Any placeholder or run id, in plain or percent-encoded form.
_VARIABLE = re.compile("|".join(f"(?:{rx.pattern})" for rx, _ in _NORMALISE))
_PLACEHOLDER = re.compile("|".join(f"(?:{rx.pattern})" for rx, _ in _NORMALISE[:-1]))
_MAX_ALIGN_CHARS = 32 * 1024
_MAX_ALIGN_VARIABLES = 64


def _canonical(raw: str) -> str:
    return unquote(raw)


def align(recorded: str, redacted: str, sent: str, decode: Callable[[str], str]) -> dict[str, str]:
    """Which value ``sent`` holds where ``recorded`` holds a placeholder.

    ``redacted`` is ``sent`` redacted today: only when it normalises to the same text as
    ``recorded`` do the two stand for the same thing (the same kinds of values in the same
    places). ``recorded`` is then cut at its placeholders; if ``sent`` consists of the same
    literal pieces, the text between them is what today's run sent in each one's place.
    """
    if len(recorded) > _MAX_ALIGN_CHARS or normalise(recorded) != normalise(redacted):
        return {}
    pieces: list[str] = []
    names: list[str] = []
    pos = 0
    for m in _VARIABLE.finditer(recorded):
        pieces.append(re.escape(recorded[pos : m.start()]))
        names.append(_canonical(m.group(0)))
        pos = m.end()
        if len(names) > _MAX_ALIGN_VARIABLES:
            return {}
    if not names:
        return {}
    pattern = "".join(piece + "(.*?)" for piece in pieces) + re.escape(recorded[pos:])
    match = re.fullmatch(pattern, sent, re.S)
    if match is None:
        return {}
    found: dict[str, str] = {}
    for name, captured in zip(names, match.groups(), strict=True):
        value = decode(captured)
        if value and value != name and not _PLACEHOLDER.fullmatch(value):
            found[name] = value
    return found


def align_path(recorded: str, redacted: str, sent: str) -> dict[str, str]:
    """``align`` segment by segment (a changed segment elsewhere does not spoil the rest)."""
    rec, red, now = recorded.split("/"), redacted.split("/"), sent.split("/")
    found: dict[str, str] = {}
    if len(rec) == len(red) == len(now):
        for a, b, c in zip(rec, red, now, strict=True):
            found.update(align(a, b, c, unquote))
    return found


def align_query(recorded: str, redacted: str, sent: str) -> dict[str, str]:
    """``align`` parameter by parameter (matched by name and position)."""
    rec, red, now = (parse_qsl(q, keep_blank_values=True) for q in (recorded, redacted, sent))
    found: dict[str, str] = {}
    if [k for k, _ in rec] == [k for k, _ in red] == [k for k, _ in now]:
        for (_, a), (_, b), (_, c) in zip(rec, red, now, strict=True):
            found.update(align(a, b, c, str))
    return found


def align_json_text(recorded: str, redacted: str, sent: str) -> dict[str, str]:
    """``align`` the string leaves of JSON documents of the same shape."""
    try:
        rec, red, now = json.loads(recorded), json.loads(redacted), json.loads(sent)
    except ValueError:
        return align(recorded, redacted, sent, str)
    found: dict[str, str] = {}

    def walk(a: object, b: object, c: object) -> None:
        if isinstance(a, dict) and isinstance(b, dict) and isinstance(c, dict):
            for key in a.keys() & b.keys() & c.keys():
                walk(a[key], b[key], c[key])
        elif isinstance(a, list) and isinstance(b, list) and isinstance(c, list):
            if len(a) == len(b) == len(c):
                for x, y, z in zip(a, b, c, strict=True):
                    walk(x, y, z)
        elif isinstance(a, str) and isinstance(b, str) and isinstance(c, str):
            found.update(align(a, b, c, str))

    walk(rec, red, now)
    return found


class NotInCassette(httpx.ConnectError):
    """A replayed request has no recorded counterpart ('not in cassette').

    ``final``: the engine's client does not retry it (asking again gives the same answer).
    """

    final = True


@dataclass(slots=True)
class _Entry:
    label: str
    item: Interaction
    path: str
    query: str
    body: str
    used: bool = False


class Operations:
    """Maps a URL path to its spec operation's path template (or itself when none matches)."""

    def __init__(self, templates: Iterable[str] = ()) -> None:
        compiled = []
        for template in templates:
            pieces = re.split(r"(\{[^}/]+\})", template)
            rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces)
            literal = sum(len(p) for p in pieces if not p.startswith("{"))
            compiled.append((re.compile(rx + "/?"), template, literal))
        # The most literal template wins (/invite/by-token/{t} over /invite/{id}/{x}).
        self._templates = sorted(compiled, key=lambda t: -t[2])

    def of(self, raw_path: str) -> str:
        for rx, template, _ in self._templates:
            if rx.fullmatch(raw_path):
                return template
        return _path(raw_path)


def _path(raw_path: str) -> str:
    return normalise(unquote(raw_path)).rstrip("/") or "/"


def _boundary(headers: Mapping[str, list[str]] | httpx.Headers) -> str | None:
    if isinstance(headers, httpx.Headers):
        ctype = headers.get("content-type", "")
    else:
        ctype = next((v[0] for k, v in headers.items() if k.lower() == "content-type" and v), "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    return m.group(1) if m else None


def _parts(url: str, body: str | None, boundary: str | None) -> tuple[str, str, str, str]:
    """Raw path, normalised path, query and body of a (redacted) request."""
    parts = urlsplit(url)
    query = "&".join(
        f"{k}={normalise(v)}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    text = body or ""
    first = re.match(r"--([^\r\n]{1,200})\r?\n", text)
    boundary = boundary or (first.group(1) if first else None)
    if boundary:  # random per request: a multipart body is compared without it
        text = text.replace(boundary, "BOUNDARY")
    return parts.path, _path(parts.path), query, normalise(text)


Pool = dict[tuple[str, str], list[_Entry]]


class ReplayTransport(httpx.BaseTransport):
    """Serves the recorded responses of one API; unknown requests raise NotInCassette."""

    def __init__(
        self,
        api: str,
        cassettes: Iterable[Cassette],
        start: float,
        operations: Operations | None = None,
    ) -> None:
        self.api = api
        self.operations = operations or Operations()
        self._lock = threading.Lock()
        self._now = start
        self.redactor = Redactor()
        self._pools: dict[str, Pool] = {}
        self._all: Pool = {}
        entries: list[tuple[tuple[str, str], _Entry]] = []
        for cassette in cassettes:
            pool = self._pools.setdefault(cassette.label, {})
            for item in cassette.interactions:
                raw, path, query, body = _parts(
                    item.uri, item.request_body, _boundary(item.request_headers)
                )
                key = (item.method.upper(), self.operations.of(raw))
                entry = _Entry(cassette.label, item, path, query, body)
                pool.setdefault(key, []).append(entry)
                entries.append((key, entry))
        for key, entry in sorted(entries, key=lambda e: e[1].item.at):
            self._all.setdefault(key, []).append(entry)
        self._last_error: tuple[httpx.Request, httpx.TransportError] | None = None
        # Recorded placeholder -> the value today's run sent in its place (never a recorded one).
        self._values: dict[str, str] = {}
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
            redacted = self.redactor.redact_exchange(
                {
                    "request": {
                        "method": request.method,
                        "url": str(request.url),
                        "body": body or None,
                        "headers": [("content-type", request.headers.get("content-type", ""))],
                    }
                }
            )["request"]
            red_body = redacted.get("body")
            text = red_body.decode("utf-8", "replace") if isinstance(red_body, bytes) else ""
            raw, path, query, norm_body = _parts(redacted["url"], text, _boundary(request.headers))
            key = (request.method.upper(), self.operations.of(raw))
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
            entry = _pick(pool.get(key, ()), path, query, norm_body)
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
            self._learn(item, request, body, redacted)
            if item.error is not None:
                exc = _replayed_error(item.error, request)
                self._last_error = (request, exc)
                raise exc
            content = self._restore(item).encode("utf-8")
            headers = [
                (k, str(len(content)) if k.lower() == "content-length" and content else v)
                for k, values in item.response_headers.items()
                for v in values
            ]
            # A stream, not content=: httpx sets .elapsed when a read stream is closed.
            return httpx.Response(
                item.status,
                headers=headers,
                stream=httpx.ByteStream(content),
                request=request,
                extensions={"reason_phrase": item.message.encode("ascii", "replace")},
            )

    def _learn(
        self, item: Interaction, request: httpx.Request, body: bytes, redacted: dict[str, Any]
    ) -> None:
        """Map the recorded request's placeholders to what today's run sent in their place."""
        recorded, red, sent = urlsplit(item.uri), urlsplit(redacted["url"]), request.url
        found = align_path(recorded.path, red.path, sent.raw_path.split(b"?", 1)[0].decode("ascii"))
        found.update(align_query(recorded.query, red.query, sent.query.decode("ascii")))
        red_body = redacted.get("body")
        if item.request_body and body and isinstance(red_body, bytes):
            text = body.decode("utf-8", "replace")
            red_text = red_body.decode("utf-8", "replace")
            ctype = request.headers.get("content-type", "").lower()
            rec_body = item.request_body
            if "json" in ctype:
                found.update(align_json_text(rec_body, red_text, text))
            elif "x-www-form-urlencoded" in ctype:
                found.update(align_query(rec_body, red_text, text))
            else:
                rec_boundary, boundary = _boundary(item.request_headers), _boundary(request.headers)
                if rec_boundary and boundary:
                    rec_body = rec_body.replace(rec_boundary, "BOUNDARY")
                    text = text.replace(boundary, "BOUNDARY")
                    red_text = red_text.replace(boundary, "BOUNDARY")
                found.update(align(rec_body, red_text, text, str))
        self._values.update(found)

    def _restore(self, item: Interaction) -> str:
        """The recorded body with the placeholders of values this run sent put back."""
        text = item.response_body
        if not self._values or not text:
            return text
        ctype = next(
            (
                v[0].lower()
                for k, v in item.response_headers.items()
                if k.lower() == "content-type" and v
            ),
            "",
        )
        as_json = "json" in ctype

        def put_back(m: re.Match[str]) -> str:
            value = self._values.get(_canonical(m.group(0)))
            if value is None:
                return m.group(0)
            return json.dumps(value, ensure_ascii=False)[1:-1] if as_json else value

        return _VARIABLE.sub(put_back, text)

    def unused(self) -> list[tuple[str, Interaction]]:
        """Recorded interactions no request asked for (label, interaction)."""
        return [
            (e.label, e.item)
            for pool in self._pools.values()
            for entries in pool.values()
            for e in entries
            if not e.used
        ]


def _pick(candidates: Iterable[_Entry], path: str, query: str, body: str) -> _Entry | None:
    """The first unused candidate agreeing on most of path, query and body (in that order)."""
    best: _Entry | None = None
    best_score = -1
    for entry in candidates:
        if entry.used:
            continue
        score = 0
        if entry.path == path:
            score = 1
            if entry.query == query:
                score = 3 if entry.body == body else 2
        if score == 3:
            return entry
        if score > best_score:
            best, best_score = entry, score
    return best


def _replayed_error(error: str, request: httpx.Request) -> httpx.TransportError:
    name = error.split(":", 1)[0].strip()
    cls = getattr(httpx, name, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.TransportError)):
        cls = httpx.TransportError
    exc = cls(f"replayed: {error}", request=request)
    exc.final = True  # type: ignore[attr-defined]  # recorded after the recording's own retries
    return exc
