"""The validating proxy, served in a background thread (its command: ``cli/proxy.py``)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from teleconform.proxy._forward import ForwardingApp
from teleconform.proxy._session import ProxySession
from teleconform.report.model import Report
from teleconform.sandbox._server import ThreadedServer


class Proxy:
    """The proxy served on loopback (or ``host``) in a background thread.

    ``stop()`` ends serving, judges what is still queued and returns the (client, server)
    report dicts.
    """

    def __init__(
        self,
        target: str,
        *,
        api: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        record_dir: Path | None = None,
        overwrite: bool = False,
        timeout_s: float = 60.0,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.target = target
        self.session = ProxySession(
            target, api=api, record_dir=record_dir, overwrite=overwrite, credentials=credentials
        )
        self.app = ForwardingApp(target, self.session.submit, timeout_s=timeout_s)
        # The proxy adds no Server or Date field of its own: the target's pass through.
        self._server = ThreadedServer(
            self.app, host=host, port=port, server_header=False, date_header=False
        )

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> Proxy:
        self._server.start()
        return self

    def stop(self) -> tuple[Report, Report]:
        self.app.close()
        self._server.stop()
        return self.session.finish()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server._thread.is_alive():
            self.stop()
