"""Leah property tests: every operation of specs/leah.openapi.yaml with generated positive
and negative data, the spec's links (appointment create -> read/patch; transfer create ->
files -> share), authentication probes (no key, a wrong key) and the built-in response
checks.

Routing: accepted without or with an invalid LEAH-AUTH-TOKEN -> LEAH-AUTH-01; every other
failure (5xx included) -> LEAH-GEN-01. Budgets and the stated minimum:
teleconform.properties.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from teleconform.properties import (
    ClauseMap,
    Resource,
    file_part,
    run_property_tests,
    safe_phone,
)
from teleconform.suite import Context, clause

from ._common import auth_headers

SPEC = "leah.openapi.yaml"
MAX_PAGE = 1000
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)
CLAUSES = ClauseMap(default="LEAH-GEN-01", auth="LEAH-AUTH-01")
RESOURCES = [
    # cleanup PATCH = cancel ({"status": "cancelled"}); the id is the appointment's IRI
    Resource("POST /api/appointments", "appointment", "/@id", ("PATCH", "{id}")),
    Resource("POST /api/transfers", "transfer", "/id", None),
]


def _first_member(ctx: Context, path: str, params: dict[str, str] | None = None) -> str | None:
    response = ctx.request("GET", path, params=params, headers=auth_headers(ctx))
    if response.status_code != 200:
        return None
    body = response.json()
    members = body.get("hydra:member", body.get("member")) if isinstance(body, dict) else None
    if not members or not isinstance(members[0], dict):
        return None
    iri = members[0].get("@id")
    return iri if isinstance(iri, str) else None


def _lookup(ctx: Context, key: str, path: str, params: dict[str, str] | None = None) -> str | None:
    # one read per run: the IRI of an existing office / healthcare worker
    if key not in ctx.state:
        ctx.state[key] = _first_member(ctx, path, params)
    value = ctx.state[key]
    return value if isinstance(value, str) else None


def _future(ctx: Context) -> str:
    when = datetime.fromtimestamp(ctx.now(), UTC) + timedelta(days=3)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def prepare(ctx: Context, case: Any, mode: str) -> None:
    """Give positive requests what the target needs to accept them.

    The schema cannot say that office must name an existing office, healthcareWorker an
    existing worker, startTime a future instant or phoneNumber a dialable number, nor that
    API Platform refuses a page whose offset overflows, or a page beyond 1 when
    itemsPerPage is 0: generated values would be rightly refused, which is not a finding.
    """
    if mode != "positive":
        # itemsPerPage is honoured only where client page sizes are enabled (spec): a server
        # may ignore it, so an invalid value says nothing about the server
        per_page = (case.query or {}).get("itemsPerPage")
        if "itemsPerPage" in (case.query or {}) and not (
            isinstance(per_page, int) and not isinstance(per_page, bool) and per_page >= 0
        ):
            case.query = {k: v for k, v in case.query.items() if k != "itemsPerPage"}
        return
    if case.query and ("page" in case.query or "itemsPerPage" in case.query):
        query = dict(case.query)
        if isinstance(query.get("page"), int):
            query["page"] = min(query["page"], MAX_PAGE)
        if isinstance(query.get("itemsPerPage"), int):
            query["itemsPerPage"] = min(query["itemsPerPage"], MAX_PAGE)
            if query["itemsPerPage"] == 0 and "page" in query:
                query["page"] = 1
        if query != case.query:
            case.query = query
    if not isinstance(case.body, dict):
        return
    label = f"{case.method.upper()} {case.path}"
    body = dict(case.body)
    if label == "POST /api/appointments":
        body["phoneNumber"] = safe_phone()
        office = _lookup(ctx, "leah.properties.office", "/api/offices")
        if office is not None:
            body["office"] = office
        body["startTime"] = _future(ctx)
    elif label == "PATCH /api/appointments/{id}" and "startTime" in body:
        body["startTime"] = _future(ctx)
    elif label == "POST /api/transfers/{id}/files" and isinstance(body.get("file[]"), list):
        # real PNGs (the server reads the bytes, not the declared type), at most 2 per upload
        # so that the uploads of one transfer stay within its 10 files
        count = min(max(len(body["file[]"]), 1), 2)
        body = {"file[]": [file_part(TINY_PNG) for _ in range(count)]}
    elif label == "POST /api/transfers":
        params = {"email": ctx.need("leah.hcw_email")} if ctx.has("leah.hcw_email") else None
        worker = _lookup(ctx, "leah.properties.worker", "/api/healthcare_workers", params)
        if worker is not None:
            body["healthcareWorker"] = worker
    if body != case.body:
        case.body = body


@clause("LEAH-AUTH-01", "LEAH-GEN-01")
def property_tests(ctx: Context) -> None:
    run_property_tests(
        ctx,
        spec=SPEC,
        auth=auth_headers,
        clause_map=CLAUSES,
        resources=RESOURCES,
        prepare=prepare,
    )
