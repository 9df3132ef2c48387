"""A sandbox served over HTTP on loopback with a client validator in front of it."""

from __future__ import annotations

import importlib
import threading
import time
from types import TracebackType
from typing import Any

from teleconform.client._middleware import validating
from teleconform.client._report import client_report, now_rfc3339
from teleconform.client._validator import ClientValidator
from teleconform.report.model import Report

SANDBOX_MODULES = {"hcw": "teleconform.sandbox.hcw", "leah": "teleconform.sandbox.leah"}


class AdjustableClock:
    """Wall-clock time plus an offset a test can move forward (token expiry, SSO windows)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def available_profiles(api: str) -> list[str]:
    """The built-in profile names of a sandbox (empty when it has none)."""
    module = importlib.import_module(SANDBOX_MODULES[api])
    profiles = getattr(module, "PROFILES", None)
    return list(profiles) if profiles else []


def create_validated_app(
    api: str,
    validator: ClientValidator,
    clock: AdjustableClock,
    *,
    profile: str | None = None,
    faults: tuple[str, ...] = (),
) -> Any:
    """A fresh sandbox app of ``api`` (with ``profile`` when given) behind the validator."""
    module = importlib.import_module(SANDBOX_MODULES[api])
    kwargs: dict[str, Any] = {"faults": faults, "clock": clock}
    if profile is not None:
        kwargs["profile"] = profile  # only when asked: sandboxes without profiles still work
    try:
        app = module.create_app(**kwargs)
    except TypeError as exc:
        if profile is not None and "profile" in str(exc):
            raise ValueError(f"the {api} sandbox has no profiles in this teleconform") from exc
        raise
    wrapped = validating(app, validator, clock=clock)
    return app, wrapped


class ValidatingSandbox:
    """Serve a sandbox with every request judged against the client clauses.

    ``base_url``, ``credentials`` (the sandbox's seeded ``TELECONFORM_*`` values) and
    ``validator`` are set once started; ``advance(seconds)`` moves the sandbox's clock (and
    the validator's) forward, e.g. past a token's 15 minutes.
    """

    def __init__(
        self,
        api: str,
        *,
        profile: str | None = None,
        faults: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        from teleconform.sandbox._server import ThreadedServer

        self.api = api
        self.profile = profile
        self.clock = AdjustableClock()
        module = importlib.import_module(SANDBOX_MODULES[api])
        self.credentials: dict[str, str] = dict(module.CREDENTIALS)
        self.validator = ClientValidator(api, credentials=self.credentials)
        self.app, wrapped = create_validated_app(
            api, self.validator, self.clock, profile=profile, faults=faults
        )
        self.credentials = dict(getattr(self.app.state, "credentials", self.credentials))
        self._server = ThreadedServer(wrapped, host=host, port=port)
        self.started_at = now_rfc3339()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> ValidatingSandbox:
        self._server.start()
        self.started_at = now_rfc3339()
        return self

    def stop(self) -> None:
        self._server.stop()

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock forward by ``seconds``."""
        self.clock.advance(seconds)

    def report(self) -> Report:
        """The client report of everything the client sent so far."""
        return client_report([self.validator.run_json(self.base_url)], started_at=self.started_at)

    def __enter__(self) -> ValidatingSandbox:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
