"""Request handlers of the Leah sandbox (see ``teleconform.sandbox.leah`` for the overview)."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from teleconform.sandbox._faults import FAULT_HEADER, parse_fault_header
from teleconform.sandbox.leah._faults import LEAH_FAULTS
from teleconform.sandbox.leah._files import (
    ACCEPTED_KINDS,
    MAX_FILE_BYTES,
    MAX_FILES,
    MEDIA_TYPES,
    PHP_DEFAULT_UPLOAD_MAX,
    judge,
)
from teleconform.sandbox.leah._render import (
    GREATER_THAN,
    INVALID_EMAIL,
    INVALID_MIME,
    INVALID_PHONE,
    LOCKED,
    NO_SUCH_CHOICE,
    NOT_BLANK,
    PLAIN_JSON,
    TOO_LARGE,
    TOO_MANY,
    Dialect,
    PaginationError,
    SearchVariable,
    Violation,
    collection_body,
    encode,
    error_response,
    jsonld,
    paginate,
    parse_query,
    query_values,
    violations_response,
)
from teleconform.sandbox.leah._store import (
    TRANSFER_LIFETIME,
    Appointment,
    HealthcareWorker,
    LeahState,
    Office,
    Transfer,
    TransferFile,
)
from teleconform.sandbox.leah._webhooks import deliver_all

Faults = frozenset[str]

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Symfony's Email constraint, "html5" mode.
EMAIL_RE = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ().-]+$")
WORKER_SEARCH = (SearchVariable("email", "email"), SearchVariable("email[]", "email"))
OFFICE_SEARCH = (
    SearchVariable("healthcareWorker.email", "healthcareWorker.email"),
    SearchVariable("healthcareWorker.email[]", "healthcareWorker.email"),
)
JSON_TYPES = ("application/json", "application/ld+json")
MERGE_PATCH = "application/merge-patch+json"
ACCEPTABLE = {
    "*/*",
    "application/*",
    "application/ld+json",
    "application/json",
    "application/problem+json",
}


class Reject(Exception):
    """Stop handling a request with this response (bad input, missing auth...)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def php_type(value: Any) -> str:
    """gettype() of the PHP value a JSON value decodes to."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, (list, dict)):
        return "array"
    return "string"


def paris_offset(instant: datetime) -> timedelta:
    """Europe/Paris UTC offset (EU rule: summer time from the last Sunday of March, 01:00 UTC,
    to the last Sunday of October, 01:00 UTC). Hand-written so no tz database is needed."""

    def last_sunday(month: int) -> datetime:
        day = datetime(instant.year, month, 31, 1, tzinfo=UTC)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    utc = instant.astimezone(UTC)
    summer = last_sunday(3) <= utc < last_sunday(10)
    return timedelta(hours=2 if summer else 1)


def rfc3339(instant: datetime, offset: timedelta = timedelta(0)) -> str:
    """PHP's DATE_RFC3339: seconds precision and a numeric offset (never Z)."""
    local = instant.astimezone(timezone(offset))
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class LeahApi:
    """State, configuration and handlers of one sandbox app."""

    def __init__(
        self,
        *,
        state: LeahState,
        dialect: Dialect,
        page_size: int,
        clock: Callable[[], float],
        faults: Faults,
        webhook_backoff: float,
        readings: Mapping[str, Any] | None = None,
    ) -> None:
        self.state = state
        self.dialect = dialect
        self.page_size = page_size
        self.clock = clock
        self.faults = faults
        self.webhook_backoff = webhook_backoff
        self.readings: Mapping[str, Any] = readings or {}

    def reading(self, name: str, default: Any) -> Any:
        return self.readings.get(name, default)

    def jsonld(
        self, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        """A JSON-LD response, escaped as the profile's encoder does."""
        return jsonld(data, status, headers, escape=self.dialect.escape)

    # -- plumbing ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def faults_for(self, request: Request) -> Faults:
        return self.faults | parse_fault_header(request.headers.get(FAULT_HEADER), LEAH_FAULTS)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reject:
        return Reject(error_response(self.dialect, status, message, headers))

    def invalid(self, *violations: Violation) -> Reject:
        return Reject(violations_response(self.dialect, violations))

    def authenticate(self, request: Request, fx: Faults, *, open_route: bool = False) -> None:
        """Raise Reject(401) unless the request carries the API key."""
        key = request.headers.get("leah-auth-token", "")
        if "valid-key-refused" in fx:
            raise Reject(JSONResponse({"message": "Invalid credentials."}, status_code=401))
        if open_route:
            return
        if not key:
            raise self.error(401, "Full authentication is required to access this resource.")
        if key != self.state.seed.api_key and "invalid-key-accepted" not in fx:
            raise Reject(JSONResponse({"message": "Invalid credentials."}, status_code=401))

    def negotiate(self, request: Request) -> None:
        """406 when Accept names nothing this API can produce."""
        accept = request.headers.get("accept", "").strip()
        if not accept:
            return
        types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        if not types & ACCEPTABLE:
            raise self.error(
                406,
                f'Requested format "{accept}" is not supported. Supported MIME '
                'types are "application/ld+json", "application/json".',
            )

    def require_content_type(self, request: Request, allowed: Sequence[str]) -> None:
        raw = request.headers.get("content-type")
        if raw is None:
            raise self.error(415, 'The "Content-Type" header must exist.')
        media = raw.split(";")[0].strip().lower()
        if media not in allowed:
            supported = ", ".join(f'"{a}"' for a in allowed)
            raise self.error(
                415,
                f'The content-type "{media}" is not supported. Supported MIME '
                f"types are {supported}.",
            )

    async def json_object(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.error(400, "Syntax error") from exc
        if not isinstance(data, dict):
            raise self.error(400, "The input data is misformatted.")
        return data

    def string_field(self, body: dict[str, Any], name: str) -> str | None:
        value = body.get(name)
        if value is None or isinstance(value, str):
            return value
        raise self.error(
            400, f'The type of the "{name}" attribute must be "string", "{php_type(value)}" given.'
        )

    def resolve_iri(
        self,
        value: Any,
        attribute: str,
        collection: str,
        lookup: Callable[[str], Any],
        *,
        allow_unknown: bool = False,
        crash_on_malformed: bool = False,
    ) -> Any:
        """Turn an IRI (path or absolute URL) into the item, API Platform style (400 otherwise)."""
        if isinstance(value, dict):
            raise self.error(
                400,
                f'Nested documents for attribute "{attribute}" are not allowed. Use IRIs instead.',
            )
        if not isinstance(value, str):
            raise self.error(
                400,
                f'Expected IRI or nested document for attribute "{attribute}", '
                f'"{php_type(value)}" given.',
            )
        path = re.sub(r"^https?://[^/]+", "", value)
        prefix = f"/api/{collection}/"
        ident = path[len(prefix) :] if path.startswith(prefix) else None
        if ident is None or not ident or "/" in ident:
            if crash_on_malformed:
                raise Reject(error_response(self.dialect, 500, "Internal Server Error"))
            raise self.error(400, f'Invalid IRI "{value}".')
        item = lookup(ident)
        if item is None and not allow_unknown:
            raise self.error(400, f'Item not found for "{value}".')
        return item

    def parse_start(self, value: Any, fx: Faults) -> datetime:
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                400,
                "The data is either not an string, an empty string, or null; you "
                "should pass a string that can be parsed with the passed format "
                "or a valid DateTime string.",
            )
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise self.error(
                400,
                f"DateTime::__construct(): Failed to parse time string ({value}) "
                "at position 0: The timezone could not be found in the "
                "database",
            ) from exc
        if parsed.tzinfo is None:
            if "naive-time-local" in fx:
                guess = parsed.replace(tzinfo=UTC)
                parsed = parsed.replace(tzinfo=timezone(paris_offset(guess - timedelta(hours=1))))
            else:
                parsed = parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC).replace(microsecond=0)
        except OverflowError as exc:
            raise self.error(400, f"Failed to parse time string ({value}).") from exc

    # -- serialization ----------------------------------------------------------------------
    def worker_iri(self, worker: HealthcareWorker, fx: Faults) -> str:
        ident = str(worker.seq) if "member-id-not-uuid" in fx else worker.id
        return f"/api/healthcare_workers/{ident}"

    def find_worker(self, ident: str, fx: Faults) -> HealthcareWorker | None:
        if "member-id-not-uuid" in fx and ident.isdigit():
            return self.state.workers_by_seq.get(int(ident))
        return self.state.workers_by_id.get(ident)

    def worker_node(self, worker: HealthcareWorker, fx: Faults) -> dict[str, Any]:
        node: dict[str, Any] = {
            "@id": self.worker_iri(worker, fx),
            "@type": "HealthcareWorker",
            "firstname": worker.firstname,
            "lastname": worker.lastname,
            "email": worker.email,
            "currentOrganization": f"/api/organizations/{self.state.seed.organization_id}",
        }
        if "hcw-missing-email" in fx:
            del node["email"]
        return node

    def office_node(self, office: Office, fx: Faults) -> dict[str, Any]:
        organization: Any = f"/api/organizations/{self.state.seed.organization_id}"
        if "office-organization-embedded" in fx:
            organization = {"@id": organization, "@type": "Organization", "name": "Sandbox clinic"}
        node: dict[str, Any] = {
            "@id": f"/api/offices/{office.id}",
            "@type": "https://schema.org/Place" if "member-type-schema-org" in fx else "Office",
            "id": office.seq if "office-id-integer" in fx else office.id,
            "slug": office.slug,
            "organization": organization,
            "features": [f"/api/features/{f}" for f in office.features],
            "createdAt": (
                office.created_at.strftime("%Y-%m-%d %H:%M:%S")
                if "office-createdat-no-offset" in fx
                else rfc3339(office.created_at)
            ),
            "currentMeeting": None,
        }
        if "office-missing-slug" in fx:
            del node["slug"]
        return self.dialect.strip_nulls(node)

    def appointment_node(self, appt: Appointment, fx: Faults) -> dict[str, Any]:
        start = None
        if appt.start is not None:
            offset = paris_offset(appt.start) if "startTime-not-utc" in fx else timedelta(0)
            start = rfc3339(appt.start, offset)
        status = appt.status
        if status == "scheduled" and "appointment-status-pending" in fx:
            status = "pending"
        node: dict[str, Any] = {
            "@context": "/api/contexts/Appointment",
            "@id": f"/api/appointments/{appt.id}",
            "@type": "Appointment",
            "status": status,
            "startTime": start,
            "email": appt.email,
            "phoneNumber": None if "appointment-phone-not-echoed" in fx else appt.phone,
            "office": f"/api/offices/{appt.office_id}" if appt.office_id else None,
            "externalId": appt.external_id,
        }
        # Appointment has a merge-patch PATCH, so even 2.x skips its null values.
        return self.dialect.strip_nulls(node, merge_patch_resource=True)

    def transfer_node(self, transfer: Transfer, fx: Faults) -> dict[str, Any]:
        worker = self.state.workers_by_id[transfer.worker_id]
        files: list[str] | None = [f"/api/transfer_files/{f.id}" for f in transfer.files]
        if not files and "transfer-files-null" in fx:
            files = None
        status = transfer.status
        if status == "ready" and "upload-keeps-in-progress" in fx:
            status = "in_progress"
        node: dict[str, Any] = {
            "@context": "/api/contexts/Transfer",
            "@id": f"/api/transfers/{transfer.id}",
            "@type": "Transfer",
            "id": transfer.id,
            "hash": transfer.hash,
            "expiresAt": rfc3339(transfer.expires_at),
            "healthcareWorker": worker.id
            if "transfer-hcw-not-iri" in fx
            else self.worker_iri(worker, fx),
            "status": status,
            "files": files,
            "type": "healthcare_worker",
            "email": None,
            "firstname": None,
            "lastname": None,
        }
        return self.dialect.strip_nulls(node)

    # -- collections --------------------------------------------------------------------------
    def collection(
        self,
        request: Request,
        fx: Faults,
        pairs: Sequence[tuple[str, str]],
        *,
        short_name: str,
        path: str,
        items: list[dict[str, Any]],
        search: Sequence[SearchVariable],
    ) -> dict[str, Any]:
        try:
            page = paginate(
                pairs,
                len(items),
                self.page_size,
                client_items_per_page=self.reading("items_per_page", "honoured") == "honoured",
                lenient_items_per_page=self.reading("malformed_items_per_page", "refused")
                == "ignored",
            )
        except PaginationError as exc:
            raise self.error(400, str(exc)) from exc
        start, end = page.offset, page.offset + page.limit
        if "duplicate-member-across-pages" in fx and page.number > 1:
            start -= 1  # an overlapping window: the previous page's last row comes again
        members = items[start:end] if page.limit else []
        total = len(items)
        if "total-items-off-by-one" in fx:
            total += 1
        if "total-items-page-count" in fx:
            total = len(members)
        link_pairs = None
        if "next-drops-filter" in fx:
            link_pairs = [(n, v) for n, v in pairs if n in ("page", "itemsPerPage", "pagination")]
        last_override = None
        if "last-link-wrong" in fx:
            last_override = max(1, math.ceil(len(items) / self.page_size))
        elif "last-unreachable" in fx:
            last_override = page.last + 2
        full_last = bool(page.limit) and len(items) == page.last * page.limit
        body = collection_body(
            self.dialect,
            short_name=short_name,
            path=path,
            members=members,
            total=total,
            page=page,
            pairs=pairs,
            search=search,
            link_pairs=link_pairs,
            last_override=last_override,
            trailing_empty=bool(self.reading("trailing_empty_page", False)) and full_last,
        )
        return self._collection_faults(request, fx, body, page.number, page.offset, page.last, path)

    def _collection_faults(
        self,
        request: Request,
        fx: Faults,
        body: dict[str, Any],
        number: int,
        offset: int,
        last: int,
        path: str,
    ) -> dict[str, Any]:
        h = self.dialect.key
        view = body.get(h("view"))
        if "next-link-loops" in fx and view is not None and last > 1 and number >= last:
            view[h("next")] = view[h("first")]
        if view is not None and h("next") in view:
            if "next-link-self" in fx:
                view[h("next")] = view["@id"]
            elif "next-other-collection" in fx:
                elsewhere = (
                    "/api/offices"
                    if path == "/api/healthcare_workers"
                    else "/api/healthcare_workers"
                )
                view[h("next")] = elsewhere + view[h("next")].removeprefix(path)
        if "member-not-array" in fx and number > 1:
            body[h("member")] = {str(offset + i): m for i, m in enumerate(body[h("member")])}
        if "total-items-missing" in fx:
            del body[h("totalItems")]
        elif "total-items-string" in fx:
            body[h("totalItems")] = str(body[h("totalItems")])
        if "collection-context-no-prefix" in fx:
            body["@context"] = body["@context"].removeprefix("/api")
        if "collection-absolute-wrong-id" in fx:
            base = f"{request.url.scheme}://{request.url.netloc}"
            body["@id"] = base + path.removeprefix("/api")
        if "collection-type-paged" in fx:
            body["@type"] = h("PagedCollection")
        if "mixed-hydra-prefix" in fx:
            # One serializer decorator still writes the other spelling.
            other = (lambda t: t) if self.dialect.prefixed else (lambda t: f"hydra:{t}")
            body = {
                (other(k.removeprefix("hydra:")) if k in (h("totalItems"), h("view")) else k): v
                for k, v in body.items()
            }
        return body

    def list_response(
        self, request: Request, fx: Faults, build: Callable[[], dict[str, Any]]
    ) -> Response:
        try:
            self.authenticate(request, fx)
        except Reject:
            if "unauthorized-with-data" not in fx:
                raise
            return self.jsonld(build(), status=401)
        self.negotiate(request)
        return self.jsonld(build())

    async def list_workers(self, request: Request) -> Response:
        fx = self.faults_for(request)
        pairs = parse_query(request.url.query)

        def build() -> dict[str, Any]:
            workers = self.state.seed.workers
            emails = query_values(pairs, "email")
            if emails is not None and "email-filter-ignored" not in fx:
                matched = [w for w in workers if w.email in emails]
                if matched or "email-filter-unknown-returns-all" not in fx:
                    workers = matched
            return self.collection(
                request,
                fx,
                pairs,
                short_name="HealthcareWorker",
                path="/api/healthcare_workers",
                items=[self.worker_node(w, fx) for w in workers],
                search=WORKER_SEARCH,
            )

        return self.list_response(request, fx, build)

    async def list_offices(self, request: Request) -> Response:
        fx = self.faults_for(request)
        pairs = parse_query(request.url.query)

        def build() -> dict[str, Any]:
            offices = self.state.seed.offices
            emails = query_values(pairs, "healthcareWorker.email")
            if emails is not None and "office-filter-ignored" not in fx:
                ids = {w.id for w in self.state.seed.workers if w.email in emails}
                offices = (
                    []
                    if "office-filter-empty" in fx
                    else [o for o in offices if o.worker_ids & ids]
                )
            return self.collection(
                request,
                fx,
                pairs,
                short_name="Office",
                path="/api/offices",
                items=[self.office_node(o, fx) for o in offices],
                search=OFFICE_SEARCH,
            )

        if "no-auth-required" in fx:
            self.authenticate(request, fx, open_route=True)
            self.negotiate(request)
            return self.jsonld(build())
        if "key-refused-on-offices" in fx:
            self.authenticate(request, fx)
            raise self.error(403, "Access Denied.")
        return self.list_response(request, fx, build)

    async def get_worker(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        worker = self.find_worker(request.path_params["id"], fx)
        if worker is None:
            raise self.error(404, "Not Found")
        node = self.worker_node(worker, fx)
        return self.jsonld({"@context": "/api/contexts/HealthcareWorker", **node})

    async def get_office(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        office = self.state.offices_by_id.get(request.path_params["id"])
        if office is None:
            raise self.error(404, "Not Found")
        return self.jsonld({"@context": "/api/contexts/Office", **self.office_node(office, fx)})

    # -- appointments -------------------------------------------------------------------------
    def contact_violations(self, email: str | None, phone: str | None) -> list[Violation]:
        found = []
        if email is not None and email and not EMAIL_RE.match(email):
            found.append(
                Violation("email", "This value is not a valid email address.", INVALID_EMAIL)
            )
        if phone is not None and phone:
            digits = re.sub(r"\D", "", phone)
            if not PHONE_RE.match(phone) or not 8 <= len(digits) <= 15:
                found.append(
                    Violation(
                        "phoneNumber", "This value is not a valid phone number.", INVALID_PHONE
                    )
                )
        return found

    def future_violation(self, start: datetime) -> list[Violation]:
        if start <= self.now():
            return [Violation("startTime", "This value should be greater than now.", GREATER_THAN)]
        return []

    async def create_appointment(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        self.require_content_type(request, JSON_TYPES)
        body = await self.json_object(request)
        if "externalId-rejected" in fx and "externalId" in body:
            raise self.error(400, 'Extra attributes are not allowed ("externalId" is unknown).')
        email = self.string_field(body, "email")
        phone = self.string_field(body, "phoneNumber")
        external_id = self.string_field(
            body, "external_id" if "externalId-rejected" in fx else "externalId"
        )
        office_id: str | None = None
        if body.get("office") is not None:
            office = self.resolve_iri(
                body["office"],
                "office",
                "offices",
                self.state.offices_by_id.get,
                allow_unknown="unknown-office-accepted" in fx,
                crash_on_malformed="bad-office-500" in fx,
            )
            office_id = office.id if office is not None else str(body["office"]).rsplit("/", 1)[-1]
        start = None
        if body.get("startTime") is not None:
            start = self.parse_start(body["startTime"], fx)

        violations: list[Violation] = []
        blank = "This value should not be blank."
        for name, value, fault in (
            ("phoneNumber", phone, "missing-phone-accepted"),
            ("email", email, "missing-email-accepted"),
            ("office", office_id, "missing-office-accepted"),
            ("startTime", start, "missing-starttime-accepted"),
        ):
            if value in (None, "") and fault not in fx:
                violations.append(Violation(name, blank, NOT_BLANK))
        violations += self.contact_violations(email, phone)
        if start is not None:
            violations += self.future_violation(start)
        if violations:
            raise self.invalid(*violations)

        appt = Appointment(
            id=self.state.new_id(),
            seq=self.state.next_seq(),
            status="scheduled",
            start=start,
            email=email,
            phone=phone,
            office_id=office_id,
            external_id=external_id,
            created_at=self.now(),
        )
        self.state.add_appointment(appt)
        iri = f"/api/appointments/{appt.id}"
        status = 200 if "appointment-200-not-201" in fx else 201
        return self.jsonld(
            self.appointment_node(appt, fx),
            status=status,
            headers={"location": iri, "content-location": iri},
        )

    def find_appointment(self, request: Request) -> Appointment:
        appt = self.state.appointments.get(request.path_params["id"])
        if appt is None:
            raise self.error(404, "Not Found")
        return appt

    async def get_appointment(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        appt = self.find_appointment(request)
        return self.jsonld(self.appointment_node(appt, fx), headers={"accept-patch": MERGE_PATCH})

    async def appointment_item(self, request: Request) -> Response:
        if request.method == "PATCH":
            return await self.patch_appointment(request)
        return await self.get_appointment(request)

    async def patch_appointment(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        appt = self.find_appointment(request)
        allowed: tuple[str, ...] = (MERGE_PATCH,)
        if "patch-json-accepted" in fx:
            allowed = (MERGE_PATCH, "application/json")
        self.require_content_type(request, allowed)
        body = await self.json_object(request)
        email = self.string_field(body, "email")
        phone = self.string_field(body, "phoneNumber")
        external_id = self.string_field(body, "externalId")
        status = self.string_field(body, "status")
        office_id = appt.office_id
        if body.get("office") is not None:
            office_id = self.resolve_iri(
                body["office"], "office", "offices", self.state.offices_by_id.get
            ).id
        start = None
        if body.get("startTime") is not None:
            start = self.parse_start(body["startTime"], fx)

        if appt.status == "cancelled":
            uncancel = "status" in body and status != "cancelled"
            reschedule = "startTime" in body
            others = any(k in body for k in ("email", "phoneNumber", "office", "externalId"))
            if (
                (uncancel and "uncancel-accepted" not in fx)
                or (reschedule and "reschedule-after-cancel" not in fx)
                or others
            ):
                raise self.invalid(
                    Violation(
                        "status",
                        "This appointment has been cancelled and can no longer be modified.",
                        LOCKED,
                    )
                )

        violations: list[Violation] = []
        blank = "This value should not be blank."
        for name in ("startTime", "email", "phoneNumber", "status"):
            if name in body and body[name] in (None, ""):
                violations.append(Violation(name, blank, NOT_BLANK))
        if status not in (None, "", "scheduled", "cancelled"):
            violations.append(
                Violation("status", "The value you selected is not a valid choice.", NO_SUCH_CHOICE)
            )
        violations += self.contact_violations(email, phone)
        if start is not None:
            violations += self.future_violation(start)
        if violations:
            raise self.invalid(*violations)

        with self.state.lock:
            if start is not None and "patch-ignored" not in fx:
                appt.start = start
            if email:
                appt.email = email
            if phone:
                appt.phone = phone
            if "externalId" in body:
                appt.external_id = external_id
            appt.office_id = office_id
            if status == "cancelled" and "cancel-ignored" not in fx:
                appt.status = "cancelled"
                # "permanently deleted": gone after this answer, unless a fault keeps it editable
                if self.reading("cancelled_appointment", "kept") == "deleted" and not fx & {
                    "reschedule-after-cancel",
                    "uncancel-accepted",
                }:
                    self.state.remove_appointment(appt.id)
            elif status == "scheduled":
                appt.status = "scheduled"
        if status == "cancelled" and "cancel-returns-204" in fx:
            return Response(status_code=204)
        return self.jsonld(self.appointment_node(appt, fx))

    # -- transfers ----------------------------------------------------------------------------
    def find_transfer(self, request: Request) -> Transfer:
        transfer = self.state.transfers.get(request.path_params["id"])
        if transfer is None:
            raise self.error(404, "Not Found")
        return transfer

    async def create_transfer(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        self.require_content_type(request, JSON_TYPES)
        body = await self.json_object(request)
        if body.get("healthcareWorker") is None:
            raise self.invalid(
                Violation("healthcareWorker", "This value should not be null.", NOT_BLANK)
            )
        worker = self.resolve_iri(
            body["healthcareWorker"],
            "healthcareWorker",
            "healthcare_workers",
            lambda i: self.find_worker(i, fx),
        )
        now = self.now().replace(microsecond=0)
        lifetime = timedelta(days=30) if "transfer-expiry-30d" in fx else TRANSFER_LIFETIME
        ident = self.state.new_id()
        transfer = Transfer(
            id=ident,
            seq=self.state.next_seq(),
            worker_id=worker.id,
            hash=self.state.new_hash(ident),
            created_at=now,
            expires_at=now + lifetime,
        )
        self.state.add_transfer(transfer)
        iri = f"/api/transfers/{ident}"
        status = int(self.reading("transfer_create_status", 201))
        return self.jsonld(
            self.transfer_node(transfer, fx),
            status=status,
            headers={"location": iri, "content-location": iri},
        )

    async def get_transfer(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        return self.jsonld(self.transfer_node(self.find_transfer(request), fx))

    def expired(self, transfer: Transfer) -> bool:
        return self.now() >= transfer.expires_at

    async def upload_files(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        transfer = self.find_transfer(request)
        self.require_content_type(request, ("multipart/form-data",))
        try:
            form = await request.form(max_files=100, max_fields=100)
        except (HTTPException, ValueError, KeyError) as exc:
            raise self.error(400, "The multipart body could not be parsed.") from exc
        try:
            parts = form.getlist("file[]") + form.getlist("file")
            return await self._store_uploads(transfer, parts, fx)
        finally:
            await form.close()

    async def _store_uploads(self, transfer: Transfer, parts: list[Any], fx: Faults) -> Response:
        uploads = [p for p in parts if isinstance(p, UploadFile)]
        if not uploads:
            raise self.error(400, 'No file was uploaded: send one or more "file[]" parts.')
        if self.expired(transfer):
            raise self.invalid(Violation("transfer", "This transfer has expired.", LOCKED))
        accepted = set(ACCEPTED_KINDS)
        for fault, kind in (
            ("gif-accepted", "gif"),
            ("txt-accepted", "txt"),
            ("exe-accepted", "exe"),
        ):
            if fault in fx:
                accepted.add(kind)
        if "pdf-refused" in fx:
            accepted.discard("pdf")
        max_bytes: int | None = MAX_FILE_BYTES
        if "size-limit-ignored" in fx:
            max_bytes = None
        elif "size-limit-php-default" in fx:
            max_bytes = PHP_DEFAULT_UPLOAD_MAX
        limit = MAX_FILES + 1 if "eleventh-file-accepted" in fx else MAX_FILES

        violations: list[Violation] = []
        stored: list[TransferFile] = []
        for index, upload in enumerate(uploads):
            head = await upload.read(16)
            await upload.seek(0)
            size = upload.size if upload.size is not None else len(head)
            name = upload.filename or ""
            verdict = judge(
                name,
                head,
                size,
                accepted=accepted,
                by_name_only="fake-pdf-accepted" in fx,
                max_bytes=max_bytes,
            )
            if not verdict.ok:
                code = TOO_LARGE if verdict.kind in accepted else INVALID_MIME
                violations.append(Violation(f"file[{index}]", verdict.reason, code))
                continue
            media = MEDIA_TYPES.get(verdict.kind or "", "application/octet-stream")
            stored.append(TransferFile(self.state.new_id(), name, size, media))
        if not violations and len(transfer.files) + len(stored) > limit:
            if "over-limit-partially-stored" in fx:
                with self.state.lock:
                    transfer.files.extend(stored[: max(0, limit - len(transfer.files))])
            violations.append(
                Violation(
                    "files",
                    f"This collection should contain {MAX_FILES} elements or less.",
                    TOO_MANY,
                )
            )
        if violations:
            if "refused-upload-drops-files" in fx:
                with self.state.lock:
                    transfer.files.clear()
            raise self.invalid(*violations)
        if "upload-last-file-only" in fx:
            stored = stored[-1:]
        now = self.now().replace(microsecond=0)
        new_hash = self.state.new_hash(transfer.id)
        with self.state.lock:
            transfer.files.extend(stored)
            transfer.status = "ready"
            transfer.hash = new_hash
            transfer.expires_at = now + TRANSFER_LIFETIME
        return self.jsonld(self.transfer_node(transfer, fx))

    async def share_transfer(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        transfer = self.find_transfer(request)
        self.require_content_type(request, JSON_TYPES)
        body = await self.json_object(request)
        email = self.string_field(body, "email")
        if not email:
            raise self.invalid(Violation("email", "This value should not be blank.", NOT_BLANK))
        if not EMAIL_RE.match(email) and "share-bad-email-accepted" not in fx:
            raise self.invalid(
                Violation("email", "This value is not a valid email address.", INVALID_EMAIL)
            )
        if not transfer.files and self.reading("share_without_files", "refused") == "refused":
            raise self.invalid(Violation("files", "This transfer has no file to share.", NOT_BLANK))
        if self.expired(transfer):
            raise self.invalid(Violation("transfer", "This transfer has expired.", LOCKED))
        if "share-500" in fx:
            raise Reject(error_response(self.dialect, 500, "Internal Server Error"))
        with self.state.lock:
            transfer.shared_with.append(email)
        return self.jsonld(self.transfer_node(transfer, fx))

    # -- discovery ----------------------------------------------------------------------------
    async def entrypoint(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        return self.jsonld(
            {
                "@context": "/api/contexts/Entrypoint",
                "@id": "/api",
                "@type": "Entrypoint",
                "healthcareWorker": "/api/healthcare_workers",
                "office": "/api/offices",
            }
        )

    async def context(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        self.negotiate(request)
        name = request.path_params["name"]
        properties = CONTEXT_PROPERTIES.get(name)
        if properties is None:
            raise self.error(404, "Not Found")
        vocab = f"{request.url.scheme}://{request.url.netloc}/api/docs.jsonld#"
        context: dict[str, Any] = {"@vocab": vocab, "hydra": "http://www.w3.org/ns/hydra/core#"}
        for prop in properties:
            context[prop] = f"{name}/{prop}"
        return self.jsonld({"@context": context})

    # -- test control: webhooks ---------------------------------------------------------------
    async def register_webhook(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        body = await self.json_object(request)
        url = body.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            return JSONResponse({"detail": "url must be an http(s) URL"}, status_code=422)
        with self.state.lock:
            if url not in self.state.webhook_urls:
                self.state.webhook_urls.append(url)
            count = len(self.state.webhook_urls)
        return JSONResponse({"url": url, "receivers": count}, status_code=201)

    async def list_deliveries(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        with self.state.lock:
            rows = [
                {
                    "url": d.url,
                    "event": d.event,
                    "attempt": d.attempt,
                    "status": d.status,
                    "error": d.error,
                    "at": d.at,
                }
                for d in self.state.deliveries
            ]
        return Response(encode(rows), media_type=PLAIN_JSON)

    def inventory(self) -> dict[str, list[Any]]:
        """What the sandbox holds that a run created (test control, see the module doc)."""
        return self.state.inventory()

    async def inventory_route(self, request: Request) -> Response:
        # test control: readable with the key even when a fault makes the API refuse it
        fx = self.faults_for(request) - {"valid-key-refused"}
        self.authenticate(request, fx)
        text = json.dumps(self.inventory(), sort_keys=True, separators=(",", ":"))
        return Response(text.encode("utf-8"), media_type=PLAIN_JSON)

    async def guest_online(self, request: Request) -> Response:
        fx = self.faults_for(request)
        self.authenticate(request, fx)
        appt = self.find_appointment(request)
        payload: dict[str, Any] = {"externalId": appt.external_id, "administrativeFileNumber": None}
        if "webhook-payload-missing-externalId" in fx:
            del payload["externalId"]
        name = "appointment.guest.online"
        if "webhook-bad-event-name" in fx:
            name = "appointment.guest_online"
        event = {"event": name, "payload": payload}
        with self.state.lock:
            urls = list(self.state.webhook_urls)
        if urls:
            deliver_all(urls, event, self.webhook_backoff, self.state.record_delivery)
        return JSONResponse({"event": event, "receivers": len(urls)}, status_code=202)

    # -- errors -------------------------------------------------------------------------------
    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        method_url = f"{request.method} {request.url}"
        if exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f'No route found for "{method_url}": Method Not Allowed (Allow: {allowed})'
        elif exc.status_code == 404:
            message = f'No route found for "{method_url}"'
        else:
            message = str(exc.detail)
        return error_response(self.dialect, exc.status_code, message, dict(exc.headers or {}))

    async def crash(self, request: Request, exc: Exception) -> Response:
        return error_response(self.dialect, 500, "Internal Server Error")


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


def default_clock() -> float:
    return time.time()
