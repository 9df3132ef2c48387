"""Leah's Hydra collections: shape and spelling (LEAH-HYDRA-01), typed UUID members
(LEAH-HYDRA-02), totalItems (LEAH-HYDRA-03), pagination (LEAH-HYDRA-04), and the two lists
with their filters (LEAH-HCW-01/02, LEAH-OFF-01/02).

Walks: the healthcare workers and the offices from their first page, and the offices of the
configured worker. Whether a collection spans pages is read from its links as well as from
the pages reached (a ``next`` to the page itself, around a cycle or out of the collection, or a
``last`` naming another page, is paging, and its defects are failures). A collection that fits
on one page is asked again with ``itemsPerPage`` so that it spans several pages; if the server
ignores that, pagination is not exercised on it, and LEAH-HYDRA-04 is skip when no collection
paginated at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from teleconform.hydra import CollectionPage, iri_path, link_problems, uuid_of_iri
from teleconform.suite import Context, clause

from ._common import (
    OFFICES,
    WORKERS,
    CollectionWalk,
    member_email,
    parse_rfc3339,
    require_first_page,
    unknown_email,
    walk_collection,
)

TYPES = {WORKERS: "HealthcareWorker", OFFICES: "Office"}
SEGMENTS = {WORKERS: "healthcare_workers", OFFICES: "offices"}


def _paginating_walks(
    ctx: Context, path: str, params: list[tuple[str, str]]
) -> list[CollectionWalk]:
    """The walk of ``path``; when it fits on one page, also one with a small itemsPerPage
    (so both the one-page and the several-page rules get exercised)."""
    result = walk_collection(ctx, path, params)
    found = require_first_page(ctx, result)
    if found.spans_pages:
        return [result]
    count = result.count() or len(found.pages[0].members)
    if count < 2:
        return [result]
    smaller = walk_collection(ctx, path, [*params, ("itemsPerPage", str(max(1, count // 3)))])
    if smaller.walk is not None and smaller.walk.spans_pages:
        return [result, smaller]
    return [result]


def _walks(ctx: Context) -> list[CollectionWalk]:
    walks = _paginating_walks(ctx, WORKERS, []) + _paginating_walks(ctx, OFFICES, [])
    if ctx.has("leah.hcw_email"):
        filtered = [("healthcareWorker.email", ctx.need("leah.hcw_email"))]
        walks += _paginating_walks(ctx, OFFICES, filtered)
    return walks


def _pages(result: CollectionWalk) -> list[tuple[CollectionPage, Any]]:
    """Each page of a walk with the response that carried it."""
    assert result.walk is not None
    return list(zip(result.walk.pages, result.responses, strict=False))


def _hydra01_problems(result: CollectionWalk, page: CollectionPage) -> list[str]:
    where = page.url or result.path
    problems = []
    if page.dialect.mixed:
        problems.append(f"{where} {page.dialect.describe()}")
    context = page.context
    expected_context = f"/api/contexts/{TYPES[result.path]}"
    if not isinstance(context, str) or iri_path(context) != expected_context:
        problems.append(f"{where}: @context is {context!r}, not {expected_context}")
    if (
        not isinstance(page.id, str)
        or iri_path(page.id) != result.request_path
        or ("://" not in page.id and page.id != result.request_path)
    ):
        problems.append(
            f"{where}: @id is {page.id!r}, not the collection path {result.request_path}"
        )
    expected_type = {"prefixed": "hydra:Collection", "unprefixed": "Collection"}.get(
        page.dialect.dialect or "", None
    )
    allowed_types = {expected_type} if expected_type else {"hydra:Collection", "Collection"}
    if page.type not in allowed_types:
        wanted = " or ".join(sorted(allowed_types))
        problems.append(f"{where}: @type is {page.type!r}, not {wanted}")
    if page.members_shape != "array":
        problems.append(f"{where}: the member list is {page.members_shape}, not a JSON array")
    return problems


@clause("LEAH-HYDRA-01", "LEAH-HYDRA-02", "LEAH-HYDRA-03", "LEAH-HYDRA-04")
def collections_are_hydra_collections(ctx: Context) -> None:
    """Every page of every walk: shape, members, totals and links."""
    walks = _walks(ctx)
    dialects: set[str] = set()
    h1: list[str] = []
    h2: list[str] = []
    h3: list[str] = []
    h4: list[str] = []
    paginated: list[str] = []
    evidence: dict[str, list[Any]] = {
        "LEAH-HYDRA-01": [],
        "LEAH-HYDRA-02": [],
        "LEAH-HYDRA-03": [],
        "LEAH-HYDRA-04": [],
    }

    def note(cid: str, found: list[str], problems: list[str], response: Any) -> None:
        found.extend(problems)
        if problems and response is not None and len(evidence[cid]) < 3:
            evidence[cid].append(response)

    for result in walks:
        found = require_first_page(ctx, result)
        kind, segment = TYPES[result.path], SEGMENTS[result.path]
        for page, response in _pages(result):
            if page.dialect.dialect:
                dialects.add(page.dialect.dialect)
            note("LEAH-HYDRA-01", h1, _hydra01_problems(result, page), response)
            bad_members = []
            for member in page.members:
                ident = member.get("@id") if isinstance(member, dict) else member
                if uuid_of_iri(ident, segment) is None:
                    bad_members.append(f"member @id {ident!r} is not /api/{segment}/<uuid>")
                elif not isinstance(member, dict) or member.get("@type") != kind:
                    got = member.get("@type") if isinstance(member, dict) else None
                    bad_members.append(f"member {ident} has @type {got!r}, not {kind}")
            note("LEAH-HYDRA-02", h2, bad_members[:3], response)
            if not page.has_total_items:
                note("LEAH-HYDRA-03", h3, [f"{page.url}: totalItems is absent"], response)
            elif page.total is None:
                note(
                    "LEAH-HYDRA-03",
                    h3,
                    [f"{page.url}: totalItems is {page.total_items!r}, not an integer >= 0"],
                    response,
                )
        single = not found.spans_pages
        first = found.pages[0]
        if single and first.total is not None and first.total != len(first.members):
            note(
                "LEAH-HYDRA-03",
                h3,
                [
                    f"{first.url}: totalItems {first.total} but "
                    f"{len(first.members)} members on the only page"
                ],
                result.first,
            )
        links: list[str] = []
        for page in found.pages:
            if page.view is not None:
                links += link_problems(page.view, result.request_path, result.params)
        if found.spans_pages:
            paginated.append(result.start)
            problems = links + found.problems()
            if result.error is not None:
                problems.append(f"a next link led to an error: {result.error}")
            note("LEAH-HYDRA-04", h4, problems, result.responses[-1] if problems else None)
            usable = not links and found.complete and result.error is None
            if usable and first.total is not None and first.total != len(found.distinct):
                note(
                    "LEAH-HYDRA-03",
                    h3,
                    [
                        f"{result.start}: totalItems {first.total} but "
                        f"{len(found.distinct)} distinct members across "
                        f"{len(found.pages)} pages"
                    ],
                    result.first,
                )
        elif links:
            note("LEAH-HYDRA-04", h4, links, result.first)

    ctx.measure("LEAH-HYDRA-01", "dialects", sorted(dialects))
    for cid, found_problems, ok in (
        (
            "LEAH-HYDRA-01",
            h1,
            f"{len(walks)} collections, "
            f"{sum(len(w.responses) for w in walks)} pages: "
            "Hydra collections in one spelling",
        ),
        ("LEAH-HYDRA-02", h2, "every member is a typed node with a /api/<collection>/<uuid> @id"),
        ("LEAH-HYDRA-03", h3, "totalItems is an integer that counts the collection"),
    ):
        if found_problems:
            ctx.fails(cid, "; ".join(found_problems[:4]), *evidence[cid])
        else:
            ctx.passes(cid, ok, *(w.first for w in walks if w.first is not None))
    if h4:
        ctx.fails("LEAH-HYDRA-04", "; ".join(h4[:4]), *evidence["LEAH-HYDRA-04"])
    elif paginated:
        ctx.passes(
            "LEAH-HYDRA-04",
            f"walked {len(paginated)} paginated collections to their "
            "last page: consistent links, no repeated member, no empty "
            "page",
        )
    else:
        ctx.skips(
            "LEAH-HYDRA-04",
            "every collection fits on one page and itemsPerPage did not "
            "make any paginate, so the pagination links could not be "
            "exercised",
        )


def _all_members(result: CollectionWalk) -> list[Any]:
    assert result.walk is not None
    return [m for page in result.walk.pages for m in page.members]


@clause("LEAH-HCW-01")
def healthcare_workers_list(ctx: Context) -> None:
    """Each worker has firstname, lastname and email; currentOrganization is null or a link."""
    result = walk_collection(ctx, WORKERS)
    require_first_page(ctx, result)
    members = _all_members(result)
    problems = []
    for member in members:
        if not isinstance(member, dict):
            problems.append(f"member {member!r} is not an object")
            continue
        missing = [
            f for f in ("firstname", "lastname", "email") if not isinstance(member.get(f), str)
        ]
        if missing:
            problems.append(f"{member.get('@id')} lacks {', '.join(missing)}")
        organization = member.get("currentOrganization")
        if organization is not None and not isinstance(organization, (str, dict)):
            problems.append(f"{member.get('@id')} currentOrganization is {organization!r}")
    if problems:
        ctx.fails(
            "LEAH-HCW-01",
            "; ".join(problems[:4])
            + (f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""),
            *result.evidence(),
        )
    else:
        ctx.expect(
            "LEAH-HCW-01",
            bool(members),
            f"{len(members)} workers, each with firstname, lastname and email",
            *result.evidence(),
        )


@clause("LEAH-HCW-02")
def healthcare_workers_email_filter(ctx: Context) -> None:
    """?email= gives exactly the configured worker, and nobody for an unknown address."""
    email = ctx.need("leah.hcw_email")
    known = walk_collection(ctx, WORKERS, [("email", email)])
    require_first_page(ctx, known)
    members = _all_members(known)
    count = known.count()
    wrong = [
        m.get("@id")
        for m in members
        if isinstance(m, dict) and member_email(m) is not None and member_email(m) != email
    ]
    ctx.expect(
        "LEAH-HCW-02",
        count == 1 and len(members) == 1 and not wrong,
        f"?email=<configured worker> gave totalItems/count {count}, {len(members)} "
        f"members{', other workers: ' + str(wrong[:3]) if wrong else ''}",
        *known.evidence(1),
    )
    unknown = walk_collection(ctx, WORKERS, [("email", unknown_email(ctx))])
    require_first_page(ctx, unknown)
    count = unknown.count()
    ctx.expect(
        "LEAH-HCW-02",
        count == 0 and not _all_members(unknown),
        f"?email=<unknown address> gave totalItems/count {count}, "
        f"{len(_all_members(unknown))} members",
        *unknown.evidence(1),
    )


def _office_problems(member: Any) -> list[str]:
    if not isinstance(member, dict):
        return [f"member {member!r} is not an object"]
    ident = member.get("@id")
    problems = []
    uuid = uuid_of_iri(ident, "offices")
    if member.get("id") != uuid or uuid is None:
        problems.append(f"{ident}: id {member.get('id')!r} is not the UUID ending its @id")
    if not isinstance(member.get("slug"), str) or not member.get("slug"):
        problems.append(f"{ident}: slug is {member.get('slug')!r}")
    organization = member.get("organization")
    if not isinstance(organization, str) or not iri_path(organization).startswith(
        "/api/organizations/"
    ):
        problems.append(f"{ident}: organization {organization!r} is not an organization IRI")
    features = member.get("features")
    if not isinstance(features, list) or not all(
        isinstance(f, str) and iri_path(f).startswith("/") for f in features
    ):
        problems.append(f"{ident}: features {features!r} is not an array of IRIs")
    if parse_rfc3339(member.get("createdAt")) is None:
        problems.append(
            f"{ident}: createdAt {member.get('createdAt')!r} is not an RFC 3339 "
            "date-time with offset"
        )
    meeting = member.get("currentMeeting")
    if meeting is not None and not isinstance(meeting, (str, dict)):
        problems.append(f"{ident}: currentMeeting is {meeting!r}")
    return problems


@clause("LEAH-OFF-01")
def offices_list(ctx: Context) -> None:
    """Each office has id (= its @id's UUID), slug, organization, features, createdAt."""
    result = walk_collection(ctx, OFFICES)
    require_first_page(ctx, result)
    members = _all_members(result)
    problems = [p for member in members for p in _office_problems(member)]
    if problems:
        ctx.fails(
            "LEAH-OFF-01",
            "; ".join(problems[:4])
            + (f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""),
            *result.evidence(),
        )
    else:
        ctx.expect(
            "LEAH-OFF-01",
            bool(members),
            f"{len(members)} offices with the documented properties",
            *result.evidence(),
        )


@clause("LEAH-OFF-02")
def offices_worker_filter(ctx: Context) -> None:
    """?healthcareWorker.email= gives some of the offices for the configured worker and
    none for an unknown address."""
    email = ctx.need("leah.hcw_email")
    everything = walk_collection(ctx, OFFICES)
    require_first_page(ctx, everything)
    total = everything.count()
    known = walk_collection(ctx, OFFICES, [("healthcareWorker.email", email)])
    require_first_page(ctx, known)
    count = known.count()
    members = _all_members(known)
    not_offices = [
        m.get("@id") if isinstance(m, dict) else m
        for m in members
        if not (
            isinstance(m, dict)
            and isinstance(m.get("@id"), str)
            and iri_path(urljoin("/", m["@id"])).startswith(f"{OFFICES}/")
        )
    ]
    ctx.expect(
        "LEAH-OFF-02",
        count is not None
        and count >= 1
        and (total is None or count <= total)
        and bool(members)
        and not not_offices,
        f"?healthcareWorker.email=<configured worker> gave totalItems/count {count} "
        f"(unfiltered {total}), {len(members)} members"
        + (f", not offices: {not_offices[:3]}" if not_offices else ""),
        *known.evidence(1),
    )
    unknown = walk_collection(ctx, OFFICES, [("healthcareWorker.email", unknown_email(ctx))])
    require_first_page(ctx, unknown)
    count = unknown.count()
    ctx.expect(
        "LEAH-OFF-02",
        count == 0 and not _all_members(unknown),
        f"?healthcareWorker.email=<unknown address> gave totalItems/count {count}, "
        f"{len(_all_members(unknown))} members",
        *unknown.evidence(1),
    )
