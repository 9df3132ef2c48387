"""One cached spec loader (teleconform.specs): parsed once, shared, never changed by a reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_path

from teleconform import _yaml
from teleconform.cassettes._api import spec_info, spec_templates
from teleconform.client._exchange import Exchange
from teleconform.client._spec_check import shipped_spec, view
from teleconform.properties._spec import _CONFIG, load_spec
from teleconform.redact._redactor import _spec_fields
from teleconform.specs import (
    SPEC_FILES,
    SpecDocumentError,
    load_document,
    load_spec_document,
    spec_document_copy,
    spec_file,
)
from teleconform.traffic import load_spec as load_traffic_spec
from teleconform.traffic._check import default_specs


def _fresh(api: str) -> object:
    return yaml.safe_load(spec_file(api).read_text(encoding="utf-8"))


@pytest.mark.parametrize("api", sorted(SPEC_FILES))
def test_a_spec_is_parsed_once_and_shared(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_spec_document(api)
    parsed: list[str] = []
    monkeypatch.setattr(_yaml, "load_yaml", lambda text: parsed.append(text))
    assert load_spec_document(api) is first
    assert load_traffic_spec(spec_file(api), api).doc is first
    assert parsed == []
    assert first == _fresh(api)


def test_a_rewritten_file_is_read_again_even_with_the_same_size_and_mtime(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("openapi: 3.1.0\npaths: {a: 1}\n")
    stamp = path.stat().st_mtime_ns
    assert load_document(path)["paths"] == {"a": 1}
    path.write_text("openapi: 3.1.0\npaths: {b: 2}\n")
    os.utime(path, ns=(stamp, stamp))
    assert load_document(path)["paths"] == {"b": 2}


def test_a_document_that_is_no_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- one\n- two\n")
    with pytest.raises(SpecDocumentError, match="not a YAML/JSON mapping"):
        load_document(path)


@pytest.mark.parametrize("api", sorted(SPEC_FILES))
def test_a_copy_is_private(api: str) -> None:
    copy = spec_document_copy(spec_file(api))
    copy["paths"].clear()
    copy["info"]["title"] = "changed"
    assert load_spec_document(api) == _fresh(api)


def test_no_reader_changes_the_shared_documents() -> None:
    """Every reader of the specs runs, then the shared documents still equal a fresh parse."""
    for api in SPEC_FILES:
        loaded = load_spec(spec_file(api))
        # schemathesis's own dict is a copy (it rewrites keys in place) ...
        assert loaded.schema.raw_schema is not load_spec_document(api)
        # ... and what it is given is what its own from_path would read
        reference = from_path(spec_file(api), config=SchemathesisConfig.from_dict(_CONFIG))
        assert loaded.schema.raw_schema == reference.raw_schema
        assert loaded.schema.location == reference.location
        assert [op.label for op in loaded.operations] == [
            result.ok().label for result in reference.get_all_operations()
        ]
        spec_info(api)
        assert spec_templates(api)
        shipped_spec.cache_clear()
        spec = shipped_spec(api)
        for operation in spec.operations:  # every body schema validated once
            url = "http://sandbox" + operation.template
            view(spec, Exchange.of(operation.method, url, body=b'{"x": 1}'))
    default_specs()
    _spec_fields.cache_clear()
    assert _spec_fields()
    for api in SPEC_FILES:
        assert load_spec_document(api) == _fresh(api), api
