"""The administrator's pages: list and connect, a bot's page with its status, "Check now" /
"Poll now", disconnect and delete. What the administrator sees, never the token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.fake_bot_api import OTHER_TOKEN, TOKEN, message, update
from voronka.inbox.models import Message
from voronka.telegram.models import TelegramBot

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Any, admin: Any) -> Any:
    client.force_login(admin)
    return client


def test_empty_list_says_what_to_do(admin_client: Any, bot_api: Any) -> None:
    page = admin_client.get("/telegram/").content.decode()
    assert "No bots yet" in page
    assert "@BotFather" in page
    assert 'type="password" name="token"' in page


def test_connect_through_the_form(admin_client: Any, bot_api: Any, manager: Any) -> None:
    response = admin_client.post("/telegram/", {"token": TOKEN, "mode": "webhook",
                                                "default_owner_id": manager.pk})  # fmt: skip
    bot = TelegramBot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/telegram/{bot.pk}/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Bot @shop_bot connected." in page
    assert f"/telegram/hook/{bot.path_token}/" in page
    assert "123456789:…9abc" in page
    assert TOKEN.split(":")[1] not in page  # the token is never shown back

    listing = admin_client.get("/telegram/").content.decode()
    assert "@shop_bot" in listing
    assert "connected" in listing
    assert TOKEN.split(":")[1] not in listing


def test_wrong_token_shows_the_error_next_to_the_field(admin_client: Any, bot_api: Any) -> None:
    response = admin_client.post("/telegram/", {"token": OTHER_TOKEN, "mode": "polling"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Telegram does not know this token" in page
    assert 'id="id_token_error"' in page
    assert OTHER_TOKEN not in page  # not echoed back
    assert TelegramBot.objects.count() == 0


def test_list_shows_status_and_last_error(admin_client: Any, connect: Any, bot_api: Any) -> None:
    bot = connect(mode="polling")
    bot_api.fail("getUpdates", 401, "Unauthorized")
    from voronka.telegram.services import run_due

    run_due()
    page = admin_client.get("/telegram/").content.decode()
    assert "polling" in page
    assert "Unauthorized" in page
    assert "error" in page
    edit = admin_client.get(f"/telegram/{bot.pk}/").content.decode()
    assert "Poll now" in edit


def test_poll_now_takes_messages_in(admin_client: Any, connect: Any, bot_api: Any) -> None:
    bot = connect(mode="polling")
    bot_api.queue(update(message(text="hello")))
    response = admin_client.post(f"/telegram/{bot.pk}/check/", follow=True)
    page = response.content.decode()
    assert "Polled Telegram. New updates: 1; messages taken into the inbox: 1." in page
    assert Message.objects.get().body_text == "hello"


def test_check_now_in_webhook_mode(admin_client: Any, connect: Any, bot_api: Any) -> None:
    bot = connect()
    page = admin_client.post(f"/telegram/{bot.pk}/check/", follow=True).content.decode()
    assert "The webhook is set. Updates waiting at Telegram: 0." in page
    assert "Check now" in page


def test_edit_changes_settings_and_keeps_the_token(
    admin_client: Any, connect: Any, bot_api: Any, alice: Any
) -> None:
    bot = connect()
    response = admin_client.post(f"/telegram/{bot.pk}/", {
        "name": "Sales bot", "mode": "polling", "default_owner_id": alice.pk, "token": ""})  # fmt: skip
    assert response.status_code == 302
    bot.refresh_from_db()
    assert (bot.name, bot.mode, bot.default_owner_id, bot.token) == (
        "Sales bot", "polling", alice.pk, TOKEN,
    )  # fmt: skip
    assert bot_api.webhooks == {}


def test_edit_errors_are_shown(admin_client: Any, connect: Any, bot_api: Any) -> None:
    bot = connect()
    response = admin_client.post(f"/telegram/{bot.pk}/", {"name": "", "mode": "webhook"})
    assert response.status_code == 400
    assert "this field is required" in response.content.decode()
    bot.refresh_from_db()
    assert bot.name == "Shop"


def test_disconnect_reconnect_and_delete(admin_client: Any, connect: Any, bot_api: Any) -> None:
    bot = connect()
    page = admin_client.post(f"/telegram/{bot.pk}/disconnect/", follow=True).content.decode()
    assert "no longer receives messages" in page
    assert "Connect again" in page
    assert bot_api.webhooks == {}
    page = admin_client.post(f"/telegram/{bot.pk}/reconnect/", follow=True).content.decode()
    assert "connected again" in page
    assert TOKEN in bot_api.webhooks
    page = admin_client.post(f"/telegram/{bot.pk}/delete/", follow=True).content.decode()
    assert "Bot “Shop” deleted." in page
    assert TelegramBot.objects.count() == 0


def test_others_get_403_and_unknown_bots_404(
    client: Any, alice: Any, admin_client: Any, connect: Any
) -> None:
    bot = connect()
    assert admin_client.get("/telegram/99999/").status_code == 404
    client.force_login(alice)
    assert client.get("/telegram/").status_code == 403
    assert client.get(f"/telegram/{bot.pk}/").status_code == 403
    assert client.post(f"/telegram/{bot.pk}/delete/").status_code == 403
    assert TelegramBot.objects.count() == 1


def test_anonymous_is_sent_to_log_in(client: Any, db: Any) -> None:
    response = client.get("/telegram/")
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]
