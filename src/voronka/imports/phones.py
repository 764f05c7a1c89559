"""A fast path for the phone formats Russian files are full of, exact to ``normalize_phone``.

phonenumbers costs ~30 µs a number, which alone would cap an import near 30,000 rows/s. Most
numbers in a Russian customer file are "+7 916 123-45-67", "8 (916) 123-45-67", "79161234567"
or "9161234567". For those the E.164 form is "+7" and ten digits, *if* those ten digits are a
valid Russian number; validity is decided with the very patterns phonenumbers uses (read from
its metadata at import time, so a phonenumbers upgrade moves both paths together). Anything
else — another country, letters, an extension, a number the patterns refuse — goes through
``normalize_phone`` itself. tests/imports/test_phones.py checks the equivalence with hypothesis.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from phonenumbers import PhoneMetadata

from voronka.core.text import normalize_phone

# Only ASCII digits, spaces and the usual separators; "+" only in front.
_SHAPE = re.compile(r"\+?[0-9 ()\-.]{9,24}")
_NOT_DIGIT = re.compile(r"[^0-9]")


@lru_cache(maxsize=1)
def _russian_number() -> re.Pattern[str] | None:
    """A full-match pattern for the national numbers phonenumbers calls valid in RU."""
    meta = PhoneMetadata.metadata_for_region("RU")
    if meta is None or meta.general_desc is None:
        return None
    kinds = [
        meta.fixed_line, meta.mobile, meta.toll_free, meta.premium_rate, meta.shared_cost,
        meta.personal_number, meta.voip, meta.pager, meta.uan, meta.voicemail,
    ]  # fmt: skip
    patterns = [k.national_number_pattern for k in kinds if k and k.national_number_pattern]
    if not patterns:
        return None
    general = meta.general_desc.national_number_pattern
    return re.compile(f"(?=(?:{general})$)(?:{'|'.join(f'(?:{p})' for p in patterns)})$")


def _fast(text: str) -> str | None:
    """ "+7XXXXXXXXXX" for the common Russian shapes, None when unsure."""
    if not _SHAPE.fullmatch(text):
        return None
    digits = _NOT_DIGIT.sub("", text)
    if text[0] == "+":
        if len(digits) != 11 or digits[0] != "7":
            return None
        national = digits[1:]
    elif len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    elif len(digits) == 10 and digits[0] in "349":
        national = digits
    else:
        return None
    # 3, 4, 8 and 9 are the leading digits phonenumbers gives to RU (6 and 7 are Kazakhstan).
    if national[0] not in "3489":
        return None
    pattern = _russian_number()
    if pattern is None or not pattern.match(national):
        return None
    return "+7" + national


def normalize_phone_fast(raw: str) -> str:
    """Exactly ``normalize_phone(raw)`` (same value, same ValueError), faster for RU numbers
    and for a number the file repeats (a switchboard on every row of a company)."""
    region = settings.PHONE_REGION
    key = (region, raw)
    known = _known.get(key)
    if known is not None:
        if known[0] != "+":  # E.164 starts with "+"; anything else is the refusal's message
            raise ValueError(known)
        return known
    try:
        phone = _normalize(raw, region)
    except ValueError as exc:
        _remember(key, str(exc))
        raise
    _remember(key, phone)
    return phone


def _normalize(raw: str, region: str) -> str:
    text = (raw or "").strip()
    if text and region == "RU":
        fast = _fast(text)
        if fast is not None:
            return fast
    return normalize_phone(raw)


# Numbers seen lately: the E.164 form, or the message of the ValueError (a pure function of
# the text and the region). Bounded, emptied when full; shared by the threads of a process
# (dict operations are atomic, and a lost entry is only computed again).
_KNOWN_LIMIT = 50_000
_known: dict[tuple[str, str], str] = {}


def _remember(key: tuple[str, str], value: str) -> None:
    if len(_known) >= _KNOWN_LIMIT:
        _known.clear()
    _known[key] = value
