"""Leah reference sandbox: an in-memory API Platform JSON-LD/Hydra API as Leah documents it."""

from teleconform.sandbox.leah._app import (
    CREDENTIALS,
    FAULTS,
    PROFILES,
    READINGS,
    create_app,
    inventory,
    resolve,
)

__all__ = [
    "create_app",
    "CREDENTIALS",
    "FAULTS",
    "inventory",
    "PROFILES",
    "READINGS",
    "resolve",
]
