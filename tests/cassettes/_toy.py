"""A small API, its suite and catalogue: recording and replay without the real sandboxes."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from teleconform.catalogue import Clause

EMAIL = "scheduler.real@clinic.example"
PASSWORD = "S3cret-Passw0rd!"
TOKEN = "tok_4f9a1c7e2b8d6a0f3e5c9b1d7a2e4f60"
UPLOAD_SIZE = 15 * 1024 * 1024
CREDENTIALS = {"hcw.email": EMAIL, "hcw.password": PASSWORD}


def _clause(cid: str) -> Clause:
    return Clause(cid, "hcw", "General", "MUST", cid.lower(), "", (), "hcw-guide", "")


CATALOGUE = {c.id: c for c in map(_clause, [f"HCW-T-0{i}" for i in range(1, 8)])}


def create_app(*, faults: tuple[str, ...] = ()) -> Starlette:
    items: list[dict[str, Any]] = [{"id": i, "name": f"seed-{i}"} for i in range(4)]

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("email") != EMAIL or body.get("password") != PASSWORD:
            return JSONResponse({"error": "refused"}, status_code=401)
        return JSONResponse({"token": TOKEN, "user": {"email": EMAIL, "firstName": "Grace"}})

    async def me(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "no"}, status_code=401)
        return JSONResponse({"email": EMAIL, "firstName": "Grace", "lastName": "Hopper"})

    async def list_items(request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", "10"))
        shown = items if "limit-ignored" in faults else items[:limit]
        return JSONResponse({"items": shown})

    async def create_item(request: Request) -> JSONResponse:
        if not authorised(request):
            return JSONResponse({"error": "no"}, status_code=401)
        body = await request.json()
        item = {"id": len(items), "name": body.get("name"), "lastName": body.get("lastName")}
        items.append(item)
        return JSONResponse(item, status_code=201)

    async def upload(request: Request) -> JSONResponse:
        data = await request.body()
        return JSONResponse({"received": len(data)})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/me", me),
            Route("/items", list_items),
            Route("/items", create_item, methods=["POST"]),
            Route("/upload", upload, methods=["POST"]),
        ]
    )


AUTH = """
from teleconform.suite import clause

@clause("HCW-T-01")
def login_and_me(ctx):
    r = ctx.request("POST", "/login",
                    json={"email": ctx.need("hcw.email"), "password": ctx.need("hcw.password")})
    ctx.precondition(r.status_code == 200, "login works", r)
    ctx.state["auth"] = {"Authorization": "Bearer " + r.json()["token"]}
    me = ctx.request("GET", "/me", headers=ctx.state["auth"])
    ctx.expect("HCW-T-01", me.json().get("email") == ctx.need("hcw.email"),
               "GET /me names the logged-in user", me)
"""

ITEMS = """
from teleconform.suite import clause

@clause("HCW-T-02")
def create_echoes(ctx):
    last = f"Probe-{ctx.run_id}"
    r = ctx.request("POST", "/items", json={"name": "probe", "lastName": last, "at": ctx.now()},
                    headers=ctx.state["auth"])
    ctx.expect("HCW-T-02", r.status_code == 201 and r.json().get("lastName") == last,
               f"the created item echoes lastName ({r.json().get('lastName')!r})", r)

@clause("HCW-T-03")
def limit_honoured(ctx):
    r = ctx.request("GET", "/items", params={"limit": 2})
    n = len(r.json()["items"])
    ctx.expect("HCW-T-03", n <= 2, f"limit=2 gives {n} items", r)

@clause("HCW-T-04")
def upload(ctx):
    blob = b"%PDF-1.7 " + bytes(range(256)) * (ctx.state.get("upload_size", 65536) // 256)
    r = ctx.request("POST", "/upload", files={"file": ("scan.pdf", blob, "application/pdf")})
    ctx.expect("HCW-T-04", r.status_code == 200 and r.json()["received"] > len(blob),
               "the upload arrived whole", r)

@clause("HCW-T-07")
def no_answer(ctx):
    ctx.request("POST", "http://127.0.0.1:9/closed", json={})  # nothing listens there

@clause("HCW-T-05")
def clock(ctx):
    ctx.measure("HCW-T-05", "now", ctx.now())
    ctx.measure("HCW-T-05", "seed", ctx.seed)
    ctx.passes("HCW-T-05", "clock read")
"""


def write_suites(root: Path) -> Path:
    """suites/hcw/{auth,items}.py under ``root``; returns the suites root."""
    api = root / "suites" / "hcw"
    api.mkdir(parents=True)
    (api / "__init__.py").write_text("")
    (api / "auth.py").write_text(textwrap.dedent(AUTH))
    (api / "items.py").write_text(textwrap.dedent(ITEMS))
    return root / "suites"


def args(**kw: Any) -> argparse.Namespace:
    """The `teleconform run` options open_session reads."""
    base: dict[str, Any] = {
        "record": None,
        "replay": False,
        "cassettes": None,
        "overwrite": False,
        "target": [],
        "sandbox_fault": [],
        "budget": "quick",
        "clause": [],
        "workers": 1,
    }
    base.update(kw)
    return argparse.Namespace(**base)
