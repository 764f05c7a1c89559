"""API shapes of Telegram bots. The token is write-only: answers carry ``token_hint``."""

from __future__ import annotations

import datetime as dt

from ninja import Schema

from voronka.core.schemas import LooseBool, LooseId, LooseStr, StrictInput


class TelegramBotOut(Schema):
    id: int
    name: str
    bot_id: int
    username: str
    mode: str
    token_hint: str
    webhook_url: str
    default_owner_id: int | None
    active: bool
    last_update_id: int
    last_update_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    last_error: str
    waiting_updates: int
    failed_updates: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TelegramBotPage(Schema):
    items: list[TelegramBotOut]
    next_cursor: str | None


class TelegramBotIn(StrictInput):
    """``token`` is required to connect, optional in a PATCH (a re-issued token of the same
    bot). ``mode`` is "webhook" (default) or "polling"."""

    name: LooseStr = None
    token: LooseStr = None
    mode: LooseStr = None
    default_owner_id: LooseId = None
    active: LooseBool = None
