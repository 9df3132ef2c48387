"""Office handlers of the Leah sandbox: the collection (filter healthcareWorker.email), an item."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._collections import (
    SearchVariable,
    collection,
    list_response,
    parse_query,
    query_values,
)
from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import error, jsonld, office_node
from teleconform.sandbox.leah._validation import negotiate

OFFICE_SEARCH = (
    SearchVariable("healthcareWorker.email", "healthcareWorker.email"),
    SearchVariable("healthcareWorker.email[]", "healthcareWorker.email"),
)


async def list_offices(ctx: Ctx) -> Response:
    """GET /api/offices (filter healthcareWorker.email)."""
    pairs = parse_query(ctx.request.url.query)

    def build() -> dict[str, Any]:
        offices = ctx.state.seed.offices
        emails = query_values(pairs, "healthcareWorker.email")
        if emails is not None and not ctx.on("office-filter-ignored"):
            ids = {w.id for w in ctx.state.seed.workers if w.email in emails}
            offices = (
                [] if ctx.on("office-filter-empty") else [o for o in offices if o.worker_ids & ids]
            )
        return collection(
            ctx,
            pairs,
            short_name="Office",
            path="/api/offices",
            items=[office_node(ctx, o) for o in offices],
            search=OFFICE_SEARCH,
        )

    if ctx.on("no-auth-required"):
        authenticate(ctx, open_route=True)
        negotiate(ctx)
        return jsonld(ctx, build())
    if ctx.on("key-refused-on-offices"):
        authenticate(ctx)
        raise error(ctx, 403, "Access Denied.")
    return list_response(ctx, build)


async def get_office(ctx: Ctx) -> Response:
    """GET /api/offices/{id}."""
    authenticate(ctx)
    negotiate(ctx)
    office = ctx.state.offices_by_id.get(ctx.request.path_params["id"])
    if office is None:
        raise error(ctx, 404, "Not Found")
    return jsonld(ctx, {"@context": "/api/contexts/Office", **office_node(ctx, office)})
