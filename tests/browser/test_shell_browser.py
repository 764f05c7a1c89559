"""The shell in a real browser: sign in with the form, search with the keyboard, switch language.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.helpers import sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_sign_in_with_the_form_and_out(page: Any, live_server: Any, alice: Any,
                                       password: str) -> None:  # fmt: skip
    base = live_server.url
    page.context.add_cookies([{"name": "voronka_lang", "value": "en", "url": base}])
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Wrong username, e-mail or password").is_visible()

    sign_in(page, base, "alice@example.com", password)
    assert page.get_by_role("heading", level=1).inner_text().endswith("Alice")

    page.locator("#user-menu-button").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/accounts/login/")


def test_global_search_with_the_keyboard(
    page: Any, live_server: Any, alice: Any, charlie: Any, password: str,
    make_contact: Callable[..., Any],
) -> None:  # fmt: skip
    mine = make_contact(alice, last_name="Клавишева", first_name="Ольга", phones=["+79161234567"])
    make_contact(charlie, last_name="Посторонний", phones=["+79161234567"])
    base = live_server.url
    sign_in(page, base, "alice", password)

    page.locator("body").press("/")
    box = page.locator("#global-search-input")
    assert box.evaluate("el => el === document.activeElement")
    page.keyboard.type("8 (916) 123-45-67")
    results = page.locator("#global-search-results")
    results.get_by_text("Клавишева Ольга").wait_for()
    assert "Посторонний" not in results.inner_text()

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/customers/contacts/{mine.pk}/")

    # Ctrl+K from anywhere, then Enter: the full results page
    page.goto(f"{base}/")
    page.keyboard.press("Control+k")
    page.keyboard.type("Клавиш")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.get_by_role("link", name="Клавишева Ольга").is_visible()


def test_switch_language_before_and_after_sign_in(
    page: Any, live_server: Any, alice: Any, password: str
) -> None:
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Русский").click()
    page.get_by_role("button", name="Войти").wait_for()
    page.get_by_role("button", name="English").click()
    sign_in(page, base, "alice", password)

    page.locator("#user-menu-button").click()
    page.get_by_role("button", name="Русский").click()
    page.get_by_role("link", name="Контакты", exact=True).wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    alice.refresh_from_db()
    assert alice.language == "ru"
