"""One HTTP exchange as the client validator sees it, wherever it came from."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Headers = tuple[tuple[str, str], ...]


def _lower(headers: Any) -> Headers:
    items = headers.items() if hasattr(headers, "items") else headers
    return tuple((str(k).lower(), str(v)) for k, v in items)


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request the client sent and the answer it got.

    ``url`` is absolute (scheme, host, path, query); header names are compared without case;
    bodies are the raw bytes as sent. ``at`` is when the request arrived (epoch seconds, the
    clock of whoever observed it), which is what SSO timestamps are judged against.
    """

    method: str
    url: str
    request_headers: Headers = ()
    request_body: bytes = b""
    status: int = 0
    response_headers: Headers = ()
    response_body: bytes = b""
    at: float = field(default_factory=time.time)

    @classmethod
    def of(
        cls,
        method: str,
        url: str,
        *,
        headers: Any = (),
        body: bytes | str = b"",
        status: int = 0,
        response_headers: Any = (),
        response_body: bytes | str = b"",
        at: float | None = None,
    ) -> Exchange:
        """Build an exchange from headers given as a mapping or pairs, bodies as str or bytes."""
        return cls(
            method=method.upper(),
            url=url,
            request_headers=_lower(headers),
            request_body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
            status=status,
            response_headers=_lower(response_headers),
            response_body=(
                response_body.encode("utf-8")
                if isinstance(response_body, str)
                else bytes(response_body)
            ),
            at=time.time() if at is None else at,
        )

    # ---- request -------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def header(self, name: str) -> str | None:
        """The request header ``name`` (first value), or None."""
        return _find(self.request_headers, name)

    def media_type(self) -> str:
        """The request's media type, lower-cased, without parameters ("" when absent)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def json_body(self) -> Any:
        """The request body parsed as JSON; ``NotJson`` when it does not parse."""
        return _parse(self.request_body)

    # ---- response ------------------------------------------------------------------------
    def response_header(self, name: str) -> str | None:
        return _find(self.response_headers, name)

    def response_json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        value = _parse(self.response_body)
        return None if value is NOT_JSON else value

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()


def _parse(body: bytes) -> Any:
    if not body.strip():
        return NOT_JSON
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return NOT_JSON


def _find(headers: Headers, name: str) -> str | None:
    lname = name.lower()
    for key, value in headers:
        if key == lname:
            return value
    return None
