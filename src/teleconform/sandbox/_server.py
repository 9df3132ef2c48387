"""Serve an ASGI app with uvicorn on loopback, in a background thread or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """uvicorn in a daemon thread; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_level: str = "critical",
        **uvicorn_kwargs: Any,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level=log_level,
            lifespan="off",
            access_log=False,
            # uvicorn's own logging set-up (dictConfig) closes every handler in the process,
            # teleconform's run log among them; a pooled connection idle for uvicorn's default
            # 5 s (e.g. while the property tests load the spec) is closed by the server just
            # as the client reuses it: "connection reset by peer" on a loaded machine
            **{"log_config": None, "timeout_keep_alive": 300, **uvicorn_kwargs},
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"sandbox:{self.port}", daemon=True
        )

    @property
    def base_url(self) -> str:
        scheme = "https" if self._server.config.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on {self.host}:{self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
