"""Discovery handlers of the Leah sandbox: the entrypoint (GET /api) and the JSON-LD contexts."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import error, jsonld
from teleconform.sandbox.leah._validation import negotiate


async def entrypoint(ctx: Ctx) -> Response:
    """GET /api: the API Platform entrypoint."""
    authenticate(ctx)
    negotiate(ctx)
    return jsonld(
        ctx,
        {
            "@context": "/api/contexts/Entrypoint",
            "@id": "/api",
            "@type": "Entrypoint",
            "healthcareWorker": "/api/healthcare_workers",
            "office": "/api/offices",
        },
    )


async def jsonld_context(ctx: Ctx) -> Response:
    """GET /api/contexts/{name}: a resource's JSON-LD context."""
    authenticate(ctx)
    negotiate(ctx)
    name = ctx.request.path_params["name"]
    properties = CONTEXT_PROPERTIES.get(name)
    if properties is None:
        raise error(ctx, 404, "Not Found")
    vocab = f"{ctx.request.url.scheme}://{ctx.request.url.netloc}/api/docs.jsonld#"
    context: dict[str, Any] = {"@vocab": vocab, "hydra": "http://www.w3.org/ns/hydra/core#"}
    for prop in properties:
        context[prop] = f"{name}/{prop}"
    return jsonld(ctx, {"@context": context})


CONTEXT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "Entrypoint": ("healthcareWorker", "office"),
    "HealthcareWorker": ("firstname", "lastname", "email", "currentOrganization"),
    "Office": ("id", "slug", "organization", "features", "createdAt", "currentMeeting"),
    "Appointment": ("status", "startTime", "email", "phoneNumber", "office", "externalId"),
    "Transfer": (
        "id",
        "hash",
        "expiresAt",
        "healthcareWorker",
        "status",
        "files",
        "type",
        "email",
        "firstname",
        "lastname",
    ),
    "Error": ("title", "description", "detail", "status", "type"),
    "ConstraintViolationList": ("violations", "title", "description"),
    "ConstraintViolation": ("violations", "title", "description"),
}
