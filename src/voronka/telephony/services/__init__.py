"""Every write of telephony: settings (:mod:`.setup`) and call events (:mod:`.calls`)."""

from voronka.telephony.services.calls import (
    alerts_expire,
    call_event_apply,
    call_summary,
    clean_number,
    duration_text,
    hook_receive,
    ringing_dismiss,
    ringing_for,
)
from voronka.telephony.services.setup import (
    extension_delete,
    extension_set,
    integration_create,
    integration_delete,
    integration_record,
    integration_rotate_secret,
    integration_update,
    tracking_number_create,
    tracking_number_delete,
    tracking_number_update,
)

__all__ = [
    "alerts_expire",
    "call_event_apply",
    "call_summary",
    "clean_number",
    "duration_text",
    "extension_delete",
    "extension_set",
    "hook_receive",
    "integration_create",
    "integration_delete",
    "integration_record",
    "integration_rotate_secret",
    "integration_update",
    "ringing_dismiss",
    "ringing_for",
    "tracking_number_create",
    "tracking_number_delete",
    "tracking_number_update",
]
