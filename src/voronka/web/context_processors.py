"""Template context every page of the shell needs."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest


def notifications(request: HttpRequest) -> dict[str, Any]:
    """``vk_unread_count`` for the bell, counted only if a template asks for it (htmx
    fragments never do) and at most once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:
        from voronka.web.notifications import unread_count

        return unread_count(user)

    return {"vk_unread_count": count}
