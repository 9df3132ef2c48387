"""Helpers shared by the Leah suites: auth headers, safe contact data, collection walks,
the configured worker, an office, appointment and transfer helpers, and the cleaner.

State kept in ``ctx.state`` for one run (keys start with ``leah.``): ``leah.walks`` (walks
by collection and query), ``leah.worker_iri``, ``leah.office_iri``, ``leah.spare_transfer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx

from teleconform.hydra import Walk, iri_path, walk
from teleconform.runner.ledger import Creation
from teleconform.suite import Context, CredentialsRefused, TargetUnreachable, cleaner, preflight

SAFE_EMAIL = "teleconform-probe@example.org"
SAFE_PHONE = "+15555550100"
WORKERS = "/api/healthcare_workers"
OFFICES = "/api/offices"
APPOINTMENTS = "/api/appointments"
TRANSFERS = "/api/transfers"
MERGE_PATCH = "application/merge-patch+json"
MAX_PAGES = 60
TRANSFER_STAYS = "Leah transfer: the API has no delete (it expires by itself after 7 days)"
# Every operation of the Leah API that creates something: the runner ledgers each before it
# is sent and enters what a 2xx answer created (whichever check sends it).
TELECONFORM_CREATES = [
    # cleanup PATCH = cancel ({"status": "cancelled"}, see cancel_appointment)
    Creation("POST", "/api/appointments", "appointment", ("/@id",), ("PATCH", "{id}")),
    Creation("POST", "/api/transfers", "transfer", ("/id", "/@id"), None, why=TRANSFER_STAYS),
]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def auth_headers(ctx: Context) -> dict[str, str]:
    """The documented authentication header, and JSON-LD asked for explicitly."""
    return {"LEAH-AUTH-TOKEN": ctx.need("leah.api_key"), "Accept": "application/ld+json"}


def safe_email(ctx: Context) -> str:
    """An address that reaches no person (TELECONFORM_SAFE_EMAIL; the run puts it in state)."""
    value = ctx.state.get("safe_email")
    return value if isinstance(value, str) and value else SAFE_EMAIL


def safe_phone(ctx: Context) -> str:
    """A fictitious phone number (TELECONFORM_SAFE_PHONE)."""
    value = ctx.state.get("safe_phone")
    return value if isinstance(value, str) and value else SAFE_PHONE


def unknown_email(ctx: Context) -> str:
    """An address no worker of any organization has."""
    return f"teleconform-nobody-{ctx.run_id}@example.invalid"


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when there is none or it does not parse."""
    try:
        return response.json()
    except ValueError:
        return None


def parse_rfc3339(value: Any) -> datetime | None:
    """An RFC 3339 date-time with an explicit offset, else None."""
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def response_date(ctx: Context, response: httpx.Response) -> datetime:
    """When the server answered: its Date header, else the run clock."""
    raw = response.headers.get_list("date")
    if raw:
        try:
            return parsedate_to_datetime(raw[0]).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.fromtimestamp(ctx.now(), UTC)


