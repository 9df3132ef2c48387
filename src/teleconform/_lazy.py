"""Lazy package attributes (PEP 562): a public name loads the module that defines it on first use.

A package ``__init__`` lists its names under ``if TYPE_CHECKING:`` (for type checkers and
readers) and hands the same names to :func:`lazy_attributes`, so importing one light
submodule never runs a heavy sibling.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``homes`` maps name -> module."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(homes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(homes)

    return __getattr__, __dir__
