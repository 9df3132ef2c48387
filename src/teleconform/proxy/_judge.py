"""Server clauses one exchange can decide, judged on the responses the proxy relays.

- The spec (check-traffic's checks, :func:`teleconform.traffic.check_exchange`): documented
  status, content type and schema (HCW-GEN-04, LEAH-GEN-01), JSON answers (HCW-GEN-03,
  SHOULD), no 5xx for a request (HCW-GEN-01).
- Leah list responses (LEAH-HYDRA-01…03) on one page, with :mod:`teleconform.hydra`: the
  spelling, @context/@id/@type and an array of members; typed members with a UUID @id;
  totalItems an integer, equal to the member count when the collection is on one page.
  What needs several pages (totals across pages, LEAH-HYDRA-04) is the suites' to judge.
Each finding names its clause, a message without request values, and the exchange.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from teleconform.client import Exchange
from teleconform.hydra import CollectionPage, HydraError, iri_path, read_collection, uuid_of_iri
from teleconform.traffic import Spec, check_exchange, match
from teleconform.traffic.har import RecordedExchange

JUDGED = {
    "hcw": ("HCW-GEN-01", "HCW-GEN-03", "HCW-GEN-04"),
    "leah": ("LEAH-GEN-01", "LEAH-HYDRA-01", "LEAH-HYDRA-02", "LEAH-HYDRA-03"),
}
_SPEC_CLAUSE = {"hcw": "HCW-GEN-04", "leah": "LEAH-GEN-01"}
# Leah collections: path -> (member @type, IRI segment, context type)
_COLLECTIONS = {
    "/api/healthcare_workers": ("HealthcareWorker", "healthcare_workers"),
    "/api/offices": ("Office", "offices"),
}


@dataclass(frozen=True, slots=True)
class Judgement:
    clause: str
    ok: bool
    message: str


def judge(api: str, spec: Spec, exchange: Exchange) -> list[Judgement]:
    """The judgements of one relayed exchange (empty when no operation matches)."""
    found = match([spec], exchange.method, exchange.url)
    if found is None or exchange.status == 0:
        return []
    _, op = found
    recorded = RecordedExchange(
        index=0,
        method=exchange.method,
        url=exchange.url,
        status=exchange.status,
        request_headers=list(exchange.request_headers),
        request_body=exchange.request_body,
        response_headers=list(exchange.response_headers),
        response_body=exchange.response_body,
    )
    failed: dict[str, list[str]] = {}
    for violation in check_exchange(spec, op, recorded):
        clause = violation.clause if violation.clause in JUDGED[api] else _SPEC_CLAUSE[api]
        failed.setdefault(clause, []).append(violation.what)
    path = urlsplit(exchange.url).path
    if api == "hcw":
        if 500 <= exchange.status < 600 and "HCW-GEN-01" not in failed:
            failed["HCW-GEN-01"] = [f"answered {exchange.status}, a server error"]
        applicable = ["HCW-GEN-01", "HCW-GEN-04"]
        if path.startswith("/api/v1") and not 300 <= exchange.status < 400:
            applicable.append("HCW-GEN-03")
    else:
        applicable = ["LEAH-GEN-01"]
        collection = _collection_of(path)
        if exchange.method == "GET" and exchange.status == 200 and collection:
            applicable += ["LEAH-HYDRA-01", "LEAH-HYDRA-02", "LEAH-HYDRA-03"]
            for clause, problems in _hydra_problems(collection, exchange).items():
                failed.setdefault(clause, []).extend(problems)
    out = []
    for clause in applicable:
        found_problems = failed.get(clause)
        if found_problems:
            out.append(Judgement(clause, False, "; ".join(found_problems[:3])))
        else:
            out.append(Judgement(clause, True, f"{op.method} {op.template}: conforms"))
    return out


def _collection_of(path: str) -> str | None:
    trimmed = path.rstrip("/") or "/"
    return trimmed if trimmed in _COLLECTIONS else None


def _hydra_problems(collection: str, exchange: Exchange) -> dict[str, list[str]]:
    kind, segment = _COLLECTIONS[collection]
    try:
        page = read_collection(json.loads(exchange.response_body.decode("utf-8")), exchange.url)
    except (UnicodeDecodeError, ValueError):
        return {"LEAH-HYDRA-01": ["the list response is not JSON"]}
    except HydraError as exc:
        return {"LEAH-HYDRA-01": [str(exc)]}
    problems: dict[str, list[str]] = {}
    problems["LEAH-HYDRA-01"] = _shape(page, collection, kind, exchange.url)
    problems["LEAH-HYDRA-02"] = _members(page, kind, segment)
    problems["LEAH-HYDRA-03"] = _total(page)
    return {k: v for k, v in problems.items() if v}


def _shape(page: CollectionPage, collection: str, kind: str, url: str) -> list[str]:
    problems = []
    if page.dialect.mixed:
        problems.append(page.dialect.describe())
    expected_context = f"/api/contexts/{kind}"
    if not isinstance(page.context, str) or iri_path(page.context) != expected_context:
        problems.append(f"@context is not {expected_context}")
    request_path = urlsplit(url).path
    if not isinstance(page.id, str) or iri_path(page.id) not in (collection, request_path):
        problems.append(f"@id is not the collection path {collection}")
    expected = {"prefixed": {"hydra:Collection"}, "unprefixed": {"Collection"}}.get(
        page.dialect.dialect or "", {"hydra:Collection", "Collection"}
    )
    if page.type not in expected:
        problems.append(f"@type is {page.type!r}, not {' or '.join(sorted(expected))}")
    if page.members_shape != "array":
        problems.append(f"the member list is {page.members_shape}, not a JSON array")
    return problems


def _members(page: CollectionPage, kind: str, segment: str) -> list[str]:
    problems = []
    for member in page.members:
        ident = member.get("@id") if isinstance(member, Mapping) else member
        if uuid_of_iri(ident, segment) is None:
            problems.append(f"a member @id is not /api/{segment}/<uuid>")
        elif not isinstance(member, Mapping) or member.get("@type") != kind:
            problems.append(f"a member's @type is not {kind}")
    return list(dict.fromkeys(problems))


def _total(page: CollectionPage) -> list[str]:
    if not page.has_total_items:
        return ["totalItems is absent"]
    if page.total is None:
        return [f"totalItems is {_shown(page.total_items)}, not an integer >= 0"]
    view = page.view
    one_page = view is None or not (view.next or view.previous)
    if one_page and page.total != len(page.members):
        return [f"totalItems {page.total} but {len(page.members)} members on the only page"]
    return []


def _shown(value: Any) -> str:
    return f"a {type(value).__name__}" if value is not None else "null"
