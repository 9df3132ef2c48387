"""Recording: every exchange of one API run, redacted, filed under its clause group."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from teleconform.cassettes._format import FORMAT, Cassette, Interaction
from teleconform.redact import Redactor
from teleconform.runner._http import Exchange

# Bodies larger than this (after redaction) are kept as size, sha256 and their first characters:
# a 15 MB upload must not become a 23 MB cassette.
MAX_REQUEST_BODY = 64 * 1024
MAX_RESPONSE_BODY = 256 * 1024
HEAD_CHARS = 64

# Response headers describing an encoding the stored (decoded) body no longer has.
_DROP_RESPONSE_HEADERS = frozenset({"content-encoding", "transfer-encoding"})

# How each credential need is redacted (the others are target data or flags, kept as they are).
NEED_KINDS: dict[str, str] = {
    "hcw.email": "email",
    "hcw.doctor_email": "email",
    "hcw.password": "password",
    "hcw.sso_secret": "credential",
    "leah.api_key": "credential",
    "leah.hcw_email": "email",
}
WEBHOOK_EVENTS = "leah.webhook_events"
# Request extension the property tests set (teleconform.properties); kept with the interaction.
CASE_EXTENSION = "teleconform.case"
WEBHOOK_RECEIVER = "leah.webhook_receiver"


class RecordingNotes:
    """What a check hands to the recording besides HTTP exchanges (``ctx.state["recording"]``).

    ``add("webhook_events", record)`` files a delivery received during the run (a
    ``webhooks listen`` record) so that a replay can serve it as ``leah.webhook_events``.
    """

    def __init__(self, recorder: ApiRecorder) -> None:
        self._recorder = recorder

    def add(self, kind: str, record: Mapping[str, Any]) -> None:
        """Keep ``record`` (redacted) under ``kind`` in the cassette of the running check."""
        self._recorder.note(kind, dict(record))


class ApiRecorder:
    """Receives the exchanges of one API (an ``on_exchange`` hook) and builds its cassettes.

    One Redactor serves every cassette of the API, so a token or e-mail address has the same
    placeholder in all of them (checks share login tokens and ids through ``ctx.state``).
    The credentials are given their placeholders first, in a fixed order, so a replay can hand
    the checks the very placeholders the recorded traffic holds.
    """

    def __init__(
        self,
        api: str,
        base_url: str,
        credentials: Mapping[str, str],
        *,
        seed: int,
        budget: str,
        tool: Mapping[str, str],
        spec: Mapping[str, str],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.api = api
        self.base_url = base_url
        self.clock = round(time.time(), 3)
        self._lock = threading.Lock()
        self.redactor = Redactor()
        self._secrets: dict[str, str] = {}
        creds: dict[str, str] = {}
        for need in sorted(credentials):
            value = str(credentials[need])
            if not value or need.endswith(".allow_writes"):
                continue
            kind = NEED_KINDS.get(need)
            if kind is not None:
                placeholder = self.redactor.placeholder(kind, value)
                creds[need] = placeholder
                if len(value) >= 6:
                    self._secrets[value] = placeholder
            elif need == WEBHOOK_RECEIVER:
                creds[need] = self.redactor.redact_url(value)
            elif need != WEBHOOK_EVENTS:
                creds[need] = self.redactor.redact_text(value)
        self.metadata: dict[str, Any] = {
            "format": FORMAT,
            "api": api,
            "label": "",
            "seed": seed,
            "clock": self.clock,
            "budget": budget,
            "base_url": base_url,
            "tool": dict(tool),
            "spec": dict(spec),
            "needs": sorted(n for n, v in credentials.items() if v),
            "credentials": creds,
            **dict(extra or {}),
        }
        self.cassettes: dict[str, Cassette] = {}
        self._last_label = "preflight"
        if credentials.get(WEBHOOK_EVENTS):
            self._note_events_file(Path(str(credentials[WEBHOOK_EVENTS])))

    # -- hooks ------------------------------------------------------------------------------
    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            label = exchange.label or "unlabelled"
            cassette = self._cassette(label)
            self._last_label = label
            cassette.interactions.append(self._interaction(exchange, len(cassette.interactions)))

    def note(self, kind: str, record: dict[str, Any]) -> None:
        with self._lock:
            cassette = self._cassette(self._last_label)
            redacted = self._scrub(json.loads(self.redactor.redact_text(json.dumps(record))))
            cassette.metadata.setdefault("notes", {}).setdefault(kind, []).append(redacted)

    def _note_events_file(self, path: Path) -> None:
        # A live run reads deliveries from a file, not the network: keep them for the replay.
        events: list[dict[str, Any]] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                events.append(record)
        cassette = self._cassette("webhooks")
        notes = cassette.metadata.setdefault("notes", {})
        notes["webhook_events"] = [
            self._scrub(json.loads(self.redactor.redact_text(json.dumps(e)))) for e in events
        ]

    # -- building -----------------------------------------------------------------------------
    def _cassette(self, label: str) -> Cassette:
        if label not in self.cassettes:
            meta = json.loads(json.dumps(self.metadata))
            meta["label"] = label
            self.cassettes[label] = Cassette(self.api, label, meta)
        return self.cassettes[label]

    def _interaction(self, exchange: Exchange, seq: int) -> Interaction:
        request = exchange.request
        response = exchange.response
        raw: dict[str, Any] = {
            "request": {
                "method": request.method,
                "url": str(request.url),
                "headers": list(request.headers.multi_items()),
                "body": _request_body(request) or None,
            },
        }
        if response is not None:
            content = response.content
            raw["response"] = {
                "status": response.status_code,
                "headers": [
                    (k, v)
                    for k, v in response.headers.multi_items()
                    if k.lower() not in _DROP_RESPONSE_HEADERS
                ],
                # No body (HEAD, 204): keep Content-Length as the server sent it.
                "body": content or None,
            }
        red = self.redactor.redact_exchange(raw)
        req, resp = red["request"], red.get("response")
        error = None
        if exchange.error is not None:
            error = self.redactor.redact_text(exchange.error)
        interaction = Interaction(
            seq=seq,
            method=request.method,
            uri=req["url"],
            request_headers=_header_dict(req["headers"]),
            request_body=_bounded(req.get("body"), MAX_REQUEST_BODY) or None,
            status=response.status_code if response is not None else 0,
            message=response.reason_phrase if response is not None else "no response",
            response_headers=_header_dict(resp["headers"]) if resp else {},
            response_body=_bounded(resp.get("body"), MAX_RESPONSE_BODY) if resp else "",
            at=round(time.time(), 3),
            elapsed_s=round(exchange.elapsed_s, 4),
            error=error,
            case=_case_of(request),
        )
        if self._secrets:
            _scrub_interaction(interaction, self._scrub)
        if interaction.response_body:
            _set_length(interaction.response_headers, interaction.response_body)
        return interaction

    def _scrub(self, value: Any) -> Any:
        """Replace credentials the redaction did not recognise (e.g. echoed in free text)."""
        if isinstance(value, str):
            for secret, placeholder in self._secrets.items():
                for form in _forms(secret):
                    if form in value:
                        value = value.replace(form, placeholder)
            return value
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        return value

    def recorded_run(
        self, clauses: list[dict[str, Any]], *, writes_allowed: bool, disruptive_allowed: bool
    ) -> None:
        """Keep, in every cassette of the API, the clauses the run covered and its permissions.

        A replay runs that selection with those permissions, and gives a clause that was
        ``skip`` the recorded reason (redacted), since there is no traffic to judge it on.
        """
        verdicts: dict[str, dict[str, str]] = {}
        for entry in clauses:
            outcome = {"verdict": str(entry["verdict"])}
            if entry["verdict"] == "skip":
                outcome["reason"] = self._scrub(self.redactor.redact_text(str(entry["reason"])))
            verdicts[str(entry["id"])] = outcome
        with self._lock:
            self.metadata["recorded_run"] = {
                "writes_allowed": writes_allowed,
                "disruptive_allowed": disruptive_allowed,
                "verdicts": verdicts,
            }
            for cassette in self.cassettes.values():
                cassette.metadata["recorded_run"] = json.loads(
                    json.dumps(self.metadata["recorded_run"])
                )

    def finished(self) -> list[Cassette]:
        with self._lock:
            return [c for c in self.cassettes.values() if c.interactions or c.metadata.get("notes")]


def _case_of(request: httpx.Request) -> dict[str, Any] | None:
    """The property tests' description of the request: labels, modes and numbers only."""
    case = request.extensions.get(CASE_EXTENSION)
    if not isinstance(case, Mapping):
        return None
    return {str(k): v for k, v in json.loads(json.dumps(case, default=str)).items()}


