"""Authentication in the Leah sandbox: the API key in ``LEAH-AUTH-TOKEN``."""

from __future__ import annotations

from starlette.responses import JSONResponse

from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import Reject, error


def authenticate(ctx: Ctx, *, open_route: bool = False) -> None:
    """Raise Reject(401) unless the request carries the API key."""
    key = ctx.request.headers.get("leah-auth-token", "")
    if ctx.on("valid-key-refused"):
        raise Reject(JSONResponse({"message": "Invalid credentials."}, status_code=401))
    if open_route:
        return
    if not key:
        raise error(ctx, 401, "Full authentication is required to access this resource.")
    if key != ctx.state.seed.api_key and not ctx.on("invalid-key-accepted"):
        raise Reject(JSONResponse({"message": "Invalid credentials."}, status_code=401))
