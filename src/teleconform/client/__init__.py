"""Client-side conformance: judge an integrator's client by the requests it sends.

- :class:`Exchange`: one request and its answer, wherever it came from.
- :class:`ClientValidator`: ``observe(exchange)`` for each exchange in order; it keeps the
  state it needs from the exchanges (tokens issued, invites and their consultations,
  cancelled appointments, SSO tokens seen, transfers...) and judges the client clauses of
  specs/client-clauses.yaml. ``findings()``/``violations()`` list what it found,
  ``clause_entries()``/``results()``/``run_json(base_url)`` give per-clause verdicts with
  redacted evidence (``target.mode`` "client"); clauses never exercised are ``skip``.
- :func:`validating`: ASGI middleware feeding every exchange of an app (a sandbox) to a
  validator; the app answers exactly as before.
- :func:`client_report`, :func:`write_client_report`, :func:`client_exit_status`: the
  report dict, the four report files, and the exit status `run` would give.
- :class:`ValidatingSandbox`: a sandbox (HCW or Leah, a profile) served over HTTP on
  loopback with a validator in front (the CLI's ``--validate-requests`` and the pytest
  fixtures use it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.client._exchange import Exchange
    from teleconform.client._middleware import validating
    from teleconform.client._report import client_exit_status, client_report, write_client_report
    from teleconform.client._sandbox import ValidatingSandbox
    from teleconform.client._validator import ClientValidator, Finding

# Loaded on first use: the pytest plugin imports this package's fixtures in every session.
_WHERE = {
    "ClientValidator": "_validator",
    "Exchange": "_exchange",
    "Finding": "_validator",
    "ValidatingSandbox": "_sandbox",
    "client_exit_status": "_report",
    "client_report": "_report",
    "validating": "_middleware",
    "write_client_report": "_report",
}


__all__ = [
    "ClientValidator",
    "Exchange",
    "Finding",
    "ValidatingSandbox",
    "client_exit_status",
    "client_report",
    "validating",
    "write_client_report",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f"{__name__}.{module}" for name, module in _WHERE.items()}
)
