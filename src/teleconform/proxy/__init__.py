"""``teleconform proxy``: a validating reverse proxy between a client and a real server.

- :class:`ForwardingApp` (ASGI) relays every exchange unchanged, streaming both bodies;
- :class:`ProxySession` judges each relayed exchange with the client validator
  (:mod:`teleconform.client`) and the one-exchange server clauses (:mod:`._judge`), records
  redacted cassettes, and builds the client (``target.mode`` "client") and server
  (``target.mode`` "live") reports;
- :class:`Proxy` serves it; the CLI is :mod:`teleconform.cli.proxy`.
"""

from teleconform.proxy._forward import HOP_BY_HOP, ForwardingApp, Relayed
from teleconform.proxy._judge import JUDGED, judge
from teleconform.proxy._proxy import Proxy
from teleconform.proxy._session import ProxySession, detect_api

__all__ = [
    "HOP_BY_HOP",
    "JUDGED",
    "ForwardingApp",
    "Proxy",
    "ProxySession",
    "Relayed",
    "detect_api",
    "judge",
]
