"""Leah webhooks: both sides of the document's webhook section.

- ``check``: deliver the LEAH-WH-02 cases to an integrator's receiver (`webhooks check URL`);
- ``listen``: receive Leah's deliveries, answer 200 and validate them (`webhooks listen`);
- ``events``: the LEAH-WH-01 validation of one delivered event.

The command lines are `teleconform.cli.webhooks`. Lazy (PEP 562): importing one module does
not load the others (``check`` loads httpx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teleconform._lazy import lazy_attributes

if TYPE_CHECKING:
    from teleconform.webhooks.check import (
        CaseResult,
        Delivery,
        ReceiverUnreachable,
        build_deliveries,
        run_cases,
    )
    from teleconform.webhooks.events import (
        EVENT_NAME,
        EventCheck,
        EventSchema,
        validate_delivery,
        validate_event,
    )
    from teleconform.webhooks.listen import EVENTS_FILE, ReceivedEvent, WebhookListener

_WHERE = {
    "CaseResult": "check",
    "Delivery": "check",
    "ReceiverUnreachable": "check",
    "build_deliveries": "check",
    "run_cases": "check",
    "EVENT_NAME": "events",
    "EventCheck": "events",
    "EventSchema": "events",
    "validate_delivery": "events",
    "validate_event": "events",
    "EVENTS_FILE": "listen",
    "ReceivedEvent": "listen",
    "WebhookListener": "listen",
}

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
    "run_cases",
    "validate_delivery",
    "validate_event",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f"{__name__}.{module}" for name, module in _WHERE.items()}
)
