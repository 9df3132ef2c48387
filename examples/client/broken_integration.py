"""The worked example with four integration bugs, each breaking one client clause.

- only x-access-token (HCW-CLIENT-03: HCW@Home 5.3.56+ refuses it);
- the SSO timestamp in milliseconds (HCW-CLIENT-06);
- the Leah reschedule PATCH sent as application/json (LEAH-CLIENT-03);
- a .gif uploaded to a document transfer (LEAH-CLIENT-05).
"""

from __future__ import annotations

import time
from datetime import datetime

import jwt
from integration import Hcw as GoodHcw
from integration import Leah as GoodLeah
from integration import members, tomorrow, utc

__all__ = ["Hcw", "Leah", "members", "tomorrow"]


class Hcw(GoodHcw):
    def auth(self) -> dict[str, str]:
        return {"x-access-token": self.token}  # the guide's header only

    def sso_token(self, doctor_email: str) -> str:
        claims = {"email": doctor_email, "timestamp": int(time.time() * 1000)}  # ms
        return jwt.encode(claims, self.sso_secret, algorithm="HS256")


class Leah(GoodLeah):
    def reschedule(self, appointment: str, when: datetime) -> None:
        self.http.patch(appointment, json={"startTime": utc(when)}).raise_for_status()

    def share(self, worker_email: str, name: str, content: bytes, recipient: str) -> None:
        gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"  # a logo instead of the report
        super().share(worker_email, "logo.gif", gif, recipient)
