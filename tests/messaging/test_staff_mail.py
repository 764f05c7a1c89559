"""A reminder's e-mail copy goes through the message queue: it reaches a real SMTP server in
the employee's language with a link to the task, survives an SMTP outage, and is queued once
however often its event is redelivered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.core.dispatch import dispatch_pending
from voronka.core.models import ConsumerReceipt
from voronka.messaging.models import MessageStatus, OutgoingMessage
from voronka.messaging.staff_mail import CONSUMER
from voronka.sales.services import activity_create, reminders_deliver_due

pytestmark = pytest.mark.django_db


def _task(owner: Any, subject: str) -> Any:
    """A task whose reminder fell due an hour ago."""
    now = timezone.now()
    return activity_create(actor=owner, data={
        "subject": subject, "due_at": now + dt.timedelta(hours=1),
        "remind_at": now - dt.timedelta(hours=1),
    })  # fmt: skip


def _remind(owner: Any, subject: str) -> Any:
    """A task whose reminder fell due an hour ago, delivered by the reminder job."""
    task = _task(owner, subject)
    assert reminders_deliver_due() == 1
    return task


def test_the_reminder_e_mail_reaches_the_owner_with_a_link(smtp, deliver, alice, settings) -> None:
    settings.VORONKA_BASE_URL = "https://crm.example.com"
    task = _remind(alice, "Позвонить {{ Петрову }}")  # braces are text, not a template
    assert smtp.received == []  # the reminder itself only writes the event
    dispatch_pending(only=[CONSUMER])
    assert deliver() == 1
    [mail] = smtp.messages
    assert mail["To"] == "alice@example.com"
    # Python's parser keeps the space of a folded encoded header; mail clients drop it.
    assert mail["Subject"].strip() == "Reminder: Позвонить {{ Петрову }}"
    text = mail.get_body(("plain",)).get_content()
    assert "Due " in text
    assert f"https://crm.example.com/sales/activities/{task.pk}/" in text


def test_the_e_mail_is_in_the_owner_s_language(smtp, deliver, make_user, team_a) -> None:
    olga = make_user("olga", team=team_a, language="ru")
    _remind(olga, "Отправить КП")
    dispatch_pending(only=[CONSUMER])
    assert deliver() == 1
    assert [m["Subject"].strip() for m in smtp.messages] == ["Напоминание: Отправить КП"]


def test_an_smtp_outage_delays_the_reminder_e_mail_without_losing_it(
    smtp_down: Any, deliver: Any, alice: Any
) -> None:
    _remind(alice, "Встреча с ООО Ромашка")
    dispatch_pending(only=[CONSUMER])
    assert deliver() == 0
    message = OutgoingMessage.objects.get(to="alice@example.com")
    assert message.status == MessageStatus.QUEUED and message.error
    smtp_down.start()
    assert deliver(now=timezone.now() + dt.timedelta(minutes=2)) == 1
    assert [m["Subject"].strip() for m in smtp_down.messages] == ["Reminder: Встреча с ООО Ромашка"]


def test_a_redelivered_event_queues_the_e_mail_once(smtp, deliver, alice) -> None:
    _remind(alice, "Счёт")
    dispatch_pending(only=[CONSUMER])
    # A worker killed after queueing but before its receipt: the event comes again.
    ConsumerReceipt.objects.filter(consumer=CONSUMER).delete()
    dispatch_pending(only=[CONSUMER])
    assert OutgoingMessage.objects.filter(to="alice@example.com").count() == 1
    assert deliver() == 1 and len(smtp.received) == 1


def test_no_e_mail_for_an_owner_without_an_address_or_no_longer_active(
    smtp, deliver, alice, bob
) -> None:
    _task(alice, "A")
    _task(bob, "B")
    type(alice).objects.filter(pk=alice.pk).update(email="")
    type(bob).objects.filter(pk=bob.pk).update(is_active=False)  # left the company since
    assert reminders_deliver_due() == 2  # both still get the in-app notification
    dispatch_pending(only=[CONSUMER])
    assert not OutgoingMessage.objects.exists()
    assert deliver() == 0 and smtp.received == []
