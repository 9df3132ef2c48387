"""The schemathesis internals teleconform.properties relies on, checked against the installed one.

teleconform imports names below schemathesis's public API (its checks, failure classes, case
metadata, wire helpers). pyproject.toml therefore pins schemathesis to one minor series. When
a release moves one of these, the test for it fails with one line naming the symbol and the
pinned series: re-read properties/ against the new internals, then move the pin (and
constraints.txt) together.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "teleconform"

# What the public API offers (schemathesis.__all__, schemathesis.openapi.__all__,
# schemathesis.config.__all__) and we import: not checked here beyond importing.
PUBLIC = {
    ("schemathesis", "APIOperation"),
    ("schemathesis", "Case"),
    ("schemathesis", "GenerationMode"),
    ("schemathesis.openapi", "from_dict"),
    ("schemathesis.config", "SchemathesisConfig"),
    ("schemathesis.config", "GenerationConfig"),
}
CHECK_PARAMETERS = ("ctx", "response", "case")
# (module, name) -> what we rely on: ("params", names the call passes) or ("attrs", attributes)
INTERNALS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("schemathesis.checks", "not_a_server_error"): ("params", CHECK_PARAMETERS),
    ("schemathesis.specs.openapi.checks", "content_type_conformance"): ("params", CHECK_PARAMETERS),
    ("schemathesis.specs.openapi.checks", "missing_required_header"): ("params", CHECK_PARAMETERS),
    ("schemathesis.specs.openapi.checks", "negative_data_rejection"): ("params", CHECK_PARAMETERS),
    ("schemathesis.specs.openapi.checks", "positive_data_acceptance"): ("params", CHECK_PARAMETERS),
    ("schemathesis.specs.openapi.checks", "response_headers_conformance"): (
        "params",
        CHECK_PARAMETERS,
    ),
    ("schemathesis.specs.openapi.checks", "response_schema_conformance"): (
        "params",
        CHECK_PARAMETERS,
    ),
    ("schemathesis.specs.openapi.checks", "status_code_conformance"): ("params", CHECK_PARAMETERS),
    ("schemathesis.core.failures", "Failure"): ("attrs", ("message", "kind_title")),
    ("schemathesis.core.failures", "FailureGroup"): ("attrs", ("exceptions",)),
    ("schemathesis.core.failures", "AcceptedNegativeData"): ("attrs", ("message",)),
    ("schemathesis.core.failures", "MalformedJson"): ("attrs", ("message",)),
    ("schemathesis.core.failures", "ServerError"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "ContentDeserializationError"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "MalformedMediaType"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "MissingContentType"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "MissingHeaderNotRejected"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "RejectedPositiveData"): ("attrs", ("message",)),
    ("schemathesis.openapi.checks", "UndefinedContentType"): ("attrs", ("message",)),
    ("schemathesis.core", "NOT_SET"): ("attrs", ()),
    ("schemathesis.core.result", "Ok"): ("attrs", ("ok",)),
    ("schemathesis.core.parameters", "ParameterLocation"): ("attrs", ("QUERY",)),
    ("schemathesis.generation.meta", "CaseMetadata"): (
        "params",
        ("generation", "components", "phase"),
    ),
    ("schemathesis.generation.meta", "ComponentInfo"): ("params", ("mode",)),
    ("schemathesis.generation.meta", "FuzzingPhaseData"): (
        "params",
        ("description", "parameter", "parameter_location", "location"),
    ),
    ("schemathesis.generation.meta", "GenerationInfo"): ("params", ("time", "mode")),
    ("schemathesis.generation.meta", "PhaseInfo"): ("params", ("name", "data")),
    ("schemathesis.generation.meta", "TestPhase"): ("attrs", ("FUZZING",)),
    ("schemathesis.specs.openapi.utils", "read_from_wire"): (
        "params",
        ("operation", "location", "value"),
    ),
    ("schemathesis.transport.serialization", "Binary"): ("params", ("data",)),
    ("schemathesis.transport.serialization", "contains_binary"): ("params", ("value",)),
    ("schemathesis.specs.openapi.schemas", "OpenApiSchema"): (
        "attrs",
        ("get_all_operations", "iter_coverage_cases"),
    ),
}
# Beyond the imported names: signatures of methods called with keywords, instance attributes.
METHOD_PARAMETERS = {
    "APIOperation.as_strategy": (
        "generation_mode",
        "path_parameters",
        "query",
        "headers",
        "body",
    ),
    "OpenApiSchema.iter_coverage_cases": ("operation", "generation_modes", "generation_config"),
    "Case.__init__": (
        "operation",
        "method",
        "path",
        "id",
        "path_parameters",
        "headers",
        "cookies",
        "query",
        "body",
        "media_type",
        "multipart_content_types",
        "meta",
    ),
    "Case.validate_response": ("response", "checks"),
}
INSTANCE_ATTRIBUTES = {
    "OpenApiSchema": ("raw_schema", "location", "config"),
    "APIOperation": (
        "as_strategy",
        "Case",
        "label",
        "definition",
        "method",
        "path",
        "schema",
        "body",
        "query",
        "cookies",
        "headers",
        "path_parameters",
    ),
    "Case": ("_meta", "meta", "freeze_metadata", "media_type", "operation"),
}


def _pin() -> str:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (requirement,) = [d for d in project["dependencies"] if d.startswith("schemathesis")]
    return requirement


def _moved(symbol: str, problem: str) -> str:
    return (
        f"schemathesis {version('schemathesis')}: {symbol} {problem}; teleconform relies on it "
        f"(below schemathesis's public API) and pins {_pin()} in pyproject.toml: re-check "
        "teleconform.properties against the new internals, then move the pin and constraints.txt"
    )


def _missing(params: tuple[str, ...], target: Any) -> list[str]:
    names = inspect.signature(target).parameters
    return [p for p in params if p not in names]


def test_the_pin_is_one_minor_series_holding_the_pinned_version() -> None:
    match = re.fullmatch(r"schemathesis>=(\d+)\.(\d+)(?:\.\d+)?,<(\d+)\.(\d+)", _pin())
    assert match, f"{_pin()}: schemathesis must be pinned to one minor series (>=4.X,<4.X+1)"
    major, minor, upper_major, upper_minor = map(int, match.groups())
    assert (upper_major, upper_minor) == (major, minor + 1), _pin()
    pinned = re.search(
        r"^schemathesis==(\S+)$", (REPO / "constraints.txt").read_text(), flags=re.MULTILINE
    )
    assert pinned and pinned.group(1).startswith(f"{major}.{minor}."), (
        f"constraints.txt pins schemathesis {pinned and pinned.group(1)}, outside {_pin()}"
    )
    assert version("schemathesis").startswith(f"{major}.{minor}."), version("schemathesis")


@pytest.mark.parametrize(("module", "name"), sorted(INTERNALS), ids=lambda v: str(v))
def test_an_internal_we_import_is_still_there(module: str, name: str) -> None:
    symbol = f"{module}.{name}"
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(_moved(symbol, f"is gone ({type(exc).__name__})"), pytrace=False)
    kind, needed = INTERNALS[(module, name)]
    if kind == "params":
        missing = _missing(needed, target)
        problem = f"lacks the parameter(s) {', '.join(missing)}"
    else:
        missing = [a for a in needed if not hasattr(target, a)]
        problem = f"lacks the attribute(s) {', '.join(missing)}"
    if missing:
        pytest.fail(_moved(symbol, problem), pytrace=False)


@pytest.fixture(scope="module")
def loaded() -> dict[str, Any]:
    from teleconform.properties._spec import load_spec
    from teleconform.specs import spec_file

    spec = load_spec(spec_file("hcw"))
    operation = spec.operations[0]
    return {"OpenApiSchema": spec.schema, "APIOperation": operation, "Case": operation.Case()}


@pytest.mark.parametrize("method", sorted(METHOD_PARAMETERS))
def test_a_method_we_call_takes_the_same_arguments(method: str, loaded: dict[str, Any]) -> None:
    owner, name = method.split(".")
    missing = _missing(METHOD_PARAMETERS[method], getattr(type(loaded[owner]), name))
    if missing:
        pytest.fail(_moved(method, f"lacks the parameter(s) {', '.join(missing)}"), pytrace=False)


@pytest.mark.parametrize("owner", sorted(INSTANCE_ATTRIBUTES))
def test_the_attributes_we_read_are_still_there(owner: str, loaded: dict[str, Any]) -> None:
    missing = [a for a in INSTANCE_ATTRIBUTES[owner] if not hasattr(loaded[owner], a)]
    if missing:
        pytest.fail(_moved(owner, f"lacks the attribute(s) {', '.join(missing)}"), pytrace=False)


def test_every_private_schemathesis_import_is_listed_here() -> None:
    imported: set[tuple[str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("schemathesis"):
                imported.update((str(node.module), alias.name) for alias in node.names)
            elif isinstance(node, ast.Import):
                assert not [a.name for a in node.names if a.name.startswith("schemathesis")], path
    unlisted = sorted(imported - PUBLIC - set(INTERNALS))
    assert not unlisted, f"schemathesis internals imported but not checked here: {unlisted}"
    assert imported - PUBLIC, "the scan found no private import: is it still reading src/?"
