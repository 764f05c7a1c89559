"""Telegram bots over the REST API (administrators only: a bot is a setting, and its token a
secret). The same services as the pages do every write; the token is never in an answer."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    require_admin,
    simple_page,
)
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS
from voronka.telegram import selectors
from voronka.telegram.models import TelegramBot
from voronka.telegram.schemas import TelegramBotIn, TelegramBotOut, TelegramBotPage
from voronka.telegram.services import bot_connect, bot_delete, bot_update, webhook_url

telegram_bots = Router(tags=["telegram bots"])


def bot_out(bot: TelegramBot) -> dict[str, Any]:
    return {
        "id": bot.pk, "name": bot.name, "bot_id": bot.bot_id, "username": bot.username,
        "mode": bot.mode, "token_hint": bot.token_hint, "webhook_url": webhook_url(bot),
        "default_owner_id": bot.default_owner_id, "active": bot.active,
        "last_update_id": bot.last_update_id, "last_update_at": bot.last_update_at,
        "last_sync_at": bot.last_sync_at, "last_error": bot.last_error,
        "waiting_updates": getattr(bot, "waiting", 0), "failed_updates": getattr(bot, "stuck", 0),
        "created_at": bot.created_at, "updated_at": bot.updated_at,
    }  # fmt: skip


@telegram_bots.get("", response={200: TelegramBotPage, **ERRORS})
def list_bots(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every bot, by name."""
    require_admin(request.auth)
    return page_body(simple_page(selectors.bots(), ["name", "id"], page), bot_out)


@telegram_bots.post("", response={201: TelegramBotOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def connect_bot(request: ApiRequest, payload: TelegramBotIn) -> Status[dict[str, Any]]:
    """Connect a bot by its token (from @BotFather). Telegram is asked at once (getMe, then
    setWebhook or deleteWebhook); a token it rejects is a 422 on ``token``."""
    require_admin(request.auth)
    bot = bot_connect(actor=request.auth, data=patch_body(payload), channel=Channel.API)
    return Status(201, bot_out(selectors.get_bot(bot.pk)))


@telegram_bots.get("/{bot_pk}", response={200: TelegramBotOut, **ERRORS})
def read_bot(request: ApiRequest, bot_pk: int) -> dict[str, Any]:
    require_admin(request.auth)
    return bot_out(selectors.get_bot(bot_pk))


@telegram_bots.patch("/{bot_pk}", response={200: TelegramBotOut, **ERRORS})
def update_bot(request: ApiRequest, bot_pk: int, payload: TelegramBotIn) -> dict[str, Any]:
    """Change only the keys sent. ``active: false`` disconnects the bot (removes the
    webhook, stops polling); ``active: true`` connects it again."""
    require_admin(request.auth)
    bot, _warning = bot_update(
        actor=request.auth, bot=selectors.get_bot(bot_pk), changes=patch_body(payload),
        channel=Channel.API,
    )  # fmt: skip
    return bot_out(selectors.get_bot(bot.pk))


@telegram_bots.delete("/{bot_pk}", response={204: None, **ERRORS})
def delete_bot(request: ApiRequest, bot_pk: int) -> Status[None]:
    """Forget the bot and its token (the webhook is removed first when Telegram answers)."""
    require_admin(request.auth)
    bot_delete(actor=request.auth, bot=selectors.get_bot(bot_pk), channel=Channel.API)
    return Status(204, None)