# -- collections -------------------------------------------------------------------------------
class PageError(Exception):
    """A page of a walk did not answer 200 with JSON."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"GET {response.request.url} answered {response.status_code}")
        self.response = response


@dataclass(slots=True)
class CollectionWalk:
    """A walk over one collection query, with the exchanges it made."""

    path: str
    params: list[tuple[str, str]]
    start: str
    walk: Walk | None = None
    responses: list[httpx.Response] = field(default_factory=list)
    error: PageError | None = None

    @property
    def first(self) -> httpx.Response | None:
        return self.responses[0] if self.responses else None

    @property
    def request_path(self) -> str:
        return urlsplit(self.start).path

    def evidence(self, limit: int = 3) -> tuple[httpx.Response, ...]:
        return tuple(self.responses[:limit])

    def count(self) -> int | None:
        """totalItems of the first page when usable, else the distinct members walked."""
        if self.walk is None or not self.walk.pages:
            return None
        total = self.walk.pages[0].total
        if total is not None:
            return total
        if not self.walk.complete:
            return None
        return len(self.walk.distinct)


def collection_url(ctx: Context, path: str, params: list[tuple[str, str]]) -> str:
    url = ctx.http.url(path)
    if params:
        url += "?" + urlencode(params, quote_via=quote)
    return url


def walk_collection(
    ctx: Context, path: str, params: list[tuple[str, str]] | None = None, *, cached: bool = True
) -> CollectionWalk:
    """Walk a collection query from its first page (cached per run by path and query)."""
    params = list(params or [])
    key = (path, tuple(params))
    walks: dict[Any, CollectionWalk] = ctx.state.setdefault("leah.walks", {})
    if cached and key in walks:
        return walks[key]
    result = CollectionWalk(path, params, collection_url(ctx, path, params))
    headers = auth_headers(ctx)

    def fetch(url: str) -> Any:
        response = ctx.request("GET", url, headers=headers)
        result.responses.append(response)
        body = json_body(response)
        if response.status_code != 200 or body is None:
            raise PageError(response)
        return body

    try:
        result.walk = walk(fetch, result.start, max_pages=MAX_PAGES)
    except PageError as exc:
        result.error = exc
    walks[key] = result
    return result


def require_first_page(ctx: Context, result: CollectionWalk) -> Walk:
    """The walk, or a failed precondition when even the first page did not answer 200."""
    ctx.precondition(
        result.walk is not None or (result.error is not None and len(result.responses) > 1),
        f"GET {result.path} with the API key answers 200 with JSON",
        *result.evidence(1),
    )
    if result.walk is None:
        # A later page failed: the walk is cut short; report what was reached.
        ctx.precondition(
            False,
            f"a page of {result.path} did not answer 200: {result.error}",
            *result.responses[-1:],
        )
    assert result.walk is not None
    return result.walk


def member_email(member: Any) -> Any:
    return member.get("email") if isinstance(member, dict) else None


def configured_worker_iri(ctx: Context) -> str:
    """The @id of the worker named by leah.hcw_email (found through the email filter)."""
    if isinstance(ctx.state.get("leah.worker_iri"), str):
        return str(ctx.state["leah.worker_iri"])
    email = ctx.need("leah.hcw_email")
    result = walk_collection(ctx, WORKERS, [("email", email)])
    found = require_first_page(ctx, result)
    members = [m for page in found.pages for m in page.members if isinstance(m, dict)]
    matching = [m for m in members if member_email(m) == email]
    if not matching and len(members) == 1:
        matching = members  # the list does not show e-mails; the filter gave one worker
    ctx.precondition(
        bool(matching) and isinstance(matching[0].get("@id"), str),
        "the configured healthcare worker is listed with an @id",
        *result.evidence(1),
    )
    iri = str(matching[0]["@id"])
    ctx.state["leah.worker_iri"] = iri
    return iri


def an_office_iri(ctx: Context) -> str:
    """The @id of an office of the organization (the first listed)."""
    if isinstance(ctx.state.get("leah.office_iri"), str):
        return str(ctx.state["leah.office_iri"])
    result = walk_collection(ctx, OFFICES)
    found = require_first_page(ctx, result)
    members = found.pages[0].members
    ctx.precondition(
        bool(members) and isinstance(members[0], dict) and isinstance(members[0].get("@id"), str),
        "the organization has an office with an @id",
        *result.evidence(1),
    )
    iri = str(members[0]["@id"])
    ctx.state["leah.office_iri"] = iri
    return iri


# -- appointments ------------------------------------------------------------------------------
def future_wall_time(ctx: Context, day: int, hour: int, minute: int = 15) -> str:
    """A naive ``yyyy-mm-ddThh:mm:ss`` in January of next year: always in the future and
    outside any daylight-saving change, so two such times share one UTC offset."""
    year = datetime.fromtimestamp(ctx.now(), UTC).year + 1
    return f"{year:04d}-01-{day:02d}T{hour:02d}:{minute:02d}:00"


def as_utc(naive: str) -> datetime:
    """A naive wall time read as UTC."""
    return datetime.fromisoformat(naive).replace(tzinfo=UTC)


def appointment_body(ctx: Context, office: str, start: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "phoneNumber": safe_phone(ctx),
        "email": safe_email(ctx),
        "office": office,
        "startTime": start,
    }
    body.update(extra)
    return body


def keyed(ctx: Context, response: httpx.Response) -> httpx.Response:
    """The response, unless the server refused the API key (then nothing can be judged)."""
    ctx.precondition(
        response.status_code not in (401, 403),
        f"the API key is accepted ({response.request.method} "
        f"{response.request.url.path} answered {response.status_code})",
        response,
    )
    return response


def post_appointment(ctx: Context, body: dict[str, Any]) -> httpx.Response:
    """POST /api/appointments as documented (application/json); a created one is ledgered."""
    response = ctx.request("POST", APPOINTMENTS, headers=auth_headers(ctx), json=body)
    register_appointment(ctx, response)
    return keyed(ctx, response)


def register_appointment(ctx: Context, response: httpx.Response) -> str | None:
    """Enter an appointment a response created in the cleanup ledger (cleanup = cancel)."""
    if not response.is_success:
        return None
    body = json_body(response)
    iri = body.get("@id") if isinstance(body, dict) else None
    if not isinstance(iri, str):
        iri = response.headers.get("location")
    if not iri:
        return None
    # ("PATCH", path) means: cancel it with {"status": "cancelled"} (see cancel_appointment).
    ctx.created("appointment", iri, ("PATCH", iri_path(urljoin(str(response.url), iri))))
    return iri


def patch_appointment(
    ctx: Context, iri: str, body: dict[str, Any], content_type: str = MERGE_PATCH
) -> httpx.Response:
    headers = {**auth_headers(ctx), "Content-Type": content_type}
    return keyed(ctx, ctx.request("PATCH", iri, headers=headers, json=body))


@cleaner
def cancel_appointment(ctx: Context, entry: dict[str, Any]) -> bool | str:
    """Cancel an appointment this run created: as far as the API goes (it has no delete, and
    a closed HCW consultation stays as a record too); already cancelled or gone is done."""
    cleanup = entry.get("cleanup")
    if entry.get("kind") != "appointment" or not cleanup:
        return False
    _method, path = cleanup
    headers = {**auth_headers(ctx), "Content-Type": MERGE_PATCH}
    response = ctx.request("PATCH", path, headers=headers, json={"status": "cancelled"})
    if response.is_success or response.status_code in (404, 410):
        return True
    check = ctx.request("GET", path, headers=auth_headers(ctx))
    body = json_body(check)
    if check.status_code in (404, 410) or (
        check.is_success and isinstance(body, dict) and body.get("status") == "cancelled"
    ):
        return True
    return f"appointment could not be cancelled: PATCH answered {response.status_code}"


# -- transfers ---------------------------------------------------------------------------------
def create_transfer(ctx: Context) -> httpx.Response:
    """POST /api/transfers for the configured worker; a created transfer is ledgered (it
    cannot be deleted through the API and expires by itself after 7 days)."""
    worker = configured_worker_iri(ctx)
    response = ctx.request(
        "POST", TRANSFERS, headers=auth_headers(ctx), json={"healthcareWorker": worker}
    )
    body = json_body(response)
    if response.is_success and isinstance(body, dict) and isinstance(body.get("id"), str):
        ctx.created("transfer", body["id"], None)  # left behind: TRANSFER_STAYS
    return response


def transfer_path(response: httpx.Response) -> str | None:
    """The path of a transfer from its creation answer (@id, else /api/transfers/<id>)."""
    body = json_body(response)
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("@id"), str):
        return iri_path(urljoin(str(response.url), body["@id"]))
    if isinstance(body.get("id"), str):
        return f"{TRANSFERS}/{body['id']}"
    return None


def fresh_transfer(ctx: Context) -> str:
    """The path of an empty transfer: the one LEAH-TRF-01 made if unused, else a new one."""
    spare = ctx.state.pop("leah.spare_transfer", None)
    if isinstance(spare, str):
        return spare
    response = create_transfer(ctx)
    path = transfer_path(response)
    ctx.precondition(
        response.is_success and path is not None, "POST /api/transfers creates a transfer", response
    )
    assert path is not None
    return path


def upload(ctx: Context, transfer: str, files: list[tuple[str, bytes, str]]) -> httpx.Response:
    """POST multipart ``file[]`` parts (name, content, media type) to the transfer."""
    parts = [("file[]", (name, content, media)) for name, content, media in files]
    return keyed(
        ctx, ctx.request("POST", f"{transfer}/files", headers=auth_headers(ctx), files=parts)
    )


def transfer_files(response: httpx.Response) -> list[Any] | None:
    body = json_body(response)
    files = body.get("files") if isinstance(body, dict) else None
    return files if isinstance(files, list) else None


@preflight
def key_accepted(ctx: Context) -> None:
    """Before any check: the target is a Leah API and takes the configured key.

    Exit 3 only when no documented list operation accepts the key (or none is there): a key
    refused by some operations and accepted by others is partial access, which LEAH-AUTH-02
    reports as a fail with the refused operations while the run goes on.
    """
    if not ctx.has("leah.api_key"):
        return
    unusable = (401, 403, 404)
    answers = []
    for path in (OFFICES, WORKERS):  # the second only when the first refuses
        response = ctx.request("GET", path, headers=auth_headers(ctx))
        if response.status_code not in unusable:
            return
        answers.append((path, response))
    if all(r.status_code == 404 for _, r in answers):
        raise TargetUnreachable(f"GET {OFFICES} answered 404: is the target a Leah API?")
    refused = ", ".join(f"GET {path} answered {r.status_code}" for path, r in answers)
    raise CredentialsRefused(f"{refused} with TELECONFORM_LEAH_API_KEY: check the key")
