"""Activities and reminders in a real browser: plan a task with a reminder from a contact's
card, let the reminder fall due, see it in the bell, open it, and tick the task off in my day.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"activities-{name}")


def test_task_with_a_reminder_rings_the_bell(
    page: Any, live_server: Any, alice: Any, make_contact: Any, password: str
) -> None:
    from django.utils import timezone
    from playwright.sync_api import expect

    from voronka.core.models import Notification
    from voronka.sales.models import Activity
    from voronka.sales.services import reminders_deliver_due

    contact = make_contact(alice, last_name="Петров", first_name="Иван")
    base = live_server.url
    sign_in(page, base, "alice", password)
    bell = page.locator("#vk-bell-count")
    expect(page.locator("#vk-bell-button")).to_be_visible()
    expect(bell.locator(".badge")).to_have_count(0)

    # Plan a task on the contact's card, due now, reminded at the due time.
    page.goto(f"{base}/customers/contacts/{contact.pk}/")
    panel = page.locator(f"#activities-contact-{contact.pk}")
    expect(panel).to_contain_text("Nothing planned")
    panel.get_by_label("Title").fill("Позвонить Петрову")
    panel.get_by_label("When").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    panel.get_by_label("Reminder").select_option("due")
    panel.get_by_role("button", name="Add").click()
    row = panel.locator("li", has_text="Позвонить Петрову")
    expect(row).to_be_visible()  # the panel re-drew itself in place
    expect(panel.get_by_label("Title")).to_have_value("")
    task = Activity.objects.get(subject="Позвонить Петрову")
    assert task.contact_id == contact.pk and task.remind_at == task.due_at
    _shot(page, "panel")

    # The worker's job, run here: the reminder becomes a notification.
    assert reminders_deliver_due() == 1
    page.reload()
    expect(bell).to_contain_text("1")
    page.locator("#vk-bell-button").click()
    menu = page.locator("#vk-bell-menu")
    link = menu.get_by_role("link", name="Reminder: Позвонить Петрову")
    expect(link).to_be_visible()
    _shot(page, "bell")
    link.click()
    page.wait_for_url(f"{base}/sales/activities/{task.pk}/")
    expect(page.get_by_role("heading", name="Позвонить Петрову")).to_be_visible()
    expect(page.get_by_role("link", name="Петров Иван")).to_be_visible()
    expect(bell.locator(".badge")).to_have_count(0)  # opening it marked it read
    assert Notification.objects.get(user=alice).read_at is not None

    # Tick it off in my day, without a reload.
    page.goto(f"{base}/sales/my-day/")
    overdue = page.locator("#day-overdue")  # due this minute, so already past
    expect(overdue).to_contain_text("Позвонить Петрову")
    _shot(page, "my-day")
    page.get_by_role("button", name="Mark “Позвонить Петрову” as done").click()
    expect(page.get_by_role("button", name="Open “Позвонить Петрову” again")).to_be_visible()
    task.refresh_from_db()
    assert task.done_at is not None


def test_calendar_link_and_notifications_page_on_a_phone(
    page: Any, live_server: Any, alice: Any, password: str
) -> None:
    from playwright.sync_api import expect

    from voronka.core.models import Notification

    Notification.objects.create(user=alice, title="Сделка выиграна", url="/sales/my-day/")
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base, "alice", password)
    page.goto(f"{base}/sales/my-day/")
    expect(page.get_by_text("Your day is clear.")).to_be_visible()
    page.get_by_role("button", name="Get my calendar link").click()
    field = page.get_by_label("Your calendar link")
    expect(field).to_have_value(f"{base}/sales/calendar/" + field.input_value().rsplit("/", 1)[1])
    old = field.input_value()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Make a new link").click()
    expect(field).not_to_have_value(old)
    _shot(page, "calendar-phone")
    page.goto(f"{base}/notifications/")
    expect(page.locator("#vk-bell-count")).to_contain_text("1")
    page.get_by_role("button", name="Mark as read: Сделка выиграна").click()
    expect(page.get_by_role("button", name="Mark as unread: Сделка выиграна")).to_be_visible()
    expect(page.locator("#vk-bell-count .badge")).to_have_count(0)  # the bell heard it
    expect(page.locator("#vk-notes-head")).not_to_contain_text("unread")  # and the header
    _shot(page, "notifications-phone")
