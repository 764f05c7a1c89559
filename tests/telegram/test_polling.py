"""Polling: the periodic job asks getUpdates with the offset after the last kept update,
keeps each update once and takes it into the inbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.fake_bot_api import message, update, user
from voronka.core import periodic
from voronka.inbox.models import Conversation, Message
from voronka.telegram.models import PendingUpdate
from voronka.telegram.services import poll_bot, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def polling_bot(connect: Any) -> Any:
    return connect(mode="polling")


def test_the_job_is_registered() -> None:
    job = next(j for j in periodic.jobs() if j.name == "telegram.poll")
    assert job.interval == 2.0
    assert job.func is run_due


def test_poll_takes_updates_in_once_and_the_offset_advances(polling_bot: Any, bot_api: Any) -> None:
    first = update(message(text="Are you open on Sunday?"), update_id=900)
    second = update(message(text="And on Monday?"), update_id=901)
    bot_api.queue(first)
    bot_api.queue(second)

    assert run_due() == 2
    polling_bot.refresh_from_db()
    assert polling_bot.last_update_id == 901
    assert polling_bot.last_error == ""
    assert polling_bot.last_update_at is not None

    # The second run asks for what comes after 901 and finds nothing new: no duplicates.
    assert run_due() == 0
    offsets = [c.params["offset"] for c in bot_api.calls_to("getUpdates")]
    assert offsets == [1, 902]
    assert bot_api.calls_to("getUpdates")[0].params["allowed_updates"] == [
        "message", "edited_message",
    ]  # fmt: skip
    assert bot_api.calls_to("getUpdates")[0].params["timeout"] == 0
    conversation = Conversation.objects.get()
    assert list(conversation.messages.values_list("body_text", flat=True)) == [
        "Are you open on Sunday?", "And on Monday?",
    ]  # fmt: skip


def test_updates_fetched_again_are_not_doubled(polling_bot: Any, bot_api: Any) -> None:
    """Telegram serving an update a second time (an offset lost in a crash) changes nothing."""
    upd = update(message(text="once"), update_id=950)
    bot_api.queue(upd)
    run_due()
    polling_bot.refresh_from_db()
    type(polling_bot).objects.filter(pk=polling_bot.pk).update(last_update_id=0)
    bot_api.queue(upd)
    run_due()
    assert Message.objects.count() == 1


def test_offset_moves_past_ignored_kinds(polling_bot: Any, bot_api: Any) -> None:
    bot_api.queue({"update_id": 960, "my_chat_member": {"chat": {"id": 1}}})
    run_due()
    polling_bot.refresh_from_db()
    assert polling_bot.last_update_id == 960
    assert PendingUpdate.objects.count() == 0
    assert Message.objects.count() == 0


def test_poll_error_is_shown_on_the_bot(polling_bot: Any, bot_api: Any) -> None:
    bot_api.fail("getUpdates", 401, "Unauthorized")
    assert run_due() == 0
    polling_bot.refresh_from_db()
    assert polling_bot.last_error == "Unauthorized"
    bot_api.queue(update(message(text="later")))
    run_due()
    polling_bot.refresh_from_db()
    assert polling_bot.last_error == ""
    assert Message.objects.count() == 1


def test_a_webhook_left_behind_is_removed(polling_bot: Any, bot_api: Any) -> None:
    bot_api.webhooks[polling_bot.token] = {"url": "https://old.example.com/hook"}
    run_due()
    polling_bot.refresh_from_db()
    assert "webhook is active" in polling_bot.last_error
    assert bot_api.calls_to("deleteWebhook")  # so the next poll works
    bot_api.queue(update(message(text="now it works")))
    run_due()
    assert Message.objects.get().body_text == "now it works"


def test_webhook_and_disconnected_bots_are_not_polled(
    connect: Any, admin: Any, bot_api: Any
) -> None:
    from voronka.telegram.services import bot_disconnect

    webhook_bot = connect(mode="webhook")
    assert poll_bot(webhook_bot.pk) == 0
    bot_disconnect(actor=admin, bot=webhook_bot)
    run_due()
    assert bot_api.calls_to("getUpdates") == []


def test_group_message_names_the_writer(polling_bot: Any, bot_api: Any) -> None:
    writer = user(31337, "Ivan", "Sidorov", "ivan_s")
    msg = message(text="Hi from the team chat", sender=writer)
    msg["chat"] = {"id": -100200300, "type": "supergroup", "title": "Acme × Shop"}
    bot_api.queue(update(msg))
    run_due()
    conversation = Conversation.objects.get()
    assert conversation.external_key == "-100200300"
    stored = Message.objects.get()
    assert stored.sender == "Ivan Sidorov (@ivan_s)"
    assert stored.meta["chat_type"] == "supergroup"
