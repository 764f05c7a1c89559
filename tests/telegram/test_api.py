"""The telegram_bots API: administrators list, connect, read, change and delete bots; the
token is write-only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.fake_bot_api import OTHER_TOKEN, TOKEN
from voronka.telegram.models import TelegramBot

pytestmark = [pytest.mark.django_db]
URL = "/api/v1/telegram-bots"


def test_connect_read_list_patch_delete(api: Any, admin: Any, bot_api: Any, manager: Any) -> None:
    client = api(admin)
    created = client.post(URL, {"token": TOKEN, "mode": "polling", "name": "Support",
                                "default_owner_id": manager.pk})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["username"] == "shop_bot"
    assert body["mode"] == "polling"
    assert body["token_hint"] == "…9abc"
    assert body["default_owner_id"] == manager.pk
    assert body["webhook_url"].endswith(f"/telegram/hook/{TelegramBot.objects.get().path_token}/")
    assert "token" not in body
    assert TOKEN.split(":")[1] not in created.content.decode()

    bot_pk = body["id"]
    read = client.get(f"{URL}/{bot_pk}").json()
    assert read["name"] == "Support"
    listing = client.get(URL).json()
    assert [b["id"] for b in listing["items"]] == [bot_pk]
    assert listing["items"][0]["waiting_updates"] == 0

    patched = client.patch(f"{URL}/{bot_pk}", {"mode": "webhook", "name": "Sales"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["mode"] == "webhook"
    assert patched.json()["name"] == "Sales"
    assert TOKEN in bot_api.webhooks

    off = client.patch(f"{URL}/{bot_pk}", {"active": False})
    assert off.json()["active"] is False
    assert bot_api.webhooks == {}

    assert client.delete(f"{URL}/{bot_pk}").status_code == 204
    assert client.get(f"{URL}/{bot_pk}").status_code == 404
    assert TelegramBot.objects.count() == 0


def test_wrong_token_is_422_on_token(api: Any, admin: Any, bot_api: Any) -> None:
    response = api(admin).post(URL, {"token": OTHER_TOKEN})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [{"field": "token",
                       "message": "Telegram does not know this token: copy it again from @BotFather"}]  # fmt: skip
    assert TelegramBot.objects.count() == 0


def test_missing_token_and_unknown_keys(api: Any, admin: Any, bot_api: Any) -> None:
    response = api(admin).post(URL, {"name": "No token"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["token"]
    response = api(admin).post(URL, {"token": TOKEN, "secret": "x"})
    assert response.status_code == 422
    assert bot_api.calls == []


def test_refused_webhook_is_422_on_mode(api: Any, admin: Any, bot_api: Any) -> None:
    bot_api.fail("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
    response = api(admin).post(URL, {"token": TOKEN, "mode": "webhook"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mode"
    assert TelegramBot.objects.count() == 0


def test_patch_with_another_bots_token_is_refused(
    api: Any, admin: Any, bot_api: Any, connect: Any
) -> None:
    bot = connect()
    bot_api.add_bot(OTHER_TOKEN, "other_bot", "Other")
    response = api(admin).patch(f"{URL}/{bot.pk}", {"token": OTHER_TOKEN})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "token"


def test_not_for_sales_reps(api: Any, alice: Any, connect: Any) -> None:
    bot = connect()
    client = api(alice)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{bot.pk}").status_code == 403
    assert client.post(URL, {"token": TOKEN}).status_code == 403
    assert client.delete(f"{URL}/{bot.pk}").status_code == 403
    assert TelegramBot.objects.count() == 1
