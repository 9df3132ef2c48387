"""HCW@Home reference sandbox: a stateful, in-memory Starlette app of the documented API."""

from teleconform.sandbox.hcw._app import (
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
