"""Credentials and target data (the `needs` of clauses) from the environment and flags."""

from __future__ import annotations

import re
from collections.abc import Mapping

from teleconform._errors import ConfigError

NEED_ENV: dict[str, str] = {
    "hcw.email": "TELECONFORM_HCW_EMAIL",
    "hcw.password": "TELECONFORM_HCW_PASSWORD",
    "hcw.doctor_email": "TELECONFORM_HCW_DOCTOR_EMAIL",
    "hcw.queue": "TELECONFORM_HCW_QUEUE",
    "hcw.sso_secret": "TELECONFORM_HCW_SSO_SECRET",
    "leah.api_key": "TELECONFORM_LEAH_API_KEY",
    "leah.hcw_email": "TELECONFORM_LEAH_HCW_EMAIL",
}
ENV_NEED = {env: need for need, env in NEED_ENV.items()}
PAIRS = (("hcw.email", "hcw.password"),)
EMAIL_NEEDS = ("hcw.email", "hcw.doctor_email", "leah.hcw_email")
FLAG_NEEDS = (
    "hcw.allow_writes",
    "leah.allow_writes",
    "leah.webhook_events",
    "leah.webhook_receiver",
)
ALL_NEEDS = (*NEED_ENV, *FLAG_NEEDS)

SAFE_EMAIL_ENV = "TELECONFORM_SAFE_EMAIL"
SAFE_PHONE_ENV = "TELECONFORM_SAFE_PHONE"
DEFAULT_SAFE_EMAIL = "teleconform-probe@example.org"
DEFAULT_SAFE_PHONE = "+15555550100"  # NANP fictitious range 555-0100..0199

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def needs_from_env(env: Mapping[str, str], api: str | None = None) -> dict[str, str]:
    """Read the CONTRACT variables; an empty string counts as absent. Raises ConfigError."""
    values: dict[str, str] = {}
    for need, var in NEED_ENV.items():
        if api and not need.startswith(api + "."):
            continue
        value = env.get(var, "").strip()
        if value:
            values[need] = value
    for first, second in PAIRS:
        if (first in values) != (second in values):
            if api and not first.startswith(api + "."):
                continue
            given, missing = (first, second) if first in values else (second, first)
            raise ConfigError(
                f"{NEED_ENV[given]} is set but {NEED_ENV[missing]} is not: give both or neither"
            )
    for need in EMAIL_NEEDS:
        if need in values and not _EMAIL.match(values[need]):
            raise ConfigError(f"{NEED_ENV[need]} is not an e-mail address")
    return values


def safe_contacts(env: Mapping[str, str]) -> tuple[str, str]:
    """Contact data that may receive an SMS or e-mail during a run."""
    email = env.get(SAFE_EMAIL_ENV, "").strip() or DEFAULT_SAFE_EMAIL
    phone = env.get(SAFE_PHONE_ENV, "").strip() or DEFAULT_SAFE_PHONE
    if not _EMAIL.match(email):
        raise ConfigError(f"{SAFE_EMAIL_ENV} is not an e-mail address")
    if not _PHONE.match(phone):
        raise ConfigError(f"{SAFE_PHONE_ENV} is not an E.164 phone number (+ and digits)")
    return email, phone
