"""Every write of the channels domain: web forms, their submissions, inbound lead sources."""

from voronka.channels.services.forms import web_form_create, web_form_delete, web_form_update
from voronka.channels.services.sources import (
    inbound_lead_receive,
    lead_source_create,
    lead_source_delete,
    lead_source_rotate_secret,
    lead_source_update,
    secret_matches,
)
from voronka.channels.services.submissions import SpamDetected, Visit, form_submit

__all__ = [
    "SpamDetected",
    "Visit",
    "form_submit",
    "inbound_lead_receive",
    "lead_source_create",
    "lead_source_delete",
    "lead_source_rotate_secret",
    "lead_source_update",
    "secret_matches",
    "web_form_create",
    "web_form_delete",
    "web_form_update",
]
