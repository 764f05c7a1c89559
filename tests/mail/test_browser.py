"""The mail pages in a real browser: an administrator checks a new mailbox's settings with
"Test connection" (the result appears under the form, the typed values stay), saves it, and
"Sync now" on the list fetches a customer's message and redraws the row in place.

Chromium through Playwright against pytest-django's live server, with the real Dovecot and
SMTP server of tests/mail/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import browser, page  # noqa: F401 (the shared Chromium fixtures)
from tests.browser.helpers import shot, sign_in
from tests.mail.conftest import PASSWORD, SMTP_PASSWORD, SMTP_USER, Dovecot, Smtp
from tests.mail.test_receive import customer_mail

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:  # noqa: F811 (page is the fixture's value)
    shot(page, f"mail-{name}")


def test_add_test_save_and_sync_a_mailbox(
    page: Any,  # noqa: F811
    live_server: Any,
    admin: Any,
    password: str,
    dovecot: Dovecot,
    smtp: Smtp,
    account: str,
) -> None:
    base = live_server.url
    sign_in(page, base, "admin", password)
    page.goto(f"{base}/mail/")
    page.get_by_role("link", name="Add a mailbox").first.click()

    page.get_by_label("Name").fill("Sales")
    page.get_by_label("E-mail address").fill(account)
    imap = page.locator("#sec-imap").locator("xpath=ancestor::section")
    smtp_box = page.locator("#sec-smtp").locator("xpath=ancestor::section")
    imap.get_by_label("Server").fill("127.0.0.1")
    imap.get_by_label("Security").select_option("none")
    imap.get_by_label("Port").fill(str(dovecot.port))
    imap.get_by_label("Password").fill(PASSWORD)
    smtp_box.get_by_label("Server").fill("127.0.0.1")
    smtp_box.get_by_label("Security").select_option("none")
    smtp_box.get_by_label("Port").fill(str(smtp.port))
    smtp_box.get_by_label("Login").fill(SMTP_USER)
    smtp_box.get_by_label("Password").fill(SMTP_PASSWORD)

    page.get_by_role("button", name="Test connection").click()
    report = page.locator("#connection-report")
    report.get_by_text("IMAP works").wait_for()
    assert "SMTP works: connected and logged in" in report.inner_text()
    assert imap.get_by_label("Password").input_value() == PASSWORD  # nothing was reloaded
    _shot(page, "form-tested")

    page.get_by_role("button", name="Add the mailbox").click()
    page.wait_for_url(f"{base}/mail/")
    row = page.locator("tr", has_text=account)
    assert "not synced yet" in row.inner_text()

    smtp.send(customer_mail(account, subject="Счёт на стулья"), account)
    row.get_by_role("button", name="Sync now").click()
    page.locator("tr", has_text="1 new message.").wait_for()
    assert "working" in page.locator("tr", has_text=account).inner_text()
    assert page.url == f"{base}/mail/"  # the row was redrawn in place
    _shot(page, "list-synced")
