"""Template helpers of the inbox: channel icons, short times and a safe e-mail body."""

from __future__ import annotations

import datetime as dt

import nh3
from django import template
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

KIND_ICONS = {
    "email": "bi-envelope",
    "telegram": "bi-telegram",
    "call": "bi-telephone",
    "form": "bi-ui-radios",
}
# Remote images would tell the sender when (and that) the mail was read: they are not shown.
SHOWN_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "bi-chat-left-text")


@register.filter
def inbox_when(value: dt.datetime | None) -> str:
    """Today's messages by the time, this year's by the day, older ones by the date (in the
    user's time zone)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        return date_format(local, "TIME_FORMAT")
    if local.year == today.year:
        # "E" is the month's genitive where a language has one: "28 ноября", not "28 Ноябрь".
        return date_format(local, get_format("MONTH_DAY_FORMAT").replace("F", "E"))
    return date_format(local, "SHORT_DATE_FORMAT")


@register.filter
def inbox_html(html: str) -> SafeString:
    """An e-mail's HTML as the thread shows it. It was sanitized when it arrived; this pass
    also drops images and opens links in a new tab without telling the site where from."""
    cleaned = nh3.clean(
        html or "",
        tags=SHOWN_TAGS,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is safe HTML
