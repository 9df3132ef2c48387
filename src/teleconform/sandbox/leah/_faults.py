"""Named deviations of the Leah sandbox, each with the clause ids it breaks.

A fault that makes a response violate the documented schema also declares LEAH-GEN-01.
``valid-key-refused`` is blocking: with it nothing past authentication can be verified; the
suites' preflight stops the run (the contract's exit 3, credentials refused).
``key-refused-on-offices`` is partial access: LEAH-AUTH-02 fails and the run goes on; the
checks that need the office list cannot run (their clauses are error, not fail).
"""

from __future__ import annotations

from teleconform.sandbox._faults import Fault, fault_table

GEN = "LEAH-GEN-01"


def _f(name: str, clauses: str, description: str) -> Fault:
    return Fault(name, frozenset(clauses.split()), description)


FAULTS: dict[str, Fault] = fault_table(
    # -- authentication -------------------------------------------------------------------
    _f(
        "no-auth-required",
        "LEAH-AUTH-01",
        "GET /api/offices is outside the firewall: it answers 200 without LEAH-AUTH-TOKEN",
    ),
    _f(
        "invalid-key-accepted",
        "LEAH-AUTH-01",
        "any non-empty LEAH-AUTH-TOKEN value is accepted (the key is never compared)",
    ),
    _f(
        "unauthorized-with-data",
        "LEAH-AUTH-01",
        "a missing or invalid key gets 401, but the collection data is still in the body",
    ),
    _f(
        "valid-key-refused",
        "LEAH-AUTH-02",
        "the configured key is refused with 401 (blocking: other clauses cannot be verified)",
    ),
    _f(
        "key-refused-on-offices",
        "LEAH-AUTH-02",
        "partial access: the configured key gets 403 on GET /api/offices while the other "
        "operations accept it (the office checks cannot run: their clauses are error)",
    ),
    # -- Hydra collections ------------------------------------------------------------------
    _f(
        "mixed-hydra-prefix",
        f"LEAH-HYDRA-01 {GEN}",
        "collections mix spellings: hydra:member next to unprefixed totalItems and view",
    ),
    _f(
        "collection-context-no-prefix",
        f"LEAH-HYDRA-01 {GEN}",
        "collection @context omits the /api route prefix (/contexts/Office)",
    ),
    _f(
        "collection-absolute-wrong-id",
        f"LEAH-HYDRA-01 {GEN}",
        "collection @id is an absolute URL of another path (the route prefix is lost behind "
        "a proxy: http://host/offices)",
    ),
    _f(
        "collection-type-paged",
        f"LEAH-HYDRA-01 {GEN}",
        "collection @type is the obsolete hydra:PagedCollection",
    ),
    _f(
        "member-not-array",
        f"LEAH-HYDRA-01 {GEN}",
        "from page 2 on, the member list is a JSON object keyed by row index (a PHP array "
        "with holes)",
    ),
    _f(
        "member-id-not-uuid",
        f"LEAH-HYDRA-02 {GEN}",
        "healthcare worker IRIs use the integer database id (/api/healthcare_workers/7)",
    ),
    _f(
        "member-type-schema-org",
        f"LEAH-HYDRA-02 {GEN}",
        "office members are typed https://schema.org/Place instead of Office",
    ),
    _f(
        "total-items-off-by-one",
        "LEAH-HYDRA-03 LEAH-HCW-02 LEAH-OFF-02",
        "totalItems counts one row too many (a soft-deleted row is counted)",
    ),
    _f(
        "total-items-page-count",
        "LEAH-HYDRA-03",
        "totalItems is the number of members on this page, not in the collection",
    ),
    _f(
        "total-items-missing",
        "LEAH-HYDRA-03",
        "totalItems is omitted (partial pagination switched on)",
    ),
    _f(
        "total-items-string",
        f"LEAH-HYDRA-03 {GEN}",
        'totalItems is a string ("35"), as a database driver returned the count',
    ),
    _f("next-link-loops", "LEAH-HYDRA-04", "the last page carries a next link back to page 1"),
    _f(
        "duplicate-member-across-pages",
        "LEAH-HYDRA-04",
        "pages after the first start one row early: the previous page's last member again",
    ),
    _f(
        "next-drops-filter",
        "LEAH-HYDRA-04",
        "first/last/next/previous links drop the filter parameters (itemsPerPage kept)",
    ),
    _f(
        "last-link-wrong",
        "LEAH-HYDRA-04",
        "the last link is computed with the default page size, ignoring itemsPerPage",
    ),
    _f(
        "next-link-self",
        "LEAH-HYDRA-04",
        "every next link points to the page itself (a walk never gets past the first page)",
    ),
    _f(
        "next-other-collection",
        "LEAH-HYDRA-04",
        "next links point into the other collection (/api/offices <-> /api/healthcare_workers)",
    ),
    _f(
        "last-unreachable",
        "LEAH-HYDRA-04",
        "the last link names a page two past the end, which no next link reaches",
    ),
    # -- healthcare workers ------------------------------------------------------------------
    _f(
        "hcw-missing-email",
        f"LEAH-HCW-01 {GEN}",
        "healthcare worker members lack email (serialization group misses it)",
    ),
    _f("email-filter-ignored", "LEAH-HCW-02", "?email= is ignored: every worker is returned"),
    _f(
        "email-filter-unknown-returns-all",
        "LEAH-HCW-02",
        "?email= is applied only when it matches a worker; an unknown address returns everyone",
    ),
    # -- offices ------------------------------------------------------------------------------
    _f("office-missing-slug", f"LEAH-OFF-01 {GEN}", "office members lack slug"),
    _f(
        "office-id-integer",
        f"LEAH-OFF-01 {GEN}",
        "office id is the integer database id, not the UUID that ends @id",
    ),
    _f(
        "office-organization-embedded",
        f"LEAH-OFF-01 {GEN}",
        "office organization is an embedded object instead of an IRI",
    ),
    _f(
        "office-createdat-no-offset",
        f"LEAH-OFF-01 {GEN}",
        "office createdAt is written 'Y-m-d H:i:s' without offset",
    ),
    _f(
        "office-filter-ignored",
        "LEAH-OFF-02",
        "?healthcareWorker.email= is ignored: every office is returned",
    ),
    _f(
        "office-filter-empty",
        "LEAH-OFF-02",
        "?healthcareWorker.email= filters on the wrong relation: nothing ever matches",
    ),
    # -- appointments -------------------------------------------------------------------------
    _f(
        "appointment-200-not-201",
        f"LEAH-APT-01 {GEN}",
        "POST /api/appointments answers 200 instead of 201",
    ),
    _f(
        "appointment-status-pending",
        f"LEAH-APT-01 LEAH-APT-05 {GEN}",
        "appointments are 'pending' instead of 'scheduled' until the guest confirms",
    ),
    _f(
        "appointment-phone-not-echoed",
        f"LEAH-APT-01 {GEN}",
        "phoneNumber is write-only: absent from the appointment",
    ),
    _f(
        "startTime-not-utc",
        "LEAH-APT-01 LEAH-APT-09",
        "startTime is written in Europe/Paris time (+01:00/+02:00), same instant",
    ),
    _f("missing-phone-accepted", "LEAH-APT-02", "an appointment without phoneNumber is created"),
    _f("missing-email-accepted", "LEAH-APT-02", "an appointment without email is created"),
    _f("missing-office-accepted", "LEAH-APT-02", "an appointment without office is created"),
    _f("missing-starttime-accepted", "LEAH-APT-02", "an appointment without startTime is created"),
    # LEAH-APT-03 states the documented input; the property tests' "Schema-valid request
    # rejected" is only an advisory of LEAH-GEN-01 (a guess from the schema)
    _f(
        "externalId-rejected",
        "LEAH-APT-03",
        "only the old external_id spelling is known and extra attributes are refused (400)",
    ),
    _f("bad-office-500", f"LEAH-APT-04 {GEN}", "a malformed office IRI crashes the server (500)"),
    _f(
        "unknown-office-accepted",
        "LEAH-APT-04",
        "an office IRI of a non-existent office is accepted",
    ),
    _f("patch-ignored", "LEAH-APT-05", "PATCH startTime answers 200 but keeps the old startTime"),
    _f(
        "cancel-ignored",
        "LEAH-APT-06 LEAH-APT-08",
        "PATCH status=cancelled answers 200 but the appointment stays scheduled",
    ),
    _f(
        "cancel-returns-204", f"LEAH-APT-06 {GEN}", "cancelling answers 204 without the appointment"
    ),
    _f(
        "patch-json-accepted",
        "LEAH-APT-07",
        "PATCH with Content-Type application/json is applied instead of refused with 415",
    ),
    _f(
        "reschedule-after-cancel",
        "LEAH-APT-08",
        "a cancelled appointment can be rescheduled (startTime changes, status stays cancelled)",
    ),
    _f("uncancel-accepted", "LEAH-APT-08", "a cancelled appointment can be set back to scheduled"),
    _f(
        "naive-time-local",
        "LEAH-APT-09",
        "a startTime without offset is read as Europe/Paris time, not UTC",
    ),
    # -- transfers ------------------------------------------------------------------------------
    _f("transfer-expiry-30d", "LEAH-TRF-01", "transfers expire after 30 days instead of 7"),
    _f(
        "transfer-hcw-not-iri",
        f"LEAH-TRF-01 {GEN}",
        "the transfer's healthcareWorker is the bare UUID instead of the IRI",
    ),
    _f("transfer-files-null", f"LEAH-TRF-01 {GEN}", "a new transfer has files null instead of []"),
    _f("pdf-refused", "LEAH-TRF-02", "PDF uploads are refused"),
    _f(
        "upload-keeps-in-progress",
        "LEAH-TRF-02",
        "after an upload the transfer still says in_progress (ready internally)",
    ),
    _f(
        "upload-last-file-only",
        "LEAH-TRF-02",
        "of several file[] parts in one request only the last is stored",
    ),
    _f(
        "eleventh-file-accepted",
        "LEAH-TRF-03",
        "the file limit is off by one: a transfer can reach 11 files",
    ),
    _f(
        "over-limit-partially-stored",
        "LEAH-TRF-03",
        "an upload above the limit is refused but the files that fit are stored",
    ),
    _f(
        "refused-upload-drops-files",
        "LEAH-TRF-03",
        "a refused upload empties the transfer's file list",
    ),
    _f("size-limit-ignored", "LEAH-TRF-04", "files above 15 MB are accepted"),
    _f(
        "size-limit-php-default",
        "LEAH-TRF-04",
        "PHP's default upload_max_filesize (2 MiB) applies: a 15,000,000-byte file is refused",
    ),
    _f("gif-accepted", "LEAH-TRF-05", "GIF images are accepted"),
    _f("txt-accepted", "LEAH-TRF-05", "plain-text files are accepted"),
    _f("exe-accepted", "LEAH-TRF-05", "Windows executables are accepted"),
    _f(
        "fake-pdf-accepted",
        "LEAH-TRF-05",
        "the type is judged by the file name only: a .pdf that is not a PDF is accepted",
    ),
    _f(
        "share-500", f"LEAH-TRF-06 {GEN}", "sharing to a valid address fails with 500 (mailer down)"
    ),
    _f("share-bad-email-accepted", "LEAH-TRF-07", "share accepts an e-mail that is not an address"),
    # -- webhooks -------------------------------------------------------------------------------
    _f(
        "webhook-payload-missing-externalId",
        "LEAH-WH-01",
        "appointment.guest.online events carry a payload without externalId",
    ),
    _f(
        "webhook-bad-event-name",
        "LEAH-WH-01",
        "the event is named appointment.guest_online instead of appointment.guest.online",
    ),
)
