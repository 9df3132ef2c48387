"""The ``teleconform`` command line, laid out like its command tree.

``_parser`` builds the argparse tree (one ``add_<command>_parser`` per command), ``_main``
parses and dispatches, and each command has its module (``clauses``, ``sandbox``,
``cleanup``, ``proxy``, ``drift``, ``check_traffic``, ``cassettes``; ``run`` in ``_run``).
Nothing outside ``cli/`` imports it, except the entry point ``teleconform.__main__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleconform.cli._main import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): a command module (`teleconform.cli.proxy`) loads without the dispatcher.
    if name in __all__:
        return getattr(importlib.import_module("teleconform.cli._main"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
