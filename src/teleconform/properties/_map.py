"""Which clause claims which property-test failure (no schemathesis import: suites load it).

Private helper of :mod:`teleconform.properties`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ClauseMap"]


@dataclass(frozen=True, slots=True)
class ClauseMap:
    """Which clause claims which property-test failure.

    ``default`` takes everything no other entry claims (it is never dropped). ``server_error``
    claims 5xx answers and requests that got no answer; ``auth`` claims requests accepted (2xx)
    without credentials or with invalid ones on operations whose path matches ``auth_paths``
    (a regular expression, ``None`` = every secured operation); ``non_json`` claims responses
    without a JSON content type or body on paths matching ``non_json_paths``.
    """

    default: str
    server_error: str | None = None
    auth: str | None = None
    auth_paths: str | None = None
    non_json: str | None = None
    non_json_paths: str | None = None

    def clauses(self) -> tuple[str, ...]:
        """Every clause this map can report, default first, without repeats."""
        named = (self.default, self.server_error, self.auth, self.non_json)
        return tuple(dict.fromkeys(c for c in named if c))

    def auth_clause(self, path: str) -> str:
        if self.auth and (self.auth_paths is None or re.search(self.auth_paths, path)):
            return self.auth
        return self.default

    def json_clause(self, path: str) -> str | None:
        if self.non_json and (self.non_json_paths is None or re.search(self.non_json_paths, path)):
            return self.non_json
        return None
