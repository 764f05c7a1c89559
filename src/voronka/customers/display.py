"""How customer values look on screen: list columns, card fields and history values.

One place formats a phone, a sum of money or a custom field, so the list, the card and the
history agree. Everything returned is safe HTML built with ``format_html``; numbers and dates
follow the active locale (Django's l10n)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.models import CustomField, CustomFieldType
from voronka.core.text import format_phone

T = CustomFieldType
EMPTY = mark_safe('<span class="text-muted">—</span>')


def phone_link(e164: str) -> SafeString:
    return format_html('<a href="tel:{}">{}</a>', e164, format_phone(e164))


def email_link(email: str) -> SafeString:
    return format_html('<a href="mailto:{}">{}</a>', email, email)


def url_link(url: str) -> SafeString:
    shown = url.split("://", 1)[-1].rstrip("/")
    return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', url, shown)


def tags_html(tags: Iterable[Any]) -> SafeString:
    return format_html_join(
        " ",
        '<span class="badge rounded-pill text-bg-light border">{}</span>',
        ((t.name,) for t in tags),
    )


def number(value: Any, places: int | None = None) -> str:
    try:
        dec = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    return formats.number_format(dec, places, use_l10n=True, force_grouping=True)


def date_text(value: Any) -> str:
    day = value if isinstance(value, dt.date) else parse_date(str(value or ""))
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else str(value or "")


def datetime_text(value: Any) -> str:
    moment = value if isinstance(value, dt.datetime) else parse_datetime(str(value or ""))
    if moment is None:
        return str(value or "")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def yes_no(value: Any) -> str:
    return str(_("Yes")) if value else str(_("No"))


def custom_html(field: CustomField, value: Any) -> SafeString:
    """A custom field's stored value as shown in a list cell or on a card."""
    if value is None or value == "" or value == []:
        return EMPTY
    kind = field.type
    if kind == T.MONEY:
        return format_html('<span class="text-nowrap">{}</span>', number(value, 2))
    if kind == T.NUMBER:
        return format_html("{}", number(value))
    if kind == T.DATE:
        return format_html("{}", date_text(value))
    if kind == T.DATETIME:
        return format_html("{}", datetime_text(value))
    if kind == T.BOOLEAN:
        return format_html("{}", yes_no(value))
    if kind == T.MULTI_SELECT:
        values = value if isinstance(value, list) else [value]
        return format_html("{}", ", ".join(str(v) for v in values))
    if kind == T.URL:
        return url_link(str(value))
    if kind == T.EMAIL:
        return email_link(str(value))
    if kind == T.PHONE:
        return phone_link(str(value))
    if kind == T.LONG_TEXT:
        return format_html('<span class="text-prewrap">{}</span>', value)
    return format_html("{}", value)


def custom_text(field: CustomField, value: Any) -> Any:
    """A custom field's value for an export cell: numbers stay numbers, lists become text."""
    if value is None or value == []:
        return ""
    if field.type == T.MULTI_SELECT and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field.type == T.BOOLEAN:
        return yes_no(value)
    return value


# --- list columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A list column: what it is called, how a cell looks, and the sort it maps to."""

    key: str
    label: Any  # a lazy translation or a custom field's label
    render: Callable[[Any], SafeString]
    sort: str = ""
    hide_sm: bool = False
    default: bool = False


def _or_empty(value: Any) -> SafeString:
    return format_html("{}", value) if value not in (None, "") else EMPTY


def _first_phone(contact: Any) -> SafeString:
    phones = list(contact.phones.all())
    return phone_link(phones[0].phone) if phones else EMPTY


def _first_email(contact: Any) -> SafeString:
    emails = list(contact.emails.all())
    return email_link(emails[0].email) if emails else EMPTY


def _owner(record: Any) -> SafeString:
    return _or_empty(str(record.owner) if record.owner_id and record.owner else "")


