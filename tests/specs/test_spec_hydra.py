"""The Leah spec's JSON-LD/Hydra schemas against real API Platform and Leah documents.

Runs on the samples the project ships (tests/fixtures/specs/hydra, always) and on
../shared/data/hydra-samples when that folder is there (skipped with a reason otherwise).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.validators import validator_for

from ._support import (
    FIXTURE_HYDRA,
    SHARED_HYDRA,
    component_validator,
    errors_of,
    require_shared,
)

UUID_REPAIRS = {
    "acdca04c-97af-4d20-bcaa-708ceqsdq36b9f": "acdca04c-97af-4d20-bcaa-708ce0d36b9f",
    "51176ec8-670b-4fa5-8f15-df21jh23d30ea": "51176ec8-670b-4fa5-8f15-df21a23d30ea",
    "5af6e1bb-3182-47cc-bbc4-528aEjdhq442afb": "5af6e1bb-3182-47cc-bbc4-528ae0442afb",
}

# file -> (component schemas that must accept it, component schemas that must reject it).
# "*.schema.json" files are JSON Schemas API Platform's tests use, not documents: they are
# only checked to be valid JSON Schemas.
SAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "01-collection-with-search.json": (
        ["HydraCollection", "HydraCollectionPrefixed"],
        ["HydraCollectionUnprefixed", "LeahError"],
    ),
    "02-item-top-level.json": (["HydraItem"], ["HydraCollection"]),
    "03-item-uuid-iri.json": (["HydraItem"], ["HydraCollection"]),
    "04-collection-paginated-first-page.json": (["HydraCollection"], []),
    "06-collection-filtered-view-and-search.json": (["HydraCollection"], []),
    "08-collection-empty.json": (["HydraCollection"], []),
    # Accept: application/json gives a bare array: not a Hydra collection.
    "09-collection-plain-json-format.json": ([], ["HydraCollection", "HydraItem"]),
    "10-context-document.partial.json": (["JsonLdContextDocument"], ["HydraCollection"]),
    "11-validation-422-legacy-ldjson-v3.1.json": (
        ["ConstraintViolationList", "LeahError", "LeahValidationError"],
        ["HydraCollection"],
    ),
    "12-validation-422-problem-v3.4.17.json": (
        ["ConstraintViolationList", "ProblemDetails", "LeahError", "LeahValidationError"],
        [],
    ),
    "14-validation-422-problem-v4.2.json": (
        ["ConstraintViolationList", "ProblemDetailsJsonLd", "LeahError", "LeahValidationError"],
        [],
    ),
    "15-validation-422-problem-plain-json-v4.2.json": (
        ["ProblemDetails", "LeahError", "LeahValidationError"],
        ["ProblemDetailsJsonLd", "ConstraintViolationList"],
    ),
    "17-error-legacy-hydra-error-api-prefix.issue-5521.json": (
        ["HydraErrorLegacy", "LeahError"],
        ["ProblemDetailsJsonLd"],
    ),
    "18-validation-422-v2-no-code.issue-1641.json": (
        ["ConstraintViolationList", "LeahError", "LeahValidationError"],
        [],
    ),
    "20-error-401-jsonld-noprefix.laravel-transcribed.json": (
        ["ProblemDetailsJsonLd", "LeahError"],
        ["HydraErrorLegacy", "LeahValidationError"],
    ),
    "21-error-401-problem-json.laravel-transcribed.json": (
        ["ProblemDetails", "LeahError"],
        ["ProblemDetailsJsonLd"],
    ),
    "22-error-404-jsonld-noprefix.laravel-transcribed.fragment.json": (
        ["ProblemDetailsJsonLd", "LeahError"],
        ["LeahValidationError"],
    ),
    "24-collection-empty.schema.json": ([], []),
    "25-collection-first-page.schema.json": ([], []),
    "26-collection-partial-pagination.schema.json": ([], []),
    "27-collection-cursor-pagination.schema.json": ([], []),
    "28-collection-filter-exact-match.schema.json": ([], []),
    "29-demo-book-collection.schema.json": ([], []),
    "30-leah-doc-appointment-created-201.json": (["Appointment", "HydraItem"], ["Transfer"]),
    "31-leah-doc-appointment-rescheduled-200.json": (["Appointment", "HydraItem"], []),
    "32-leah-doc-appointment-cancelled-200.json": (["Appointment", "HydraItem"], []),
    # Verbatim from the document: their ids are not UUIDs (see test_document_transfers_...).
    "33-leah-doc-transfer-created.json": (["HydraItem"], ["Transfer"]),
    "34-leah-doc-transfer-files-uploaded.json": (["HydraItem"], ["Transfer"]),
    "35-leah-doc-offices-collection.fixed.json": (
        ["OfficeCollection", "HydraCollection"],
        ["HealthcareWorkerCollection"],
    ),
    "36-leah-doc-healthcare-workers-collection.fixed.json": (
        ["HealthcareWorkerCollection", "HydraCollection"],
        ["OfficeCollection"],
    ),
    "37-leah-doc-webhook-guest-online.reconstructed.json": (["GuestOnlineEvent"], []),
}

SOURCES = {"shipped": FIXTURE_HYDRA, "shared": SHARED_HYDRA}


def _source_dir(source: str) -> Path:
    if source == "shared":
        return require_shared(SHARED_HYDRA)
    return FIXTURE_HYDRA


def _load(source: str, name: str) -> Any:
    return json.loads((_source_dir(source) / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_sample_is_mapped(source: str) -> None:
    present = {p.name for p in _source_dir(source).glob("*.json")}
    assert present == set(SAMPLES)


def test_shipped_samples_are_identical_to_the_shared_ones() -> None:
    shared = _source_dir("shared")
    for name in SAMPLES:
        assert (FIXTURE_HYDRA / name).read_bytes() == (shared / name).read_bytes(), name


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_against_its_schema(source: str, name: str) -> None:
    document = _load(source, name)
    accept, reject = SAMPLES[name]
    if name.endswith(".schema.json"):
        # 29 names its draft with https://, which jsonschema registers under http://.
        dialect = str(document.get("$schema", "")).replace("https://", "http://")
        cls = validator_for({"$schema": dialect} if dialect else {}, default=Draft202012Validator)
        assert dialect == "" or cls is Draft7Validator
        cls.check_schema(document)
        return
    assert accept or reject
    for schema in accept:
        assert errors_of(component_validator("leah", schema), document) == [], schema
    for schema in reject:
        assert errors_of(component_validator("leah", schema), document) != [], schema


def _repair_uuids(document: Any) -> Any:
    text = json.dumps(document)
    for bad, good in UUID_REPAIRS.items():
        text = text.replace(bad, good)
    return json.loads(text)


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize(
    "name", ["33-leah-doc-transfer-created.json", "34-leah-doc-transfer-files-uploaded.json"]
)
def test_document_transfers_fail_only_on_their_malformed_uuids(source: str, name: str) -> None:
    document = _load(source, name)
    transfer = component_validator("leah", "Transfer")
    failing = {e.split(":", 1)[0] for e in errors_of(transfer, document)}
    assert failing and failing <= {"@id", "id", "healthcareWorker", "files/0"}
    assert errors_of(transfer, _repair_uuids(document)) == []


# ---------------------------------------------------------------------------- dialects

PREFIXED: dict[str, Any] = {
    "@context": "/api/contexts/Office",
    "@id": "/api/offices",
    "@type": "hydra:Collection",
    "hydra:member": [
        {"@id": "/api/offices/6e229d04-1880-4b6b-a520-36f757f4a531", "@type": "Office"}
    ],
    "hydra:totalItems": 4,
    "hydra:view": {
        "@id": "/api/offices?page=1",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": "/api/offices?page=1",
        "hydra:next": "/api/offices?page=2",
    },
    "hydra:search": {
        "@type": "hydra:IriTemplate",
        "hydra:template": "/api/offices{?healthcareWorker.email}",
        "hydra:variableRepresentation": "BasicRepresentation",
        "hydra:mapping": [
            {
                "@type": "IriTemplateMapping",
                "variable": "healthcareWorker.email",
                "property": "healthcareWorker.email",
                "required": False,
            }
        ],
    },
}


def _unprefixed(document: dict[str, Any]) -> dict[str, Any]:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k.removeprefix("hydra:"): strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node.removeprefix("hydra:") if isinstance(node, str) else node

    result: dict[str, Any] = strip(document)
    return result


UNPREFIXED = _unprefixed(PREFIXED)


def test_both_pure_dialects_are_accepted() -> None:
    collection = component_validator("leah", "HydraCollection")
    assert UNPREFIXED["@type"] == "Collection" and "member" in UNPREFIXED
    assert errors_of(collection, PREFIXED) == []
    assert errors_of(collection, UNPREFIXED) == []
    assert errors_of(component_validator("leah", "HydraCollectionPrefixed"), UNPREFIXED) != []
    assert errors_of(component_validator("leah", "HydraCollectionUnprefixed"), PREFIXED) != []


def _mixed(base: dict[str, Any], pointer: list[str], old: str, new: str) -> dict[str, Any]:
    document = copy.deepcopy(base)
    node = document
    for key in pointer:
        node = node[key]
    node[new] = node.pop(old)
    return document


MIXED = {
    "prefixed, unprefixed totalItems": _mixed(PREFIXED, [], "hydra:totalItems", "totalItems"),
    "prefixed, unprefixed view": _mixed(PREFIXED, [], "hydra:view", "view"),
    "prefixed, unprefixed search": _mixed(PREFIXED, [], "hydra:search", "search"),
    "prefixed, unprefixed next in view": _mixed(PREFIXED, ["hydra:view"], "hydra:next", "next"),
    "prefixed, unprefixed template in search": _mixed(
        PREFIXED, ["hydra:search"], "hydra:template", "template"
    ),
    "unprefixed, prefixed member": _mixed(UNPREFIXED, [], "member", "hydra:member"),
    "unprefixed, prefixed totalItems": _mixed(UNPREFIXED, [], "totalItems", "hydra:totalItems"),
    "unprefixed, prefixed first in view": _mixed(UNPREFIXED, ["view"], "first", "hydra:first"),
    "unprefixed, prefixed mapping in search": _mixed(
        UNPREFIXED, ["search"], "mapping", "hydra:mapping"
    ),
    "prefixed keys, unprefixed @type": {**PREFIXED, "@type": "Collection"},
    "unprefixed keys, prefixed @type": {**UNPREFIXED, "@type": "hydra:Collection"},
    "both member spellings": {**PREFIXED, "member": PREFIXED["hydra:member"]},
}


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_dialect_documents_are_rejected(name: str) -> None:
    assert errors_of(component_validator("leah", "HydraCollection"), MIXED[name]) != []
    assert errors_of(component_validator("leah", "OfficeCollection"), MIXED[name]) != []


# ---------------------------------------------------------------------------- Leah members

OFFICE: dict[str, Any] = {
    "@id": "/api/offices/6e229d04-1880-4b6b-a520-36f757f4a531",
    "@type": "Office",
    "id": "6e229d04-1880-4b6b-a520-36f757f4a531",
    "slug": "my-office",
    "organization": "/api/organizations/440b4e01-d3e4-4cbc-afb2-ca62177cd630",
    "features": ["/api/features/1054acd0-b3e7-4420-b01d-d18c1e57fe6a"],
    "createdAt": "2021-01-22T14:20:48+00:00",
    "currentMeeting": None,
}


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"currentMeeting": "/api/meetings/1"}, True),
        ({"extraProperty": {"any": "thing"}}, True),
        ({"createdAt": "2021-01-22T14:20:48Z"}, True),
        ({"createdAt": "2021-01-22T14:20:48"}, False),
        ({"createdAt": "22/01/2021"}, False),
        ({"@id": "/api/offices/42"}, False),
        ({"@type": "Organization"}, False),
        ({"id": "not-a-uuid"}, False),
        ({"features": "/api/features/1"}, False),
    ],
)
def test_office_member_schema(change: dict[str, Any], valid: bool) -> None:
    office = {**OFFICE, **change}
    assert (errors_of(component_validator("leah", "Office"), office) == []) is valid
    collection = {
        "@context": "/api/contexts/Office",
        "@id": "/api/offices",
        "@type": "Collection",
        "member": [office],
        "totalItems": 1,
    }
    assert (errors_of(component_validator("leah", "OfficeCollection"), collection) == []) is valid


def test_absent_and_null_are_equivalent_for_nullable_fields() -> None:
    office = {k: v for k, v in OFFICE.items() if k != "currentMeeting"}
    assert errors_of(component_validator("leah", "Office"), office) == []
    worker = {
        "@id": "/api/healthcare_workers/7dd37344-5d8d-4c90-a015-5518ab97adaf",
        "@type": "HealthcareWorker",
        "firstname": "J",
        "lastname": "D",
        "email": "j.d@example.org",
    }
    hcw = component_validator("leah", "HealthcareWorker")
    assert errors_of(hcw, worker) == []
    assert errors_of(hcw, {**worker, "currentOrganization": None}) == []
    assert errors_of(hcw, {**worker, "currentOrganization": "/api/organizations/x"}) == []
    assert errors_of(hcw, {**worker, "email": "not-an-address"}) != []


def test_collection_context_and_id_are_checked() -> None:
    collection = {
        "@context": "/api/contexts/Office",
        "@id": "https://org.leah.care/api/offices",
        "@type": "hydra:Collection",
        "hydra:member": [OFFICE],
    }
    offices = component_validator("leah", "OfficeCollection")
    assert errors_of(offices, collection) == []
    assert errors_of(offices, {**collection, "@id": "/api/appointments"}) != []
    assert errors_of(offices, {**collection, "@context": "/api/contexts/Appointment"}) != []
    assert errors_of(offices, {**collection, "hydra:totalItems": -1}) != []
    assert errors_of(offices, {k: v for k, v in collection.items() if k != "@context"}) != []
