"""Fixtures of the Telegram tests: the fake Bot API on 127.0.0.1 that
VORONKA_TELEGRAM_API_URL points to, and a bot connected through the real service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

BASE_URL = "https://crm.example.com"


@pytest.fixture
def bot_api(settings: Any) -> Iterator[FakeBotApi]:
    fake = FakeBotApi().start()
    fake.add_bot(TOKEN, "shop_bot", "Shop")
    settings.VORONKA_TELEGRAM_API_URL = fake.url
    settings.VORONKA_BASE_URL = BASE_URL
    yield fake
    fake.stop()


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    """The sales rep who gets the chats of unknown customers."""
    return make_user("olga")


@pytest.fixture
def connect(admin: Any, bot_api: FakeBotApi, manager: Any) -> Callable[..., Any]:
    from voronka.telegram.services import bot_connect

    def make(mode: str = "webhook", token: str = TOKEN, **data: Any) -> Any:
        data.setdefault("default_owner_id", manager.pk)
        return bot_connect(actor=admin, data={"token": token, "mode": mode, **data})

    return make


@pytest.fixture
def bot(connect: Callable[..., Any]) -> Any:
    """A bot in webhook mode."""
    return connect()


@pytest.fixture
def post_update(client: Any) -> Callable[..., Any]:
    """Post to a bot's webhook as Telegram does; ``secret=None`` leaves the header out."""
    import json

    def post(bot: Any, body: Any, *, secret: str | None = "<right>", raw: str | None = None) -> Any:  # noqa: S107
        headers = {"HTTP_ACCEPT_LANGUAGE": "en"}  # the error texts the tests read
        if secret is not None:
            value = bot.webhook_secret if secret == "<right>" else secret
            headers["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = value
        data = raw if raw is not None else json.dumps(body)
        return client.post(f"/telegram/hook/{bot.path_token}/", data,
                           content_type="application/json", **headers)  # fmt: skip

    return post
