"""Seeded data and in-memory state of the Leah sandbox.

Everything is derived from a fixed seed so two sandboxes (and the printed credentials) agree.
Contact data is fictitious: e-mail addresses under example.org.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DATA_SEED = 20210122
ORGANIZATION_SLUG = "sandbox-clinic"
TRANSFER_LIFETIME = timedelta(days=7)

_FIRST_NAMES = (
    "Alice",
    "Bastien",
    "Camille",
    "David",
    "Elise",
    "Farid",
    "Gaelle",
    "Hugo",
    "Ines",
    "Jules",
    "Karima",
    "Louis",
    "Manon",
    "Nael",
    "Oceane",
)
_LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
)
_TOWNS = (
    "lyon",
    "nantes",
    "lille",
    "rennes",
    "nice",
    "brest",
    "metz",
    "dijon",
    "tours",
    "reims",
    "caen",
    "pau",
)


def seeded_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic, unlike uuid4)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(slots=True)
class HealthcareWorker:
    id: str
    seq: int
    firstname: str
    lastname: str
    email: str


@dataclass(slots=True)
class Office:
    id: str
    seq: int
    slug: str
    features: list[str]
    created_at: datetime
    worker_ids: frozenset[str]


@dataclass(slots=True)
class Appointment:
    id: str
    seq: int
    status: str
    start: datetime | None
    email: str | None
    phone: str | None
    office_id: str | None
    external_id: str | None
    created_at: datetime


@dataclass(slots=True)
class TransferFile:
    id: str
    filename: str
    size: int
    media_type: str


@dataclass(slots=True)
class Transfer:
    id: str
    seq: int
    worker_id: str
    hash: str
    created_at: datetime
    expires_at: datetime
    status: str = "in_progress"
    files: list[TransferFile] = field(default_factory=list)
    shared_with: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Delivery:
    """One attempt to deliver a webhook event to a receiver."""

    url: str
    event: str
    attempt: int
    status: int | None
    error: str | None
    at: str


@dataclass(slots=True)
class SeedData:
    api_key: str
    organization_id: str
    feature_ids: list[str]
    workers: list[HealthcareWorker]
    offices: list[Office]

    @property
    def configured_worker(self) -> HealthcareWorker:
        return self.workers[0]


def build_seed(n_workers: int = 33, n_offices: int = 35) -> SeedData:
    """The deterministic organization, API key, workers and offices."""
    rng = random.Random(DATA_SEED)
    api_key = "leah_sbx_" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
    organization_id = seeded_uuid(rng)
    feature_ids = [seeded_uuid(rng) for _ in range(4)]
    workers = []
    for i in range(n_workers):
        first = _FIRST_NAMES[i % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(i * 7) % len(_LAST_NAMES)]
        email = f"{first.lower()}.{last.lower()}{i + 1:02d}@example.org"
        workers.append(HealthcareWorker(seeded_uuid(rng), i + 1, first, last, email))
    offices = []
    base = datetime(2021, 1, 22, 14, 20, 48, tzinfo=UTC)
    for i in range(n_offices):
        # The configured worker (workers[0]) practises in several offices so that the
        # healthcareWorker.email filter returns more than one but fewer than all offices.
        linked = {workers[i % n_workers].id}
        if i % 11 == 0:
            linked.add(workers[0].id)
        features = [f for j, f in enumerate(feature_ids) if (i + j) % 3 != 0]
        offices.append(
            Office(
                id=seeded_uuid(rng),
                seq=i + 1,
                slug=f"cabinet-{_TOWNS[i % len(_TOWNS)]}-{i + 1:02d}",
                features=features,
                created_at=base + timedelta(days=i, hours=i % 5),
                worker_ids=frozenset(linked),
            )
        )
    return SeedData(api_key, organization_id, feature_ids, workers, offices)


SEED = build_seed()

# The seeded API key and worker, as the environment variables a run reads them from.
CREDENTIALS: dict[str, str] = {
    "TELECONFORM_LEAH_API_KEY": SEED.api_key,
    "TELECONFORM_LEAH_HCW_EMAIL": SEED.configured_worker.email,
}


class LeahState:
    """Mutable state of one sandbox app (appointments, transfers, webhooks)."""

    def __init__(self, seed: SeedData) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self._rng = random.Random(DATA_SEED + 1)
        self.workers_by_id = {w.id: w for w in seed.workers}
        self.workers_by_seq = {w.seq: w for w in seed.workers}
        self.offices_by_id = {o.id: o for o in seed.offices}
        self.appointments: dict[str, Appointment] = {}
        self.appointments_by_seq: dict[int, Appointment] = {}
        self.transfers: dict[str, Transfer] = {}
        self.transfers_by_seq: dict[int, Transfer] = {}
        self.webhook_urls: list[str] = []
        self.deliveries: list[Delivery] = []
        self._counter = 0

    def new_id(self) -> str:
        with self.lock:
            return seeded_uuid(self._rng)

    def next_seq(self) -> int:
        with self.lock:
            self._counter += 1
            return self._counter

    def new_hash(self, transfer_id: str) -> str:
        """A transfer hash as Leah shows it: base64 of a 64-character hex digest."""
        salt = self.new_id()
        digest = hashlib.sha256(f"{transfer_id}:{salt}".encode()).hexdigest()
        return base64.b64encode(digest.encode()).decode()

    def add_appointment(self, appointment: Appointment) -> None:
        with self.lock:
            self.appointments[appointment.id] = appointment
            self.appointments_by_seq[appointment.seq] = appointment

    def remove_appointment(self, ident: str) -> None:
        """Delete an appointment for good (a cancellation read as "permanently deleted")."""
        with self.lock:
            appointment = self.appointments.pop(ident, None)
            if appointment is not None:
                self.appointments_by_seq.pop(appointment.seq, None)

    def inventory(self) -> dict[str, list[Any]]:
        """Everything created since start that is still on the server, in creation order."""
        with self.lock:
            appointments = sorted(self.appointments.values(), key=lambda a: a.seq)
            transfers = sorted(self.transfers.values(), key=lambda t: t.seq)
            return {
                "appointments": [{"id": a.id, "status": a.status} for a in appointments],
                "transfers": [{"id": t.id, "files": len(t.files)} for t in transfers],
                "webhook_receivers": list(self.webhook_urls),
            }

    def add_transfer(self, transfer: Transfer) -> None:
        with self.lock:
            self.transfers[transfer.id] = transfer
            self.transfers_by_seq[transfer.seq] = transfer

    def record_delivery(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)
