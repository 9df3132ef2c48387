"""The OpenAPI documents: one loader, parsed once per process and shared.

Every reader of a spec (property tests, traffic checks, redaction marks, cassette digests, the
catalogues next to the specs) goes through here, so a spec is parsed once, with one YAML
loader. The documents are shared: read them, never change them. A caller that must change a
document (schemathesis rewrites the keys of the dict it is given) takes
:func:`spec_document_copy`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from teleconform._resources import SPEC_FILES, spec_path
from teleconform._yaml import load_yaml_file

__all__ = [
    "SPEC_FILES",
    "SpecDocumentError",
    "load_document",
    "load_spec_document",
    "spec_document_copy",
    "spec_file",
]


class SpecDocumentError(ValueError):
    """The file parsed, but is not a mapping (no OpenAPI document or catalogue)."""


def spec_file(api: str) -> Path:
    """Path of the shipped spec of ``api`` ("hcw" or "leah")."""
    return spec_path(SPEC_FILES[api])


def load_document(path: Path) -> Mapping[str, Any]:
    """Parse a YAML/JSON document once per process (re-read when the file changes).

    Raises OSError, UnicodeDecodeError or yaml.YAMLError when the file is unreadable, and
    SpecDocumentError when it holds no mapping. The result is shared: do not change it.
    """
    document = load_yaml_file(path)
    if not isinstance(document, Mapping):
        raise SpecDocumentError(f"{path}: not a YAML/JSON mapping")
    return document


def load_spec_document(api: str) -> Mapping[str, Any]:
    """The shipped OpenAPI document of ``api``, shared (see :func:`load_document`)."""
    return load_document(spec_file(api))


def spec_document_copy(path: Path) -> dict[str, Any]:
    """A private deep copy of the document at ``path``, for a caller that changes it."""
    return copy.deepcopy(dict(load_document(path)))
