"""Both specs load in schemathesis, every operation can generate a request, and the OpenAPI
links of the stateful chains are recognised and resolve on real or documented answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ._support import (
    FIXTURE_HAR,
    SPEC_FILES,
    SPECS_DIR,
    errors_of,
    follow,
    iter_examples,
    load_har,
    load_spec,
    match_operation,
    operations,
    pointer_get,
    request_schema_pointer,
    validator,
)

APIS = ["hcw", "leah"]


def _schema(api: str) -> Any:
    return schemathesis.openapi.from_path(str(SPECS_DIR / SPEC_FILES[api]))


@pytest.mark.parametrize("api", APIS)
def test_schemathesis_loads_every_operation(api: str) -> None:
    loaded = [result.ok() for result in _schema(api).get_all_operations()]
    labels = {op.label for op in loaded}
    assert labels == {op.label for op in operations(api)}
    for op in loaded:
        assert op.definition.raw["x-clauses"], op.label


def _draw_cases(operation: Any, count: int) -> list[Any]:
    """Up to `count` generated cases of one operation (at least one when it can generate)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def draw(case: Any) -> None:
        drawn.append(case)

    draw()
    return drawn


@pytest.mark.parametrize("api", APIS)
def test_every_operation_generates_requests_its_own_schema_accepts(api: str) -> None:
    """schemathesis reads the request schemas as we do: positive JSON bodies validate."""
    for result in _schema(api).get_all_operations():
        operation = result.ok()
        drawn = _draw_cases(operation, 5)
        assert drawn, operation.label
        ours = match_operation(
            api, operation.method, operation.path.replace("{", "x").replace("}", "x")
        )
        assert ours is not None and ours.label == operation.label
        for case in drawn:
            if case.media_type and "json" in case.media_type:
                pointer = request_schema_pointer(ours, case.media_type)
                assert pointer is not None, (operation.label, case.media_type)
                assert errors_of(validator(api, pointer), case.body) == [], case.body


# Explicit links: (api, source operationId, status, link name, target operationId).
EXPECTED_LINKS = [
    ("hcw", "createInvite", "200", "GetInvite", "getInvite"),
    ("hcw", "createInvite", "200", "UpdateInvite", "updateInvite"),
    ("hcw", "createInvite", "200", "DeleteInvite", "deleteInvite"),
    ("hcw", "createInvite", "200", "CloseConsultation", "closeConsultation"),
    ("hcw", "createInvite", "200", "LoginInvite", "loginInvite"),
    ("hcw", "loginInvite", "200", "RequestConsultation", "requestConsultation"),
    ("hcw", "requestConsultation", "200", "AcceptConsultation", "acceptConsultation"),
    ("leah", "createAppointment", "201", "UpdateAppointment", "updateAppointment"),
    ("leah", "createAppointment", "201", "GetAppointment", "getAppointment"),
    ("leah", "createTransfer", "200", "UploadFiles", "uploadTransferFiles"),
    ("leah", "createTransfer", "201", "UploadFiles", "uploadTransferFiles"),
    ("leah", "uploadTransferFiles", "200", "ShareTransfer", "shareTransfer"),
]


def _state_machine_name(api: str, source: str, status: str, link: str, target: str) -> str:
    by_id = {op.operation_id: op for op in operations(api)}

    def label(operation_id: str) -> str:
        op = by_id[operation_id]
        return re.sub(r"[^A-Za-z0-9]+", "_", f"{op.method.upper()} {op.path}")

    return f"{label(source)}___{status}_{link}__{label(target)}"


@pytest.mark.parametrize("api", APIS)
def test_state_machine_has_the_explicit_links(api: str) -> None:
    machine = _schema(api).as_state_machine()
    names = set(dir(machine))
    for entry in EXPECTED_LINKS:
        if entry[0] == api:
            assert _state_machine_name(*entry) in names, entry


