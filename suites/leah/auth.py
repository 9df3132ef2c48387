"""Leah authentication: every documented operation needs LEAH-AUTH-TOKEN (LEAH-AUTH-01) and
the configured key opens the list operations (LEAH-AUTH-02).

The unauthenticated probes are built so that a server that wrongly lets them through still
creates nothing: incomplete bodies and ids that name no resource.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from teleconform.suite import Context, clause

from ._common import (
    APPOINTMENTS,
    MERGE_PATCH,
    OFFICES,
    TRANSFERS,
    WORKERS,
    json_body,
    safe_email,
)
from ._files import png

ERROR_IRI_PREFIXES = ("/api/errors/", "/api/validation_errors/", "/errors/", "/validation_errors/")


def _carries_data(body: Any) -> str | None:
    """What resource data a 401 body leaks, or None."""
    if isinstance(body, list) and body:
        return "a JSON array of items"
    if not isinstance(body, dict):
        return None
    for key in ("hydra:member", "member"):
        if key in body:
            return f"a collection ({key})"
    iri = body.get("@id")
    if isinstance(iri, str) and iri.startswith("/api/") and not iri.startswith(ERROR_IRI_PREFIXES):
        return f"the resource {iri}"
    return None


def _probes(ctx: Context) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request kwargs) for every documented operation, harmless if accepted."""
    nobody = str(uuid.UUID(int=ctx.random.getrandbits(128), version=4))
    return [
        ("GET", WORKERS, {}),
        ("GET", OFFICES, {}),
        ("POST", APPOINTMENTS, {"json": {}}),
        (
            "PATCH",
            f"{APPOINTMENTS}/{nobody}",
            {"content": b'{"status": "cancelled"}', "headers": {"Content-Type": MERGE_PATCH}},
        ),
        ("POST", TRANSFERS, {"json": {}}),
        (
            "POST",
            f"{TRANSFERS}/{nobody}/files",
            {"files": [("file[]", ("probe.png", png(), "image/png"))]},
        ),
        ("POST", f"{TRANSFERS}/{nobody}/share", {"json": {"email": safe_email(ctx)}}),
    ]


# The most this module's checks create, per kind (requests that may create):
# requests without a valid key: only a server that skips the check creates.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"appointment": 2, "transfer": 2, "message": 2}


@clause("LEAH-AUTH-01")
def every_operation_requires_the_key(ctx: Context) -> None:
    """Without LEAH-AUTH-TOKEN, or with a wrong key, each operation answers 401 and no data."""
    wrong = f"teleconform-not-a-key-{ctx.run_id}"
    if ctx.has("leah.api_key") and ctx.need("leah.api_key") == wrong:
        wrong += "-x"
    variants: list[tuple[str, dict[str, str]]] = [
        ("without LEAH-AUTH-TOKEN", {}),
        ("with a wrong LEAH-AUTH-TOKEN", {"LEAH-AUTH-TOKEN": wrong}),
    ]
    failures: list[tuple[str, httpx.Response]] = []
    checked = 0
    for label, auth in variants:
        probes = _probes(ctx)
        if not ctx.writes_allowed:
            # Read-only on a live target: even a request that should be refused is not sent.
            probes = [probe for probe in probes if probe[0] == "GET"]
        for method, path, kwargs in probes:
            headers = {"Accept": "application/ld+json", **auth, **kwargs.pop("headers", {})}
            response = ctx.request(method, path, headers=headers, **kwargs)
            checked += 1
            leak = _carries_data(json_body(response))
            if response.status_code != 401:
                failures.append(
                    (f"{method} {path} {label} answered {response.status_code}", response)
                )
            elif leak:
                failures.append((f"{method} {path} {label} answered 401 but with {leak}", response))
    if failures:
        ctx.fails(
            "LEAH-AUTH-01",
            "; ".join(msg for msg, _ in failures[:4])
            + (f" (+{len(failures) - 4} more)" if len(failures) > 4 else ""),
            *(r for _, r in failures[:4]),
        )
    else:
        ctx.passes(
            "LEAH-AUTH-01", f"all {checked} unauthenticated requests answered 401 without data"
        )


@clause("LEAH-AUTH-02")
def the_key_opens_the_lists(ctx: Context) -> None:
    """With the configured key, both documented list operations answer 200; a key refused
    by one of them (partial access) fails with the refused operations as evidence."""
    headers = {"LEAH-AUTH-TOKEN": ctx.need("leah.api_key"), "Accept": "application/ld+json"}
    answers = [(path, ctx.request("GET", path, headers=headers)) for path in (WORKERS, OFFICES)]
    refused = [(path, r) for path, r in answers if r.status_code != 200]
    accepted = [path for path, r in answers if r.status_code == 200]
    if refused:
        what = "; ".join(f"GET {path} with the key answered {r.status_code}" for path, r in refused)
        if accepted and all(r.status_code in (401, 403) for _, r in refused):
            what = (
                f"partial access: the key is accepted by {', '.join(accepted)} but refused "
                f"by the other list operations ({what})"
            )
        ctx.fails("LEAH-AUTH-02", what, *(r for _, r in refused))
    else:
        ctx.passes(
            "LEAH-AUTH-02",
            "GET " + " and GET ".join(accepted) + " with the key answered 200",
            *(r for _, r in answers),
        )
