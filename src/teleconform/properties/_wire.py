"""From a generated case to the arguments of ``ctx.request``, and contact-data safety.

Private helper of :mod:`teleconform.properties`. schemathesis serialises for ``requests``;
this turns that into what our httpx-based engine client takes, drops schemathesis' own
headers (its per-case id is random and would make runs differ), and makes JSON and multipart
bodies byte-for-byte reproducible.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from schemathesis.core import NOT_SET

from teleconform.properties._spec import GeneratedCase

_DROPPED_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "accept", "connection", "x-schemathesis-testcaseid"}
)
_EMAIL_KEY = re.compile(r"e-?mail", re.IGNORECASE)
_PHONE_KEY = re.compile(r"phone|contact|mobile|sms", re.IGNORECASE)
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Wire:
    """One request as ``ctx.request`` takes it."""

    method: str
    url: str
    headers: dict[str, str]
    params: Any
    body: dict[str, Any]

    def kwargs(self, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        merged = dict(self.headers)
        for name, value in (headers or {}).items():
            for existing in [k for k in merged if k.lower() == name.lower()]:
                del merged[existing]
            merged[name] = value
        return {"params": self.params or None, "headers": merged, **self.body}

    def without(self, names: Mapping[str, str]) -> Wire:
        """The same request without the named headers (credentials left out)."""
        lowered = {name.lower() for name in names}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in lowered}
        return Wire(self.method, self.url, headers, self.params, self.body)


def to_wire(
    case: GeneratedCase,
    base_url: str,
    *,
    credential_headers: Collection[str] = (),
    credential_params: Collection[str] = (),
) -> Wire:
    """Serialise a case for ``ctx.request``; raises ValueError when it cannot go on the wire.

    The security schemes' headers and parameters are left out: credentials are added (valid)
    or withheld (auth probes) by the caller.
    """
    kwargs = case.as_transport_kwargs(base_url=base_url)
    dropped = _DROPPED_HEADERS | {name.lower() for name in credential_headers}
    headers = {
        str(k): str(v) for k, v in kwargs["headers"].items() if str(k).lower() not in dropped
    }
    cookies = kwargs.get("cookies") or {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for name, value in headers.items():
        try:
            name.encode("ascii")
            value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise ValueError(f"header {name!r} cannot be encoded") from exc
    body: dict[str, Any] = {}
    if "json" in kwargs:
        # requests' spelling: ASCII-escaped, so lone surrogates still go on the wire
        body["content"] = json.dumps(kwargs["json"], allow_nan=False).encode()
    elif kwargs.get("files"):
        seed = repr((case.method, case.formatted_path)).encode()
        boundary = hashlib.sha256(seed).hexdigest()[:32]
        for name in [k for k in headers if k.lower() == "content-type"]:
            del headers[name]
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        body["files"] = _files(kwargs["files"])
        if isinstance(kwargs.get("data"), Mapping) and kwargs["data"]:
            body["data"] = {str(k): _form_value(v) for k, v in kwargs["data"].items()}
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        if isinstance(data, Mapping):
            body["data"] = {str(k): _form_value(v) for k, v in data.items()}
        else:
            content = data if isinstance(data, bytes) else _part_bytes(str(data))
            body["content"] = _fixed_boundary(headers, content, repr((case.method, case.path)))
    params = kwargs.get("params") or None
    if isinstance(params, Mapping) and credential_params:
        params = {k: v for k, v in params.items() if k not in credential_params} or None
    return Wire(str(kwargs["method"]).upper(), str(kwargs["url"]), headers, params, body)


def _files(files: Any) -> list[tuple[str, Any]]:
    """requests-style file parts as httpx takes them: (name, (filename, bytes[, type]))."""
    items = files.items() if isinstance(files, Mapping) else files
    prepared: list[tuple[str, Any]] = []
    for name, value in items:
        parts = value if isinstance(value, tuple) else (None, value)
        filename = parts[0] if parts and isinstance(parts[0], str) else None
        content = _part_bytes(parts[1] if len(parts) > 1 else b"")
        if len(parts) > 2 and isinstance(parts[2], str):
            prepared.append((str(name), (filename, content, parts[2])))
        else:
            prepared.append((str(name), (filename, content)))
    return prepared


def _form_value(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    return value if isinstance(value, str) else json.dumps(value)


def _part_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    data = getattr(value, "data", None)  # schemathesis' Binary
    if isinstance(data, bytes):
        return data
    return json.dumps(value).encode()


def _fixed_boundary(headers: dict[str, str], content: bytes, seed: str) -> bytes:
    """Replace a random multipart boundary (header and body) with one derived from the case."""
    for name, value in headers.items():
        if name.lower() != "content-type" or "boundary=" not in value:
            continue
        old = value.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
        new = hashlib.sha256(seed.encode()).hexdigest()[:32]
        headers[name] = value.replace(old, new)
        return content.replace(old.encode(), new.encode())
    return content


# -- contact-data safety -----------------------------------------------------------------


def make_contacts_safe(case: GeneratedCase, email: str, phone: str) -> None:
    """Replace generated e-mail addresses and phone numbers with the run's safe ones.

    Only values that could reach someone are replaced (a string with ``@`` under an e-mail key,
    a string with 7+ digits under a phone/contact key); malformed values of negative cases stay.
    """
    if isinstance(case.body, (dict, list)):
        new_body = _safe(case.body, email, phone)
        if new_body != case.body:
            case.body = new_body
    if case.query:
        new_query = _safe(dict(case.query), email, phone)
        if new_query != case.query:
            case.query = new_query


def _safe(value: Any, email: str, phone: str, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _safe(v, email, phone, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v, email, phone, key) for v in value]
    if isinstance(value, str) and key:
        if _EMAIL_KEY.search(key) and "@" in value:
            return email
        if _PHONE_KEY.search(key):
            if "@" in value:
                return email
            if len(_DIGITS.findall(value)) >= 7:
                return phone
    return value


def has_body(case: GeneratedCase) -> bool:
    return case.body is not NOT_SET
