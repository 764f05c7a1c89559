"""Connecting bots: the token is checked with getMe, the webhook set (or removed for
polling), and a refusal leaves nothing behind. Through the service, the pages and the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.conftest import BASE_URL
from tests.telegram.fake_bot_api import OTHER_TOKEN, TOKEN
from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import AuditEntry, OutboxEvent
from voronka.telegram.models import TelegramBot
from voronka.telegram.services import bot_check, bot_connect, bot_delete, bot_update

pytestmark = pytest.mark.django_db


def _fields(exc: pytest.ExceptionInfo[ServiceValidationError]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


# --- the service --------------------------------------------------------------------------------


def test_connect_in_webhook_mode_sets_the_webhook(connect: Any, bot_api: Any, manager: Any) -> None:
    bot = connect()
    assert bot.username == "shop_bot"
    assert bot.name == "Shop"  # the bot's own name when none is given
    assert bot.bot_id == 123456789
    assert bot.default_owner_id == manager.pk
    assert bot.active and bot.mode == "webhook"
    (call,) = bot_api.calls_to("setWebhook")
    assert call.params == {
        "url": f"{BASE_URL}/telegram/hook/{bot.path_token}/",
        "secret_token": bot.webhook_secret,
        "allowed_updates": ["message", "edited_message"],
    }
    assert len(bot.webhook_secret) >= 32
    assert bot.token_hint == "…9abc"
    assert OutboxEvent.objects.filter(name="telegram_bot.connected", entity_id=bot.pk).exists()
    assert AuditEntry.objects.filter(object_id=bot.pk, action="create").exists()


def test_connect_in_polling_mode_removes_the_webhook(connect: Any, bot_api: Any) -> None:
    bot = connect(mode="polling", name="Support")
    assert bot.name == "Support"
    assert bot_api.calls_to("setWebhook") == []
    assert len(bot_api.calls_to("deleteWebhook")) == 1


def test_wrong_token_is_an_error_on_token_and_nothing_is_saved(admin: Any, bot_api: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        bot_connect(actor=admin, data={"token": OTHER_TOKEN})  # unknown to the fake Telegram
    assert _fields(exc) == {
        "token": "Telegram does not know this token: copy it again from @BotFather"
    }
    assert TelegramBot.objects.count() == 0
    assert bot_api.calls_to("setWebhook") == []


@pytest.mark.parametrize(
    "token", ["", "hello", "123:short", "abc:AAHfake-token-for-tests_0123456789"]
)
def test_a_token_of_the_wrong_shape_is_refused_without_asking_telegram(
    admin: Any, bot_api: Any, token: str
) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        bot_connect(actor=admin, data={"token": token})
    assert "token" in _fields(exc)
    assert bot_api.calls == []


def test_telegram_out_of_reach_says_so(admin: Any, settings: Any, db: Any) -> None:
    settings.VORONKA_TELEGRAM_API_URL = "http://127.0.0.1:9"
    with pytest.raises(ServiceValidationError) as exc:
        bot_connect(actor=admin, data={"token": TOKEN})
    assert _fields(exc)["token"].startswith("could not reach Telegram to check the token")


def test_refused_webhook_is_an_error_on_mode_and_nothing_is_saved(admin: Any, bot_api: Any) -> None:
    bot_api.fail("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
    with pytest.raises(ServiceValidationError) as exc:
        bot_connect(actor=admin, data={"token": TOKEN, "mode": "webhook"})
    message = _fields(exc)["mode"]
    assert "Bad Request: bad webhook: HTTPS url must be provided" in message
    assert "choose polling" in message
    assert TelegramBot.objects.count() == 0


def test_bad_fields_are_named(admin: Any, bot_api: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        bot_connect(actor=admin, data={"token": TOKEN, "mode": "carrier-pigeon",
                                       "default_owner_id": 999999, "colour": "red"})  # fmt: skip
    assert set(_fields(exc)) == {"mode", "default_owner_id", "colour"}


def test_the_same_bot_cannot_be_connected_twice(connect: Any) -> None:
    connect()
    with pytest.raises(ServiceValidationError) as exc:
        connect()
    assert _fields(exc) == {"token": "this bot is already connected as “Shop”"}
    assert TelegramBot.objects.count() == 1


def test_a_disconnected_bot_connects_again_with_its_conversations(
    connect: Any, admin: Any, bot_api: Any
) -> None:
    bot = connect()
    bot, warning = bot_update(actor=admin, bot=bot, changes={"active": False})
    assert warning == ""
    assert not bot.active
    assert bot_api.webhooks == {}
    again = connect(mode="polling")
    assert again.pk == bot.pk  # the same account, so its chats continue
    assert again.active and again.mode == "polling"


def test_switching_mode_tells_telegram(connect: Any, admin: Any, bot_api: Any) -> None:
    bot = connect(mode="polling")
    bot_update(actor=admin, bot=bot, changes={"mode": "webhook"})
    assert bot_api.webhooks[TOKEN]["url"].endswith(f"/telegram/hook/{bot.path_token}/")
    bot_update(actor=admin, bot=bot, changes={"mode": "polling"})
    assert bot_api.webhooks == {}


def test_new_token_must_belong_to_the_same_bot(connect: Any, admin: Any, bot_api: Any) -> None:
    bot = connect()
    bot_api.add_bot(OTHER_TOKEN, "other_bot", "Other")
    with pytest.raises(ServiceValidationError) as exc:
        bot_update(actor=admin, bot=bot, changes={"token": OTHER_TOKEN})
    assert "another bot (@other_bot)" in _fields(exc)["token"]
    bot.refresh_from_db()
    assert bot.token == TOKEN


def test_disconnecting_a_bot_whose_token_was_revoked_still_works(
    connect: Any, admin: Any, bot_api: Any
) -> None:
    bot = connect()
    del bot_api.bots[TOKEN]  # revoked in @BotFather
    bot, warning = bot_update(actor=admin, bot=bot, changes={"active": False})
    assert not bot.active
    assert "Unauthorized" in warning


def test_delete_removes_the_webhook_and_the_row(connect: Any, admin: Any, bot_api: Any) -> None:
    bot = connect()
    assert bot_delete(actor=admin, bot=bot) == ""
    assert TelegramBot.objects.count() == 0
    assert bot_api.webhooks == {}


def test_only_administrators(connect: Any, alice: Any, bot_api: Any) -> None:
    with pytest.raises(Forbidden):
        bot_connect(actor=alice, data={"token": TOKEN})
    bot = connect()
    with pytest.raises(Forbidden):
        bot_update(actor=alice, bot=bot, changes={"name": "Mine"})
    with pytest.raises(Forbidden):
        bot_delete(actor=alice, bot=bot)


def test_check_reports_telegram_delivery_errors(connect: Any, admin: Any, bot_api: Any) -> None:
    bot = connect()
    bot_api.webhook_info = {"last_error_date": 1700000000,
                            "last_error_message": "Wrong response from the webhook: 502 Bad Gateway"}  # fmt: skip
    result = bot_check(actor=admin, bot=bot)
    assert not result.ok
    assert "502 Bad Gateway" in result.message
    bot.refresh_from_db()
    assert bot.last_error == "Wrong response from the webhook: 502 Bad Gateway"


def test_check_sets_a_webhook_that_points_elsewhere(connect: Any, admin: Any, bot_api: Any) -> None:
    bot = connect()
    bot_api.webhooks[TOKEN] = {"url": "https://someone-else.example.com/"}
    result = bot_check(actor=admin, bot=bot)
    assert result.ok
    assert result.message == "The webhook pointed elsewhere and was set again."
    assert bot_api.webhooks[TOKEN]["url"] == f"{BASE_URL}/telegram/hook/{bot.path_token}/"
