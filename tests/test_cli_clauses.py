"""`teleconform clauses`: where each clause is decided and which sandbox faults break it."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest

from teleconform.__main__ import main
from teleconform.catalogue import load_catalogue, load_client_catalogue
from teleconform.runner import load_checks


def _clauses_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert main(["clauses", "--json", *argv]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


def _suite_function(where: str) -> Any:
    """`suites/hcw/sso.py:sso_timestamp_window` -> the function, imported the runner's way."""
    path, _, name = where.partition(":")
    assert path.startswith("suites/") and path.endswith(".py"), where
    api, file = path.removeprefix("suites/").removesuffix(".py").split("/")
    module = next(c.module for c in load_checks(api) if c.module.endswith(f".{api}.{file}"))
    return getattr(importlib.import_module(module), name)


def test_every_server_clause_names_the_checks_that_declare_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = _clauses_json([], capsys)
    assert [c["id"] for c in listed] == list(load_catalogue())
    for clause in listed:
        assert clause["decided_by"], f"{clause['id']} has no check deciding it"
        for where in clause["decided_by"]:
            func = _suite_function(where)
            assert clause["id"] in func.__teleconform_clauses__, (clause["id"], where)
    # and no check declaring a clause is left out
    for api in ("hcw", "leah"):
        for check in load_checks(api):
            for cid in check.clauses:
                (entry,) = [c for c in listed if c["id"] == cid]
                assert any(w.endswith(f".py:{check.name}") for w in entry["decided_by"]), cid


def test_a_decider_is_the_suite_file_and_function(capsys: pytest.CaptureFixture[str]) -> None:
    listed = _clauses_json(["hcw"], capsys)
    deciders = {c["id"]: c["decided_by"] for c in listed}
    assert deciders["HCW-SSO-02"] == ["suites/hcw/sso.py:timestamp_window"]


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_a_clauses_faults_are_exactly_the_faults_declaring_it(
    api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = importlib.import_module(f"teleconform.sandbox.{api}").FAULTS
    listed = _clauses_json([api], capsys)
    assert {c["api"] for c in listed} == {api}
    for clause in listed:
        declaring = sorted(name for name, f in faults.items() if clause["id"] in f.clauses)
        assert clause["broken_by"] == declaring, clause["id"]
    assert any(c["broken_by"] for c in listed)  # the sandbox does break some clauses


def test_every_client_clause_names_the_rule_that_judges_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = _clauses_json(["--client"], capsys)
    assert [c["id"] for c in listed] == list(load_client_catalogue())
    for clause in listed:
        assert clause["decided_by"], f"{clause['id']} has no rule judging it"
        assert clause["broken_by"] == []  # sandbox faults are server deviations
        for where in clause["decided_by"]:
            path, _, qualname = where.partition(":")
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            owner: Any = module
            for part in qualname.split("."):
                owner = getattr(owner, part)
            assert f'"{clause["id"]}"' in inspect.getsource(owner), (clause["id"], where)


def test_where_shows_deciders_and_faults_under_each_clause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["clauses", "leah", "--where"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("LEAH-AUTH-01 "))
    assert lines[first + 1] == "  decided by: suites/leah/auth.py:every_operation_requires_the_key"
    block = lines[first + 1 : next(i for i in range(first + 1, len(lines)) if lines[i][0] != " ")]
    assert "              suites/leah/properties.py:property_tests" in block
    assert "  broken by:  invalid-key-accepted, no-auth-required, unauthorized-with-data" in block
    # every clause line is followed by its sites; the default table stays one line a clause
    assert sum(1 for line in lines if line.startswith("  broken by:  ")) == len(
        [c for c in load_catalogue().values() if c.api == "leah"]
    )
    assert main(["clauses", "leah"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert all(line.startswith("LEAH-") for line in plain)


def test_the_plain_table_loads_no_suite() -> None:
    """Only --where and --json pay for importing the suites (schemathesis, the runner)."""
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib; from teleconform.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): assert main(['clauses']) == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'schemathesis', 'httpx'}),"
        " 'teleconform.runner' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.split() == ["[]", "False"], proc.stdout
