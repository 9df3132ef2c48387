"""Content of specs/clauses.yaml: schema, agreement with the shared requirements, faithful sources.

The shared requirements (../shared/clauses.yaml) and the vendor documents (../shared/seeds/)
are reference material beside a developer checkout; the checks that need them skip with a
visible reason when they are absent, the schema checks always run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from teleconform.catalogue import load_catalogue

REPO = Path(__file__).resolve().parents[1]
CATALOGUE_PATH = REPO / "specs" / "clauses.yaml"
SHARED = REPO.parent / "shared"
SHARED_CLAUSES = SHARED / "clauses.yaml"
SEEDS = SHARED / "seeds"

CLAUSE_KEYS = {"id", "api", "area", "level", "title", "statement", "needs", "source"}
LEVELS = {"MUST", "SHOULD"}
AREAS = {
    "hcw": {"General", "Auth", "Invites", "Consultations", "SSO"},
    "leah": {
        "Auth",
        "General",
        "Hydra",
        "Healthcare workers",
        "Offices",
        "Appointments",
        "Transfers",
        "Webhooks",
    },
}
ID_PREFIX = {"hcw": "HCW-", "leah": "LEAH-"}
DOCUMENT_OF_API = {"hcw": "hcw-guide", "leah": "leah-doc"}
KNOWN_NEEDS = {
    "hcw.email",
    "hcw.password",
    "hcw.doctor_email",
    "hcw.queue",
    "hcw.sso_secret",
    "hcw.allow_writes",
    "leah.api_key",
    "leah.hcw_email",
    "leah.allow_writes",
    "leah.webhook_events",
    "leah.webhook_receiver",
}

# A quote made only of double-quoted fragments separated by commas is verbatim seed text;
# anything else (section "X", examples of "X") is a reference naming parts of the document.
FRAGMENT = re.compile(r'"([^"]+)"')
VERBATIM = re.compile(r'^\s*"[^"]+"(?:\s*,\s*"[^"]+")*\s*$')
SECTION = re.compile(r'^section "([^"]+)"')
QUOTE_CHARS = str.maketrans("", "", "\"'\u201c\u201d\u2018\u2019`")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


CATALOGUE: dict[str, Any] = _load_yaml(CATALOGUE_PATH)
CLAUSES: list[dict[str, Any]] = CATALOGUE["clauses"]
CLAUSE_IDS = [str(c.get("id")) for c in CLAUSES]


def _normalise(text: str) -> str:
    """Drop quote characters and collapse whitespace, so line wrapping and quoting style
    (e.g. JSON keys in the seed, YAML folding here) do not matter."""
    return " ".join(text.translate(QUOTE_CHARS).split())


def _shared_by_id() -> dict[str, dict[str, Any]]:
    if not SHARED_CLAUSES.is_file():
        pytest.skip(f"shared requirements not present at {SHARED_CLAUSES}")
    data = _load_yaml(SHARED_CLAUSES)
    return {str(c["id"]): c | {"api": api} for api in ("hcw", "leah") for c in data[api]}


def _seed_text(document: str) -> str:
    file = CATALOGUE["documents"][document]["file"]
    path = SEEDS / file
    if not path.is_file():
        pytest.skip(f"vendor document not present at {path}")
    return path.read_text(encoding="utf-8")


def _headings(seed: str) -> set[str]:
    """Every line of the seed stripped of markdown heading marks: the possible section names."""
    return {_normalise(line.strip().lstrip("#")) for line in seed.splitlines() if line.strip()}


def _occurs_in_order(pieces: list[str], haystack: str) -> bool:
    start = 0
    for piece in pieces:
        found = haystack.find(piece, start)
        if found < 0:
            return False
        start = found + len(piece)
    return True


def _longest_common_word_run(a: str, b: str) -> int:
    wa, wb = _normalise(a).lower().split(), _normalise(b).lower().split()
    best = 0
    previous = [0] * (len(wb) + 1)
    for x in wa:
        current = [0] * (len(wb) + 1)
        for j, y in enumerate(wb, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


# --------------------------------------------------------------------------- schema


def test_top_level_schema() -> None:
    assert set(CATALOGUE) == {"schema_version", "documents", "clauses"}
    assert CATALOGUE["schema_version"] == 1
    documents = CATALOGUE["documents"]
    assert set(documents) == set(DOCUMENT_OF_API.values())
    for doc in documents.values():
        assert set(doc) == {"title", "file"}
        assert doc["title"] and doc["file"].endswith(".txt")
    assert documents["hcw-guide"]["file"] == "000_2fa5882ee27c776b.txt"
    assert documents["leah-doc"]["file"] == "003_c1cff711c2dcc0ea.txt"
    assert isinstance(CLAUSES, list) and CLAUSES


def test_ids_are_unique() -> None:
    duplicates = {i for i in CLAUSE_IDS if CLAUSE_IDS.count(i) > 1}
    assert not duplicates


@pytest.mark.parametrize("clause", CLAUSES, ids=CLAUSE_IDS)
def test_clause_schema(clause: dict[str, Any]) -> None:
    assert set(clause) == CLAUSE_KEYS
    api = clause["api"]
    assert api in AREAS
    assert re.fullmatch(r"[A-Z]+(?:-[A-Z]+)+-\d{2}", clause["id"])
    assert clause["id"].startswith(ID_PREFIX[api])
    assert clause["area"] in AREAS[api]
    assert clause["level"] in LEVELS
    assert isinstance(clause["title"], str) and clause["title"].strip()
    assert isinstance(clause["statement"], str) and len(clause["statement"].split()) >= 5
    needs = clause["needs"]
    assert isinstance(needs, list) and len(set(needs)) == len(needs)
    assert set(needs) <= KNOWN_NEEDS
    assert all(n.split(".")[0] == api for n in needs)
    source = clause["source"]
    assert set(source) == {"document", "quote"}
    assert source["document"] == DOCUMENT_OF_API[api]
    assert isinstance(source["quote"], str) and source["quote"].strip()


def test_project_loader_reads_every_clause() -> None:
    loaded = load_catalogue(CATALOGUE_PATH)
    assert list(loaded) == CLAUSE_IDS
    first = loaded[CLAUSE_IDS[0]]
    assert first.source_document == CLAUSES[0]["source"]["document"]
    assert first.needs == tuple(CLAUSES[0]["needs"])


# --------------------------------------------------------------------------- vs shared list


def test_same_ids_in_same_order_as_shared() -> None:
    shared = _shared_by_id()
    assert CLAUSE_IDS == list(shared)


@pytest.mark.parametrize("clause", CLAUSES, ids=CLAUSE_IDS)
def test_level_needs_and_api_match_shared(clause: dict[str, Any]) -> None:
    shared = _shared_by_id()
    original = shared.get(clause["id"])
    assert original is not None, f"{clause['id']} is not in the shared requirements"
    assert clause["api"] == original["api"]
    assert clause["level"] == original["level"]
    assert clause["needs"] == list(original["needs"])


@pytest.mark.parametrize("clause", CLAUSES, ids=CLAUSE_IDS)
def test_restatement_is_own_words_and_keeps_the_figures(clause: dict[str, Any]) -> None:
    original = _shared_by_id()[clause["id"]]
    original_text = f"{original['title']} {original.get('detail', '')}"
    ours = f"{clause['title']} {clause['statement']}"
    assert _normalise(clause["title"]).lower() != _normalise(original["title"]).lower()
    # Technical runs (field lists, paths) may coincide; a copied sentence would not fit in 12.
    assert _longest_common_word_run(clause["statement"], original.get("detail", "")) < 12
    lost = set(NUMBER.findall(original_text)) - set(NUMBER.findall(ours))
    assert not lost, f"figures of the requirement missing from the restatement: {sorted(lost)}"


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("clause", CLAUSES, ids=CLAUSE_IDS)
def test_source_quote_is_in_the_vendor_document(clause: dict[str, Any]) -> None:
    quote = clause["source"]["quote"]
    seed = _seed_text(clause["source"]["document"])
    haystack = _normalise(seed)
    fragments = FRAGMENT.findall(quote)
    assert fragments, f"quote names nothing that can be found in the document: {quote!r}"
    for fragment in fragments:
        pieces = [_normalise(p) for p in fragment.split("...") if p.strip()]
        assert _occurs_in_order(pieces, haystack), f"not in the document: {fragment!r}"
    if VERBATIM.match(quote):
        # a verbatim quote stands for a sentence, not a lone keyword
        assert all(len(f.split()) >= 3 for f in fragments), quote
    section = SECTION.match(quote)
    if section:
        assert _normalise(section.group(1)) in _headings(seed), f"no section {section.group(1)!r}"


def test_quote_check_rejects_what_the_document_does_not_say() -> None:
    """The normalisation must not make the source check vacuous."""
    seed = _normalise(_seed_text("leah-doc"))
    assert _occurs_in_order([_normalise("Maximum weight: 15 Mo per file")], seed)
    assert not _occurs_in_order([_normalise("Maximum weight: 20 Mo per file")], seed)
    assert not _occurs_in_order(["per file", "Maximum weight:"], seed)
    assert "Edit" in _headings(_seed_text("leah-doc"))
    assert "Creating an appointment" not in _headings(_seed_text("leah-doc"))
