"""Activity pages through Django's test client: the task/call/meeting form with its errors and
local times, completing and deleting, my day with a manager's view of a team member, the
activities panel of deals, leads, contacts and companies, and the calendar link box."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from voronka.core.models import Notification, OutboxEvent
from voronka.sales.models import Activity, CalendarFeed, Deal, Lead
from voronka.sales.services import (
    activity_create,
    deal_create,
    lead_create,
    reminders_deliver_due,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_deal(owner: Any, **data: Any) -> Deal:
    data.setdefault("title", "Поставка стульев")
    data.setdefault("owner_id", owner.pk)
    return deal_create(actor=owner, data=data)


def make_lead(owner: Any, **data: Any) -> Lead:
    data.setdefault("last_name", "Сидоров")
    data.setdefault("owner_id", owner.pk)
    return lead_create(actor=owner, data=data)


def task(owner: Any, subject: str = "Позвонить", **data: Any) -> Activity:
    return activity_create(actor=owner, data={"subject": subject, **data})


def local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def error_of(html: str, input_id: str) -> str:
    """The text of the error shown next to an input (``<div id="<input>_error">``)."""
    found = re.search(rf'id="{input_id}_error">([^<]*)<', html)
    return found.group(1) if found else ""


# --- the form -----------------------------------------------------------------------------------


def test_new_call_on_a_contact_in_local_time_with_reminder_shortcut(
    client: Any, alice: Any, make_contact: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Moscow"
    contact = make_contact(alice)
    client.force_login(alice)
    page = client.get(f"/sales/activities/new/?contact={contact.pk}&kind=call")
    html = page.content.decode()
    assert page.status_code == 200
    assert str(contact) in html  # what the call is about
    assert 'value="call" id="id_kind_call" autocomplete="off" checked' in html
    response = client.post(
        f"/sales/activities/new/?contact={contact.pk}",
        {
            "contact_id": contact.pk, "kind": "call", "subject": "Обсудить счёт",
            "owner_id": alice.pk, "due_at": "2030-01-10T10:00", "remind": "15m",
            "call_direction": "outgoing", "call_duration": "5:30", "call_result": "Перезвонит",
            "recording_url": "https://pbx.example.com/rec/1.mp3",
        },
    )  # fmt: skip
    call = Activity.objects.get(subject="Обсудить счёт")
    assert response.status_code == 302 and response["Location"] == f"/sales/activities/{call.pk}/"
    assert call.contact_id == contact.pk and call.owner_id == alice.pk
    assert call.due_at == dt.datetime(2030, 1, 10, 7, 0, tzinfo=dt.UTC)  # 10:00 in Moscow
    assert call.remind_at == call.due_at - dt.timedelta(minutes=15)
    assert (call.call_direction, call.call_duration) == ("outgoing", 330)
    detail = client.get(response["Location"]).content.decode()
    assert "Обсудить счёт" in detail and "5:30" in detail and "Перезвонит" in detail
    form = client.get(f"/sales/activities/{call.pk}/edit/").content.decode()
    assert 'value="2030-01-10T10:00"' in form  # shown again in local time
    assert '<option value="15m" selected>' in form


def test_form_errors_are_shown_next_to_their_fields_and_nothing_is_written(
    client: Any, alice: Any
) -> None:
    client.force_login(alice)
    response = client.post(
        "/sales/activities/new/", {"kind": "task", "subject": "  ", "due_at": "2030-01-10T10:00"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert error_of(html, "id_subject") == "must be 1 to 255 characters"
    assert 'value="2030-01-10T10:00"' in html  # what was typed stays
    response = client.post(
        "/sales/activities/new/", {"kind": "task", "subject": "X", "remind": "1h"}
    )
    assert "Set a due time first" in error_of(response.content.decode(), "id_remind")
    # Every problem is named at once, those only the form sees and those the service sees.
    response = client.post(
        "/sales/activities/new/",
        {"kind": "call", "subject": "", "call_duration": "five", "recording_url": "nope"},
    )
    html = response.content.decode()
    assert "minutes:seconds" in error_of(html, "id_call_duration")
    assert error_of(html, "id_subject") == "must be 1 to 255 characters"
    assert error_of(html, "id_recording_url") == "not a valid URL"
    response = client.post(
        "/sales/activities/new/",
        {"kind": "meeting", "subject": "X", "starts_at": "2030-01-10T10:00",
         "ends_at": "2030-01-10T09:00", "remind": "custom", "remind_at": ""},
    )  # fmt: skip
    html = response.content.decode()
    assert error_of(html, "id_ends_at") == "the meeting ends before it starts"
    assert error_of(html, "id_remind_at") == "Choose when to remind you."
    # The form's own problem alone: the service would accept the rest, yet nothing is written.
    response = client.post(
        "/sales/activities/new/", {"kind": "call", "subject": "Valid", "call_duration": "1:99"}
    )
    assert response.status_code == 400
    assert "minutes:seconds" in error_of(response.content.decode(), "id_call_duration")
    response = client.post(
        "/sales/activities/new/",
        {"kind": "call", "subject": "X", "recording_url": "not a url", "due_at": "soon"},
    )
    html = response.content.decode()
    assert error_of(html, "id_recording_url") == "not a valid URL"
    assert error_of(html, "id_due_at").startswith("must be a date and time")
    assert not Activity.objects.exists()
    assert not OutboxEvent.objects.filter(name="activity.created").exists()


def test_meeting_with_participants_and_custom_reminder(
    client: Any, alice: Any, bob: Any, make_company: Any
) -> None:
    company = make_company(alice)
    client.force_login(alice)
    response = client.post(
        "/sales/activities/new/",
        {"company_id": company.pk, "kind": "meeting", "subject": "Встреча", "owner_id": alice.pk,
         "starts_at": "2030-02-01T15:00", "ends_at": "2030-02-01T16:30", "place": "Офис",
         "participant_ids": [bob.pk], "remind": "custom", "remind_at": "2030-02-01T09:00"},
    )  # fmt: skip
    assert response.status_code == 302
    meeting = Activity.objects.get()
    assert meeting.company_id == company.pk and meeting.place == "Офис"
    assert meeting.due_at == meeting.starts_at  # a meeting is due when it starts
    assert list(meeting.participants.all()) == [bob]
    assert local(meeting.remind_at) == "2030-02-01T09:00"
    html = client.get(f"/sales/activities/{meeting.pk}/").content.decode()
    assert "Bob" in html and "Офис" in html


def test_edit_keeps_a_delivered_reminder_unless_it_moves(client: Any, alice: Any) -> None:
    now = timezone.now()
    item = task(
        alice, due_at=now + dt.timedelta(minutes=10), remind_at=now - dt.timedelta(minutes=5)
    )
    assert reminders_deliver_due(now=now) == 1
    client.force_login(alice)
    form = client.get(f"/sales/activities/{item.pk}/edit/").content.decode()
    assert '<option value="15m" selected>' in form
    post = {"kind": "task", "subject": "Позвонить снова", "owner_id": alice.pk,
            "due_at": local(item.due_at), "remind": "15m"}  # fmt: skip
    assert client.post(f"/sales/activities/{item.pk}/edit/", post).status_code == 302
    item.refresh_from_db()
    assert item.subject == "Позвонить снова" and item.reminded_at is not None
    post["remind"] = "1h"
    client.post(f"/sales/activities/{item.pk}/edit/", post)
    item.refresh_from_db()
    assert item.reminded_at is None  # a new reminder time fires again
    bad = client.post(f"/sales/activities/{item.pk}/edit/", {**post, "subject": ""})
    assert bad.status_code == 400
    assert error_of(bad.content.decode(), "id_subject") == "must be 1 to 255 characters"


def test_complete_reopen_and_delete(client: Any, alice: Any) -> None:
    item = task(alice, due_at=timezone.now() + dt.timedelta(hours=1))
    client.force_login(alice)
    row = client.post(f"/sales/activities/{item.pk}/complete/", {"done": "1"}, **HTMX)
    html = row.content.decode()
    assert row.status_code == 200 and "vk-act-done" in html and "Open “Позвонить” again" in html
    assert row["HX-Trigger"] == "timeline-changed"
    item.refresh_from_db()
    assert item.done_at is not None
    plain = client.post(
        f"/sales/activities/{item.pk}/complete/", {"done": "0", "next": "/sales/my-day/"}
    )
    assert plain.status_code == 302 and plain["Location"] == "/sales/my-day/"
    item.refresh_from_db()
    assert item.done_at is None
    assert (
        "Delete “Позвонить”?" in client.get(f"/sales/activities/{item.pk}/delete/").content.decode()
    )
    assert client.post(f"/sales/activities/{item.pk}/delete/").status_code == 302
    assert not Activity.objects.filter(pk=item.pk).exists()


@pytest.mark.parametrize("who, status", [("alice", 200), ("bob", 404), ("charlie", 404)])
def test_an_activity_is_only_reachable_by_who_may_see_it(
    client: Any, request: Any, alice: Any, who: str, status: int
) -> None:
    item = task(alice)
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/sales/activities/{item.pk}/").status_code == status
    assert client.get(f"/sales/activities/{item.pk}/edit/").status_code == status
    done = client.post(f"/sales/activities/{item.pk}/complete/", {"done": "1"})
    assert done.status_code == (302 if status == 200 else 404)
    item.refresh_from_db()
    assert (item.done_at is not None) == (status == 200)


def test_read_only_role_may_look_but_not_write(
    client: Any, alice: Any, make_user: Any, make_contact: Any
) -> None:
    viewer = make_user("viewer", role="read_only")
    contact = make_contact(alice)
    item = task(alice, contact_id=contact.pk)
    client.force_login(viewer)
    assert client.get(f"/sales/activities/{item.pk}/").status_code == 200
    panel = client.get(f"/sales/activities/contact/{contact.pk}/")
    assert panel.status_code == 200 and "Mark “Позвонить” as done" not in panel.content.decode()
    assert client.get("/sales/activities/new/").status_code == 403
    assert client.post(f"/sales/activities/{item.pk}/complete/").status_code == 403
    assert (
        client.post(f"/sales/activities/contact/{contact.pk}/", {"subject": "X"}).status_code == 403
    )
    assert client.post("/sales/my-day/", {"subject": "X"}).status_code == 403
    assert Activity.objects.count() == 1


# --- my day -------------------------------------------------------------------------------------


def test_my_day_sections_with_linked_records(
    client: Any, alice: Any, bob: Any, make_contact: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    contact = make_contact(alice, last_name="Петров")
    deal = make_deal(alice, title="Стулья для офиса")
    task(alice, "Просрочено", due_at=now - dt.timedelta(hours=30), contact_id=contact.pk)
    task(alice, "Скоро", due_at=now + dt.timedelta(minutes=1), deal_id=deal.pk)
    task(alice, "Через три дня", due_at=now + dt.timedelta(days=3))
    task(alice, "Через месяц", due_at=now + dt.timedelta(days=30))
    task(alice, "Уже сделано", due_at=now - dt.timedelta(hours=1))
    Activity.objects.filter(subject="Уже сделано").update(done_at=now)
    task(bob, "Задача Боба", due_at=now + dt.timedelta(minutes=1))
    client.force_login(alice)
    with django_assert_max_num_queries(11):  # the same for 5 rows or 300 (with the inbox badge)
        html = client.get("/sales/my-day/").content.decode()

    def section(key: str) -> str:
        return html.split(f'id="day-{key}"')[1].split("</section>")[0]

    assert "Просрочено" in section("overdue") and "Петров" in section("overdue")
    assert f'href="/customers/contacts/{contact.pk}/"' in section("overdue")
    assert "Скоро" in section("today") and "Стулья для офиса" in section("today")
    assert "Через три дня" in section("upcoming")
    assert "Через месяц" not in html and "Уже сделано" not in html and "Задача Боба" not in html
    assert "Mark “Скоро” as done" in html
    assert "Subscribe in your calendar" in html


def test_my_day_empty_state_and_quick_add(client: Any, alice: Any) -> None:
    client.force_login(alice)
    html = client.get("/sales/my-day/").content.decode()
    assert "Your day is clear." in html and "plan the next call or meeting" in html
    response = client.post(
        "/sales/my-day/",
        {"kind": "task", "subject": "Написать Иванову", "due_at": local(timezone.now() + dt.timedelta(hours=1)),
         "remind": "due"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/sales/my-day/"
    item = Activity.objects.get()
    assert item.owner_id == alice.pk and item.remind_at == item.due_at
    assert "Написать Иванову" in client.get("/sales/my-day/").content.decode()
    bad = client.post("/sales/my-day/", {"kind": "task", "subject": ""})
    assert bad.status_code == 400
    assert error_of(bad.content.decode(), "id_subject_day") == "must be 1 to 255 characters"


def test_a_head_of_sales_looks_at_a_team_members_day(
    client: Any, alice: Any, bob: Any, charlie: Any, make_user: Any, team_a: Any, set_scope: Any
) -> None:
    set_scope("head_of_sales", "team")
    olga = make_user("olga", role="head_of_sales", team=team_a)
    soon = timezone.now() + dt.timedelta(hours=1)
    task(alice, "Задача Алисы", due_at=soon)
    task(charlie, "Задача Чарли", due_at=soon)
    client.force_login(olga)
    html = client.get("/sales/my-day/").content.decode()
    assert 'name="user"' in html
    assert f'<option value="{alice.pk}">Alice</option>' in html
    assert "Charlie" not in html  # another team: outside her visibility
    theirs = client.get(f"/sales/my-day/?user={alice.pk}").content.decode()
    assert "Day of Alice" in theirs and "Задача Алисы" in theirs
    assert "Subscribe in your calendar" not in theirs  # the feed box is personal
    assert client.get(f"/sales/my-day/?user={charlie.pk}").status_code == 404
    assert client.get("/sales/my-day/?user=x").status_code == 404
    added = client.post(f"/sales/my-day/?user={alice.pk}", {"kind": "task", "subject": "От Ольги"})
    assert (
        added.status_code == 302 and Activity.objects.get(subject="От Ольги").owner_id == alice.pk
    )
    # A rep with scope "own" has no filter and cannot peek.
    client.force_login(alice)
    assert 'name="user"' not in client.get("/sales/my-day/").content.decode()
    assert client.get(f"/sales/my-day/?user={bob.pk}").status_code == 404


# --- panels on record cards -----------------------------------------------------------------------


def _records(alice: Any, make_contact: Any, make_company: Any) -> dict[str, Any]:
    return {
        "deal": make_deal(alice),
        "lead": make_lead(alice),
        "contact": make_contact(alice),
        "company": make_company(alice),
    }


@pytest.mark.parametrize("kind", ["deal", "lead", "contact", "company"])
def test_panel_lists_open_and_done_and_adds_from_quick_form(
    client: Any, alice: Any, make_contact: Any, make_company: Any, kind: str
) -> None:
    record = _records(alice, make_contact, make_company)[kind]
    task(
        alice, "Открытая", due_at=timezone.now() + dt.timedelta(days=1), **{f"{kind}_id": record.pk}
    )
    done = task(alice, "Закрытая", **{f"{kind}_id": record.pk})
    Activity.objects.filter(pk=done.pk).update(done_at=timezone.now())
    task(alice, "Чужая запись")
    client.force_login(alice)
    url = reverse(f"sales:{kind}_activities", args=[record.pk])
    html = client.get(url).content.decode()
    assert html.startswith('<section class="card vk-section mb-3')
    assert "Открытая" in html and "Закрытая" in html and "Чужая запись" not in html
    assert html.index("Открытая") < html.index("Recently done") < html.index("Закрытая")
    response = client.post(
        url,
        {"kind": "meeting", "subject": "Презентация", "due_at": "2030-03-03T12:00", "remind": "1d"},
        **HTMX,
    )
    assert response.status_code == 200 and "Презентация" in response.content.decode()
    assert response["HX-Trigger"] == "timeline-changed"
    meeting = Activity.objects.get(subject="Презентация")
    assert getattr(meeting, f"{kind}_id") == record.pk and meeting.kind == "meeting"
    assert meeting.starts_at == meeting.due_at
    assert meeting.remind_at == meeting.due_at - dt.timedelta(days=1)
    bad = client.post(url, {"kind": "task", "subject": ""}, **HTMX)
    assert bad.status_code == 200  # htmx swaps the panel with the error in it
    assert (
        error_of(bad.content.decode(), f"id_subject_{kind}{record.pk}")
        == "must be 1 to 255 characters"
    )
    plain = client.post(url, {"kind": "task", "subject": ""})
    assert plain.status_code == 400


@pytest.mark.parametrize("kind", ["deal", "lead", "contact", "company"])
def test_panel_of_a_record_one_may_not_see_is_404(
    client: Any, alice: Any, bob: Any, make_contact: Any, make_company: Any, kind: str
) -> None:
    record = _records(alice, make_contact, make_company)[kind]
    task(alice, "Секрет", **{f"{kind}_id": record.pk})
    client.force_login(bob)
    url = reverse(f"sales:{kind}_activities", args=[record.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "task", "subject": "Взлом"}).status_code == 404
    assert client.get(reverse(f"sales:{kind}_activities", args=[999999])).status_code == 404
    assert client.get(f"/sales/activities/new/?{kind}={record.pk}").status_code == 404
    assert not Activity.objects.filter(subject="Взлом").exists()


def test_new_form_refuses_a_hidden_link_posted_by_hand(
    client: Any, alice: Any, bob: Any, make_contact: Any
) -> None:
    theirs = make_contact(bob)
    client.force_login(alice)
    response = client.post("/sales/activities/new/", {"subject": "X", "contact_id": theirs.pk})
    assert response.status_code == 404
    assert not Activity.objects.exists()


# --- the calendar feed box ------------------------------------------------------------------------


def test_calendar_link_on_demand_and_regenerated(client: Any, alice: Any) -> None:
    task(alice, "В календарь", due_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(alice)
    html = client.get("/sales/my-day/").content.decode()
    assert "Get my calendar link" in html and not CalendarFeed.objects.exists()
    box = client.post("/sales/my-day/calendar/", {"action": "create"}, **HTMX).content.decode()
    old = CalendarFeed.objects.get(user=alice).token
    old_url = f"/sales/calendar/{old}.ics"
    assert f"http://testserver{old_url}" in box and f"webcal://testserver{old_url}" in box
    assert "From URL" in box  # how to add it
    assert "BEGIN:VCALENDAR" in client.get(old_url).content.decode()
    assert old_url in client.get("/sales/my-day/").content.decode()
    response = client.post("/sales/my-day/calendar/", {"action": "rotate"})
    assert response.status_code == 302
    new = CalendarFeed.objects.get(user=alice).token
    assert new != old
    client.logout()
    assert client.get(old_url).status_code == 404
    assert client.get(f"/sales/calendar/{new}.ics").status_code == 200


def test_reminder_notification_opens_the_activity(client: Any, alice: Any) -> None:
    item = task(alice, "Перезвонить", remind_at=timezone.now() - dt.timedelta(minutes=1))
    reminders_deliver_due()
    note = Notification.objects.get(user=alice)
    client.force_login(alice)
    response = client.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/sales/activities/{item.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "Перезвонить" in html and "(sent)" in html
