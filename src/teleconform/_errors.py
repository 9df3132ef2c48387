"""Exit codes and the errors every command turns into one line (CONTRACT.md "Exit codes")."""

from __future__ import annotations

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TARGET, EXIT_BUG = 0, 1, 2, 3, 4
# interrupted: 128 + the signal's number, as shells report it
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class UsageError(Exception):
    """Bad flags: exit 2 with one line."""


class ConfigError(Exception):
    """A configuration mistake: exit 2 with this one-line message."""
