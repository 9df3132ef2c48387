"""HCW@Home reference sandbox: a stateful, in-memory Starlette app of the documented API.

It satisfies every clause of the ``hcw`` catalogue and mirrors the shapes of HCW@Home
5.4.62 where the guide is silent. Decisions where the guide leaves room:

* Authentication: the access JWT is read from ``x-access-token`` (documented) and from
  ``Authorization: Bearer`` (what HCW@Home >= 5.3.56 reads). Cookies are set at login
  (``token=<JWT>``) but never read, so a client's cookie jar cannot authorize a request.
* Errors are always JSON: 400 malformed request, 401 ``{"error": "Unauthorized"}``, 403
  ``{"error": "Forbidden"}`` (wrong role), 404 ``{"error": "Not Found"}``, 409 for a state
  conflict, 415 for a body that is not JSON. Nothing answers 5xx unless a fault asks for it.
* Wrong credentials at login-local get 401 (the guide's "401 : unauthorized request").
* Deleting an invite whose patient requested a consultation is refused with 409 and the
  invite stays (the guide's rule; the real backend deletes it).
* Closing (``POST /api/v1/invite/{id}/consultation/close``) works on an *active*
  consultation only, as on the real backend: a pending one gets 409 "Consultation is not
  active yet" and the doctor must accept it first (``POST /api/v1/consultation/{id}/accept``,
  doctor token from SSO). Closing destroys the invitation (as the real backend does): a
  repeated close answers 200 with the closed consultation, GET/DELETE on the invite give
  404, and the patient can no longer request a consultation with it. An invite without any
  consultation gets 404 "Consultation not found".
* SSO (``GET|POST /api/v1/external-auth-callback?token=JWT&returnUrl=URL``): HS256/384/512
  with the shared secret; ``timestamp`` must be a JSON number of seconds with
  ``0 <= now - timestamp <= 300`` (up to 30 s in the future is tolerated for clock skew);
  ``email`` must be an existing doctor's. Unknown e-mails are *not* provisioned and other
  roles cannot sign in this way (401): auto-provisioning is what lets a scheduler's e-mail
  become a duplicate doctor on the real backend. A token works once (tracked by ``jti``
  and by the token string). ``returnUrl`` is kept only as a same-site path.
  Success: 302 to ``<doctor URL>/app?tk=<access JWT>`` with a short text body.
* Invite fields follow the guide: ``isPatientInvite`` must be ``true``; phoneNumber or
  emailAddress (a valid address) is required; firstName, lastName and gender are optional
  (HCW@Home requires them) but gender, when given, is male or female; language is two
  characters; a scheduler names doctorEmail or queue (queue by name or id); unknown ones
  get 400. ``scheduledFor`` accepts an ISO 8601 string (offset-less strings are read as
  UTC) or epoch milliseconds as a JSON number, and must not be in the past. sendInvite
  defaults to false and nothing is ever sent; patientURL carries the link.
* The patient side (undocumented, as on HCW@Home): ``POST /api/v1/login-invite
  {inviteToken}`` gives a patient JWT, ``POST /api/v1/consultation {invitationToken}`` with
  it requests the consultation (pending; repeated calls return the same one).

The decisions above are the defaults of the *readings* (``READINGS``, ``_profiles.py``): a
profile (``create_app(profile=NAME|FILE|Profile)``, ``PROFILES``) takes another legitimate
reading where the guide leaves room (enveloped GET, the status of a refused DELETE or close,
the close answer's id field, a repeated close, the patient after close, unknown fields, the
auth header, the login JWT's place, the SSO answer and skew, error bodies, id format,
temporary patient accounts), or reproduces a real release (``hcw-athome-5.4.62``).

Faults (``FAULTS``) switch on realistic deviations, for the whole app or per request with
the header ``X-Teleconform-Fault: name[,name]``; a profile's faults are always on.

Test control: ``GET /_sandbox/inventory`` (and ``inventory(app)``) lists what was created
since start: invites, consultations with their status, temporary patient accounts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from teleconform.sandbox._faults import check_fault_names
from teleconform.sandbox._profiles import Profile
from teleconform.sandbox.hcw._auth import login_invite, login_local
from teleconform.sandbox.hcw._consultations import (
    accept_consultation,
    close_consultation,
    request_consultation,
)
from teleconform.sandbox.hcw._context import Clock, Ctx, Sandbox
from teleconform.sandbox.hcw._faults import FAULTS
from teleconform.sandbox.hcw._inventory import inventory, show_inventory
from teleconform.sandbox.hcw._invites import (
    create_invite,
    delete_invite,
    get_invite,
    list_invites,
    update_invite,
)
from teleconform.sandbox.hcw._profiles import PROFILES, READINGS, resolve
from teleconform.sandbox.hcw._render import ApiError, error_response
from teleconform.sandbox.hcw._sso import sso_callback
from teleconform.sandbox.hcw._store import CREDENTIALS, Store

__all__ = [
    "CREDENTIALS",
    "FAULTS",
    "PROFILES",
    "READINGS",
    "create_app",
    "inventory",
    "resolve",
]

Handler = Callable[[Request], Awaitable[Response]]


def create_app(
    *,
    profile: str | Profile | None = None,
    faults: Iterable[str] = (),
    clock: Clock | None = None,
    page_size: int = 30,
    doctor_url: str | None = None,
    public_url: str | None = None,
) -> Starlette:
    """A fresh HCW@Home sandbox with seeded accounts (see CREDENTIALS).

    profile: a name of PROFILES (default "as-documented"), a profile file or a Profile (its
    readings decide where the guide leaves room; its faults are switched on); faults: more
    names from FAULTS switched on for every request, on top of the profile's; clock: epoch
    seconds (default time.time); doctor_url/public_url: bases of the SSO redirect and of
    patientURL (default: the URL the request came in on). ValueError for an unknown profile,
    reading or fault.
    """
    chosen_profile = resolve(profile)
    chosen = check_fault_names(faults, FAULTS) | chosen_profile.faults
    readings = dict(chosen_profile.readings)
    store = Store(id_format=readings["id_format"])
    sandbox = Sandbox(
        store=store,
        clock=clock or time.time,
        faults=chosen,
        readings=readings,
        page_size=page_size,
        doctor_url=doctor_url,
        public_url=public_url,
    )

    def wrap(handler: Callable[[Ctx], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            ctx = Ctx(request, sandbox)
            try:
                return await handler(ctx)
            except ApiError as err:
                if err.status >= 500:
                    return JSONResponse(err.body, err.status)
                return error_response(ctx, err.status, err.body, err.text)

        return endpoint

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        ctx = Ctx(request, sandbox)
        text = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
        return error_response(ctx, status, {"error": text}, text)

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"success": False, "message": "An unexpected error occurred"}, 500)

    api = "/api/v1"
    routes = [
        Route(f"{api}/login-local", wrap(login_local), methods=["POST"]),
        Route(f"{api}/login-invite", wrap(login_invite), methods=["POST"]),
        Route(f"{api}/external-auth-callback", wrap(sso_callback), methods=["GET", "POST"]),
        Route(f"{api}/invite", wrap(list_invites), methods=["GET"]),
        Route(f"{api}/invite", wrap(create_invite), methods=["POST"]),
        Route(f"{api}/invite/{{id}}", wrap(get_invite), methods=["GET"]),
        Route(f"{api}/invite/{{id}}", wrap(update_invite), methods=["PATCH"]),
        Route(f"{api}/invite/{{id}}", wrap(delete_invite), methods=["DELETE"]),
        Route(
            f"{api}/invite/{{id}}/consultation/close", wrap(close_consultation), methods=["POST"]
        ),
        Route(f"{api}/consultation", wrap(request_consultation), methods=["POST"]),
        Route(f"{api}/consultation/{{id}}/accept", wrap(accept_consultation), methods=["POST"]),
        # test control, not part of the API: what the run left behind (see inventory())
        Route("/_sandbox/inventory", wrap(show_inventory), methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.credentials = dict(CREDENTIALS)
    app.state.faults = chosen
    app.state.profile = chosen_profile
    app.state.store = store
    return app
