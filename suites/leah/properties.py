"""Leah property tests: every operation of specs/leah.openapi.yaml with generated positive
and negative data, the spec's links (appointment create -> read/patch; transfer create ->
files -> share), authentication probes (no key, a wrong key) and the built-in response
checks.

Routing: accepted without or with an invalid LEAH-AUTH-TOKEN -> LEAH-AUTH-01; every other
failure (5xx included) -> LEAH-GEN-01. A generated request the server accepted or refused other
than our schema guessed (API Platform ignores a malformed filter value; which inputs must be
taken is stated by the scenario clauses, e.g. LEAH-APT-02/03) is an advisory of LEAH-GEN-01,
never a failure. Budgets and the stated minimum: teleconform.properties.

Every appointment the property tests create carries the run id in its externalId
(``teleconform-<run id>-p<n>``); a transfer has no field that could carry it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from teleconform.properties import (
    Budget,
    ClauseMap,
    Resource,
    file_part,
    run_property_tests,
    safe_phone,
)
from teleconform.suite import Context, clause

from ._common import auth_headers

SPEC = "leah.openapi.yaml"
# The spec's maxima of page and itemsPerPage (components/parameters).
MAX_PAGE = 1_000_000
MAX_ITEMS_PER_PAGE = 1000
_PHP_NUMBER = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")
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


def footprint(budget: Budget, live: bool) -> dict[str, int]:
    """The most the property tests create, per kind (``run --dry-run``): every creating case
    (positive, negative, 2 auth-probe variants). On a live target transfers, which the API
    cannot delete, get only the positive cases their links need. Shares (e-mails or SMS to
    the safe contacts): generated ones plus those along the links transfer -> files -> share.
    """
    probes = 2 * budget.auth_probes
    transfers = min(budget.positive, max(1, budget.chains)) if live else budget.positive
    shares = (
        budget.positive
        + budget.negative
        + probes
        + budget.chains * budget.link_cases * 2 * budget.link_cases
    )
    appointments = budget.positive + budget.negative + probes
    return {
        "appointment": appointments,
        "transfer": transfers + budget.negative + probes,
        "message": shares + appointments,
    }


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


def _php_int(value: Any) -> int | None:
    """What API Platform reads from a query value: PHP's integer cast of its text (the last of
    repeated keys); None for values sent as something else (objects)."""
    if isinstance(value, list):
        return _php_int(value[-1]) if value else None
    if isinstance(value, bool):
        return 0  # "true" / "false"
    if isinstance(value, dict):
        return None
    match = _PHP_NUMBER.match("" if value is None else str(value))
    if match is None:
        return 0
    try:
        return int(float(match.group(1)))
    except (OverflowError, ValueError):
        return None


def _paging(case: Any, mode: str) -> None:
    """Keep page and itemsPerPage to what says something about the server.

    Positive: a page beyond 1 with itemsPerPage 0 is refused by API Platform (the schema
    cannot say so). Negative: itemsPerPage is honoured only where client page sizes are
    enabled (spec), so an invalid one says nothing about the server and is left out; a page
    whose text PHP's integer cast turns into a valid page ("1.5", "7abc") is read as that page,
    as schemathesis itself reads "5" sent for an integer, and is left out too.
    """
    query = dict(case.query or {})
    if "page" not in query and "itemsPerPage" not in query:
        return
    if mode == "positive":
        if isinstance(query.get("page"), int):
            query["page"] = min(query["page"], MAX_PAGE)
        if isinstance(query.get("itemsPerPage"), int):
            query["itemsPerPage"] = min(query["itemsPerPage"], MAX_ITEMS_PER_PAGE)
            if query["itemsPerPage"] == 0 and "page" in query:
                query["page"] = 1
    else:
        per_page = query.get("itemsPerPage")
        if "itemsPerPage" in query and not (
            isinstance(per_page, int)
            and not isinstance(per_page, bool)
            and 0 <= per_page <= MAX_ITEMS_PER_PAGE
        ):
            del query["itemsPerPage"]
        page = query.get("page")
        read = _php_int(page) if "page" in query else None
        if not isinstance(page, int) and read is not None and 1 <= read <= MAX_PAGE:
            del query["page"]
    if query != case.query:
        case.query = query


def prepare(ctx: Context, case: Any, mode: str) -> None:
    """Give positive requests what the target needs to accept them, and mark creations.

    The schema cannot say that office must name an existing office, healthcareWorker an
    existing worker, startTime a future instant or phoneNumber a dialable number: generated
    values would be rightly refused, which is not a finding. Paging: ``_paging``. Every
    appointment body (negative ones too: a faulty server may accept one) gets an externalId
    with the run id.
    """
    if case.query:
        _paging(case, mode)
    label = f"{case.method.upper()} {case.path}"
    if label == "POST /api/appointments" and isinstance(case.body, dict):
        marked = dict(case.body)
        marked["externalId"] = _external_id(ctx)
        case.body = marked
    if mode != "positive" or not isinstance(case.body, dict):
        return
    body = dict(case.body)
    if label == "POST /api/appointments":
        body["phoneNumber"] = safe_phone()
        office = _lookup(ctx, "leah.properties.office", "/api/offices")
        if office is not None:
            body["office"] = office
        body["startTime"] = _future(ctx)
    elif label == "PATCH /api/appointments/{id}":
        if body.get("status") == "cancelled":
            # A cancel ends the appointment for good (LEAH-APT-08): every later positive PATCH
            # in the chain would be rightly refused. Positive cases reschedule; cancelling is
            # the appointments suite's job (LEAH-APT-06/08).
            body.pop("status")
            body.setdefault("startTime", _future(ctx))
        if "startTime" in body:
            body["startTime"] = _future(ctx)
    elif label == "POST /api/transfers/{id}/files" and isinstance(body.get("file[]"), list):
        # real PNGs (the server reads the bytes, not the declared type), at most 2 per upload
        # so that the uploads of one transfer stay within its 10 files
        count = min(max(len(body["file[]"]), 1), 2)
        # always assigned: schemathesis' Binary is a str subclass equal to every other Binary,
        # so the comparison below would call any file list unchanged
        case.body = {"file[]": [file_part(TINY_PNG) for _ in range(count)]}
        return
    elif label == "POST /api/transfers":
        params = {"email": ctx.need("leah.hcw_email")} if ctx.has("leah.hcw_email") else None
        worker = _lookup(ctx, "leah.properties.worker", "/api/healthcare_workers", params)
        if worker is not None:
            body["healthcareWorker"] = worker
    if body != case.body:
        case.body = body


def _external_id(ctx: Context) -> str:
    """A fresh externalId carrying the run id (one per prepared appointment body)."""
    count = int(ctx.state.get("leah.properties.marked", 0)) + 1
    ctx.state["leah.properties.marked"] = count
    return f"teleconform-{ctx.run_id}-p{count}"


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
