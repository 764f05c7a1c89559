"""In-app notifications through the test client: the bell's count, its drop-down, the page
with all of them, opening one (read + follow its link), mark read / all read, and that nobody
reads somebody else's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.core.models import Notification
from voronka.sales.services import activity_create, reminders_deliver_due

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def notify(user: Any, title: str, url: str = "", **extra: Any) -> Notification:
    return Notification.objects.create(user=user, title=title, url=url, **extra)


def test_bell_counts_only_my_unread(client: Any, alice: Any, bob: Any) -> None:
    notify(alice, "One")
    notify(alice, "Two")
    notify(alice, "Old", read_at=timezone.now())
    notify(bob, "Bob's")
    client.force_login(alice)
    badge = client.get("/notifications/count/", **HTMX).content.decode()
    assert ">2<" in badge and "unread" in badge
    page = client.get("/").content.decode()
    assert 'id="vk-bell-button"' in page and "/notifications/count/" in page
    client.force_login(bob)
    assert ">1<" in client.get("/notifications/count/").content.decode()


def test_bell_count_is_empty_when_all_read_and_204_when_signed_out(client: Any, alice: Any) -> None:
    notify(alice, "Seen", read_at=timezone.now())
    client.force_login(alice)
    assert "badge" not in client.get("/notifications/count/").content.decode()
    client.logout()
    response = client.get("/notifications/count/", **HTMX)
    assert response.status_code == 204  # htmx swaps nothing; no sign-in page in the top bar
    assert client.get("/notifications/").status_code == 302


def test_count_shows_99_plus(client: Any, alice: Any) -> None:
    Notification.objects.bulk_create(Notification(user=alice, title=f"N{i}") for i in range(120))
    client.force_login(alice)
    assert ">99+<" in client.get("/notifications/count/").content.decode()


def test_menu_lists_the_latest_and_marks_all_read(client: Any, alice: Any, bob: Any) -> None:
    for i in range(10):
        notify(alice, f"Note {i}")
    notify(bob, "Secret of Bob")
    client.force_login(alice)
    menu = client.get("/notifications/menu/", **HTMX).content.decode()
    assert "Note 9" in menu and "Note 2" in menu and "Note 1<" not in menu  # the latest eight
    assert "Secret of Bob" not in menu and "Mark all as read" in menu
    response = client.post("/notifications/read-all/", {"from": "menu"}, **HTMX)
    assert response["HX-Trigger"] == "vk-notifications-changed"
    assert "Mark all as read" not in response.content.decode()
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    assert Notification.objects.get(user=bob).read_at is None


def test_empty_menu_and_page_say_what_will_appear(client: Any, alice: Any) -> None:
    client.force_login(alice)
    assert "Reminders of your tasks" in client.get("/notifications/menu/").content.decode()
    page = client.get("/notifications/").content.decode()
    assert "No notifications yet." in page and "Set a reminder" in page


def test_page_lists_all_with_unread_filter_and_pages(
    client: Any, alice: Any, bob: Any, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=alice, title=f"Note {i:02d}", read_at=now if i % 2 else None)
        for i in range(60)
    )
    notify(bob, "Secret of Bob")
    client.force_login(alice)
    # session, user, the page, its count, the bell and the inbox badge in the sidebar
    with django_assert_max_num_queries(6):
        html = client.get("/notifications/").content.decode()
    assert html.count('class="list-group-item vk-note-item') == 50
    assert "Secret of Bob" not in html and "30 unread" in html
    older = html.split('href="?cursor=')[1].split('"')[0]
    rest = client.get(f"/notifications/?cursor={older}").content.decode()
    assert rest.count('class="list-group-item vk-note-item') == 10
    unread = client.get("/notifications/?show=unread").content.decode()
    assert unread.count("vk-note-item is-unread") == 30
    assert client.get("/notifications/?cursor=garbage").status_code == 404


def test_open_marks_read_and_follows_the_link(client: Any, alice: Any) -> None:
    note = notify(alice, "Go", url="/customers/contacts/")
    evil = notify(alice, "Away", url="https://evil.example.com/")
    client.force_login(alice)
    response = client.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == "/customers/contacts/"
    note.refresh_from_db()
    assert note.read_at is not None
    response = client.get(f"/notifications/{evil.pk}/")
    assert response["Location"] == "/notifications/"  # never off-site


def test_mark_one_read_and_unread(client: Any, alice: Any) -> None:
    note = notify(alice, "Toggle")
    client.force_login(alice)
    row = client.post(f"/notifications/{note.pk}/read/", {"read": "1"}, **HTMX)
    assert "Mark as unread" in row.content.decode()
    assert row["HX-Trigger"] == "vk-notifications-changed"
    note.refresh_from_db()
    assert note.read_at is not None
    plain = client.post(f"/notifications/{note.pk}/read/", {"read": "0", "next": "/notifications/"})
    assert plain.status_code == 302
    note.refresh_from_db()
    assert note.read_at is None


def test_nobody_reads_somebody_elses_notifications(client: Any, alice: Any, bob: Any) -> None:
    theirs = notify(bob, "Bob's reminder", url="/sales/my-day/")
    client.force_login(alice)
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get("/notifications/999999/").status_code == 404
    client.post("/notifications/read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_reminder_shows_up_in_the_bell_and_the_list(client: Any, alice: Any) -> None:
    now = timezone.now()
    item = activity_create(
        actor=alice,
        data={
            "subject": "Позвонить Петрову",
            "due_at": now,
            "remind_at": now - dt.timedelta(minutes=1),
        },
    )
    assert reminders_deliver_due() == 1
    client.force_login(alice)
    assert ">1<" in client.get("/notifications/count/").content.decode()
    menu = client.get("/notifications/menu/").content.decode()
    assert "Reminder: Позвонить Петрову" in menu and "Due " in menu
    note = Notification.objects.get(user=alice)
    assert f'href="/notifications/{note.pk}/"' in menu
    assert client.get(f"/notifications/{note.pk}/")["Location"] == f"/sales/activities/{item.pk}/"


def test_context_processor_renders_the_count_without_a_request(
    client: Any, alice: Any, settings: Any
) -> None:
    templates = settings.TEMPLATES
    processors = templates[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {**templates[0], "OPTIONS": {**templates[0]["OPTIONS"], "context_processors": [
            *processors, "voronka.web.context_processors.notifications"]}},
    ]  # fmt: skip
    notify(alice, "One")
    client.force_login(alice)
    html = client.get("/").content.decode()
    bell = html.split('id="vk-bell-count"')[1].split("</button>")[0]
    assert ">1<" in bell and "load," not in bell  # drawn at once, then polled every minute
