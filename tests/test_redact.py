"""Redaction: format-preserving, stable, irreversible placeholders; values found in every form."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import yaml

from teleconform import _resources
from teleconform.cassettes._record import ApiRecorder
from teleconform.redact import Redactor, sensitive_fields_from_spec
from teleconform.runner._http import Exchange

_KEY = "k" * 64  # long enough for HS512 (pyjwt warns otherwise)
ACCESS_JWT = jwt.encode(
    {"id": "6b0258edd5136b7be370bbef", "iat": 1795315969}, _KEY, algorithm="HS256"
)
OTHER_JWT = jwt.encode(
    {"id": "6b0258edd5136b7be370bbee", "iat": 1795315970}, _KEY, algorithm="HS512"
)
HEX64 = "a63f138a47626eae2720ff4f52e074ae38ad19d5b34dfb52b6fac07ce84002f4"
E164 = re.compile(r"\+[1-9]\d{7,14}")
EMAIL = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def _login_exchange(email: str, password: str, token: str) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "url": "http://h/api/v1/login-local",
            "headers": [("content-type", "application/json")],
            "body": json.dumps({"email": email, "password": password}),
        },
        "response": {
            "status": 200,
            "headers": [
                ("content-type", "application/json"),
                ("set-cookie", "sails.sid=s%3Aabcdefgh.ijkl; Path=/; HttpOnly"),
            ],
            "body": json.dumps(
                {
                    "user": {
                        "email": email,
                        "token": token,
                        "firstName": "Alice",
                        "lastName": "Martin",
                        "phoneNumber": "+41 79 123 45 67",
                        "birthDate": "1984-03-12",
                        "note": "allergic",
                    }
                }
            ),
        },
    }


def test_placeholders_are_format_preserving() -> None:
    r = Redactor()
    out = r.redact_exchange(_login_exchange("alice@hospital.ch", "S3cret-pass", ACCESS_JWT))
    user = json.loads(out["response"]["body"])["user"]
    assert EMAIL.fullmatch(user["email"]) and user["email"].endswith("@redacted.example")
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    assert claims == {"redacted": 1}
    assert jwt.get_unverified_header(user["token"])["alg"] == "HS256"
    assert E164.fullmatch(user["phoneNumber"])
    assert dt.date.fromisoformat(user["birthDate"]).year == 1900
    assert user["firstName"] == "Name-1" and user["lastName"] == "Name-2"
    assert user["note"] != "allergic"
    request = json.loads(out["request"]["body"])
    assert request["password"].startswith("REDACTED-")
    assert request["email"] == user["email"]


def test_same_value_same_placeholder_numbered_by_first_appearance() -> None:
    r = Redactor()
    first = r.redact_exchange(_login_exchange("bob@clinic.org", "pw-one-1234", ACCESS_JWT))
    second = r.redact_exchange(_login_exchange("carol@clinic.org", "pw-two-1234", OTHER_JWT))
    third = r.redact_exchange(_login_exchange("bob@clinic.org", "pw-one-1234", ACCESS_JWT))
    u1, u2, u3 = (json.loads(x["response"]["body"])["user"] for x in (first, second, third))
    assert u1["email"] == "person-1@redacted.example"
    assert u2["email"] == "person-2@redacted.example"
    assert u3 == u1
    assert jwt.decode(u2["token"], options={"verify_signature": False}) == {"redacted": 2}
    # The HS512 token keeps its algorithm so a replayed check still sees what was sent.
    assert jwt.get_unverified_header(u2["token"])["alg"] == "HS512"
    # A fresh Redactor (another cassette) starts numbering again.
    fresh = Redactor().redact_exchange(_login_exchange("carol@clinic.org", "x", OTHER_JWT))
    assert json.loads(fresh["response"]["body"])["user"]["email"] == "person-1@redacted.example"


def test_token_links_response_to_later_request_headers_and_urls() -> None:
    r = Redactor()
    login = r.redact_exchange(_login_exchange("dan@clinic.org", "pw-dan-12345", ACCESS_JWT))
    token = json.loads(login["response"]["body"])["user"]["token"]
    later = r.redact_exchange(
        {
            "request": {
                "method": "GET",
                "url": f"http://h/api/v1/invite/by-token/{HEX64}?token={ACCESS_JWT}",
                "headers": {
                    "Authorization": [f"Bearer {ACCESS_JWT}"],
                    "Cookie": ["sails.sid=s%3Aabcdefgh.ijkl; lang=en"],
                },
                "body": None,
            },
            "response": {
                "status": 200,
                "headers": {"Content-Type": ["application/json"]},
                "body": {"string": json.dumps({"inviteToken": HEX64})},
            },
        }
    )
    assert later["request"]["headers"]["Authorization"] == [f"Bearer {token}"]
    url = urlsplit(later["request"]["url"])
    assert parse_qs(url.query)["token"] == [token]
    placeholder = json.loads(later["response"]["body"]["string"])["inviteToken"]
    assert placeholder == "1".rjust(64, "0")
    assert url.path.endswith("/by-token/" + placeholder)
    cookie = later["request"]["headers"]["Cookie"][0]
    set_cookie = dict(login["response"]["headers"])["set-cookie"]
    assert cookie.split(";")[0] == set_cookie.split(";")[0]  # same session id placeholder
    assert "Path=/; HttpOnly" in set_cookie


def test_location_header_and_redirect_body() -> None:
    r = Redactor()
    location = f"http://127.0.0.1:4200/app?tk={ACCESS_JWT}&returnUrl=%2Fapp"
    out = r.redact_headers([("Location", location), ("Vary", "Accept")])
    assert out[1] == ("Vary", "Accept")
    new = out[0][1]
    assert ACCESS_JWT not in new and new.endswith("&returnUrl=%2Fapp")
    tk = parse_qs(urlsplit(new).query)["tk"][0]
    assert jwt.decode(tk, options={"verify_signature": False}) == {"redacted": 1}
    body = r.redact_body(f"Found. Redirecting to {location}", "text/plain")
    assert body == f"Found. Redirecting to {new}"


@pytest.mark.parametrize(
    "encoded",
    [
        "name%3Dx%26mail%3Deve%40example.com",  # percent-encoded
        '{"mail": "eve\\u0040example.com"}',  # JSON-escaped inside a text body
        "blob " + base64.b64encode(b'{"mail": "eve@example.com"}').decode(),  # base64
        "blob " + base64.urlsafe_b64encode(b"contact eve@example.com now").decode().rstrip("="),
        "eve&#64;example.com",  # HTML entity
    ],
)
def test_encoded_values_are_found_and_replaced(encoded: str) -> None:
    out = Redactor().redact_body(encoded, "text/plain")
    assert isinstance(out, str)
    assert "eve" not in out
    for blob in re.findall(r"[A-Za-z0-9+/_-]{16,}={0,2}", out):
        padded = blob + "=" * (-len(blob) % 4)
        try:
            decoded = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except ValueError:
            continue
        assert b"eve" not in decoded
        assert b"person-1@redacted.example" in decoded  # still base64 of a valid text


def test_query_with_json_and_form_bodies() -> None:
    r = Redactor()
    url = "http://h/api/v1/user?where=%7B%22email%22%3A+%22fay%40example.org%22%7D"
    new = r.redact_url(url)
    assert "fay" not in new
    where = json.loads(parse_qs(urlsplit(new).query)["where"][0])
    assert where == {"email": "person-1@redacted.example"}
    form = r.redact_body(
        b"username=fay&password=hunter2-long&email=fay%40example.org",
        "application/x-www-form-urlencoded",
    )
    assert form is not None and b"hunter2" not in form and b"fay%40" not in form
    assert b"email=person-1%40redacted.example" in form


def test_multipart_file_names_and_contents() -> None:
    content = b"%PDF-1.7 MRI report of Greta Hansen, born 1950-02-03"
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="firstName"\r\n\r\nGreta\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
        b'filename="greta-hansen-mri.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        + content
        + b"\r\n--XyZ--\r\n"
    )
    out = Redactor().redact_body(body, "multipart/form-data; boundary=XyZ")
    assert out is not None
    assert b"Greta" not in out and b"greta" not in out and b"Hansen" not in out
    assert b'filename="file-1.pdf"' in out
    assert f"{len(content)} bytes".encode() in out
    assert hashlib.sha256(content).hexdigest().encode() not in out  # keyed, see below
    assert b'name="firstName"\r\n\r\nName-1\r\n' in out
    assert out.endswith(b"--XyZ--\r\n")


def test_headers_keep_their_shape_and_content_length_follows() -> None:
    r = Redactor()
    assert r.redact_headers({"X-Access-Token": "tok_xyz-123456", "Accept": "*/*"}) == {
        "X-Access-Token": "REDACTED-1",
        "Accept": "*/*",
    }
    assert r.redact_headers([("LEAH-AUTH-TOKEN", "k3y-value-9")]) == [
        ("LEAH-AUTH-TOKEN", "REDACTED-2")
    ]
    ex = _login_exchange("gus@example.org", "pw-gus-12345", ACCESS_JWT)
    ex["response"]["headers"].append(("content-length", "9999"))
    out = r.redact_exchange(ex)
    length = dict(out["response"]["headers"])["content-length"]
    assert int(length) == len(out["response"]["body"].encode())


def test_free_text_and_learned_secrets() -> None:
    r = Redactor()
    r.redact_body(json.dumps({"password": "Correct-Horse-9"}), "application/json")
    text = r.redact_body(
        "echo: Correct-Horse-9; call +41 79 555 12 34 or hal@example.net", "text/plain"
    )
    assert text is not None
    assert "Correct-Horse-9" not in text and "555 12 34" not in text and "hal@" not in text
    assert "+15550100001" in text


def test_binary_body_becomes_a_file_placeholder() -> None:
    data = bytes(range(256)) * 4
    out = Redactor().redact_body(data, "image/png")
    assert isinstance(out, bytes)
    assert out.startswith(b"[redacted file 1024 bytes hmac-sha256=") and data[:32] not in out
    assert data[:4].hex().encode() not in out  # no leading bytes either


def _upload_exchange(secret: bytes) -> Exchange:
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/api/v1/upload",
        files={"file": ("note.bin", secret, "application/octet-stream")},
    )
    request.read()
    response = httpx.Response(
        200, content=secret, request=request, headers={"content-type": "application/octet-stream"}
    )
    return Exchange(request, response, label="upload")


@pytest.mark.parametrize("secret", [b"7", b"4711", b"hunter2", b"PIN 0042 for Bob Smith"])
def test_a_short_recorded_file_cannot_be_confirmed_by_guessing(
    tmp_path: Path, secret: bytes
) -> None:
    """Files in cassettes keep only their size and a digest keyed per recording (the key is
    never stored): hashing a candidate finds nothing in the cassette, in any usual form."""
    recorder = ApiRecorder(
        "hcw", "http://127.0.0.1:9", {}, seed=1, budget="quick", tool={}, spec={}
    )
    recorder(_upload_exchange(secret))
    recorder(_upload_exchange(secret))
    (cassette,) = recorder.finished()
    cassette.write(tmp_path / "upload.yaml")
    text = (tmp_path / "upload.yaml").read_text()
    assert f"redacted file {len(secret)} bytes" in text
    for algorithm in ("sha256", "sha1", "md5", "sha512", "blake2b"):
        digest = hashlib.new(algorithm, secret).digest()
        for form in (digest.hex(), digest.hex().upper(), base64.b64encode(digest).decode()):
            assert form not in text, algorithm
    if len(secret) >= 4:  # (a 1-byte secret's hex, "37", turns up by chance, e.g. in a boundary)
        for form in (secret.hex(), base64.b64encode(secret).decode()):
            assert form not in text
    # equal uploads stay recognisable as equal within one recording ...
    digests = re.findall(r"hmac-sha256=([0-9a-f]{64})", text)
    assert len(digests) == 4 and len(set(digests)) == 1
    # ... and nowhere else: another recording of the same file has another digest
    other = ApiRecorder("hcw", "http://127.0.0.1:9", {}, seed=1, budget="quick", tool={}, spec={})
    other(_upload_exchange(secret))
    assert digests[0] not in other.finished()[0].dumps()


def test_sensitive_fields_from_spec_marks() -> None:
    spec = {
        "components": {
            "schemas": {
                "P": {
                    "type": "object",
                    "properties": {
                        "givenName": {"type": "string", "x-sensitive": "name"},
                        "secretCode": {"type": "string", "x-sensitive": "credential"},
                        "plain": {"type": "string"},
                    },
                }
            }
        },
        "paths": {
            "/x": {"get": {"parameters": [{"name": "hash", "in": "query", "x-sensitive": "token"}]}}
        },
    }
    assert sensitive_fields_from_spec(spec) == {
        "givenname": "name",
        "secretcode": "credential",
        "hash": "token",
    }
    r = Redactor(sensitive_fields_from_spec(spec), use_specs=False)
    out = r.redact_body(json.dumps({"secretCode": "0042", "plain": "ok"}), "application/json")
    assert out == json.dumps({"secretCode": "REDACTED-1", "plain": "ok"})


def test_shipped_spec_marks_are_used() -> None:
    spec = yaml.safe_load(_resources.spec_path("hcw-athome.openapi.yaml").read_text())
    marks = sensitive_fields_from_spec(spec)
    assert marks["emailaddress"] == "email" and marks["refreshtoken"] == "token"
    # A URL-valued token field keeps being a URL; only its token is replaced.
    r = Redactor()
    body = json.dumps({"patientURL": f"http://127.0.0.1:4200/inv/?invite={HEX64}"})
    out = json.loads(r.redact_body(body, "application/json") or "{}")
    assert out["patientURL"] == "http://127.0.0.1:4200/inv/?invite=" + "1".rjust(64, "0")
