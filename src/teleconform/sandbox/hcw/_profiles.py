"""Behaviour profiles of the HCW@Home sandbox: where the guide leaves room, and one real release.

``READINGS`` is the vocabulary: each place the HCW@Home guide (seed ``000_2fa5882ee27c776b``)
leaves an implementer a choice, the values a server may take there, and the sentence of the
guide (or its silence) that allows them. Every value of every reading satisfies every MUST and
SHOULD clause of the ``hcw`` catalogue; the conformant profiles combine them.

``hcw-athome-5.4.62`` is the genuine backend as observed (shared reference
``hcw-athome-observed.md`` and ``hcw-athome-backend-facts.md``): its conformant choices are
readings, its deviations are faults of ``_faults.FAULTS``.
"""

from __future__ import annotations

from teleconform.sandbox._profiles import (
    DEFAULT_PROFILE,
    Profile,
    Reading,
    profile_table,
    resolve_profile,
)
from teleconform.sandbox.hcw._faults import FAULTS

_GUIDE_CODES = 'the guide\'s "Response format": "400 : malformed request", "401 : ..."'
_DELETE = (
    '"Delete an invitation": "This request is no longer possible when the patient has '
    'requested a consultation." (no status named)'
)
_CLOSE = (
    '"Retrieve information from a consultation": "Once an invitation has been used by a '
    "patient, it is possible to retrieve information concerning it. Warning !! this "
    "automatically closes the consultation and patient/doctor will not able to use it "
    'anymore !!"'
)


def _r(name: str, default: object, allowed: tuple[object, ...], description: str) -> Reading:
    return Reading(name, default, allowed, description)


READINGS: dict[str, Reading] = {
    r.name: r
    for r in (
        _r(
            "get_invite_shape",
            "bare",
            ("bare", "enveloped"),
            '"Retrieve the information of an invitation" gives no answer: the bare invite '
            "(HCW@Home) or the {success, invite} envelope of the creation answer both return "
            '"the information from an invitation".',
        ),
        _r(
            "refused_delete_status",
            409,
            (409, 400, 403, 422),
            f"{_DELETE}; 400 is the guide's status for a refused request "
            f"({_GUIDE_CODES}), 403/409/422 the usual HTTP statuses of a forbidden action or a "
            "state conflict.",
        ),
        _r(
            "close_pending",
            "refused-409",
            ("refused-409", "refused-404", "refused-400", "refused-403", "refused-422", "allowed"),
            f"{_CLOSE}: closing a consultation the patient is still waiting in either closes it "
            '(the letter of the guide: "automatically closes") or is refused with a 4xx until a '
            "doctor accepted it (HCW@Home closes active consultations only and answers 404).",
        ),
        _r(
            "close_id_field",
            "both",
            ("both", "_id", "id"),
            'The close example carries "_id"; HCW-CONS-01 accepts _id or id.',
        ),
        _r(
            "repeat_close",
            "closed-record",
            ("closed-record", "anonymized-record", "refused-404", "refused-409"),
            f"{_CLOSE}: after the close nothing can use the consultation; a repeated close may "
            "answer the closed record, the anonymized statistics record (HCW@Home), or a 4xx "
            "(HCW-CONS-02: 2xx or 4xx, never another status than closed).",
        ),
        _r(
            "reuse_after_close",
            "refused",
            ("refused", "same-closed"),
            f"{_CLOSE}: the patient's earlier session asking again for a consultation is refused "
            "(4xx) or answered with the same consultation, still closed (HCW-CONS-02, revised).",
        ),
        _r(
            "patient_join",
            "10-minutes-before",
            ("10-minutes-before", "any-time"),
            "The guide says nothing of when a patient may join: HCW@Home refuses a consultation "
            "request more than 10 minutes before scheduledFor; a server may let the patient "
            "wait in the queue at any time.",
        ),
        _r(
            "unknown_fields",
            "ignored",
            ("ignored", "refused"),
            'The creation fields are listed ("Invite creation on behalf of doctor"); a field '
            f"the guide does not list is ignored or refused as a malformed request "
            f"({_GUIDE_CODES}).",
        ),
        _r(
            "access_token_headers",
            "x-access-token-and-bearer",
            ("x-access-token-and-bearer", "x-access-token"),
            '"The header x-access-token must be defined with the returned JWT."; reading '
            "Authorization: Bearer as well (HCW@Home >= 5.3.56) is an extension.",
        ),
        _r(
            "login_jwt",
            "body-and-cookie",
            ("body-and-cookie", "cookie-only"),
            '"The application returns a jwt token stored in the cookies." and the login '
            'example\'s body is only {"message": "Login Successful"}: the JWT in the cookie '
            "alone, or also in user.token (HCW@Home).",
        ),
        _r(
            "sso_success",
            "redirect",
            ("redirect", "json"),
            '"URL : optional redirect URL, otherwise return to user Dashboard.": a redirect '
            "carrying the session JWT, or a 200 whose JSON body carries it (HCW-SSO-01).",
        ),
        _r(
            "sso_future_skew_s",
            30,
            (30, 0, 120),
            '"timestamp: timestamp not later than 5 minutes" bounds the age only; how much clock '
            "skew into the future a server tolerates is its choice (HCW-SSO-06 probes +1 h).",
        ),
        _r(
            "error_shape",
            "as-built",
            ("as-built", "success-false", "message"),
            f"{_GUIDE_CODES} name statuses, never an error body: any JSON error body "
            '("Our API is very standard").',
        ),
        _r(
            "id_format",
            "objectid",
            ("objectid", "uuid"),
            "The example ids are 24-hex MongoDB ObjectIds; the guide never says ids must be.",
        ),
        _r(
            "patient_accounts",
            "one-per-invite",
            ("one-per-invite", "one-per-login"),
            "The guide says nothing of the patient side (login-invite is undocumented): one "
            "temporary patient account per invitation, or one per login (HCW@Home).",
        ),
        _r(
            "patient_login",
            "repeatable",
            ("repeatable", "once"),
            "The guide says nothing of the patient's login with the invitation (undocumented): "
            "the link may sign the patient in again, or only once (HCW@Home refuses an invite "
            "already ACCEPTED).",
        ),
        _r(
            "patient_accounts_removed",
            "with-invite",
            ("with-invite", "never"),
            "The guide says nothing of temporary patient accounts: removed with their "
            "invitation (deleted or closed), or kept (HCW@Home; the API cannot remove them).",
        ),
    )
}

