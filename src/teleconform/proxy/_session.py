"""A proxy session: relayed exchanges judged (client and server side), recorded, reported.

The forwarding app hands each exchange to :meth:`ProxySession.submit`, which only queues it;
one worker thread judges and records the exchanges in arrival order, so validation adds no
latency to the answers. :meth:`ProxySession.finish` drains the queue and builds both reports.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from teleconform.catalogue import load_catalogue
from teleconform.client import ClientValidator, Exchange, client_report
from teleconform.client._evidence import evidence_of
from teleconform.client._spec_check import shipped_spec
from teleconform.proxy._forward import Relayed, hop_by_hop
from teleconform.proxy._judge import JUDGED, Judgement, judge
from teleconform.redact import Redactor
from teleconform.report._document import clause_totals, now_rfc3339
from teleconform.report.model import ClauseEntry, Evidence, Report, Run, Verdict

EVIDENCE_PER_CLAUSE = 3


def detect_api(path: str) -> str | None:
    """The API a request path belongs to: /api/v1/... is HCW@Home, /api/... Leah."""
    if path.startswith("/api/v1/") or path == "/api/v1":
        return "hcw"
    if path.startswith("/api/"):
        return "leah"
    return None


def client_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The TELECONFORM_* values the client validator may use (e.g. the SSO secret)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items() if k.startswith("TELECONFORM_") and v}


@dataclass(slots=True)
class _ServerClause:
    passes: int = 0
    fails: list[tuple[str, Exchange]] = field(default_factory=list)
    first_pass: Exchange | None = None


class ProxySession:
    """Judges and records what passes through a proxy to ``target``."""

    def __init__(
        self,
        target: str,
        *,
        api: str | None = None,
        record_dir: Path | None = None,
        overwrite: bool = False,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.api = api
        self.credentials = dict(client_credentials() if credentials is None else credentials)
        self.started_at = now_rfc3339()
        self.validator: ClientValidator | None = None
        self.server: dict[str, _ServerClause] = {}
        self.spec: Any = None
        self.relayed = 0
        self.reached = 0
        self.unreachable: list[str] = []
        self.redactor = Redactor()
        self._record_dir = record_dir
        self._recording: Any = None
        if record_dir is not None:
            from teleconform.cassettes import Session
            from teleconform.report._document import tool_info

            self._recording = Session("record", 0, "proxy", record_dir)
            self._recording.overwrite = overwrite
            self._recording.tool = tool_info()
        self._queue: queue.Queue[Relayed | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="proxy-judge", daemon=True)
        self._worker.start()
        self._errors: list[str] = []

    # -- intake ----------------------------------------------------------------------------
    def submit(self, relayed: Relayed) -> None:
        """Queue one relayed exchange (called on the server's event loop: must not block)."""
        self._queue.put(relayed)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._observe(item)
            except Exception as exc:  # one bad exchange must not stop the judging
                self._errors.append(f"{type(exc).__name__}: {exc}")

    def _observe(self, relayed: Relayed) -> None:
        self.relayed += 1
        if relayed.status == 0:
            self.unreachable.append(relayed.error or "no answer")
            return
        self.reached += 1
        # Judged as the API sees it: a target mounted under a path (https://host/hcw) is
        # judged on the path below it, as the spec writes paths.
        url = _below_prefix(relayed.url, urlsplit(self.target).path.rstrip("/"))
        if self.api is None:
            self.api = detect_api(urlsplit(url).path)
        if self.api is None:
            return  # not an API request, and the API is not known yet
        exchange = _exchange(relayed, url)
        if self.validator is None:
            self.validator = ClientValidator(self.api, credentials=self.credentials)
            self.spec = shipped_spec(self.api)
        self.validator.observe(exchange)
        for judgement in judge(self.api, self.spec, exchange):
            self._note(judgement, exchange)
        if self._recording is not None:
            self._record(relayed)

    def _note(self, judgement: Judgement, exchange: Exchange) -> None:
        entry = self.server.setdefault(judgement.clause, _ServerClause())
        if judgement.ok:
            entry.passes += 1
            entry.first_pass = entry.first_pass or exchange
        else:
            entry.fails.append((judgement.message, exchange))

    def _record(self, relayed: Relayed) -> None:
        from teleconform.runner._http import Exchange as HttpExchange

        assert self.api is not None
        hook = self._recording.recorder(self.api, self.target, {})
        dropped = hop_by_hop(relayed.request_headers) | {"host"}
        headers = [(k, v) for k, v in relayed.request_headers if k.lower() not in dropped]
        request = httpx.Request(
            relayed.method, relayed.url, headers=headers, content=relayed.request_body
        )
        response = httpx.Response(
            relayed.status,
            headers=relayed.response_headers,
            content=relayed.response_body,
            request=request,
        )
        hook(HttpExchange(request, response, elapsed_s=relayed.elapsed_s, label="proxy"))

    # -- end -------------------------------------------------------------------------------
    def finish(self) -> tuple[Report, Report]:
        """Judge what is queued, write the cassettes; the (client, server) report dicts."""
        self._queue.put(None)
        self._worker.join()
        if self._recording is not None:
            self._recording.finish()
        finished = now_rfc3339()
        client_runs: list[dict[str, Any]] = []
        server_runs: list[Run] = []
        if self.validator is not None and self.api is not None:
            client_runs.append(self.validator.run_json(self.target, redactor=self.redactor))
            server_runs.append(self._server_run())
        return (
            client_report(client_runs, started_at=self.started_at, finished_at=finished),
            client_report(server_runs, started_at=self.started_at, finished_at=finished),
        )

    def _server_run(self) -> Run:
        assert self.api is not None
        catalogue = load_catalogue()
        clauses: list[ClauseEntry] = []
        for cid in JUDGED[self.api]:
            clause = catalogue[cid]
            entry = self.server.get(cid, _ServerClause())
            verdict: Verdict
            if entry.fails:
                messages = list(dict.fromkeys(m for m, _ in entry.fails))
                verdict = "fail"
                reason = (
                    f"{len(entry.fails)} of {len(entry.fails) + entry.passes} judged "
                    f"exchanges: " + "; ".join(messages[:EVIDENCE_PER_CLAUSE])
                )
                shown = [ex for _, ex in entry.fails[:EVIDENCE_PER_CLAUSE]]
            elif entry.passes:
                verdict = "pass"
                reason = f"{entry.passes} judged exchanges conform"
                shown = [entry.first_pass] if entry.first_pass else []
            else:
                verdict = "skip"
                reason = "no relayed exchange exercised this clause"
                shown = []
            clauses.append(
                {
                    "id": cid,
                    "level": clause.level,
                    "title": clause.title,
                    "area": clause.area,
                    "verdict": verdict,
                    "waived": False,
                    "reason": reason,
                    # EvidenceBuilder's entries are the Evidence shape (request, response, curl)
                    "evidence": cast(list[Evidence], evidence_of(shown, self.redactor)),
                }
            )
        return {
            "api": self.api,
            "target": {"mode": "live", "base_url": self.target},
            "clauses": clauses,
            "totals": clause_totals(clauses),
            "requests_seen": self.relayed,
            "left_behind": [],  # the proxy only relays: it creates nothing itself
        }


def _below_prefix(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    if not prefix or not parts.path.startswith(prefix + "/"):
        return url
    return parts._replace(path=parts.path[len(prefix) :]).geturl()


def _exchange(relayed: Relayed, url: str) -> Exchange:
    """The relayed exchange as the validators see it: the response body decoded."""
    return Exchange(
        method=relayed.method.upper(),
        url=url,
        request_headers=tuple((k.lower(), v) for k, v in relayed.request_headers),
        request_body=relayed.request_body,
        status=relayed.status,
        response_headers=tuple(
            (k.lower(), v) for k, v in relayed.response_headers if k.lower() != "content-encoding"
        ),
        response_body=_decoded(relayed),
        at=relayed.at,
    )


def _decoded(relayed: Relayed) -> bytes:
    encoded = any(k.lower() == "content-encoding" for k, _ in relayed.response_headers)
    if not encoded:
        return relayed.response_body
    try:
        return httpx.Response(
            relayed.status, headers=relayed.response_headers, content=relayed.response_body
        ).read()
    except httpx.DecodingError:
        return relayed.response_body
