"""Ledger what a run creates from the HTTP exchanges themselves, whichever part sends them.

Each API's suites declare their creating operations (``TELECONFORM_CREATES``, a list of
``ledger.Creation`` in a suite helper module). Before such a request is sent, the ledger gets
a ``pending`` line naming the kind; a 2xx answer enters the created thing (its id and how to
undo it, from the answer), any other answer closes the ``pending`` line. A request whose
answer never came (interrupted, transport error) stays open: cleanup cannot find it, so the
report lists it as possibly left behind.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import Any

import httpx

from teleconform.runner._http import Exchange
from teleconform.runner.ledger import Creation, Ledger, pointer_value

SECRETS_KEY = "ledger.secrets"  # ctx.state: (kind, id) -> credential of a created thing


class CreationWatch:
    """The before-send and exchange hooks of one API run."""

    def __init__(
        self,
        ledger: Ledger,
        creations: Iterable[Creation],
        label: Any,
        secrets: dict[tuple[str, str], str],
    ) -> None:
        self.ledger = ledger
        self.creations = list(creations)
        self._label = label
        self.secrets = secrets
        self._open: dict[str, tuple[Creation, httpx.Request]] = {}
        self._lock = threading.Lock()
        self._prefix = uuid.uuid4().hex[:8]
        self._count = 0

    def _match(self, request: httpx.Request) -> Creation | None:
        for creation in self.creations:
            if creation.matches(request.method, request.url.path):
                return creation
        return None

    def before_send(self, request: httpx.Request) -> None:
        creation = self._match(request)
        if creation is None:
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                self.ledger.pending(request.method, request.url.path, self._label())
            return
        with self._lock:
            self._count += 1
            n = f"{self._prefix}-{self._count}"
            self._open[n] = (creation, request)
        request.extensions["teleconform.creation"] = n
        self.ledger.pending(request.method, request.url.path, self._label(), creation.kind, n)

    def on_exchange(self, exchange: Exchange) -> None:
        n = exchange.request.extensions.get("teleconform.creation")
        if not isinstance(n, str) or exchange.response is None:
            return  # no answer: stays open, possibly created
        with self._lock:
            opened = self._open.pop(n, None)
        if opened is None:
            return
        creation, _ = opened
        response = exchange.response
        if response.status_code == 429:  # not processed; the same request is sent again
            with self._lock:
                self._open[n] = opened
            return
        if not response.is_success:
            self.ledger.answered(n, response.status_code)
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        ident = next(
            (
                str(v)
                for v in (pointer_value(body, p) for p in creation.ids)
                if isinstance(v, str | int) and not isinstance(v, bool) and v != ""
            ),
            None,
        )
        refs = {name: _ref(pointer_value(body, ptr)) for name, ptr in (creation.refs or {}).items()}
        cleanup = None
        if creation.cleanup is not None and ident is not None:
            method, template = creation.cleanup
            try:
                cleanup = (method, template.format(id=ident, **refs))
            except (KeyError, IndexError):
                cleanup = None
        why = creation.why
        if ident is None:
            why = (
                f"created by {creation.method} {creation.path} ({response.status_code}) "
                "but its answer did not say which one"
            )
        elif creation.cleanup is not None and cleanup is None:
            why = f"{creation.kind} created but its answer lacks what its removal needs"
        parent = refs.get(creation.parent) if creation.parent else None
        self.ledger.created(
            creation.kind,
            ident,
            cleanup,
            why=why,
            parent=str(parent) if parent else None,
            n=n,
        )
        if creation.secret and ident is not None:
            secret = pointer_value(body, creation.secret)
            if isinstance(secret, str):
                self.secrets[(creation.kind, ident)] = secret

    def unanswered(self) -> list[dict[str, Any]]:
        """Creating requests sent without an answer: each may have created its thing."""
        with self._lock:
            opened = list(self._open.items())
            self._open.clear()
        return [
            {
                "kind": creation.kind,
                "id": None,
                "cleanup": None,
                "why": f"{request.method} {request.url.path} was sent but its answer never "
                "came (interrupted or no response): it may have created one",
                "n": n,
            }
            for n, (creation, request) in opened
        ]


def _ref(value: Any) -> Any:
    """A reference's id: the value itself, or the id of a populated record."""
    return value.get("id", value.get("_id")) if isinstance(value, dict) else value
