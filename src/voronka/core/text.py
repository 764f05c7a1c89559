"""Normalization of what people type: phones, e-mails, rich text, search text."""

from __future__ import annotations

import re

import nh3
import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator

_email_validator = EmailValidator()
_url_validator = URLValidator(schemes=["http", "https"])
_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")

ALLOWED_TAGS = {
    "a", "b", "strong", "i", "em", "u", "s", "p", "br", "ul", "ol", "li", "blockquote",
    "code", "pre", "h3", "h4", "span",
}  # fmt: skip


def normalize_phone(raw: str, region: str | None = None) -> str:
    """E.164 form of a phone typed in any common format; ValueError when it is not a phone.

    "8 (916) 123-45-67", "+7 916 123 45 67" and "79161234567" all give "+79161234567"."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("empty phone number")
    region = region or settings.PHONE_REGION
    digits = _NON_DIGITS.sub("", text)
    candidates = [text]
    if not text.startswith("+") and len(digits) > 10:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"not a valid phone number: {raw!r}")


def format_phone(e164: str) -> str:
    """International display form (+7 916 123-45-67)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased e-mail; ValueError when it is not one."""
    email = (raw or "").strip().lower()
    try:
        _email_validator(email)
    except DjangoValidationError as exc:
        raise ValueError(f"not a valid e-mail address: {raw!r}") from exc
    return email


def validate_url(raw: str) -> str:
    url = (raw or "").strip()
    if url and "://" not in url:
        url = "https://" + url
    try:
        _url_validator(url)
    except DjangoValidationError as exc:
        raise ValueError(f"not a valid URL: {raw!r}") from exc
    return url


def sanitize_html(raw: str) -> str:
    """Rich text with only harmless tags left: no script, no event handler, no javascript: URL."""
    return nh3.clean(
        raw or "",
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "span": set()},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def fold(text: str) -> str:
    """Case-folded, single-spaced text for search columns (Unicode-aware, unlike SQLite LIKE)."""
    return _SPACES.sub(" ", (text or "").casefold().replace("ё", "е")).strip()


def digits(text: str) -> str:
    return _NON_DIGITS.sub("", text or "")
