"""The named faults of the HCW@Home sandbox and the clause ids each one breaks.

Each fault is a deviation seen (or plausible) on a real deployment. ``clauses`` lists exactly
the clauses the HCW suites report as ``fail`` when the fault is on; HCW-GEN-04 is named
when the property tests (suites/hcw/properties.py) see the deviation, and HCW-GEN-01 when
they meet its 5xx; a deviation only the stateful scenarios reach (e.g. the shape of a
close) is not theirs to see. Non-JSON error bodies are HCW-GEN-03 findings only, as the
spec says. Faults that stop the
scheduler from getting a token (login-2fa-required, login-no-jwt) also leave every check
that needs a login without a verdict (error); the fault matrix lists those.
"""

from __future__ import annotations

from teleconform.sandbox._faults import Fault, fault_table


def _f(name: str, clauses: str, description: str) -> Fault:
    return Fault(name, frozenset(clauses.split()), description)


FAULTS: dict[str, Fault] = fault_table(
    # login-local
    _f(
        "login-2fa-required",
        "HCW-AUTH-01 HCW-AUTH-02 HCW-AUTH-05",
        "the scheduler gets the 2FA first step {localLoginToken, user, role} instead of a "
        "session (HCW@Home in production for doctors/admins); nothing else can log in",
    ),
    _f(
        "login-no-jwt",
        "HCW-AUTH-01 HCW-AUTH-05",
        "login-local answers 'Login Successful' with a session cookie but no JWT anywhere",
    ),
    _f(
        "login-message-missing",
        "HCW-AUTH-01",
        "login-local answers {success: true, user} without the 'Login Successful' message",
    ),
    _f("no-cookie", "HCW-AUTH-05", "login-local sets no cookie carrying the JWT"),
    _f(
        "wrong-creds-400",
        "HCW-AUTH-06",
        "wrong password or unknown e-mail gets 400 'Incorrect email or password' "
        "(HCW@Home 5.4.62) instead of 401",
    ),
    _f(
        "unknown-email-404",
        "HCW-AUTH-06",
        "an unknown e-mail gets 404 'User not found' (account enumeration), not 401",
    ),
    _f(
        "wrong-creds-token",
        "HCW-AUTH-03",
        "a wrong password gets 401 whose body still carries an access token for the account",
    ),
    # access tokens
    _f(
        "bearer-only",
        "HCW-AUTH-04",
        "x-access-token is ignored; only Authorization: Bearer is read (HCW@Home >= 5.3.56)",
    ),
    _f(
        "no-auth-200",
        "HCW-GEN-02",
        "GET /api/v1/invite/{id} without any token is served as if public",
    ),
    _f(
        "malformed-token-500",
        "HCW-GEN-01 HCW-GEN-02",
        "a token that is not a JWT makes the auth layer throw: 500 instead of 401",
    ),
    _f(
        "api-signature-unchecked",
        "HCW-GEN-02",
        "access tokens are decoded without checking their signature (any key is accepted)",
    ),
    _f("html-error-pages", "HCW-GEN-03", "error responses are HTML pages instead of JSON"),
    _f(
        "text-plain-errors",
        "HCW-GEN-03",
        "role and ownership refusals are text/plain 'Forbidden' / 'Not Found', a callback "
        "without token 'Bad Request' (Sails' default responses, HCW@Home 5.4.62)",
    ),
    # invite creation
    _f(
        "malformed-json-500",
        "HCW-GEN-01",
        "a body that is not valid JSON gets 500 entity.parse.failed (HCW@Home 5.4.62)",
    ),
    _f(
        "invalid-email-500",
        "HCW-GEN-01",
        "an emailAddress that is not an e-mail address gets 500 {error: true} (HCW@Home 5.4.62)",
    ),
    _f(
        "wrong-type-500",
        "HCW-GEN-01",
        "a field of the wrong JSON type (e.g. firstName: 123) gets 500",
    ),
    _f(
        "gender-unchecked-500",
        "HCW-GEN-01 HCW-INV-05",
        "gender is checked only by the model enum male|female|other|unknown: 'other' is "
        "accepted and any other value gets 500 (HCW@Home's PATCH path)",
    ),
    _f(
        "gender-other-accepted",
        "HCW-INV-05",
        "gender 'other' and 'unknown' are accepted (the model enum) instead of 400",
    ),
    _f("create-201", "HCW-INV-01 HCW-GEN-04", "POST /api/v1/invite answers 201 instead of 200"),
    _f(
        "invite-missing-patienturl",
        "HCW-INV-01 HCW-INV-06",
        "the created invite carries no patientURL",
    ),
    _f(
        "invite-iso-dates",
        "HCW-INV-01 HCW-GEN-04",
        "createdAt/updatedAt are ISO strings instead of epoch milliseconds",
    ),
    # HCW-INV-02 states the documented input; the property tests' "Schema-valid request
    # rejected" is only an advisory of HCW-GEN-04 (a guess from the schema, not a document)
    _f(
        "phone-only-rejected",
        "HCW-INV-02",
        "an invite with only phoneNumber is refused: emailAddress is required",
    ),
    _f(
        "no-contact-accepted",
        "HCW-INV-03",
        "an invite without phoneNumber and emailAddress is created",
    ),
    _f(
        "scheduledfor-local-time",
        "HCW-INV-04",
        "the offset of scheduledFor is ignored: the wall time is read as server (UTC) time",
    ),
    _f(
        "scheduledfor-seconds",
        "HCW-INV-04",
        "scheduledFor is returned in epoch seconds instead of milliseconds",
    ),
    _f("queue-by-id-unsupported", "HCW-INV-07", "queue is matched by name only"),
    _f("queue-by-name-unsupported", "HCW-INV-07", "queue is matched by id only"),
    _f(
        "unknown-doctor-accepted",
        "HCW-INV-08",
        "an unknown doctorEmail is ignored and the invite created without a doctor",
    ),
    _f(
        "unknown-queue-accepted",
        "HCW-INV-08",
        "an unknown queue is ignored and the invite created without a queue",
    ),
    # invite read, update, delete
    _f(
        "get-mongo-id",
        "HCW-INV-09 HCW-GEN-04",
        "GET /api/v1/invite/{id} returns the raw record with _id instead of id",
    ),
    _f(
        "unknown-id-500",
        "HCW-INV-10 HCW-GEN-01",
        "an id that is not a 24-hex ObjectId makes the database driver throw: 500",
    ),
    _f(
        "patch-ignored",
        "HCW-INV-11",
        "PATCH answers 200 with the unchanged invite and saves nothing",
    ),
    _f(
        "delete-noop",
        "HCW-INV-12 HCW-GEN-04",
        "DELETE answers 200 but only soft-deletes: GET still returns the invite",
    ),
    _f(
        "delete-after-consultation-allowed",
        "HCW-INV-13",
        "DELETE succeeds after the patient requested a consultation (HCW@Home 5.4.62 blueprint "
        "destroy); the consultation is orphaned",
    ),
    # consultations
    _f(
        "close-not-closed",
        "HCW-CONS-01",
        "close answers the consultation as it was before closing (status 'active')",
    ),
    _f(
        "close-iso-closedat",
        "HCW-CONS-01",
        "close answers closedAt as an ISO string instead of epoch milliseconds",
    ),
    _f(
        "reopen-after-close",
        "HCW-CONS-02",
        "close leaves the invitation usable: the patient can request a new consultation",
    ),
    _f(
        "close-unused-500",
        "HCW-CONS-03 HCW-GEN-01",
        "closing an invite that has no consultation yet throws: 500",
    ),
    # SSO
    _f(
        "sso-tk-unusable",
        "HCW-SSO-01",
        "the redirect's tk is signed with the SSO secret instead of the app secret, so the "
        "API refuses it (the doctor cannot act: checks that need the doctor get no verdict)",
    ),
    _f("sso-window-10min", "HCW-SSO-02", "SSO timestamps up to 10 minutes old are accepted"),
    _f("sso-window-1min", "HCW-SSO-02", "SSO timestamps older than 1 minute are refused"),
    _f(
        "sso-wrong-secret-accepted",
        "HCW-SSO-03",
        "the SSO token's signature is not verified (any key, alg none and tampering pass)",
    ),
    _f("sso-alg-none-accepted", "HCW-SSO-03", "unsigned SSO tokens (alg none) are accepted"),
    _f(
        "sso-tampered-accepted",
        "HCW-SSO-03",
        "signatures already verified once are cached and trusted, so a payload edited under "
        "a used token's signature is accepted",
    ),
    _f("sso-no-email-accepted", "HCW-SSO-04", "a token without email signs in the default doctor"),
    _f(
        "sso-no-timestamp-accepted",
        "HCW-SSO-04",
        "a token without timestamp skips the age check and is accepted",
    ),
    # HCW-SSO-05 states the refusal; the property tests' "Schema-violating request accepted"
    # is only an advisory of HCW-GEN-04
    _f("sso-no-token-200", "HCW-SSO-05", "a callback without token answers 200"),
    _f(
        "sso-future-accepted",
        "HCW-SSO-06",
        "no upper bound on the timestamp: future, millisecond and non-numeric values are "
        "accepted (HCW@Home 5.4.62)",
    ),
    _f("sso-skew-2h", "HCW-SSO-06", "timestamps up to 2 hours in the future are accepted"),
    _f(
        "sso-nan-accepted",
        "HCW-SSO-06",
        "a non-numeric timestamp passes both window checks (NaN comparisons are false)",
    ),
    _f(
        "sso-offsite-redirect",
        "HCW-SSO-07",
        "an absolute or protocol-relative returnUrl becomes the redirect target",
    ),
    _f(
        "sso-replay-accepted",
        "HCW-SSO-08",
        "an SSO token can be used again within its window (HCW@Home 5.4.62)",
    ),
)
