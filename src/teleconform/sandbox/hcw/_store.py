"""In-memory state of the HCW@Home sandbox: users, queues, invites and consultations.

Shapes follow the HCW@Home 5.4.62 records (24-hex ids, epoch-millisecond dates, empty
strings and nulls for omitted attributes) so that a client tested here meets the same
JSON on a real server.
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

# Seed epoch for the deterministic ids of the seeded records (2026-11-22T00:00:00Z).
_SEED_EPOCH = 1795305600

SCHEDULER_EMAIL = "scheduler@example.org"
SCHEDULER_PASSWORD = "Scheduler-Passw0rd-teleconform"
DOCTOR_EMAIL = "doctor@example.org"
QUEUE_NAME = "General"
SSO_SECRET = "teleconform-sandbox-shared-external-auth-secret"
APP_SECRET = "teleconform-sandbox-app-secret-not-for-production-use"
REFRESH_SECRET = "teleconform-sandbox-refresh-secret-not-for-production-use"

# The seeded accounts, as the environment variables a run reads them from.
CREDENTIALS: dict[str, str] = {
    "TELECONFORM_HCW_EMAIL": SCHEDULER_EMAIL,
    "TELECONFORM_HCW_PASSWORD": SCHEDULER_PASSWORD,
    "TELECONFORM_HCW_DOCTOR_EMAIL": DOCTOR_EMAIL,
    "TELECONFORM_HCW_QUEUE": QUEUE_NAME,
    "TELECONFORM_HCW_SSO_SECRET": SSO_SECRET,
}


@dataclass
class User:
    """An account: scheduler (service account), doctor, or a temporary patient."""

    id: str
    email: str
    role: str
    first_name: str
    last_name: str
    password: str | None = None
    queues: list[str] = field(default_factory=list)
    invite_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The user object of login responses (no password, no internal fields)."""
        return {
            "email": self.email,
            "username": self.invite_id or "",
            "id": self.id,
            "role": self.role,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "phoneNumber": "",
            "authPhoneNumber": "",
            "viewAllQueues": False,
            "doctorClientVersion": "",
            "notifPhoneNumber": "",
            "doctorTermsVersion": "0",
            "enableNotif": False,
        }


@dataclass
class Queue:
    """A waiting queue doctors are members of."""

    id: str
    name: str


@dataclass
class Invite:
    """A patient invitation (PublicInvite of type PATIENT)."""

    id: str
    created_at: int
    updated_at: int
    first_name: str
    last_name: str
    gender: str
    phone_number: str
    email_address: str
    scheduled_for: int
    patient_language: str
    doctor_language: str
    patient_tz: str
    queue: str | None
    doctor: str | None
    invited_by: str
    invite_token: str
    status: str = "SENT"
    sent: bool = False


@dataclass
class Consultation:
    """A consultation requested by the patient of an invite."""

    id: str
    invite: str
    created_at: int
    updated_at: int
    first_name: str
    last_name: str
    gender: str
    invitation_token: str
    owner: str
    invited_by: str
    doctor: str | None
    queue: str | None
    scheduled_for: int
    status: str = "pending"
    accepted_by: str | None = None
    accepted_at: int = 0
    closed_at: int = 0


