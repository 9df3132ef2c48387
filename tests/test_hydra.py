"""teleconform.hydra: dialects, reading pages, link comparison and walking next links.

Runs on the documents shipped in tests/fixtures/hydra and, when ../shared is beside the
checkout, on API Platform's and Leah's own samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _shared_data import shared_path

from teleconform.hydra import (
    HydraError,
    detect_dialect,
    is_uuid,
    link_key,
    link_problems,
    normalise,
    page_number,
    read_collection,
    same_link,
    uuid_of_iri,
    walk,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hydra"
FILTER = [("healthcareWorker.email", "dr@example.org"), ("itemsPerPage", "2")]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sample(name: str) -> Any:
    return json.loads(shared_path("data", "hydra-samples", name).read_text(encoding="utf-8"))


# -- dialect -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["prefixed-page-1.json", "prefixed-page-2.json"])
def test_prefixed_fixtures(name: str) -> None:
    report = detect_dialect(fixture(name))
    assert report.dialect == "prefixed" and not report.mixed
    assert "/hydra:member" in report.prefixed


def test_unprefixed_fixture_search_mapping_is_no_evidence() -> None:
    report = detect_dialect(fixture("unprefixed-collection.json"))
    assert report.dialect == "unprefixed" and not report.prefixed
    assert "/search/mapping" in report.unprefixed
    assert not any(p.startswith("/search/mapping/") for p in report.unprefixed)


def test_mixed_fixture_is_reported_with_pointers() -> None:
    report = detect_dialect(fixture("mixed-collection.json"))
    assert report.mixed and report.dialect is None
    assert {"/hydra:member", "/@type=hydra:Collection"} <= set(report.prefixed)
    assert {"/totalItems", "/hydra:view/next", "/hydra:view/@type=PartialCollectionView"} <= set(
        report.unprefixed
    )
    assert "mixes prefixed" in report.describe()


def test_a_document_without_hydra_terms_has_no_dialect() -> None:
    report = detect_dialect({"@id": "/api/offices/1", "@type": "Office"})
    assert report.dialect is None and not report.mixed
    assert report.describe() == "uses the no spelling"


@pytest.mark.parametrize(
    "name",
    [
        "01-collection-with-search.json",
        "04-collection-paginated-first-page.json",
        "06-collection-filtered-view-and-search.json",
        "08-collection-empty.json",
        "35-leah-doc-offices-collection.fixed.json",
        "36-leah-doc-healthcare-workers-collection.fixed.json",
    ],
)
def test_shared_samples_are_prefixed_and_not_mixed(name: str) -> None:
    report = detect_dialect(sample(name))
    assert report.dialect == "prefixed", report.describe()


def test_shared_sample_06_mapping_keys_are_unprefixed_yet_not_a_mix() -> None:
    doc = sample("06-collection-filtered-view-and-search.json")
    assert doc["hydra:search"]["hydra:mapping"][0]["variable"] == "relatedToDummyFriend.dummyFriend"
    assert not detect_dialect(doc).mixed


# -- normalising and reading ---------------------------------------------------------------------
def test_normalise_strips_the_prefix_but_not_from_members() -> None:
    doc = fixture("prefixed-page-1.json")
    norm = normalise(doc)
    assert norm["@type"] == "Collection" and norm["totalItems"] == 3
    assert norm["view"]["next"].endswith("page=2") and norm["view"]["@type"] == (
        "PartialCollectionView"
    )
    assert norm["search"]["template"].startswith("/api/offices{?")
    assert norm["member"] == doc["hydra:member"]
    assert normalise(fixture("unprefixed-collection.json")) == fixture("unprefixed-collection.json")


def test_read_prefixed_and_unprefixed_the_same_way() -> None:
    first = read_collection(fixture("prefixed-page-1.json"))
    assert first.type == "hydra:Collection" and first.total == 3 and len(first.members) == 2
    assert first.members_shape == "array"
    assert first.view is not None and first.view.previous is None
    assert set(first.view.links()) == {"first", "last", "next"}
    other = read_collection(fixture("unprefixed-collection.json"))
    assert other.type == "Collection" and other.total == 1
    assert other.member_ids() == ["/api/healthcare_workers/7dd37344-5d8d-4c90-a015-5518ab97adaf"]
    assert other.view is not None and other.view.links() == {}
    assert other.search is not None and other.search["variableRepresentation"] == (
        "BasicRepresentation"
    )


def test_read_tolerates_defects_and_reports_them() -> None:
    page = read_collection(fixture("member-object.json"))
    assert page.members_shape == "object" and len(page.members) == 2
    assert page.has_total_items and page.total is None and page.total_items == "32"
    missing = read_collection({"@type": "hydra:Collection"})
    assert missing.members_shape == "missing" and not missing.has_total_items
    invalid = read_collection({"hydra:member": 3, "hydra:totalItems": -1})
    assert invalid.members_shape == "invalid" and invalid.total is None
    assert read_collection({"member": [], "totalItems": True}).total is None
    with pytest.raises(HydraError):
        read_collection([1, 2])


def test_view_links_may_be_node_objects() -> None:
    page = read_collection(
        {"member": [], "view": {"@id": "/x?page=1", "next": {"@id": "/x?page=2"}, "last": 7}}
    )
    assert page.view is not None and page.view.next == "/x?page=2" and page.view.last is None


def test_shared_sample_04_first_page_of_two() -> None:
    page = read_collection(sample("04-collection-paginated-first-page.json"))
    assert page.total == 4 and len(page.members) == 3
    assert page.view is not None and page_number(page.view.last or "") == 2
    assert link_problems(page.view, "/composite_relations", []) == []


def test_shared_leah_doc_examples_read() -> None:
    offices = read_collection(sample("35-leah-doc-offices-collection.fixed.json"))
    assert offices.total == len(offices.members) == 1 and offices.view is None
    member = offices.members[0]
    assert uuid_of_iri(member["@id"], "offices") == member["id"]


# -- links ----------------------------------------------------------------------------------------
def test_same_link_ignores_encoding_order_and_host() -> None:
    assert same_link("/api/offices?itemsPerPage=10&page=2", "/api/offices?page=2&itemsPerPage=10")
    assert same_link(
        "/api/offices?healthcareWorker.email=dr%40example.org&page=1",
        "https://org.leah.care/api/offices?page=1&healthcareWorker.email=dr@example.org",
    )
    assert same_link("/api/x?order%5Bid%5D=desc", "/api/x?order[id]=desc")
    assert not same_link("/api/offices?page=2", "/api/offices?page=3")
    assert not same_link("/api/offices?page=2", "/api/office?page=2")
    assert same_link("?page=2", "/api/offices?page=2", base="http://h/api/offices?page=1")


def test_link_key_and_page_number() -> None:
    key = link_key("/api/offices?page=2&a=1&a=0")
    assert key.path == "/api/offices" and key.params == (("a", "0"), ("a", "1"), ("page", "2"))
    assert key.without("page") == (("a", "0"), ("a", "1"))
    assert page_number("/api/offices?page=12") == 12
    assert page_number("/api/offices") is None and page_number("/x?page=a") is None


def test_link_problems_find_lost_filters_and_foreign_paths() -> None:
    page = read_collection(fixture("prefixed-page-1.json"))
    assert page.view is not None
    assert link_problems(page.view, "/api/offices", FILTER) == []
    assert link_problems(page.view, "/api/offices", [*FILTER, ("page", "1")]) == []
    lost = link_problems(page.view, "/api/offices", [*FILTER, ("x", "1")])
    assert len(lost) == 3 and all("parameters" in p for p in lost)
    foreign = link_problems(page.view, "/api/healthcare_workers", FILTER)
    assert len(foreign) == 3 and all("leaves the collection" in p for p in foreign)


def test_uuid_iris() -> None:
    ident = "7dd37344-5d8d-4c90-a015-5518ab97adaf"
    assert is_uuid(ident) and is_uuid(ident.upper()) and not is_uuid("7dd37344")
    assert uuid_of_iri(f"/api/offices/{ident}", "offices") == ident
    assert uuid_of_iri(f"https://org.leah.care/api/offices/{ident}", "offices") == ident
    assert (
        uuid_of_iri(f"https://org.leah.care/api/offices/{ident}", "offices", allow_absolute=False)
        is None
    )
    assert uuid_of_iri(f"/api/offices/{ident}", "healthcare_workers") is None
    assert uuid_of_iri("/api/offices/17", "offices") is None
    assert uuid_of_iri("/api/offices/708ceqsdq36b9f", "offices") is None
    assert uuid_of_iri(None, "offices") is None


# -- walking --------------------------------------------------------------------------------------
def pages(*docs: dict[str, Any], base: str = "/c") -> dict[str, dict[str, Any]]:
    """Documents served at /c?page=1.. ; links are filled in as a server would write them."""
    served = {}
    last = len(docs)
    for number, doc in enumerate(docs, 1):
        view = {
            "@id": f"{base}?page={number}",
            "first": f"{base}?page=1",
            "last": f"{base}?page={last}",
        }
        if number < last:
            view["next"] = f"{base}?page={number + 1}"
        served[f"{base}?page={number}"] = {
            "member": doc.get("member", []),
            "totalItems": 9,
            "view": {**view, **doc.get("view", {})},
        }
    return served


def fetcher(served: dict[str, dict[str, Any]]) -> Any:
    def fetch(url: str) -> Any:
        key = url.replace("http://h", "")
        return served[key if "?" in key else key + "?page=1"]

    return fetch


def members(*ids: int) -> dict[str, Any]:
    return {"member": [{"@id": f"/c/{i}"} for i in ids]}


def test_walk_over_the_fixture_pages() -> None:
    served = {
        "/api/offices?healthcareWorker.email=dr%40example.org&itemsPerPage=2&page=1": fixture(
            "prefixed-page-1.json"
        ),
        "/api/offices?healthcareWorker.email=dr%40example.org&itemsPerPage=2&page=2": fixture(
            "prefixed-page-2.json"
        ),
    }
    result = walk(
        lambda url: served[url.replace("http://h", "")],
        "http://h/api/offices?healthcareWorker.email=dr%40example.org&itemsPerPage=2&page=1",
    )
    assert len(result.pages) == 2 and len(result.distinct) == 3 and result.problems() == []
    assert result.ended_at_last is True and result.paginated


def test_a_clean_walk() -> None:
    result = walk(
        fetcher(pages(members(1, 2, 3), members(4, 5, 6), members(7, 8, 9))), "http://h/c"
    )
    assert result.distinct == [f"/c/{i}" for i in range(1, 10)]
    assert result.problems() == [] and result.ended_at_last is True and not result.trailing_empty


def test_walk_detects_a_loop_back_to_the_unnumbered_first_page() -> None:
    served = pages(members(1, 2), members(3))
    served["/c?page=2"]["view"]["next"] = "/c?page=1"
    result = walk(fetcher(served), "http://h/c")
    assert result.loop == "http://h/c?page=1" and len(result.pages) == 2
    assert not result.duplicates and "loop back" in result.problems()[0]


def test_walk_reports_repeated_members() -> None:
    result = walk(fetcher(pages(members(1, 2), members(2, 3))), "http://h/c")
    assert result.duplicates == [("/c/2", 1)] and result.distinct == ["/c/1", "/c/2", "/c/3"]
    assert "appears again on page 2" in result.problems()[0]


def test_walk_allows_one_trailing_empty_page_only() -> None:
    trailing = walk(fetcher(pages(members(1, 2), members(3, 4), members())), "http://h/c")
    assert trailing.trailing_empty and trailing.problems() == []
    assert trailing.ended_at_last is True  # last names the empty page 3
    # Older servers: a full last page (last=2) still had a next link to an empty page 3.
    beyond = pages(members(1, 2), members(3, 4), members())
    for doc in beyond.values():
        doc["view"]["last"] = "/c?page=2"
    result = walk(fetcher(beyond), "http://h/c")
    assert result.trailing_empty and result.ended_at_last is True and result.problems() == []
    middle = walk(fetcher(pages(members(1), members(), members(2))), "http://h/c")
    assert middle.empty_pages == [1] and "page 2 of the walk is empty" in middle.problems()[0]
    twice = walk(fetcher(pages(members(1), members(), members())), "http://h/c")
    assert twice.empty_pages == [1, 2] and not twice.trailing_empty


def test_walk_stops_after_max_pages() -> None:
    served = {
        f"/c?page={n}": {"member": [{"@id": f"/c/{n}"}], "view": {"next": f"/c?page={n + 1}"}}
        for n in range(1, 30)
    }
    result = walk(fetcher(served), "http://h/c?page=1", max_pages=5)
    assert result.truncated and len(result.pages) == 5 and "walk stopped" in result.problems()[0]


def test_walk_notices_a_wrong_last_link() -> None:
    served = pages(members(1), members(2), members(3))
    served["/c?page=1"]["view"]["last"] = "/c?page=1"
    result = walk(fetcher(served), "http://h/c")
    assert result.ended_at_last is False and "did not end at the last link" in result.problems()[0]


def test_single_page_walk_has_no_last_link_to_check() -> None:
    result = walk(lambda url: fixture("unprefixed-collection.json"), "http://h/api/x")
    assert not result.paginated and result.ended_at_last is None and result.problems() == []


# -- pagination pathologies: judged from the links, never "fits on one page" ----------------------
def test_a_next_link_to_the_page_itself_spans_pages_and_is_a_loop() -> None:
    served = pages(members(1, 2), members(3))
    served["/c?page=1"]["view"]["next"] = "/c?page=1"
    result = walk(fetcher(served), "http://h/c")
    assert len(result.pages) == 1 and not result.paginated
    assert result.spans_pages and not result.complete
    assert result.loop and "loop back" in result.problems()[0]


def test_a_cycle_back_to_the_first_page_spans_pages() -> None:
    served = pages(members(1, 2), members(3, 4), members(5))
    served["/c?page=3"]["view"]["next"] = "/c?page=1"
    result = walk(fetcher(served), "http://h/c")
    assert result.spans_pages and result.loop and not result.complete
    assert any("loop back" in p for p in result.problems())


def test_a_next_link_into_another_collection_is_not_followed() -> None:
    served = pages(members(1, 2), members(3))
    served["/c?page=1"]["view"]["next"] = "/other?page=2"

    def fetch(url: str) -> Any:
        assert "/other" not in url, "the walk followed a link out of the collection"
        return fetcher(served)(url)

    result = walk(fetch, "http://h/c")
    assert result.left_collection == "http://h/other?page=2" and len(result.pages) == 1
    assert result.spans_pages and not result.complete
    assert "leads out of the collection" in result.problems()[0]


def test_an_unreachable_last_link_spans_pages() -> None:
    # One page without next, but last names page 3: the collection claims more pages.
    served = pages(members(1, 2))
    served["/c?page=1"]["view"]["last"] = "/c?page=3"
    result = walk(fetcher(served), "http://h/c")
    assert not result.paginated and result.spans_pages and result.complete
    assert result.ended_at_last is False
    assert "did not end at the last link" in result.problems()[0]


def test_a_single_page_whose_last_link_is_itself_does_not_span_pages() -> None:
    served = pages(members(1, 2))
    result = walk(fetcher(served), "http://h/c")
    assert not result.spans_pages and result.complete and result.problems() == []
