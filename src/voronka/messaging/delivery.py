"""The delivery job: claims due queued messages and sends them, with retries and backoff.

A claim is short (one transaction: FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's IMMEDIATE
write lock otherwise) and marks the row ``sending``; the SMTP/HTTP call happens after that
transaction, so several workers never send the same row and a slow server holds no lock.
Messages are claimed one at a time, so a worker killed mid-send leaves at most one message
``sending``: it goes back to the queue after ``STALE_AFTER`` (SMTP has no idempotency key, so
if the server had already accepted it, that one message arrives twice — a rare duplicate is
better than a lost message)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from voronka.core import events
from voronka.core.models import Channel
from voronka.messaging import sms
from voronka.messaging.models import MessageChannel, MessageStatus, OutgoingMessage
from voronka.messaging.services import MESSAGE_ENTITY, _consent_problem, unsubscribe_url

log = logging.getLogger("voronka.messaging")

# Waits after the 1st, 2nd… failed attempt; after the last one the message is "failed".
BACKOFF = [
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
# Longer than one send (SMTP timeouts) plus waiting out a busy database in _finish.
STALE_AFTER = dt.timedelta(minutes=5)
FINISH_ATTEMPTS = 8  # about a minute of waiting for a busy database
SMTP_TIMEOUT = 30


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _requeue_stale(now: dt.datetime) -> None:
    OutgoingMessage.objects.filter(
        status=MessageStatus.SENDING, updated_at__lt=now - STALE_AFTER
    ).update(status=MessageStatus.QUEUED, next_attempt_at=now, updated_at=now)


def _claim(now: dt.datetime, limit: int) -> list[int]:
    with transaction.atomic():
        ids = list(
            OutgoingMessage.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        OutgoingMessage.objects.filter(pk__in=ids).update(
            status=MessageStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
    return ids


def _domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def _footer(message: OutgoingMessage, url: str) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        line = _("To stop receiving these messages, follow: %(url)s") % {"url": url}
        html = _("Unsubscribe")
    return (
        f"\n\n--\n{line}\n",
        f'<p style="font-size:12px;color:#666"><a href="{escape(url)}">{html}</a></p>',
    )


def _send_email(message: OutgoingMessage) -> str:
    text = message.body if not message.is_html else ""
    html = message.body if message.is_html else ""
    headers: dict[str, str] = {}
    msgid = make_msgid(domain=_domain())
    headers["Message-ID"] = msgid
    if message.marketing and message.contact_id:
        url = unsubscribe_url(message.contact)  # type: ignore[arg-type]
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text_footer, html_footer = _footer(message, url)
        if url not in message.body:
            text = text + text_footer if text else text
            html = html + html_footer if html else html
    if html:
        from django.utils.html import strip_tags

        text = strip_tags(html)
    email = EmailMultiAlternatives(
        subject=message.subject, body=text, to=[message.to], headers=headers,
        connection=get_connection(timeout=SMTP_TIMEOUT),
    )  # fmt: skip
    if html:
        email.attach_alternative(html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    return msgid


def _send_sms(message: OutgoingMessage) -> str:
    try:
        return sms.provider().send(message.to, message.body)
    except sms.SmsError as exc:
        raise SendError(str(exc), permanent=exc.permanent) from exc
    except ValueError as exc:  # a bad VORONKA_SMS_URL: retry after the admin fixes it
        raise SendError(str(exc)) from exc


def _finish(message: OutgoingMessage, now: dt.datetime, **fields: Any) -> None:
    """Record the outcome and its event together. An e-mail already handed to the server
    must be marked, or it would go out again after ``STALE_AFTER``: a database busy with a
    long write (SQLite has one writer) is waited for rather than given up on."""
    fields["updated_at"] = now
    name = {MessageStatus.SENT: "message.sent", MessageStatus.FAILED: "message.failed"}.get(
        fields.get("status", "")
    )

    def write() -> None:
        with transaction.atomic():
            OutgoingMessage.objects.filter(pk=message.pk).update(**fields)
            if name:
                events.publish(
                    name, entity=MESSAGE_ENTITY, entity_id=message.pk,
                    payload={"channel": message.channel, "contact_id": message.contact_id,
                             "error": fields.get("error", "")},
                    channel=Channel.SYSTEM,
                )  # fmt: skip

    for attempt in range(FINISH_ATTEMPTS):
        try:
            write()
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == FINISH_ATTEMPTS - 1:
                raise
            log.warning("message %s: database busy, recording its outcome again", message.pk)
            time.sleep(min(0.5 * 2**attempt, 8.0))


def deliver_one(message: OutgoingMessage, now: dt.datetime) -> str:
    """Send one claimed message and record the outcome; returns the new status."""
    if message.marketing and (reason := _consent_problem(message.contact, message.channel)):
        _finish(message, now, status=MessageStatus.SUPPRESSED, reason=reason)
        return MessageStatus.SUPPRESSED
    try:
        if message.channel == MessageChannel.EMAIL:
            provider_id = _send_email(message)
        else:
            provider_id = _send_sms(message)
    except SendError as exc:
        log.warning("message %s attempt %s failed: %s", message.pk, message.attempts, exc)
        if exc.permanent or message.attempts >= MAX_ATTEMPTS:
            _finish(message, now, status=MessageStatus.FAILED, error=str(exc),
                    next_attempt_at=None)  # fmt: skip
            return MessageStatus.FAILED
        _finish(message, now, status=MessageStatus.QUEUED, error=str(exc),
                next_attempt_at=now + BACKOFF[message.attempts - 1])  # fmt: skip
        return MessageStatus.QUEUED
    _finish(message, now, status=MessageStatus.SENT, sent_at=timezone.now(),
            provider_message_id=provider_id[:255], error="", next_attempt_at=None)  # fmt: skip
    return MessageStatus.SENT


def deliver_due(
    *, now: dt.datetime | None = None, limit: int = 1000, budget_seconds: float = 5.0
) -> int:
    """Send what is due, one claimed message after another, until nothing is due, ``limit``
    messages went or the time budget is spent (a burst drains in one run, not 50 per tick);
    the number sent. Safe to run from several workers: each claim uses SKIP LOCKED."""
    now = now or timezone.now()
    _requeue_stale(now)
    started = time.monotonic()
    sent = handled = 0
    while handled < limit and time.monotonic() - started < budget_seconds:
        # One at a time: a killed worker strands one message, not a batch. A failure here
        # leaves the message "sending" for STALE_AFTER, as its fate at the server is unknown.
        ids = _claim(now, 1)
        if not ids:
            break
        for message in OutgoingMessage.objects.filter(pk__in=ids).select_related("contact"):
            handled += 1
            if deliver_one(message, now) == MessageStatus.SENT:
                sent += 1
    return sent
