"""The ``teleconform`` command line, laid out like its command tree.

``_parser`` builds the argparse tree (one ``add_<command>_parser`` per command), ``_main``
parses and dispatches, and each command has its module (``clauses``, ``sandbox``,
``cleanup``, ``proxy``, ``drift``, ``check_traffic``, ``cassettes``, ``report``,
``webhooks``; ``run`` is the package ``run/``: select, targets, executor, report).
Nothing outside ``cli/`` imports it, except the entry point ``teleconform.__main__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.cli._main import main

__all__ = ["main"]

__getattr__, __dir__ = lazy_attributes(__name__, dict.fromkeys(__all__, "teleconform.cli._main"))
