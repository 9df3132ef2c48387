"""`teleconform webhooks listen`: receive Leah's deliveries, answer 200, validate (LEAH-WH-01).

The listener is a small threaded HTTP(S) server from the standard library, so it can run in
the foreground of the CLI or in a background thread inside a suite run. Every delivery
(any method but GET/HEAD/OPTIONS, which are answered as health probes) is answered 200, as
the document demands of receivers, then validated. Redacted events go to a JSON Lines file
as they arrive, so an interrupted session still leaves them behind.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from teleconform._errors import EXIT_USAGE, UsageError
from teleconform.redact import Redactor
from teleconform.report._document import now_rfc3339
from teleconform.report.model import ClauseEntry, Evidence, Verdict
from teleconform.webhooks._report import (
    Gate,
    clause_entry,
    print_line,
    report_status,
    verdict_label,
    webhook_report,
    write_report,
)
from teleconform.webhooks.events import EventCheck, EventSchema, default_schema, validate_delivery

CLAUSE = "LEAH-WH-01"
PROG = "teleconform webhooks listen"
EVENTS_FILE = "webhook-events.jsonl"
MAX_BODY = 1024 * 1024
_PROBE_METHODS = ("GET", "HEAD", "OPTIONS")
_EVIDENCE_FAILING, _EVIDENCE_PASSING = 20, 3


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """One delivery as received, with its verdict. ``body`` is raw: keep it in memory only."""

    index: int
    received_at: str
    method: str
    path: str
    content_type: str | None
    body: bytes
    check: EventCheck

    def record(self, redactor: Redactor) -> dict[str, Any]:
        """The line written to webhook-events.jsonl (body redacted)."""
        body = redactor.redact_body(self.body, self.content_type) or b""
        return {
            "index": self.index,
            "received_at": self.received_at,
            "method": self.method,
            "path": self.path,
            "content_type": self.content_type,
            "body": body.decode("utf-8", errors="replace"),
            "event": self.check.event,
            "payload_form": self.check.payload_form,
            "verdict": self.check.verdict,
            "problems": list(self.check.problems),
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    listener: WebhookListener
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake happens in the handler's thread, so a stalled client cannot block
            # the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Broken connections and failed TLS handshakes are the client's business; stay quiet.
        self.listener.connection_errors += 1


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30
    server_version = "teleconform-webhook-listener"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        return

    def _answer(self, status: int, text: str, *, body: bool = True) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _probe(self) -> None:
        self._answer(200, "teleconform webhook listener\n", body=self.command != "HEAD")

    def _deliver(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self.close_connection = True
            self.server.listener.accept_delivery(
                self.command,
                self.path,
                self.headers.get("Content-Type"),
                b"",
                oversized=True,
            )
            self._answer(413, "body too large or malformed\n")
            return
        # Recorded before answering, so every delivery that got its 200 is in the report even
        # when the listener is stopped right after; validation takes well under a millisecond.
        self.server.listener.accept_delivery(
            self.command, self.path, self.headers.get("Content-Type"), body
        )
        self._answer(200, "ok\n")

    do_GET = do_HEAD = do_OPTIONS = _probe
    do_POST = do_PUT = do_PATCH = do_DELETE = _deliver


class WebhookListener:
    """A receiver for Leah deliveries on ``host:port`` (port 0: a free one), HTTP or HTTPS."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        events_file: Path | None = None,
        schema: EventSchema | None | bool = True,
        on_event: Callable[[ReceivedEvent], None] | None = None,
    ) -> None:
        self.host = host
        # Loaded now rather than on the first delivery, which must be answered promptly.
        self._schema: EventSchema | None = (
            default_schema()
            if schema is True
            else (schema if isinstance(schema, EventSchema) else None)
        )
        self._on_event = on_event
        self._events: list[ReceivedEvent] = []
        self._records: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._events_file = events_file
        # one per listener, so the placeholders stay consistent across its events
        self._redactor = Redactor()
        self.connection_errors = 0
        tls: ssl.SSLContext | None = None
        if certfile is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(str(certfile), str(keyfile) if keyfile is not None else None)
        server_class = _Server6 if ":" in host else _Server
        self._server = server_class((host, port), _Handler, bind_and_activate=True)
        self._server.listener = self
        self._server.tls = tls
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None
        if events_file is not None:
            events_file.parent.mkdir(parents=True, exist_ok=True)
            events_file.write_text("", encoding="utf-8")

    @property
    def url(self) -> str:
        scheme = "https" if self._server.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def events(self) -> list[ReceivedEvent]:
        """The deliveries so far, raw bodies included (in memory only)."""
        with self._cond:
            return list(self._events)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The deliveries so far as redacted records (what webhook-events.jsonl holds)."""
        with self._cond:
            return list(self._records)

    def start(self) -> WebhookListener:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"webhook-listener:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookListener:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def accept_delivery(
        self,
        method: str,
        path: str,
        content_type: str | None,
        body: bytes,
        *,
        oversized: bool = False,
    ) -> ReceivedEvent:
        """Validate and record one delivery (called by the server threads)."""
        if oversized:
            check = EventCheck(
                False,
                (f"body larger than {MAX_BODY} bytes or malformed",),
                None,
                None,
                "absent",
                False,
            )
        else:
            check = validate_delivery(method, content_type, body, schema=self._schema)
        with self._cond:
            event = ReceivedEvent(
                len(self._events) + 1, _now_precise(), method, path, content_type, body, check
            )
            record = event.record(self._redactor)
            self._events.append(event)
            self._records.append(record)
            if self._events_file is not None:
                with self._events_file.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._cond.notify_all()
        if self._on_event is not None:
            self._on_event(event)
        return event

    def wait_for(
        self,
        predicate: Callable[[ReceivedEvent], bool] | None = None,
        *,
        timeout: float,
        after: int = 0,
    ) -> ReceivedEvent | None:
        """The first event (past the first ``after`` ones) matching ``predicate``, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events[after:]:
                    if predicate is None or predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def evidence(self, event: ReceivedEvent) -> Evidence:
        """A report evidence entry for one delivery (body redacted)."""
        with self._cond:
            return event_evidence(self.url, self._records[event.index - 1])


