"""Targets: the embedded sandboxes (started here), live URLs (checked and probed)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from teleconform._errors import ConfigError
from teleconform.runner._http import RateLimiter
from teleconform.runner._needs import ENV_NEED
from teleconform.sandbox._profiles import (
    DEFAULT_PROFILE,
    Profile,
    read_profile_document,
    resolve_profile,
)
from teleconform.sandbox._server import ThreadedServer

SANDBOX_MODULES = {"hcw": "teleconform.sandbox.hcw", "leah": "teleconform.sandbox.leah"}
# where each sandbox keeps its profiles (READINGS, PROFILES); a sandbox without one has only
# its documented behaviour
PROFILE_MODULES = {
    "hcw": "teleconform.sandbox.hcw._profiles",
    "leah": "teleconform.sandbox.leah._profiles",
}


def sandbox_credentials(api: str, app: Any) -> dict[str, str]:
    """Need-name credentials from a sandbox app's ``state.credentials`` (env var names)."""
    creds: dict[str, str] = {}
    for var, value in dict(app.state.credentials).items():
        need = ENV_NEED.get(var)
        if need and need.startswith(api + "."):
            creds[need] = str(value)
    if api == "leah":
        # The sandbox delivers webhook events itself when a check triggers a guest arrival.
        creds["leah.webhook_events"] = "delivered by the sandbox"
    return creds


def create_sandbox_app(api: str, **kwargs: Any) -> Any:
    """A fresh sandbox app of one API (``profile=None`` is left out: the sandbox's default)."""
    module = importlib.import_module(SANDBOX_MODULES[api])
    if kwargs.get("profile") is None:
        kwargs.pop("profile", None)
    return module.create_app(**kwargs)


def _profile_module(api: str) -> Any:
    try:
        return importlib.import_module(PROFILE_MODULES[api])
    except ModuleNotFoundError:
        return None


def sandbox_profiles(api: str) -> dict[str, Profile]:
    """The built-in profiles of a sandbox, by name (``as-documented`` first)."""
    module = _profile_module(api)
    if module is None:
        return {DEFAULT_PROFILE: Profile(DEFAULT_PROFILE, api, "the sandbox as built")}
    return dict(module.PROFILES)


def resolve_sandbox_profile(api: str, spec: str | None) -> Profile | None:
    """A profile by name or file, checked; None for the default. ConfigError when bad."""
    if spec is None or spec == "":
        return None
    module = _profile_module(api)
    if module is None:
        if spec == DEFAULT_PROFILE:
            return None
        raise ConfigError(f"unknown {api} sandbox profile {spec!r}; known: {DEFAULT_PROFILE}")
    faults = importlib.import_module(SANDBOX_MODULES[api]).FAULTS
    try:
        return resolve_profile(spec, api, module.PROFILES, module.READINGS, faults)
    except ValueError as exc:
        raise ConfigError(str(exc).splitlines()[0]) from exc


def file_profile_api(spec: str) -> str | None:
    """The ``api`` a profile file names (None if it names none or cannot be read)."""
    if Path(spec).suffix.lower() not in (".yaml", ".yml", ".json") or not Path(spec).is_file():
        return None
    try:
        data = read_profile_document(Path(spec))
    except Exception:  # the resolver reports the problem with the file itself
        return None
    api = data.get("api") if isinstance(data, dict) else None
    return api if api in SANDBOX_MODULES else None


def parse_sandbox_profiles(values: list[str], apis: list[str]) -> dict[str, Profile | None]:
    """``--sandbox-profile``: ``API=NAME|FILE``, or a bare NAME|FILE.

    A bare name applies to every selected API whose sandbox has a profile of that name; a bare
    file to the API it names (``api:``), or to the one selected API. ConfigError otherwise.
    """
    chosen: dict[str, str] = {}

    def put(api: str, spec: str) -> None:
        if api in chosen and chosen[api] != spec:
            raise ConfigError(f"--sandbox-profile given twice for {api}")
        chosen[api] = spec

    for value in values:
        name, sep, spec = value.partition("=")
        if sep and name in SANDBOX_MODULES:
            if name not in apis:
                raise ConfigError(f"--sandbox-profile {name}=... but {name} is not selected")
            put(name, spec)
            continue
        file_api = file_profile_api(value)
        if file_api is not None:
            if file_api not in apis:
                raise ConfigError(f"--sandbox-profile {value} is for {file_api}, not selected")
            put(file_api, value)
            continue
        owners = [api for api in apis if value in sandbox_profiles(api)]
        if not owners and len(apis) == 1:
            owners = apis  # a file without api:, or an unknown name: the resolver says which
        if not owners:
            raise ConfigError(
                f"--sandbox-profile {value}: no selected sandbox has that profile "
                "(see `teleconform sandbox API --list-profiles`)"
            )
        for api in owners:
            put(api, value)
    return {api: resolve_sandbox_profile(api, spec) for api, spec in chosen.items()}


@dataclass
class SandboxTarget:
    """A sandbox served over real HTTP on loopback for the duration of a run."""

    api: str
    faults: tuple[str, ...] = ()
    profile: Profile | None = None
    app: Any = None
    server: ThreadedServer | None = None
    credentials: dict[str, str] = field(default_factory=dict)

    @property
    def profile_name(self) -> str:
        """The name of the profile it runs (the default when none was chosen)."""
        return self.profile.name if self.profile is not None else DEFAULT_PROFILE

    def start(self) -> str:
        self.app = create_sandbox_app(self.api, faults=self.faults, profile=self.profile)
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


def probe(base_url: str, timeout: float, limiter: RateLimiter | None) -> str | None:
    """Why the target cannot be reached at all (DNS, refused, TLS, connect timeout), or None.

    Only the connection counts: a server that accepts it but answers the base URL badly
    (reset, hang, 5xx) is reachable, and its clauses say what is wrong.
    """
    host = httpx.URL(base_url).host
    if limiter is not None:
        limiter.wait()  # the probe is a live request like any other: one run-wide rate limit
    try:
        with httpx.Client(timeout=timeout) as client:
            client.get(base_url)
    except httpx.ConnectTimeout:
        return (
            f"no connection within {timeout:g}s: check the host, port, firewall and proxy settings"
        )
    except httpx.ConnectError as exc:
        text = str(exc)
        lowered = text.lower()
        if (
            "name or service" in lowered
            or "nodename" in lowered
            or "name resolution" in lowered
            or "getaddrinfo" in lowered
            or "errno -" in lowered
        ):
            return f"cannot resolve the host name {host} ({text}): check the host name and DNS"
        if "ssl" in lowered or "tls" in lowered or "certificate" in lowered:
            return (
                f"TLS handshake failed ({text}): check https:// versus http:// and the "
                "certificate (SSL_CERT_FILE for a private CA)"
            )
        if "refused" in lowered:
            return (
                f"connection refused by {host}: check the host and port, and that the "
                "server is running"
            )
        return f"cannot connect ({text}): check the URL, DNS, proxy and TLS settings"
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.ProxyError) as exc:
        return f"cannot connect ({type(exc).__name__}: {exc}): check the URL and proxy settings"
    except httpx.HTTPError:
        return None
    return None
