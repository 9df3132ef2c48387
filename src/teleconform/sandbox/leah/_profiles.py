"""Conformant behaviour profiles of the Leah sandbox.

Each reading is a place where Leah's document ("Leah's API Documentation") or API Platform,
the framework it is built on (shared reference ``api-platform-hydra-facts.md``), leaves room;
each allowed value carries the sentence or fact that allows it. Every profile below is
*conformant*: it satisfies every MUST and SHOULD clause of ``specs/clauses.yaml``, and the whole
Leah suite must pass on it (tests/suites/test_leah_profile_runs.py).
"""

from __future__ import annotations

from teleconform.sandbox._profiles import (
    DEFAULT_PROFILE,
    Profile,
    Reading,
    profile_table,
    resolve_profile,
)
from teleconform.sandbox.leah._faults import FAULTS

DOC = "Leah's API Documentation"
FACTS = "api-platform-hydra-facts.md"


def _r(name: str, default: object, allowed: tuple[object, ...], description: str) -> Reading:
    return Reading(name, default, allowed, description)


READINGS: dict[str, Reading] = {
    r.name: r
    for r in (
        _r(
            "hydra_prefix",
            True,
            (True, False),
            f"True: hydra:member, hydra:totalItems... as every collection example of {DOC} shows; "
            f"False: the unprefixed keys of API Platform 4 ({FACTS} §2.1: 'default false ... "
            "unprefixed'); LEAH-HYDRA-01 accepts both spellings, never mixed.",
        ),
        _r(
            "json_escaping",
            "php",
            ("php", "plain"),
            f"php: '\\/' and HTML escapes, as the examples of {DOC} show ('\\/api\\/offices') and "
            f"API Platform's encoder writes ({FACTS} §1.7); plain: unescaped slashes, the same "
            "strings once parsed ('Compare parsed JSON, never raw bytes').",
        ),
        _r(
            "error_format",
            "by-version",
            ("by-version", "ld+json", "problem+json"),
            f"{DOC} documents no error body. ld+json: legacy hydra:Error / ConstraintViolationList "
            f"(2.x, 3.x without rfc_7807_compliant_errors, {FACTS} §2.3); problem+json: RFC 7807 "
            "(3.2+ with the flag, all of 4.x); by-version: ld+json when prefixed, problem+json "
            "when not.",
        ),
        _r(
            "transfer_create_status",
            201,
            (201, 200),
            f"{DOC}, Creating transfer: 'This request returns 200'; API Platform's default for a "
            f"POST is 201 ({FACTS} §1.5, §7: 'accept both'); LEAH-TRF-01 accepts 200 or 201.",
        ),
        _r(
            "cancelled_appointment",
            "kept",
            ("kept", "deleted"),
            f"{DOC}, Delete: 'If you cancel an appointment, it will be permanently deleted and "
            "cannot be recovered.' kept: the cancelled appointment stays readable and a later "
            "PATCH is refused with 422; deleted: later GET and PATCH answer 404 (LEAH-APT-08 asks "
            "for a 4xx).",
        ),
        _r(
            "items_per_page",
            "honoured",
            ("honoured", "ignored"),
            f"{DOC} documents no page-size parameter; API Platform ignores itemsPerPage unless "
            f"pagination_client_items_per_page is on ({FACTS} §1.3: 'Client control is off by "
            "default').",
        ),
        _r(
            "page_size",
            30,
            (30, 2),
            f"API Platform's default is 30 items per page ({FACTS} §1.3); {DOC} fixes none, so "
            "any size is conformant (2 makes every list span many pages).",
        ),
        _r(
            "trailing_empty_page",
            False,
            (False, True),
            f"True: a full last page still carries a next link to one empty page, as API Platform "
            f"did before PR #3967 ({FACTS} §8: 'Allow one trailing empty page'); LEAH-HYDRA-04 "
            "allows 'a single trailing page after the last member'.",
        ),
        _r(
            "malformed_items_per_page",
            "refused",
            ("refused", "ignored"),
            f"refused: 400, as API Platform refuses bad pagination values ({FACTS} §1.3); ignored: "
            f"the default size is used, as API Platform ignores malformed filter values ({FACTS} "
            "§8, issue 12: 'API Platform's normal behaviour'); no clause asks for either.",
        ),
        _r(
            "share_without_files",
            "refused",
            ("refused", "allowed"),
            f"{DOC}, Send the transfer: 'Send the files to the email adress provided' names no "
            "precondition; refused (422) or allowed (200) on a transfer without files are both "
            "readings (LEAH-TRF-06 covers only a ready transfer).",
        ),
    )
}