_REAL = "reference/hcw-athome-observed.md"
_FACTS = "reference/hcw-athome-backend-facts.md"

PROFILES: dict[str, Profile] = profile_table(
    Profile(
        DEFAULT_PROFILE,
        "hcw",
        "the sandbox as built: every reading at its default",
        sources=("seeds/000_2fa5882ee27c776b.txt",),
    ),
    Profile(
        "guide-literal",
        "hcw",
        "the guide to the letter: JWT only in the cookie and only x-access-token read; close "
        "works on a waiting consultation; the close answer carries _id only; a repeated close "
        "is refused 404",
        readings={
            "login_jwt": "cookie-only",
            "access_token_headers": "x-access-token",
            "close_pending": "allowed",
            "close_id_field": "_id",
            "repeat_close": "refused-404",
            "patient_join": "any-time",
        },
        sources=(READINGS["login_jwt"].description, READINGS["close_pending"].description),
    ),
    Profile(
        "strict-validation",
        "hcw",
        "a strict server: unknown body fields refused 400, a refused DELETE answered 400 (the "
        "guide's status for a refused request), {success:false,error} errors, no clock skew "
        "for SSO timestamps",
        readings={
            "unknown_fields": "refused",
            "refused_delete_status": 400,
            "error_shape": "success-false",
            "sso_future_skew_s": 0,
            "close_pending": "refused-400",
        },
        sources=(
            READINGS["unknown_fields"].description,
            READINGS["refused_delete_status"].description,
        ),
    ),
    Profile(
        "enveloped-reads",
        "hcw",
        "GET /invite/{id} answers {success, invite} like the creation; a refused DELETE is 422; "
        "the close answer carries id only; SSO answers 200 with the JWT in JSON",
        readings={
            "get_invite_shape": "enveloped",
            "refused_delete_status": 422,
            "close_id_field": "id",
            "sso_success": "json",
            "close_pending": "refused-422",
        },
        sources=(READINGS["get_invite_shape"].description, READINGS["sso_success"].description),
    ),
    Profile(
        "hcw-athome-conformant",
        "hcw",
        "the conformant choices of HCW@Home 5.4.62: pending consultations cannot be closed "
        "(404) until a doctor accepted; a repeated close answers the anonymized record; the "
        "patient's earlier session gets the same closed consultation; one temporary account "
        "per login, never removed",
        readings={
            "close_pending": "refused-404",
            "repeat_close": "anonymized-record",
            "reuse_after_close": "same-closed",
            "patient_accounts": "one-per-login",
            "patient_accounts_removed": "never",
            "patient_login": "once",
        },
        sources=(_REAL, _FACTS),
    ),
    Profile(
        "uuid-forbidden",
        "hcw",
        "UUID ids; a refused DELETE and a close of a waiting consultation are 403; "
        "{message} errors; a repeated close is refused 409; 2 minutes of SSO clock skew",
        readings={
            "id_format": "uuid",
            "refused_delete_status": 403,
            "close_pending": "refused-403",
            "error_shape": "message",
            "repeat_close": "refused-409",
            "sso_future_skew_s": 120,
        },
        sources=(READINGS["id_format"].description, READINGS["refused_delete_status"].description),
    ),
    Profile(
        "waiting-room",
        "hcw",
        "patients may join any time; a pending consultation closes directly; the patient's "
        "earlier session gets the same closed consultation (its account is kept); unknown "
        "fields refused; x-access-token only",
        readings={
            "patient_join": "any-time",
            "close_pending": "allowed",
            "reuse_after_close": "same-closed",
            "patient_accounts_removed": "never",
            "unknown_fields": "refused",
            "access_token_headers": "x-access-token",
            "close_id_field": "_id",
        },
        sources=(READINGS["patient_join"].description, READINGS["reuse_after_close"].description),
    ),
    Profile(
        "hcw-athome-5.4.62",
        "hcw",
        "the genuine HCW@Home 5.4.62 backend as observed: Bearer only, 400 on wrong "
        "credentials, no JWT cookie, text/plain 403/404/400 from its policies, 500 on "
        "malformed JSON and invalid e-mails, DELETE allowed after a consultation request, "
        "close only on active consultations, SSO accepting future and replayed tokens, one "
        "temporary patient account per login that the API cannot remove",
        readings={
            "close_pending": "refused-404",
            "repeat_close": "anonymized-record",
            "reuse_after_close": "same-closed",
            "patient_accounts": "one-per-login",
            "patient_accounts_removed": "never",
            "login_jwt": "body-and-cookie",
            "access_token_headers": "x-access-token-and-bearer",
            "patient_login": "once",
        },
        faults=frozenset(
            {
                "bearer-only",
                "wrong-creds-400",
                "no-cookie",
                "text-plain-errors",
                "malformed-json-500",
                "invalid-email-500",
                "delete-after-consultation-allowed",
                "sso-future-accepted",
                "sso-replay-accepted",
            }
        ),
        sources=(_REAL, _FACTS),
        conformant=False,
        evidence={
            "bearer-only": f"{_FACTS} §0.1: x-access-token is ignored since 5.3.56/5.4.57",
            "wrong-creds-400": f"{_REAL} Login: wrong password or unknown email -> 400",
            "no-cookie": f"{_FACTS} §2.3: only sails.sid (a session id), never the JWT",
            "text-plain-errors": f"{_FACTS} §0.2: res.forbidden/notFound/badRequest are text",
            "malformed-json-500": f"{_FACTS} §0.3: malformed JSON -> 500 entity.parse.failed",
            "invalid-email-500": f"{_REAL} Validation errors: emailAddress not-an-email -> 500",
            "delete-after-consultation-allowed": f"{_FACTS} §5.6: blueprint destroy, no check",
            "sso-future-accepted": f"{_REAL} SSO: now+1 h, +10 years, ms, NaN accepted",
            "sso-replay-accepted": f"{_REAL} SSO: the same token replayed 3x -> 302",
        },
    ),
)


def resolve(profile: str | Profile | None) -> Profile:
    """A built-in profile by name, a profile file (.yaml/.json) or a Profile, completed."""
    return resolve_profile(profile, "hcw", PROFILES, READINGS, FAULTS)
