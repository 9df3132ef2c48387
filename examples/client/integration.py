"""A small hospital-scheduling integration of HCW@Home and Leah (the worked example).

It signs the scheduler in, creates a patient invite, signs a doctor in by SSO, books and
reschedules a Leah appointment, and shares a PDF with a healthcare worker. Its own tests
(test_integration.py) run it against teleconform's validating sandboxes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt


class Api:
    http: httpx.Client

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


class Hcw(Api):
    """The HCW@Home side: a scheduler service account plus SSO for doctors."""

    def __init__(self, base_url: str, email: str, password: str, sso_secret: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.email, self.password, self.sso_secret = email, password, sso_secret
        self.token = ""

    def auth(self) -> dict[str, str]:
        # The guide documents x-access-token; HCW@Home 5.3.56+ reads only Bearer: send both.
        return {"x-access-token": self.token, "Authorization": f"Bearer {self.token}"}

    def sign_in(self) -> None:
        r = self.http.post(
            "/api/v1/login-local", json={"email": self.email, "password": self.password}
        )
        r.raise_for_status()
        # HCW@Home answers user.token; the guide's reading keeps the JWT in a cookie only.
        self.token = (r.json().get("user") or {}).get("token") or r.cookies["token"]

    def create_invite(self, patient_email: str, doctor_email: str, when: datetime) -> dict:
        body = {
            "isPatientInvite": True,
            "emailAddress": patient_email,
            "language": "en",
            "firstName": "Ada",
            "lastName": "Patient",
            "gender": "female",
            "doctorEmail": doctor_email,
            "scheduledFor": when.isoformat(),
        }
        r = self.http.post("/api/v1/invite", json=body, headers=self.auth())
        r.raise_for_status()
        return r.json()["invite"]

    def sso_token(self, doctor_email: str) -> str:
        claims = {"email": doctor_email, "timestamp": int(time.time())}  # seconds
        return jwt.encode(claims, self.sso_secret, algorithm="HS256")

    def sign_doctor_in(self, doctor_email: str) -> str:
        """The doctor's session token, from the SSO redirect."""
        r = self.http.get(
            "/api/v1/external-auth-callback", params={"token": self.sso_token(doctor_email)}
        )
        if r.status_code == 200:  # a server may answer the session JWT as JSON
            return r.json()["token"]
        if r.status_code != 302:
            raise RuntimeError(f"SSO refused: {r.status_code}")
        return parse_qs(urlsplit(r.headers["location"]).query)["tk"][0]


def members(collection: dict) -> list[dict]:
    """Hydra members in either spelling (API Platform 2/3 prefixed, 4 unprefixed)."""
    return collection.get("hydra:member", collection.get("member", []))


class Leah(Api):
    """The Leah side: appointments and document sharing with one API key."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, timeout=10, headers={"LEAH-AUTH-TOKEN": api_key}
        )

    def find(self, path: str, **filters: str) -> str:
        r = self.http.get(path, params=filters)
        r.raise_for_status()
        return members(r.json())[0]["@id"]

    def book(self, worker_email: str, guest_email: str, phone: str, when: datetime) -> str:
        office = self.find("/api/offices", **{"healthcareWorker.email": worker_email})
        body = {
            "phoneNumber": phone,
            "email": guest_email,
            "office": office,
            "startTime": utc(when),
            "externalId": "sched-42",
        }
        r = self.http.post("/api/appointments", json=body)
        r.raise_for_status()
        return r.json()["@id"]

    def reschedule(self, appointment: str, when: datetime) -> None:
        r = self.http.patch(
            appointment,
            content=f'{{"startTime": "{utc(when)}"}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        r.raise_for_status()

    def share(self, worker_email: str, name: str, content: bytes, recipient: str) -> None:
        worker = self.find("/api/healthcare_workers", email=worker_email)
        r = self.http.post("/api/transfers", json={"healthcareWorker": worker})
        r.raise_for_status()
        transfer = r.json()["id"]
        r = self.http.post(
            f"/api/transfers/{transfer}/files",
            files=[("file[]", (name, content, "application/pdf"))],
        )
        r.raise_for_status()
        self.http.post(
            f"/api/transfers/{transfer}/share", json={"email": recipient}
        ).raise_for_status()


def utc(when: datetime) -> str:
    """Leah's documented startTime format: yyyy-mm-ddThh:mm:ss in UTC."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def tomorrow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
