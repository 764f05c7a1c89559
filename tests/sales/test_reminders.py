"""Reminders are delivered once, also when they fell due while no worker ran."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.core.models import Notification, OutboxEvent
from voronka.sales.services import activity_create, activity_update, reminders_deliver_due

pytestmark = pytest.mark.django_db


def test_a_due_reminder_is_delivered_once(alice: Any) -> None:
    now = timezone.now()
    task = activity_create(actor=alice, data={"subject": "Позвонить Петрову", "due_at": now + dt.timedelta(hours=1),
                                              "remind_at": now + dt.timedelta(minutes=5)})  # fmt: skip
    assert reminders_deliver_due(now=now) == 0
    later = now + dt.timedelta(hours=3)  # the worker was down over the reminder time
    assert reminders_deliver_due(now=later) == 1
    assert reminders_deliver_due(now=later + dt.timedelta(minutes=1)) == 0
    notes = Notification.objects.filter(user=alice)
    assert notes.count() == 1 and "Позвонить Петрову" in notes.get().title
    [event] = OutboxEvent.objects.filter(name="activity.due", entity_id=task.pk)
    # What messaging needs for the e-mail copy (tests/messaging/test_staff_mail.py sends it).
    assert event.payload["notification_id"] == notes.get().pk
    assert event.payload["url"] == f"/sales/activities/{task.pk}/"
    assert event.payload["due_at"] == task.due_at.isoformat()


def test_moving_the_reminder_fires_it_again(alice: Any) -> None:
    now = timezone.now()
    task = activity_create(
        actor=alice, data={"subject": "X", "remind_at": now - dt.timedelta(minutes=1)}
    )
    assert reminders_deliver_due(now=now) == 1
    activity_update(
        actor=alice, activity=task, changes={"remind_at": now + dt.timedelta(minutes=10)}
    )
    assert reminders_deliver_due(now=now + dt.timedelta(minutes=11)) == 1
    assert Notification.objects.filter(user=alice).count() == 2


def test_done_tasks_are_not_reminded(alice: Any) -> None:
    from voronka.sales.services import activity_complete

    now = timezone.now()
    task = activity_create(actor=alice, data={"subject": "X", "remind_at": now})
    activity_complete(actor=alice, activity=task)
    assert reminders_deliver_due(now=now + dt.timedelta(minutes=1)) == 0
