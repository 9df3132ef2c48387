"""Healthcare worker handlers of the Leah sandbox: the collection (filter ``email``), one item."""

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
from teleconform.sandbox.leah._render import error, jsonld, worker_node
from teleconform.sandbox.leah._store import HealthcareWorker
from teleconform.sandbox.leah._validation import negotiate

WORKER_SEARCH = (SearchVariable("email", "email"), SearchVariable("email[]", "email"))


def find_worker(ctx: Ctx, ident: str) -> HealthcareWorker | None:
    """The worker of an id (a sequence number under a fault), or None."""
    if ctx.on("member-id-not-uuid") and ident.isdigit():
        return ctx.state.workers_by_seq.get(int(ident))
    return ctx.state.workers_by_id.get(ident)


async def list_workers(ctx: Ctx) -> Response:
    """GET /api/healthcare_workers (filter email)."""
    pairs = parse_query(ctx.request.url.query)

    def build() -> dict[str, Any]:
        workers = ctx.state.seed.workers
        emails = query_values(pairs, "email")
        if emails is not None and not ctx.on("email-filter-ignored"):
            matched = [w for w in workers if w.email in emails]
            if matched or not ctx.on("email-filter-unknown-returns-all"):
                workers = matched
        return collection(
            ctx,
            pairs,
            short_name="HealthcareWorker",
            path="/api/healthcare_workers",
            items=[worker_node(ctx, w) for w in workers],
            search=WORKER_SEARCH,
        )

    return list_response(ctx, build)


async def get_worker(ctx: Ctx) -> Response:
    """GET /api/healthcare_workers/{id}."""
    authenticate(ctx)
    negotiate(ctx)
    worker = find_worker(ctx, ctx.request.path_params["id"])
    if worker is None:
        raise error(ctx, 404, "Not Found")
    node = worker_node(ctx, worker)
    return jsonld(ctx, {"@context": "/api/contexts/HealthcareWorker", **node})
