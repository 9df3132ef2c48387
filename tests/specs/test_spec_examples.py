"""The documents' examples, as repaired in the specs, validate against their operations'
schemas; each repair is needed (undoing it breaks the schema or a clause) and is written up
in specs/README.md."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ._support import (
    SPECS_DIR,
    ExampleCase,
    component_validator,
    errors_of,
    iter_examples,
    load_spec,
    pointer_get,
    validator,
)

ALL_EXAMPLES = list(iter_examples("hcw")) + list(iter_examples("leah"))

# (api, operation, example name): the examples the documents give, one per section.
EXPECTED_EXAMPLES = {
    ("hcw", "loginLocal", "guide"),
    ("hcw", "createInvite", "onBehalfOfDoctor"),
    ("hcw", "createInvite", "assignedToQueue"),
    ("hcw", "createInvite", "guide"),
    ("hcw", "closeConsultation", "guide"),
    ("hcw", "SsoToken", "x-jwt-claims"),
    ("leah", "listHealthcareWorkers", "document"),
    ("leah", "listOffices", "document"),
    ("leah", "createAppointment", "document"),
    ("leah", "updateAppointment", "reschedule"),
    ("leah", "updateAppointment", "cancel"),
    ("leah", "updateAppointment", "rescheduled"),
    ("leah", "updateAppointment", "cancelled"),
    ("leah", "createTransfer", "document"),
    ("leah", "uploadTransferFiles", "document"),
    ("leah", "shareTransfer", "document"),
    ("leah", "appointmentGuestOnline", "payloadObject"),
    ("leah", "appointmentGuestOnline", "payloadString"),
}


@pytest.mark.parametrize("case", ALL_EXAMPLES, ids=lambda c: c.id)
def test_example_validates_against_its_schema(case: ExampleCase) -> None:
    assert errors_of(validator(case.api, case.schema_pointer), case.value) == []


def test_every_documented_example_is_in_the_specs() -> None:
    present = {(c.api, c.operation, c.name) for c in ALL_EXAMPLES}
    assert EXPECTED_EXAMPLES - present == set()


def test_every_repair_is_written_up_in_the_readme() -> None:
    readme = (SPECS_DIR / "README.md").read_text(encoding="utf-8")
    repaired = [c for c in ALL_EXAMPLES if c.repair]
    assert len(repaired) >= 10
    for case in repaired:
        assert f"`{case.operation}`" in readme and f"`{case.name}`" in readme, case.id
        assert len(case.repair or "") > 40, case.id


def _example(api: str, operation: str, name: str) -> ExampleCase:
    return next(c for c in ALL_EXAMPLES if (c.api, c.operation, c.name) == (api, operation, name))


# Undo one repair -> the schema of the example rejects it. (api, operation, example name,
# JSON pointer inside the example value, the document's original value or _MISSING.)
_MISSING = object()
UNDONE_REPAIRS: list[tuple[str, str, str, str, Any]] = [
    ("hcw", "loginLocal", "guide", "/email", ""),
    ("hcw", "createInvite", "onBehalfOfDoctor", "/doctorEmail", ""),
    ("hcw", "createInvite", "onBehalfOfDoctor", "/isPatientInvite", _MISSING),
    ("hcw", "createInvite", "assignedToQueue", "/isPatientInvite", _MISSING),
    ("hcw", "closeConsultation", "guide", "/closedAt", 0),
    ("hcw", "SsoToken", "x-jwt-claims", "/email", _MISSING),
    (
        "leah",
        "createTransfer",
        "document",
        "/healthcareWorker",
        "/api/healthcare_workers/51176ec8-670b-4fa5-8f15-df21jh23d30ea",
    ),
    ("leah", "createTransfer", "TransferCreated", "/id", "acdca04c-97af-4d20-bcaa-708ceqsdq36b9f"),
    (
        "leah",
        "uploadTransferFiles",
        "document",
        "/files/0",
        "/api/transfer_files/5af6e1bb-3182-47cc-bbc4-528aEjdhq442afb",
    ),
    (
        "leah",
        "uploadTransferFiles",
        "document",
        "/@id",
        "/api/transfers/acdca04c-97af-4d20-bcaa-708ceqsdq36b9f",
    ),
]


@pytest.mark.parametrize(
    ("api", "operation", "name", "pointer", "original"),
    UNDONE_REPAIRS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_undoing_a_repair_breaks_the_schema(
    api: str, operation: str, name: str, pointer: str, original: Any
) -> None:
    if name == "TransferCreated":
        example = load_spec(api)["components"]["examples"]["TransferCreated"]
        value = copy.deepcopy(example["value"])
        schema = component_validator(api, "Transfer")
        assert example.get("x-repair")
    else:
        case = _example(api, operation, name)
        assert case.repair, "the example carries no x-repair note"
        value = copy.deepcopy(case.value)
        schema = validator(api, case.schema_pointer)
    assert errors_of(schema, value) == []
    parent_pointer, _, key = pointer.rpartition("/")
    parent = pointer_get(value, parent_pointer)
    if original is _MISSING:
        del parent[key]
    elif isinstance(parent, list):
        parent[int(key)] = original
    else:
        parent[key] = original
    assert errors_of(schema, value) != []


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def test_appointment_answer_repair_restores_the_requested_instant() -> None:
    sent = _example("leah", "createAppointment", "document").value["startTime"]
    answer = next(
        c
        for c in ALL_EXAMPLES
        if c.api == "leah"
        and c.operation == "createAppointment"
        and c.name == "document"
        and " 201 " in c.where
    )
    assert answer.repair
    assert _instant(answer.value["startTime"]) == _instant(sent)
    assert answer.value["startTime"].endswith("+00:00")
    # The document's own answer names another day (2021-03-24): LEAH-APT-01/09 would fail it.
    assert _instant("2021-03-24T13:15:00+00:00") != _instant(sent)


def test_invite_answer_repair_gives_the_invite_a_contact_and_a_link() -> None:
    invite = _example("hcw", "createInvite", "guide").value["invite"]
    assert invite["phoneNumber"] or invite["emailAddress"]
    assert invite["patientURL"].startswith("https://")


def test_webhook_string_example_decodes_to_the_object_example() -> None:
    as_object = _example("leah", "appointmentGuestOnline", "payloadObject").value
    as_string = _example("leah", "appointmentGuestOnline", "payloadString").value
    decoded = json.loads(as_string["payload"])
    assert decoded == as_object["payload"]
    assert errors_of(component_validator("leah", "GuestOnlinePayload"), decoded) == []
