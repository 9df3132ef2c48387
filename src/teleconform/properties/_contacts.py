"""The contact data generated cases carry instead of generated e-mail addresses and phones.

Private helper of :mod:`teleconform.properties`.
"""

from __future__ import annotations

import os


def safe_email() -> str:
    """The e-mail address generated contact data is replaced with (TELECONFORM_SAFE_EMAIL)."""
    return safe_contacts()[0]


def safe_phone() -> str:
    """The phone number generated contact data is replaced with (TELECONFORM_SAFE_PHONE)."""
    return safe_contacts()[1]


def safe_contacts() -> tuple[str, str]:
    """(e-mail, phone) from the environment, or the defaults when it sets none or bad ones."""
    from teleconform._errors import ConfigError
    from teleconform.runner._needs import safe_contacts as from_environment

    try:
        return from_environment(os.environ)
    except ConfigError:
        from teleconform.runner._needs import DEFAULT_SAFE_EMAIL, DEFAULT_SAFE_PHONE

        return DEFAULT_SAFE_EMAIL, DEFAULT_SAFE_PHONE