class Store:
    """All sandbox data; one per app instance."""

    def __init__(self, id_format: str = "objectid") -> None:
        self._counter = itertools.count(1)
        self.id_format = id_format
        self.users: dict[str, User] = {}
        self.queues: dict[str, Queue] = {}
        self.invites: dict[str, Invite] = {}
        self.consultations: dict[str, Consultation] = {}
        # invite id -> consultation id; kept after the invite is destroyed so that a
        # repeated close (or a close after a delete) still finds the consultation.
        self.consultation_of_invite: dict[str, str] = {}
        self.used_sso_tokens: set[str] = set()
        self.used_sso_jtis: set[str] = set()
        self.verified_sso_signatures: set[str] = set()
        queue = Queue(self.new_id(_SEED_EPOCH), QUEUE_NAME)
        self.queues[queue.id] = queue
        scheduler = User(
            self.new_id(_SEED_EPOCH),
            SCHEDULER_EMAIL,
            "scheduler",
            "Sam",
            "Scheduler",
            password=SCHEDULER_PASSWORD,
        )
        doctor = User(
            self.new_id(_SEED_EPOCH),
            DOCTOR_EMAIL,
            "doctor",
            "Dana",
            "Doctor",
            queues=[queue.id],
        )
        for user in (scheduler, doctor):
            self.users[user.id] = user
        self.queue_id = queue.id
        self.scheduler_id = scheduler.id
        self.doctor_id = doctor.id
        self.seed_user_ids = frozenset(self.users)

    def new_id(self, epoch_s: float) -> str:
        """A 24-hex ObjectId-like id (8 hex of seconds, 16 of a counter), or a UUID."""
        count = next(self._counter)
        if self.id_format == "uuid":
            return str(uuid.UUID(int=(int(epoch_s) & 0xFFFFFFFF) << 96 | count, version=4))
        return f"{int(epoch_s) & 0xFFFFFFFF:08x}{count:016x}"

    def well_formed_id(self, value: str) -> bool:
        """Whether value has the shape of this store's ids (what a database driver would parse)."""
        if self.id_format == "uuid":
            try:
                return str(uuid.UUID(value)) == value
            except ValueError:
                return False
        return len(value) == 24 and all(ch in "0123456789abcdef" for ch in value)

    def patients_of(self, invite_id: str) -> list[User]:
        """The temporary patient accounts made by logins with an invitation."""
        return [u for u in self.users.values() if u.role == "patient" and u.invite_id == invite_id]

    def inventory(self) -> dict[str, Any]:
        """Everything created since start (seed accounts and queue excluded), ids only.

        Shape (stable; tests compare it with a report's ``left_behind``)::

            {"invites": [{"id", "status"}],
             "consultations": [{"id", "status", "invite", "invite_exists"}],
             "patient_accounts": [{"id", "invite"}]}
        """
        return {
            "invites": [{"id": i.id, "status": i.status} for i in self.invites.values()],
            "consultations": [
                {
                    "id": c.id,
                    "status": c.status,
                    "invite": c.invite,
                    "invite_exists": c.invite in self.invites,
                }
                for c in self.consultations.values()
            ],
            "patient_accounts": [
                {"id": u.id, "invite": u.invite_id}
                for u in self.users.values()
                if u.role == "patient" and u.id not in self.seed_user_ids
            ],
        }

    @staticmethod
    def new_token() -> str:
        """An unguessable 64-hex invite token."""
        return secrets.token_hex(32)

    def user_by_email(self, email: str, roles: frozenset[str]) -> User | None:
        """Case-insensitive e-mail lookup restricted to roles."""
        wanted = email.strip().lower()
        for user in self.users.values():
            if user.role in roles and user.email.lower() == wanted:
                return user
        return None

    def queue_by(self, ref: str, *, by_name: bool = True, by_id: bool = True) -> Queue | None:
        """A queue by name or id, as the invite endpoint accepts either."""
        for queue in self.queues.values():
            if (by_name and queue.name == ref) or (by_id and queue.id == ref):
                return queue
        return None

    def invite_by_token(self, token: str) -> Invite | None:
        """The live invite whose patient token this is."""
        wanted = token.encode("utf-8", "surrogatepass")
        for invite in self.invites.values():
            if secrets.compare_digest(invite.invite_token.encode(), wanted):
                return invite
        return None

    def owns(self, user: User, invite: Invite) -> bool:
        """Whether user may see and manage invite (creator, its doctor, or queue member)."""
        return (
            invite.invited_by == user.id
            or (invite.doctor is not None and invite.doctor == user.id)
            or (invite.queue is not None and invite.queue in user.queues)
        )

    def consultation_for(self, invite_id: str) -> Consultation | None:
        """The consultation requested through an invite, if any."""
        cid = self.consultation_of_invite.get(invite_id)
        return self.consultations.get(cid) if cid else None