def _company_link(contact: Any) -> SafeString:
    if not contact.company_id or contact.company is None:
        return EMPTY
    return format_html(
        '<a href="{}">{}</a>', contact.company.get_absolute_url(), contact.company.name
    )


def custom_columns(fields: Iterable[CustomField]) -> list[Column]:
    def renderer(cf: CustomField) -> Callable[[Any], SafeString]:
        return lambda record: custom_html(cf, (record.custom or {}).get(cf.key))

    return [
        Column(f"cf.{cf.key}", cf.label, renderer(cf), sort=f"cf.{cf.key}", hide_sm=True)
        for cf in fields
    ]


def contact_columns(fields: Iterable[CustomField]) -> list[Column]:
    return [
        Column("company", gettext_lazy("Company"), _company_link, sort="company", default=True),
        Column(
            "position",
            gettext_lazy("Position"),
            lambda c: _or_empty(c.position),
            sort="position",
            hide_sm=True,
        ),
        Column("email", gettext_lazy("E-mail"), _first_email, hide_sm=True, default=True),
        Column("phone", gettext_lazy("Phone"), _first_phone, default=True),
        Column("owner", gettext_lazy("Owner"), _owner, hide_sm=True, default=True),
        Column(
            "tags",
            gettext_lazy("Tags"),
            lambda c: tags_html(c.tags.all()),
            hide_sm=True,
            default=True,
        ),
        Column("source", gettext_lazy("Source"), lambda c: _or_empty(c.source), hide_sm=True),
        Column(
            "birthday",
            gettext_lazy("Birthday"),
            lambda c: _or_empty(date_text(c.birthday) if c.birthday else ""),
            hide_sm=True,
        ),
        Column(
            "created_at",
            gettext_lazy("Created"),
            lambda c: _or_empty(datetime_text(c.created_at)),
            sort="created_at",
            hide_sm=True,
        ),
        Column(
            "updated_at",
            gettext_lazy("Updated"),
            lambda c: _or_empty(datetime_text(c.updated_at)),
            sort="updated_at",
            hide_sm=True,
        ),
        *custom_columns(fields),
    ]


def company_columns(fields: Iterable[CustomField]) -> list[Column]:
    return [
        Column(
            "inn",
            gettext_lazy("INN"),
            lambda c: _or_empty(c.inn),
            sort="inn",
            hide_sm=True,
            default=True,
        ),
        Column(
            "industry",
            gettext_lazy("Industry"),
            lambda c: _or_empty(c.industry),
            sort="industry",
            hide_sm=True,
            default=True,
        ),
        Column(
            "region",
            gettext_lazy("Region"),
            lambda c: _or_empty(c.region),
            sort="region",
            hide_sm=True,
            default=True,
        ),
        Column(
            "phone",
            gettext_lazy("Phone"),
            lambda c: phone_link(c.phone) if c.phone else EMPTY,
            default=True,
        ),
        Column(
            "email",
            gettext_lazy("E-mail"),
            lambda c: email_link(c.email) if c.email else EMPTY,
            hide_sm=True,
        ),
        Column(
            "website",
            gettext_lazy("Website"),
            lambda c: url_link(c.website) if c.website else EMPTY,
            hide_sm=True,
        ),
        Column(
            "size", gettext_lazy("Size"), lambda c: _or_empty(c.get_size_display()), hide_sm=True
        ),
        Column("owner", gettext_lazy("Owner"), _owner, hide_sm=True, default=True),
        Column(
            "tags",
            gettext_lazy("Tags"),
            lambda c: tags_html(c.tags.all()),
            hide_sm=True,
            default=True,
        ),
        Column(
            "created_at",
            gettext_lazy("Created"),
            lambda c: _or_empty(datetime_text(c.created_at)),
            sort="created_at",
            hide_sm=True,
        ),
        Column(
            "updated_at",
            gettext_lazy("Updated"),
            lambda c: _or_empty(datetime_text(c.updated_at)),
            sort="updated_at",
            hide_sm=True,
        ),
        *custom_columns(fields),
    ]
