"""The unified inbox in a real browser: a message that arrived by e-mail is in the list, in
bold; open it, reply, and the reply appears in the thread in place, queued, then sent.

Runs Chromium through Playwright against pytest-django's live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.helpers import shot, sign_in

pytestmark = [
    pytest.mark.browser,
    # live_server needs committed data; serialized_rollback restores the built-in roles after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _shot(page: Any, name: str) -> None:
    shot(page, f"inbox-{name}")


@pytest.fixture
def delivered() -> Iterator[list[str]]:
    """E-mail replies go to this list instead of a mail server."""
    from voronka.inbox import services

    sent: list[str] = []
    previous = services._senders.get("email")

    def sender(message: Any) -> str:
        sent.append(message.body_text)
        return f"<reply-{message.pk}@test>"

    services.register_sender("email", sender)
    yield sent
    if previous is None:
        services._senders.pop("email", None)
    else:
        services._senders["email"] = previous


def test_a_received_message_is_read_and_answered_in_the_inbox(
    page: Any, live_server: Any, alice: Any, password: str, delivered: list[str]
) -> None:
    from playwright.sync_api import expect

    from voronka.inbox.models import Message
    from voronka.inbox.services import Incoming, deliver_due, receive

    received = receive(Incoming(
        kind="email", account="mailbox:1", external_id="<q1@customer.example>",
        external_key="<q1@customer.example>", sender="Мария Смирнова <maria@customer.example>",
        name="Мария Смирнова", email="maria@customer.example", subject="Счёт на поставку",
        body_text="Здравствуйте! Пришлите, пожалуйста, счёт.", source="E-mail",
        default_owner_id=alice.pk,
    ))  # fmt: skip
    base = live_server.url
    sign_in(page, base, "alice", password)

    page.goto(f"{base}/inbox/")
    row = page.locator("tr", has_text="Счёт на поставку")
    expect(row).to_be_visible()
    expect(row).to_have_class("vk-unread")
    expect(row).to_contain_text("Смирнова Мария")
    _shot(page, "list")

    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/inbox/{received.conversation_id}/")
    thread = page.locator(".vk-thread")
    expect(thread).to_contain_text("Пришлите, пожалуйста, счёт.")
    page.get_by_label("Reply by e-mail").fill("Добрый день! Счёт во вложении.")
    page.get_by_role("button", name="Send reply").click()
    reply = thread.locator(".vk-msg-out", has_text="Счёт во вложении.")
    expect(reply).to_be_visible()  # in place, without a page load
    expect(reply).to_contain_text("Queued")
    expect(page.get_by_label("Reply by e-mail")).to_have_value("")
    assert page.url == f"{base}/inbox/{received.conversation_id}/"

    # The worker's job, run here: the queued reply goes out; the thread polls its status.
    assert deliver_due() == 1
    expect(reply).to_contain_text("Sent", timeout=15_000)
    assert delivered == ["Добрый день! Счёт во вложении."]
    assert Message.objects.get(direction="out").status == "sent"
    _shot(page, "thread")

    # Back in the list the conversation is read now.
    page.goto(f"{base}/inbox/")
    expect(page.locator("tr", has_text="Счёт на поставку")).not_to_have_class("vk-unread")