def _forms(secret: str) -> list[str]:
    forms = [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]]
    return list(dict.fromkeys(forms))


def _scrub_interaction(item: Interaction, scrub: Any) -> None:
    item.uri = scrub(item.uri)
    item.request_headers = scrub(item.request_headers)
    item.response_headers = scrub(item.response_headers)
    item.request_body = scrub(item.request_body)
    item.response_body = scrub(item.response_body)
    item.error = scrub(item.error)


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        pass
    try:  # a streamed (e.g. multipart) body: httpx can render it again
        return request.read()
    except (httpx.StreamError, OSError, ValueError):
        return b""


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def _bounded(body: Any, limit: int) -> str:
    text = _text(body)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    digest = hashlib.sha256(data).hexdigest()
    return (
        f"[teleconform: body of {len(data)} bytes not kept, sha256={digest}, "
        f"head={json.dumps(text[:HEAD_CHARS], ensure_ascii=True)}]"
    )


def _header_dict(pairs: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    for name, value in items:
        key = names.setdefault(str(name).lower(), str(name))
        out.setdefault(key, []).append(str(value))
    return out


def _set_length(headers: dict[str, list[str]], body: str) -> None:
    for name in headers:
        if name.lower() == "content-length":
            headers[name] = [str(len(body.encode("utf-8")))]
