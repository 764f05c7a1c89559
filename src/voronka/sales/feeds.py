"""The personal iCalendar feed: a user's tasks, calls and meetings for calendar apps."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from icalendar import Calendar, Event

from voronka.sales.models import Activity, ActivityKind, CalendarFeed

PAST_DAYS = 60
FUTURE_DAYS = 365


def calendar_feed_token(*, user: Any, rotate: bool = False) -> str:
    """The user's feed token, created on first use; ``rotate`` replaces it."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))
        elif rotate:
            feed.token = secrets.token_urlsafe(32)
            feed.save(update_fields=["token"])
    return feed.token


def feed_activities(user: Any) -> list[Activity]:
    now = timezone.now()
    window = Q(
        due_at__range=(now - dt.timedelta(days=PAST_DAYS), now + dt.timedelta(days=FUTURE_DAYS))
    ) | Q(
        starts_at__range=(now - dt.timedelta(days=PAST_DAYS), now + dt.timedelta(days=FUTURE_DAYS))
    )
    mine = Q(owner=user) | Q(participants=user)
    return list(Activity.objects.filter(mine & window).distinct().order_by("id")[:5000])


def render_calendar(user: Any, host: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Voronka CRM//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Voronka: {user}")
    for activity in feed_activities(user):
        event = Event()
        event.add("uid", f"activity-{activity.pk}@{host}")
        event.add("summary", activity.subject)
        start = (
            activity.starts_at
            if activity.kind == ActivityKind.MEETING and activity.starts_at
            else activity.due_at
        )
        if start is None:
            continue
        end = (
            activity.ends_at
            if activity.kind == ActivityKind.MEETING and activity.ends_at
            else start + dt.timedelta(minutes=30)
        )
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", activity.updated_at)
        if activity.place:
            event.add("location", activity.place)
        if activity.description:
            event.add("description", activity.description)
        if activity.done_at is not None:
            event.add("description", "✓")
        cal.add_component(event)
    return cal.to_ical()


def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404("no such calendar")
    body = render_calendar(feed.user, request.get_host().split(":")[0])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="voronka.ics"'
    return response