def _links(api: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for op in operations(api):
        for status, response in op.definition["responses"].items():
            for name, link in response.get("links", {}).items():
                found.append((op.operation_id, status, name, link))
    return found


def test_links_in_the_specs_are_the_expected_ones() -> None:
    declared = {
        (api, source, status, name, link["operationId"])
        for api in APIS
        for source, status, name, link in _links(api)
    }
    assert declared == set(EXPECTED_LINKS)


_EXPRESSION = re.compile(r"^\$(response|request)\.body#(/[^#]*)(?:#regex:(.+))?$")


def _evaluate(expression: str, request: Any, response: Any) -> Any:
    """Evaluate a `$response.body#/ptr[#regex:...]` or `$request.body#/ptr` expression."""
    match = _EXPRESSION.match(expression)
    assert match, f"unsupported expression {expression}"
    where, pointer, regex = match.groups()
    value = pointer_get(response if where == "response" else request, pointer)
    if regex:
        found = re.search(regex, value)
        assert found, (expression, value)
        return found.group(1)
    return value


def _samples(api: str, operation_id: str, status: str) -> list[tuple[Any, Any, bool]]:
    """(request body, response body, recorded?) triples: documented examples, and for HCW the
    shipped HAR's exchanges."""
    samples: list[tuple[Any, Any, bool]] = []
    requests = [
        c.value
        for c in iter_examples(api)
        if c.operation == operation_id and " request " in c.where
    ]
    for case in iter_examples(api):
        if case.operation == operation_id and f" {status} " in case.where:
            samples.extend((request, case.value, False) for request in requests or [None])
    if api == "hcw":
        for ex in load_har(FIXTURE_HAR):
            op = match_operation(api, ex.method, ex.path)
            if op is not None and op.operation_id == operation_id and str(ex.status) == status:
                request = json.loads(ex.request_body) if ex.request_body else None
                samples.append((request, json.loads(ex.body), True))
    return samples


def _resolve_link(
    api: str, target: Any, link: dict[str, Any], request: Any, response: Any
) -> list[str]:
    """Errors of the values `link` gives `target` from one exchange (empty when all fit)."""
    problems = []
    for param, expression in link.get("parameters", {}).items():
        value = _evaluate(expression, request, response)
        problems += errors_of(validator(api, _parameter_schema_pointer(api, target, param)), value)
    body = link.get("requestBody")
    if body is not None:
        resolved = {k: _evaluate(v, request, response) for k, v in body.items()}
        body_pointer = follow(api, f"{target.pointer}/requestBody")[1]
        problems += errors_of(
            validator(api, f"{body_pointer}/content/application~1json/schema"), resolved
        )
    return problems


@pytest.mark.parametrize("api", APIS)
def test_links_resolve_to_valid_target_values(api: str) -> None:
    """Each link resolves on every recorded answer, and on at least one sample; documented
    examples that lack the pointed field (the guide shows no inviteToken) are not counted."""
    by_id = {op.operation_id: op for op in operations(api)}
    for source, status, name, link in _links(api):
        target = by_id[link["operationId"]]
        resolved = 0
        for request, response, recorded in _samples(api, source, status):
            try:
                problems = _resolve_link(api, target, link, request, response)
            except (KeyError, IndexError, TypeError):
                assert not recorded, f"{name} does not resolve on a recorded {source} answer"
                continue
            assert problems == [], (name, problems)
            resolved += 1
        assert resolved, f"{name}: no example or recorded answer of {source} {status} resolves it"


def _parameter_schema_pointer(api: str, target: Any, name: str) -> str:
    spec = load_spec(api)
    path_item = f"/paths/{target.path.replace('~', '~0').replace('/', '~1')}"
    for base in (f"{target.pointer}/parameters", f"{path_item}/parameters"):
        try:
            params = pointer_get(spec, base)
        except KeyError:
            continue
        for i in range(len(params)):
            param, pointer = follow(api, f"{base}/{i}")
            if param["name"] == name:
                return f"{pointer}/schema"
    raise AssertionError(f"{target.label} has no parameter {name}")


def test_appointment_link_regex_extracts_the_uuid_from_an_absolute_iri() -> None:
    link = load_spec("leah")["paths"]["/api/appointments"]["post"]["responses"]["201"]["links"][
        "UpdateAppointment"
    ]
    value = _evaluate(
        link["parameters"]["id"],
        None,
        {"@id": "https://org.leah.care/api/appointments/70cbe776-1de2-48b2-86aa-e9e9410bc711"},
    )
    assert value == "70cbe776-1de2-48b2-86aa-e9e9410bc711"
