"""``vk_inbox_unread`` for the nav badge of the inbox (see ``inbox/_nav_item.html``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest


def inbox(request: HttpRequest) -> dict[str, Any]:
    """The count of unread open conversations the user may see. It is a callable, so the
    query runs only when a template reads it (htmx fragments never do) and once a request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def count() -> int:
        from voronka.inbox.selectors import unread_count

        return unread_count(user)

    return {"vk_inbox_unread": count}