_AS_DOCUMENTED = Profile(
    name=DEFAULT_PROFILE,
    api="leah",
    description="the reference reading: hydra: prefix, escaped slashes, legacy ld+json errors, "
    "201 on POST /transfers, cancelled appointments kept, 30 items per page",
    sources=(f"{DOC}: every example", FACTS),
)

PROFILES: dict[str, Profile] = profile_table(
    _AS_DOCUMENTED,
    Profile(
        name="api-platform-4",
        api="leah",
        description="API Platform 4 defaults: unprefixed Hydra keys, problem+json errors, "
        "null values skipped, itemsPerPage ignored",
        readings={
            "hydra_prefix": False,
            "error_format": "problem+json",
            "items_per_page": "ignored",
        },
        sources=(f"{FACTS} §2.1 (hydra_prefix default false), §2.3, §1.3",),
    ),
    Profile(
        name="api-platform-3-rfc7807",
        api="leah",
        description="API Platform 3.2-3.4 with rfc_7807_compliant_errors: hydra: prefix and "
        "problem+json errors, malformed itemsPerPage ignored",
        readings={"error_format": "problem+json", "malformed_items_per_page": "ignored"},
        sources=(f"{FACTS} §2.3 (3.2-3.4 with the flag), §8",),
    ),
    Profile(
        name="document-literal",
        api="leah",
        description="the document's words taken literally: POST /transfers answers 200, a "
        "cancelled appointment is deleted (later PATCH 404), share needs no file; "
        "legacy ld+json errors of the API Platform 2.x the document shows",
        readings={
            "transfer_create_status": 200,
            "cancelled_appointment": "deleted",
            "share_without_files": "allowed",
            "error_format": "ld+json",
        },
        sources=(f"{DOC}: Creating transfer ('returns 200'), Delete ('permanently deleted')",),
    ),
    Profile(
        name="small-pages",
        api="leah",
        description="2 items per page, itemsPerPage ignored, plain slashes: every list spans "
        "many pages",
        readings={"page_size": 2, "items_per_page": "ignored", "json_escaping": "plain"},
        sources=(f"{FACTS} §1.3 (page size and client control are configuration)",),
    ),
    Profile(
        name="small-pages-trailing-empty",
        api="leah",
        description="2 items per page and a full last page followed by one empty page "
        "(API Platform before PR #3967), unprefixed keys",
        readings={"page_size": 2, "trailing_empty_page": True, "hydra_prefix": False},
        sources=(f"{FACTS} §8 ('next shown when the last page was exactly full')",),
    ),
    Profile(
        name="independent",
        api="leah",
        description="a non-PHP implementation of the document: plain JSON, problem+json "
        "errors, 200 on POST /transfers, deleted cancellations, lenient "
        "itemsPerPage, share without files",
        readings={
            "json_escaping": "plain",
            "error_format": "problem+json",
            "transfer_create_status": 200,
            "cancelled_appointment": "deleted",
            "malformed_items_per_page": "ignored",
            "share_without_files": "allowed",
        },
        sources=(DOC, FACTS),
    ),
)


def resolve(profile: str | Profile | None = None) -> Profile:
    """A Leah profile by name, file path or object, with every reading filled in."""
    return resolve_profile(profile, "leah", PROFILES, READINGS, FAULTS)
