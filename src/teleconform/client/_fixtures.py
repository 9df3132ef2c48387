"""pytest fixtures for integrators: a validating sandbox per test, judged at teardown.

``teleconform_hcw`` / ``teleconform_leah`` serve a fresh sandbox over HTTP on 127.0.0.1 with
a client validator in front, hand the test a :class:`~teleconform.client.ValidatingSandbox`
(``base_url``, ``credentials``, ``advance(seconds)``, ``validator``), and at teardown fail
the test when the client broke a MUST client clause during it (a SHOULD one is a
:class:`ClientClauseWarning`, or a failure with ``--teleconform-strict``), naming the
clause and the request. The profile comes from ``@pytest.mark.teleconform_profile(NAME)``
or ``--teleconform-profile NAME`` (none: the sandbox's default).

Imports of the validator are deferred to the fixtures, so loading the plugin stays cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from teleconform.client._sandbox import ValidatingSandbox
    from teleconform.client._validator import Finding

PROFILE_MARKER = "teleconform_profile"


class ClientClauseWarning(UserWarning):
    """A SHOULD client clause the client broke during a test."""


def _profile(request: pytest.FixtureRequest) -> str | None:
    marker = request.node.get_closest_marker(PROFILE_MARKER)
    if marker is not None and marker.args:
        return str(marker.args[0])
    value = request.config.getoption("--teleconform-profile", default=None)
    return str(value) if value else None


def describe(findings: list[Finding]) -> str:
    """One line per broken clause and request (the request's URL redacted)."""
    from teleconform.redact import Redactor

    redactor = Redactor()
    lines = []
    for f in findings:
        where = ""
        if f.exchange is not None:
            path = urlsplit(redactor.redact_url(f.exchange.url)).path or "/"
            where = f"\n    request: {f.exchange.method} {path} -> {f.exchange.status}"
        lines.append(f"  {f.clause} [{f.level}] {f.message}{where}")
    return "\n".join(lines)


def serve(request: pytest.FixtureRequest, api: str) -> Iterator[ValidatingSandbox]:
    """Start the sandbox, yield it, then judge what the client sent during the test."""
    from teleconform.client._sandbox import ValidatingSandbox

    try:
        sandbox = ValidatingSandbox(api, profile=_profile(request))
    except ValueError as exc:  # an unknown profile: the test cannot run as asked
        pytest.fail(f"teleconform_{api}: {exc}", pytrace=False)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
    broken = sandbox.validator.violations()
    must = [f for f in broken if f.level == "MUST"]
    should = [f for f in broken if f.level != "MUST"]
    strict = bool(request.config.getoption("--teleconform-strict", default=False))
    failing = must + should if strict else must
    if failing:
        pytest.fail(
            f"the client broke {len({f.clause for f in failing})} {api} client clause(s):\n"
            + describe(failing)
            + (f"\n and SHOULD clause(s):\n{describe(should)}" if should and not strict else ""),
            pytrace=False,
        )
    if should:
        warnings.warn(
            ClientClauseWarning(
                f"the client broke SHOULD {api} client clause(s):\n{describe(should)}"
            ),
            stacklevel=1,
        )


@pytest.fixture
def teleconform_hcw(request: pytest.FixtureRequest) -> Iterator[ValidatingSandbox]:
    """An HCW@Home sandbox judging the client's requests (see the module docstring)."""
    yield from serve(request, "hcw")


@pytest.fixture
def teleconform_leah(request: pytest.FixtureRequest) -> Iterator[ValidatingSandbox]:
    """A Leah sandbox judging the client's requests (see the module docstring)."""
    yield from serve(request, "leah")
