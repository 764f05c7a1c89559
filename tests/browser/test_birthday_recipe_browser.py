"""Issue 6's first acceptance point in Chromium: an administrator installs the birthday
recipe with one click; the worker's jobs run; a contact whose birthday is today gets the
greeting once at a real SMTP server on 127.0.0.1, and the card's timeline shows it."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.helpers import sign_in
from tests.messaging.conftest import Smtp, free_port, point_email_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
_clock = itertools.count(1)


def run_worker_jobs() -> None:
    """One pass of every periodic job, as `voronka worker` runs them (each as if due)."""
    from voronka.core import periodic

    periodic.run_due(now=time.monotonic() + 10**6 * next(_clock))


def test_birthday_recipe_greets_once_and_shows_on_the_card(
    page: Any, live_server: Any, admin: Any, alice: Any, password: str, settings: Any,
    make_contact: Any,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    smtp = Smtp(port=free_port())
    smtp.start()
    try:
        point_email_url(settings, f"smtp://127.0.0.1:{smtp.port}")
        today = timezone.localdate()
        born = today.replace(year=1990) if not (today.month == 2 and today.day == 29) else today
        hero = make_contact(alice, first_name="Вера", last_name="Именинница",
                            emails=[{"email": "vera@example.com"}], birthday=born,
                            email_consent=True)  # fmt: skip
        make_contact(alice, first_name="Пётр", last_name="Завтрашний",
                     emails=[{"email": "petr@example.com"}], email_consent=True,
                     birthday=born - timezone.timedelta(days=1))  # fmt: skip

        sign_in(page, live_server.url, "admin", password)
        page.goto(f"{live_server.url}/automation/recipes/")
        card = page.locator("section", has=page.get_by_role("heading", name="Birthday greeting"))
        card.get_by_role("button", name="Install").click()
        expect(page.get_by_text("Birthday greeting").first).to_be_visible()

        for _ in range(3):  # the worker runs its jobs again and again: still one e-mail
            run_worker_jobs()
        assert [m["To"] for m in smtp.messages] == ["vera@example.com"]
        # The site speaks Russian by default, so the greeting goes out in Russian.
        assert smtp.messages[0]["Subject"] == "С днём рождения, Вера!"

        page.goto(f"{live_server.url}/customers/contacts/{hero.pk}/")
        expect(page.get_by_text("С днём рождения, Вера!").first).to_be_visible()
        page.screenshot(path="/tmp/w/shots/birthday-card.png", full_page=True)
    finally:
        smtp.stop()
