"""The secret iCalendar URL serves the user's own activities to calendar apps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from icalendar import Calendar

from voronka.sales.feeds import calendar_feed_token
from voronka.sales.services import activity_create

pytestmark = pytest.mark.django_db


def test_feed_lists_my_meetings_and_tasks_only(client: Any, alice: Any, bob: Any) -> None:
    start = timezone.now() + dt.timedelta(days=1)
    activity_create(actor=alice, data={"kind": "meeting", "subject": "Встреча с ООО Ромашка", "starts_at": start,
                                       "ends_at": start + dt.timedelta(hours=1), "place": "Офис клиента"})  # fmt: skip
    activity_create(actor=alice, data={"subject": "Позвонить", "due_at": start})
    activity_create(actor=bob, data={"subject": "Чужая задача", "due_at": start})
    token = calendar_feed_token(user=alice)
    response = client.get(f"/sales/calendar/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    summaries = sorted(str(e.get("summary")) for e in cal.walk("VEVENT"))
    assert summaries == ["Встреча с ООО Ромашка", "Позвонить"]
    meeting = next(e for e in cal.walk("VEVENT") if str(e.get("summary")).startswith("Встреча"))
    assert str(meeting.get("location")) == "Офис клиента"


def test_unknown_or_rotated_token_is_404(client: Any, alice: Any) -> None:
    old = calendar_feed_token(user=alice)
    assert calendar_feed_token(user=alice) == old
    new = calendar_feed_token(user=alice, rotate=True)
    assert client.get(f"/sales/calendar/{old}.ics").status_code == 404
    assert client.get(f"/sales/calendar/{new}.ics").status_code == 200
    assert client.get("/sales/calendar/guess.ics").status_code == 404
