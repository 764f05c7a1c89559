"""Reads of the Telegram pages and API. Bots are settings, seen by administrators only."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from voronka.core.errors import NotFound
from voronka.telegram.models import PendingUpdate, TelegramBot


def bots() -> QuerySet[TelegramBot]:
    """Every bot with how many updates wait to be taken in and how many gave up."""
    return (
        TelegramBot.objects.select_related("default_owner")
        .annotate(
            waiting=Count("pending", filter=Q(pending__next_attempt_at__isnull=False)),
            stuck=Count("pending", filter=Q(pending__next_attempt_at__isnull=True)),
        )
        .order_by("name", "id")
    )


def get_bot(pk: int) -> TelegramBot:
    bot = bots().filter(pk=pk).first()
    if bot is None:
        raise NotFound("no such Telegram bot")
    return bot


def bot_by_path_token(path_token: str) -> TelegramBot | None:
    """The bot a webhook address names; None for an unknown or disconnected one."""
    return TelegramBot.objects.filter(path_token=path_token, active=True).first()


def stuck_updates(bot: TelegramBot, limit: int = 10) -> list[PendingUpdate]:
    """Updates that failed lately (still retried, or given up), newest first, with why."""
    return list(PendingUpdate.objects.filter(bot=bot).exclude(error="").order_by("-id")[:limit])
