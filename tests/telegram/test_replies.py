"""Replies written in the CRM reach the chat through sendMessage (and sendPhoto /
sendDocument for files); Telegram's refusals show on the reply with its description."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.fake_bot_api import message, update
from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import IncomingFile, deliver_due, reply
from voronka.telegram.services import process_pending

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(bot: Any, post_update: Any) -> Conversation:
    post_update(bot, update(message(text="Do you deliver to Kazan?")))
    process_pending()
    return Conversation.objects.get()


def test_reply_reaches_send_message_and_shows_sent(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    queued = reply(actor=manager, conversation=conversation, body_text="Yes, in 3 days.")
    assert deliver_due() == 1
    (call,) = bot_api.calls_to("sendMessage")
    assert str(call.params["chat_id"]) == "4242"
    assert call.params["text"] == "Yes, in 3 days."
    queued.refresh_from_db()
    assert queued.status == "sent"
    assert queued.error == ""
    assert queued.external_id.startswith("4242:")
    assert int(queued.external_id.split(":")[1]) >= 1000  # the id Telegram gave the message


def test_reply_with_files_sends_photo_and_document(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    files = [
        IncomingFile("map.png", b"\x89PNG-map", "image/png"),
        IncomingFile("offer.pdf", b"%PDF offer", "application/pdf"),
    ]
    queued = reply(actor=manager, conversation=conversation, body_text="Here:", files=files)
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "sent"
    (photo,) = bot_api.calls_to("sendPhoto")
    assert photo.params["chat_id"] == "4242"
    assert photo.files["photo"] == ("map.png", "image/png", b"\x89PNG-map")
    (document,) = bot_api.calls_to("sendDocument")
    assert document.files["document"] == ("offer.pdf", "application/pdf", b"%PDF offer")


def test_long_reply_is_split_into_telegram_sized_messages(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    text = ("word " * 1000).strip()  # 4999 characters
    reply(actor=manager, conversation=conversation, body_text=text)
    deliver_due()
    pieces = [c.params["text"] for c in bot_api.calls_to("sendMessage")]
    assert len(pieces) == 2
    assert all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces) == text


def test_a_blocked_bot_fails_the_reply_at_once_with_telegrams_reason(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    bot_api.blocked.add("4242")
    queued = reply(actor=manager, conversation=conversation, body_text="Hello?")
    assert deliver_due() == 0
    queued.refresh_from_db()
    assert queued.status == "failed"  # retrying cannot help: the customer blocked the bot
    assert queued.error == "Forbidden: bot was blocked by the user"
    assert queued.attempts == 1


def test_an_unreachable_api_is_retried_then_failed_after_the_last_attempt(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    bot_api.fail("sendMessage", 502, "Bad Gateway", times=2)
    queued = reply(actor=manager, conversation=conversation, body_text="Hello?")
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "queued" and queued.attempts == 1
    assert queued.next_attempt_at is not None and queued.error == "Bad Gateway"
    Message.objects.filter(pk=queued.pk).update(attempts=7, next_attempt_at=queued.created_at)
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "failed"
    assert queued.error == "Bad Gateway"


def test_rate_limit_says_how_long_telegram_asks_to_wait(
    conversation: Conversation, manager: Any, bot_api: Any
) -> None:
    bot_api.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    queued = reply(actor=manager, conversation=conversation, body_text="Hi")
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "queued"
    assert "Too Many Requests: retry after 7" in queued.error
    assert "wait 7 s" in queued.error
    assert (queued.next_attempt_at - queued.created_at).total_seconds() >= 7


def test_reply_of_a_disconnected_bot_fails_with_a_reason(
    conversation: Conversation, manager: Any, admin: Any, bot: Any, bot_api: Any
) -> None:
    from voronka.telegram.services import bot_disconnect

    bot_disconnect(actor=admin, bot=bot)
    queued = reply(actor=manager, conversation=conversation, body_text="Hi")
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "queued"
    assert queued.error == "the Telegram bot @shop_bot is disconnected"
    assert bot_api.calls_to("sendMessage") == []


def test_unreachable_bot_api_is_retried(
    conversation: Conversation, manager: Any, settings: Any
) -> None:
    settings.VORONKA_TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens on port 9
    queued = reply(actor=manager, conversation=conversation, body_text="Hi")
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "queued"
    assert queued.error.startswith("cannot reach the Telegram Bot API")
    assert "AAH" not in queued.error  # the token is never in a message
