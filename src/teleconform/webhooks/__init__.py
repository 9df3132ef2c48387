"""Leah webhooks: both sides of the document's webhook section.

- ``check``: deliver the LEAH-WH-02 cases to an integrator's receiver (`webhooks check URL`);
- ``listen``: receive Leah's deliveries, answer 200 and validate them (`webhooks listen`);
- ``events``: the LEAH-WH-01 validation of one delivered event.
"""

from __future__ import annotations

from teleconform.webhooks.check import (
    CaseResult,
    Delivery,
    ReceiverUnreachable,
    build_deliveries,
    check_main,
    run_cases,
)
from teleconform.webhooks.events import (
    EVENT_NAME,
    EventCheck,
    EventSchema,
    validate_delivery,
    validate_event,
)
from teleconform.webhooks.listen import EVENTS_FILE, ReceivedEvent, WebhookListener, listen_main

__all__ = [
    "EVENTS_FILE",
    "EVENT_NAME",
    "CaseResult",
    "Delivery",
    "EventCheck",
    "EventSchema",
    "ReceivedEvent",
    "ReceiverUnreachable",
    "WebhookListener",
    "build_deliveries",
    "check_main",
    "listen_main",
    "run_cases",
    "validate_delivery",
    "validate_event",
]
