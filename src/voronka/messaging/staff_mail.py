"""The e-mail copy of a reminder, for the employee it is for.

Sales writes the reminder's in-app notification and the ``activity.due`` event in one
transaction; this outbox consumer turns the event into a queued e-mail. So the e-mail is as
durable as the reminder itself: a worker killed in between redelivers the event (the receipt
makes that a no-op once the message is queued), and an SMTP outage only delays the message,
which the delivery job retries with backoff like any other. Sales need not know that messaging
exists, and the text is the notification's own, already in the employee's language."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from voronka.core.models import Notification, OutboxEvent
from voronka.messaging import services

CONSUMER = "messaging.staff_mail"
EVENTS = frozenset({"activity.due"})


def on_event(event: OutboxEvent) -> None:
    """Queue the reminder's e-mail to its owner, if the owner is active and has an address."""
    if event.name not in EVENTS:
        return
    note_id = (event.payload or {}).get("notification_id")
    note = Notification.objects.filter(pk=note_id).first() if isinstance(note_id, int) else None
    if note is None:
        return  # an event from before reminders carried their notification, or it is deleted
    user = get_user_model().objects.filter(pk=note.user_id, is_active=True).first()
    if user is None or not user.email:
        return
    link = f"{services.base_url()}{note.url}" if note.url.startswith("/") else note.url
    body = "\n\n".join(part for part in (note.body, link) if part)
    services.send_staff_email(
        to_address=user.email, subject=note.title, body=body or note.title,
        idempotency_key=f"{CONSUMER}:{event.pk}",
    )  # fmt: skip