def _now_precise() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def event_evidence(base_url: str, record: dict[str, Any]) -> Evidence:
    """Evidence for a recorded delivery: Leah's request and our 200."""
    return {
        "event_index": record.get("index"),
        "verdict": record.get("verdict"),
        "request": {
            "method": record.get("method"),
            "url": base_url.rstrip("/") + str(record.get("path") or "/"),
            "headers": {"content-type": record.get("content_type")},
            "body": record.get("body"),
        },
        "response": {"status": 200},
        "note": "; ".join(record.get("problems") or []) or "documented shape",
    }


def clause_from_records(base_url: str, records: Sequence[dict[str, Any]]) -> ClauseEntry:
    """The LEAH-WH-01 report entry folding every recorded delivery."""
    failing = [r for r in records if r.get("verdict") != "pass"]
    passing = [r for r in records if r.get("verdict") == "pass"]
    measurements = {"events_received": len(records), "events_conformant": len(passing)}
    if not records:
        return clause_entry(CLAUSE, "skip", "no deliveries were received", [], measurements)
    if failing:
        shown = "; ".join(
            f"event {r.get('index')}: " + "; ".join(r.get("problems") or []) for r in failing[:3]
        )
        more = f" (+{len(failing) - 3} more)" if len(failing) > 3 else ""
        reason = f"{len(failing)} of {len(records)} deliveries not as documented: {shown}{more}"
        verdict: Verdict = "fail"
    else:
        reason = f"all {len(records)} deliveries as documented"
        verdict = "pass"
    evidence = [event_evidence(base_url, r) for r in failing[:_EVIDENCE_FAILING]]
    evidence += [event_evidence(base_url, r) for r in passing[:_EVIDENCE_PASSING]]
    return clause_entry(CLAUSE, verdict, reason, evidence, measurements)


@dataclass(frozen=True, slots=True)
class ListenSettings:
    """A checked `webhooks listen` command line (`teleconform.cli.webhooks` makes it)."""

    report_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    certfile: str | None = None
    keyfile: str | None = None
    max_events: int | None = None
    duration: float | None = None
    gate: Gate = Gate()


def listen_command(settings: ListenSettings) -> int:
    """Serve until stopped, then write the reports; the exit status.

    Raises UsageError (exit 2, nothing received) when the address or the certificate cannot
    be used or the report directory cannot be written.
    """
    stop = threading.Event()
    report_dir = settings.report_dir
    try:
        listener = WebhookListener(
            settings.host,
            settings.port,
            certfile=settings.certfile,
            keyfile=settings.keyfile,
            events_file=report_dir / EVENTS_FILE,
            on_event=_event_printer(stop, settings.max_events),
        )
    except ssl.SSLError as exc:
        raise UsageError(f"{PROG}: cannot use the certificate/key: {exc.reason}") from None
    except OSError as exc:
        what = exc.strerror or type(exc).__name__
        raise UsageError(
            f"{PROG}: cannot listen on {settings.host}:{settings.port} or write {report_dir}: "
            f"{what}"
        ) from None
    started_at = now_rfc3339()
    _serve_until(listener, stop, settings.duration)
    entry = clause_from_records(listener.url, listener.records)
    report = webhook_report(
        command="webhooks listen",
        seed=random.SystemRandom().randrange(2**31),
        started_at=started_at,
        target={"mode": "live", "base_url": listener.url, "role": "webhook listener"},
        entry=entry,
        gate=settings.gate,
    )
    write_report(report, report_dir)
    print_line(
        f"{CLAUSE} {verdict_label(entry)}: {entry['reason']}; events in "
        f"{report_dir / EVENTS_FILE}, reports in {report_dir}/"
    )
    status = report_status(report, settings.gate)
    if status == EXIT_USAGE:
        print_line(
            f"{PROG}: no delivery arrived, nothing was verified (--allow-empty to accept)", err=True
        )
    return status


def _event_printer(
    stop: threading.Event, max_events: int | None
) -> Callable[[ReceivedEvent], None]:
    lock = threading.Lock()
    seen = [0]

    def on_event(event: ReceivedEvent) -> None:
        # Only the verdict and what is wrong: never the body, which may hold personal data.
        with lock:
            print_line(
                f"  {event.check.verdict:<4}  event {event.index}: {event.method} "
                f"{event.path} {event.check.summary()}"
            )
            seen[0] += 1
            if max_events is not None and seen[0] >= max_events:
                stop.set()

    return on_event


def _serve_until(listener: WebhookListener, stop: threading.Event, duration: float | None) -> None:
    """Serve in the foreground until ``stop``, the duration, SIGINT or SIGTERM."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    deadline = time.monotonic() + duration if duration else None
    listener.start()
    try:
        print_line(f"TELECONFORM_WEBHOOK_URL={listener.url}")
        print_line("READY")
        while not stop.wait(0.1):
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        listener.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
