"""Targets: the embedded sandboxes (started here), live URLs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._needs import ConfigError
from .runner import sandbox_credentials
from .sandbox._server import ThreadedServer

SANDBOX_MODULES = {"hcw": "teleconform.sandbox.hcw", "leah": "teleconform.sandbox.leah"}


def create_sandbox_app(api: str, **kwargs: Any) -> Any:
    """A fresh sandbox app of one API."""
    module = importlib.import_module(SANDBOX_MODULES[api])
    return module.create_app(**kwargs)


@dataclass
class SandboxTarget:
    """A sandbox served over real HTTP on loopback for the duration of a run."""

    api: str
    faults: tuple[str, ...] = ()
    app: Any = None
    server: ThreadedServer | None = None
    credentials: dict[str, str] = field(default_factory=dict)

    def start(self) -> str:
        self.app = create_sandbox_app(self.api, faults=self.faults)
        self.server = ThreadedServer(self.app).start()
        self.credentials = sandbox_credentials(self.api, self.app)
        return self.server.base_url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def check_url(value: str, what: str = "--target") -> str:
    """Validate a base URL (http or https with a host); ConfigError otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} {value!r} is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} {value!r} must be a base URL without query or fragment")
    return value.rstrip("/")


def parse_targets(values: list[str], apis: list[str]) -> dict[str, str]:
    """``--target URL`` (one API) or ``--target hcw=URL --target leah=URL``."""
    targets: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if sep and name in ("hcw", "leah") and not name.startswith("http"):
            if name not in apis:
                raise ConfigError(f"--target {name}=... but {name} is not selected")
            targets[name] = check_url(url, f"--target {name}=")
        elif len(apis) == 1:
            if apis[0] in targets:
                raise ConfigError("--target given twice")
            targets[apis[0]] = check_url(value)
        else:
            raise ConfigError("with `run all`, give --target hcw=URL and/or --target leah=URL")
    return targets
