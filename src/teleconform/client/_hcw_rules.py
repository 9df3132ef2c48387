"""The HCW@Home client clauses (HCW-CLIENT-01...09), judged exchange by exchange."""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from teleconform.client._exchange import NOT_JSON, Exchange
from teleconform.client._rules import Judge
from teleconform.client._spec_check import SpecView, schema_properties, shipped_spec

SSO_WINDOW_S = 300.0
SSO_FUTURE_SKEW_S = 30.0
MILLISECONDS_FROM = 1e11  # a seconds timestamp reaches 1e11 in the year 5138
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2}$")
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE
)
CREDENTIAL_QUERY = frozenset({"password", "token", "access_token", "x-access-token"})
SIGN_IN_OPS = frozenset({"loginLocal", "loginInvite", "ssoCallback", "ssoCallbackGet"})
SSO_OPS = frozenset({"ssoCallback", "ssoCallbackGet"})

SKIP_REASONS = {
    "HCW-CLIENT-01": "the client never signed in with login-local",
    "HCW-CLIENT-02": "the client never called an operation that needs authentication",
    "HCW-CLIENT-03": "the client never called an operation that needs authentication",
    "HCW-CLIENT-04": "the client never created or updated an invite",
    "HCW-CLIENT-05": "the client never deleted an invite",
    "HCW-CLIENT-06": "the client never signed a user in by SSO",
    "HCW-CLIENT-07": "the client never signed a user in by SSO",
    "HCW-CLIENT-08": (
        "no request of the client was refused because its token had expired (tokens live "
        "15 minutes; the teleconform_hcw fixture's advance() gets a test there)"
    ),
    "HCW-CLIENT-09": "the client never closed a consultation",
}


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The unverified payload of a JWT, or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _number(value: Any) -> float | None:
    """``value`` as a float when it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def bearer_of(exchange: Exchange) -> str | None:
    value = exchange.header("authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _segment(path: str, index: int) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[index] if -len(parts) <= index < len(parts) else ""


@dataclass
class _Invite:
    token: str | None = None
    consultation_requested: bool = False
    started: bool = False
    closed: bool = False


@dataclass
class HcwRules:
    """State learnt from the exchanges, and the checks of each clause."""

    credentials: Mapping[str, str]
    issued: set[str] = field(default_factory=set)
    invites: dict[str, _Invite] = field(default_factory=dict)
    consultation_invite: dict[str, str] = field(default_factory=dict)
    refused_deletes: set[tuple[str, bytes]] = field(default_factory=set)
    sso_seen: set[str] = field(default_factory=set)
    expired_pending: dict[str, Exchange] = field(default_factory=dict)
    xonly_refused: list[Exchange] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = shipped_spec("hcw")
        self.create_fields = set(schema_properties(spec, "InviteFields"))
        # An update does not read isPatientInvite or note: sending them is harmless (spec).
        self.update_fields = set(schema_properties(spec, "InviteUpdate")) | {
            "isPatientInvite",
            "note",
        }

    def invite(self, invite_id: str) -> _Invite:
        return self.invites.setdefault(invite_id, _Invite())

    # ---- the rules ---------------------------------------------------------------------
    def observe(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        op = spec.operation_id or ""
        if ex.path.rstrip("/").endswith("/api/v1/login-local"):
            self._login_local(ex, spec, judge)
        if spec.needs_auth:
            self._auth_headers(ex, judge)
            self._query_credentials(ex, judge)
            self._expiry(ex, judge)
        if op in ("createInvite", "updateInvite"):
            self._invite_body(ex, spec, judge, creating=op == "createInvite")
        elif op == "deleteInvite":
            self._delete(ex, judge)
        elif op == "closeConsultation":
            self._close(ex, judge)
        elif op in SSO_OPS:
            self._sso(ex, spec, judge)
        self._learn(ex, op, judge)

    def finish(self, judge: Judge) -> None:
        for ex in self.xonly_refused:
            judge(
                "HCW-CLIENT-03",
                False,
                "refused with 401 while the JWT was only in "
                "x-access-token, and the client never retried with Authorization: Bearer "
                "(HCW@Home 5.3.56 and later read only Bearer)",
                ex,
            )
        for ex in self.expired_pending.values():
            judge(
                "HCW-CLIENT-08",
                False,
                "refused with 401 because the token had expired, "
                "and the client did not sign in again afterwards",
                ex,
            )

    def skip_reason(self, clause: str) -> str:
        return SKIP_REASONS.get(clause, "not exercised by the client's traffic")

    # ---- HCW-CLIENT-01 -------------------------------------------------------------------
    def _login_local(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        problems = []
        if ex.method != "POST":
            problems.append(f"login-local called with {ex.method}, the document says POST")
        if ex.media_type() != "application/json":
            problems.append(f"Content-Type is {ex.media_type() or 'missing'}, not application/json")
        names = {k.lower() for k, _ in ex.query}
        if names & {"email", "password"}:
            problems.append("credentials in the query string")
        body = ex.json_body()
        if body is NOT_JSON or not isinstance(body, dict):
            problems.append("the body is not a JSON object")
        else:
            for name in ("email", "password"):
                if not isinstance(body.get(name), str) or not body.get(name):
                    problems.append(f"no {name} string in the body")
            problems.extend(spec.body_errors if not problems else [])
        judge("HCW-CLIENT-01", not problems, "; ".join(problems) or "signed in as documented", ex)

    def _query_credentials(self, ex: Exchange, judge: Judge) -> None:
        for name, value in ex.query:
            lname = name.lower()
            if lname in CREDENTIAL_QUERY and (
                value in self.issued or _jwt_claims(value) or lname == "password"
            ):
                judge(
                    "HCW-CLIENT-01",
                    False,
                    f"a credential in the query string (parameter {name})",
                    ex,
                )

    # ---- HCW-CLIENT-02 / 03 ----------------------------------------------------------------
    def _auth_headers(self, ex: Exchange, judge: Judge) -> None:
        x_token = (ex.header("x-access-token") or "").strip() or None
        bearer = bearer_of(ex)
        if x_token is None:
            also = " (only Authorization: Bearer)" if bearer else ""
            judge("HCW-CLIENT-02", False, f"no x-access-token header{also}", ex)
        elif self.issued and x_token not in self.issued:
            judge(
                "HCW-CLIENT-02",
                False,
                "x-access-token carries a token the server never issued to this client",
                ex,
            )
        else:
            judge("HCW-CLIENT-02", True, "x-access-token carries an issued JWT", ex)
        if bearer is not None:
            if self.xonly_refused:
                self.xonly_refused.clear()
                judge("HCW-CLIENT-03", True, "switched to Bearer after a refusal", ex)
            else:
                judge("HCW-CLIENT-03", True, "Authorization: Bearer sent", ex)
        elif x_token is not None:
            if ex.status == 401:
                self.xonly_refused.append(ex)
            else:
                judge(
                    "HCW-CLIENT-03",
                    False,
                    "the JWT travels only in x-access-token; "
                    "HCW@Home 5.3.56 and later ignore that header and answer 401",
                    ex,
                )

    # ---- HCW-CLIENT-04 -------------------------------------------------------------------
    def _invite_body(self, ex: Exchange, spec: SpecView, judge: Judge, *, creating: bool) -> None:
        what = "creation" if creating else "update"
        problems: list[str] = []
        if ex.media_type() != "application/json":
            problems.append(f"Content-Type is {ex.media_type() or 'missing'}, not application/json")
        body = ex.json_body()
        if not isinstance(body, dict):
            problems.append(f"the invite {what} body is not a JSON object")
            judge("HCW-CLIENT-04", False, "; ".join(problems), ex)
            return
        problems.extend(spec.body_errors)
        allowed = self.create_fields if creating else self.update_fields
        extra = sorted(set(body) - allowed)
        if extra:
            problems.append(f"fields the document does not list: {', '.join(extra)}")
        if creating:
            if body.get("isPatientInvite") is not True:
                problems.append("isPatientInvite is not true")
            if not (body.get("doctorEmail") or body.get("queue")):
                problems.append("neither doctorEmail nor queue")
            if not (body.get("phoneNumber") or body.get("emailAddress")):
                problems.append("neither phoneNumber nor emailAddress")
        problems.extend(_field_problems(body))
        judge(
            "HCW-CLIENT-04",
            not problems,
            "; ".join(dict.fromkeys(problems)) or f"invite {what} body as documented",
            ex,
        )

    # ---- HCW-CLIENT-05 -------------------------------------------------------------------
    def _delete(self, ex: Exchange, judge: Judge) -> None:
        invite_id = _segment(ex.path, -1)
        key = (ex.url, ex.request_body)
        if key in self.refused_deletes:
            judge(
                "HCW-CLIENT-05", False, "a DELETE the server refused was sent again unchanged", ex
            )
        elif self.invites.get(invite_id, _Invite()).consultation_requested:
            judge(
                "HCW-CLIENT-05",
                False,
                "DELETE of an invite whose patient had requested a consultation",
                ex,
            )
        elif ex.status in (400, 403, 409, 422) and b"consultation" in ex.response_body.lower():
            # the server's own answer says why: the patient requested a consultation
            judge(
                "HCW-CLIENT-05",
                False,
                "DELETE of an invite the server says can no longer "
                "be deleted (the patient requested a consultation)",
                ex,
            )
        else:
            judge("HCW-CLIENT-05", True, "DELETE of an invite without a consultation", ex)
        if 400 <= ex.status < 500:
            self.refused_deletes.add(key)

    # ---- HCW-CLIENT-06 / 07 ----------------------------------------------------------------
    def _sso(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        token = ex.query_value("token")
        if not token:
            body = ex.json_body()
            where = " (it is in the body)" if isinstance(body, dict) and "token" in body else ""
            judge("HCW-CLIENT-06", False, f"no token query parameter{where}", ex)
            return
        problems = _sso_token_problems(
            token, ex.at, self.credentials.get("TELECONFORM_HCW_SSO_SECRET")
        )
        return_url = ex.query_value("returnUrl")
        if return_url is not None and not _same_site_path(return_url):
            problems.append("returnUrl is not a path on the same site")
        judge("HCW-CLIENT-06", not problems, "; ".join(problems) or "SSO token as documented", ex)
        if token in self.sso_seen:
            judge("HCW-CLIENT-07", False, "the same SSO token was sent again", ex)
        else:
            judge("HCW-CLIENT-07", True, "a fresh SSO token", ex)
        self.sso_seen.add(token)

    # ---- HCW-CLIENT-08 -------------------------------------------------------------------
    def _expiry(self, ex: Exchange, judge: Judge) -> None:
        used = {t for t in (ex.header("x-access-token"), bearer_of(ex)) if t}
        for token in used & set(self.expired_pending):
            judge(
                "HCW-CLIENT-08",
                False,
                "the expired token was sent again after the server refused it",
                ex,
            )
            del self.expired_pending[token]
        if ex.status != 401:
            return
        for token in used:
            claims = _jwt_claims(token) or {}
            exp = _number(claims.get("exp"))
            if exp is not None and exp <= ex.at:
                self.expired_pending[token] = ex

    # ---- HCW-CLIENT-09 -------------------------------------------------------------------
    def _close(self, ex: Exchange, judge: Judge) -> None:
        invite = self.invite(_segment(ex.path, -3))
        if invite.closed:
            judge(
                "HCW-CLIENT-09",
                False,
                "close sent again for an invite whose consultation was already closed",
                ex,
            )
        elif not invite.started:
            judge(
                "HCW-CLIENT-09",
                False,
                "close sent for an invite whose consultation the client had not seen started",
                ex,
            )
        else:
            judge("HCW-CLIENT-09", True, "close of a started consultation", ex)
        if ex.succeeded:
            invite.closed = True

    # ---- what the answers teach ----------------------------------------------------------
    def _learn(self, ex: Exchange, op: str, judge: Judge) -> None:
        if not (ex.succeeded or 300 <= ex.status < 400):
            return
        body = ex.response_json()
        new_tokens = set(_tokens_in(body))
        for name, value in ex.response_headers:
            if name == "set-cookie":  # "a jwt token stored in the cookies" (the guide)
                cookie_name, _, rest = value.partition("=")
                cookie = rest.split(";", 1)[0].strip()
                if cookie_name.strip() == "token" and cookie:
                    new_tokens.add(cookie)
        location = ex.response_header("location")
        if location:
            for name, value in parse_qsl(urlsplit(location).query):
                if name in ("tk", "token") and value:
                    new_tokens.add(value)
        if new_tokens and (op in SIGN_IN_OPS or ex.path.endswith("/refresh-token")):
            self.issued |= new_tokens
            for expired in list(self.expired_pending.values()):
                judge("HCW-CLIENT-08", True, "signed in again after the token expired", expired)
            self.expired_pending.clear()
        if op == "createInvite" and isinstance(body, dict):
            inv = body.get("invite")
            if isinstance(inv, dict) and isinstance(inv.get("id"), str):
                self.invite(inv["id"]).token = inv.get("inviteToken")
        elif op == "requestConsultation":
            self._learn_consultation(ex, body)
        elif op == "acceptConsultation":
            invite_id = self.consultation_invite.get(_segment(ex.path, -2))
            if invite_id:
                self.invite(invite_id).started = True
        elif op == "getInvite" and isinstance(body, dict):
            status = str(body.get("status") or "").upper()
            if status == "ACCEPTED":
                self.invite(_segment(ex.path, -1)).consultation_requested = True

    def _learn_consultation(self, ex: Exchange, body: Any) -> None:
        invite_id = body.get("invite") if isinstance(body, dict) else None
        if not isinstance(invite_id, str):
            sent = ex.json_body()
            token = sent.get("invitationToken") if isinstance(sent, dict) else None
            invite_id = next((i for i, v in self.invites.items() if v.token == token), None)
        if isinstance(invite_id, str):
            invite = self.invite(invite_id)
            invite.consultation_requested = True
            cons_id = body.get("id") if isinstance(body, dict) else None
            if isinstance(cons_id, str):
                self.consultation_invite[cons_id] = invite_id
            if isinstance(body, dict) and body.get("status") == "active":
                invite.started = True


def _tokens_in(body: Any) -> list[str]:
    found: list[str] = []
    if not isinstance(body, dict):
        return found
    for holder in (body, body.get("user")):
        if isinstance(holder, dict):
            for key in ("token", "refreshToken"):
                if isinstance(holder.get(key), str) and holder[key]:
                    found.append(holder[key])
    return found


def _field_problems(body: Mapping[str, Any]) -> list[str]:
    problems = []
    phone = body.get("phoneNumber")
    if phone not in (None, "") and not (
        isinstance(phone, str) and PHONE_RE.match(re.sub(r"[\s().-]", "", phone))
    ):
        problems.append("phoneNumber is not in international format (+ and 7 to 15 digits)")
    for name in ("emailAddress", "doctorEmail"):
        value = body.get(name)
        if value not in (None, "") and not (isinstance(value, str) and EMAIL_RE.match(value)):
            problems.append(f"{name} is not an e-mail address")
    gender = body.get("gender")
    if gender is not None and gender not in ("male", "female"):
        problems.append("gender is neither male nor female")
    language = body.get("language")
    if language is not None and not (isinstance(language, str) and LANGUAGE_RE.match(language)):
        problems.append("language is not two letters")
    scheduled = body.get("scheduledFor")
    if scheduled is not None and not (isinstance(scheduled, str) and DATETIME_RE.match(scheduled)):
        problems.append("scheduledFor is not an ISO 8601 date-time with an offset or Z")
    return problems


def _sso_token_problems(token: str, at: float, secret: str | None) -> list[str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return ["the token is not a JWT"]
    problems = []
    if header.get("alg") != "HS256":
        problems.append(f"signed with {header.get('alg')!s}, the document says HS256")
    elif secret:
        try:
            with warnings.catch_warnings():  # a short shared secret is the server's business
                warnings.simplefilter("ignore")
                jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    options={
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                        "verify_aud": False,
                        "verify_iss": False,
                    },
                )
        except jwt.InvalidSignatureError:
            problems.append("not signed with the shared secret")
        except jwt.PyJWTError:
            problems.append("the token does not decode")
    claims = _jwt_claims(token) or {}
    email = claims.get("email")
    if not (isinstance(email, str) and EMAIL_RE.match(email)):
        problems.append("no email claim holding an e-mail address")
    ts = _number(claims.get("timestamp"))
    if ts is None:
        problems.append("no timestamp claim holding a number of seconds")
    elif ts >= MILLISECONDS_FROM:
        problems.append("the timestamp is in milliseconds, the document says seconds")
    elif at - ts > SSO_WINDOW_S:
        problems.append(f"the timestamp is {at - ts:.0f} s old, more than 5 minutes")
    elif ts - at > SSO_FUTURE_SKEW_S:
        problems.append(f"the timestamp is {ts - at:.0f} s in the future (more than 30 s)")
    return problems


def _same_site_path(url: str) -> bool:
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and ("://" not in url.split("?", 1)[0])
    )
