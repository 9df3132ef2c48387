"""specs/client-clauses.yaml: agrees with the shared requirements, sources are faithful, and
it stays apart from the server catalogue."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from _shared_data import REPO, shared_path

from teleconform.catalogue import load_catalogue, load_client_catalogue
from teleconform.cli._main import main

CLIENT = REPO / "specs" / "client-clauses.yaml"
FRAGMENT = re.compile(r'"([^"]+)"')
VERBATIM = re.compile(r'^\s*"[^"]+"(?:\s*,\s*"[^"]+")*\s*$')
QUOTE_CHARS = str.maketrans("", "", "\"'\u201c\u201d\u2018\u2019`")


def _norm(text: str) -> str:
    return " ".join(text.translate(QUOTE_CHARS).split())


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CLIENT.read_text(encoding="utf-8"))
    return data


def test_ids_levels_and_apis_are_the_shared_ones() -> None:
    shared = yaml.safe_load(shared_path("client-clauses.yaml").read_text(encoding="utf-8"))
    expected = {
        (c["id"], c["level"], api.split("-")[0])
        for api in ("hcw-client", "leah-client")
        for c in shared[api]
    }
    ours = {(c.id, c.level, c.api) for c in load_client_catalogue().values()}
    assert ours == expected


def test_entries_have_the_catalogue_shape() -> None:
    for clause in _raw()["clauses"]:
        assert set(clause) == {
            "id",
            "api",
            "area",
            "level",
            "title",
            "statement",
            "needs",
            "source",
        }, clause["id"]
        assert clause["statement"].strip() and clause["needs"] == []
        assert set(clause["source"]) == {"document", "quote"}


@pytest.mark.parametrize("clause", _raw()["clauses"], ids=lambda c: str(c["id"]))
def test_source_quotes_are_in_their_documents(clause: dict[str, Any]) -> None:
    documents = _raw()["documents"]
    file = documents[clause["source"]["document"]]["file"]
    where = (
        ("reference", file.split("/", 1)[1]) if file.startswith("reference/") else ("seeds", file)
    )
    text = _norm(shared_path(*where).read_text(encoding="utf-8"))
    quote = clause["source"]["quote"]
    fragments = (
        FRAGMENT.findall(quote) if VERBATIM.match(quote) else re.findall(r'"([^"]+)"', quote)
    )
    assert fragments, quote
    for fragment in fragments:
        assert _norm(fragment) in text, f"{clause['id']}: {fragment!r} not in {file}"


def test_the_server_catalogue_is_unchanged_by_the_client_clauses() -> None:
    assert not [cid for cid in load_catalogue() if "-CLIENT-" in cid]
    assert all("-CLIENT-" in cid for cid in load_client_catalogue())


def test_clauses_client_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clauses", "--client", "leah"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == [f"LEAH-CLIENT-0{i}" for i in range(1, 7)]
    assert main(["clauses"]) == 0
    assert "CLIENT" not in capsys.readouterr().out
