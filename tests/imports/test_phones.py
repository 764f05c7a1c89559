"""The fast paths give exactly what the services' normalizers give (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voronka.core.text import digits, fold, normalize_email, normalize_phone
from voronka.imports.cleaning import fold_fast, normalize_email_fast, phone_digits
from voronka.imports.phones import normalize_phone_fast


def _outcome(fn, text):  # type: ignore[no-untyped-def]
    try:
        return fn(text)
    except ValueError:
        return ValueError


SEPARATORS = st.sampled_from(["", " ", "-", ".", "(", ")", "  ", " (", ") "])
PREFIXES = st.sampled_from(["", "+7", "8", "7", "+8", "+", "810", "+7 8", "9", " "])


@st.composite
def russian_looking(draw: st.DrawFn) -> str:
    """Numbers as people type them: a prefix, 9–12 digits, separators anywhere."""
    digits = draw(st.text(alphabet="0123456789", min_size=8, max_size=12))
    out = draw(PREFIXES)
    for ch in digits:
        out += draw(SEPARATORS) + ch
    return out + draw(st.sampled_from(["", " ", "  "]))


@pytest.mark.django_db
@settings(max_examples=3000, deadline=None)
@given(russian_looking())
def test_fast_phone_equals_normalize_phone(text: str) -> None:
    assert _outcome(normalize_phone_fast, text) == _outcome(normalize_phone, text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789+-() .x#/ext;,abc\t\u00a0", max_size=25))
def test_fast_phone_equals_normalize_phone_on_noise(text: str) -> None:
    assert _outcome(normalize_phone_fast, text) == _outcome(normalize_phone, text)


@pytest.mark.parametrize(
    "typed",
    ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567", "9161234567", "8-916-123-45-67",
     "+7(916)1234567", "8 916 123 45 67 "],
)  # fmt: skip
def test_common_russian_shapes(typed: str) -> None:
    assert normalize_phone_fast(typed) == "+79161234567"


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet="abcXYZ019._%+-@!#'\"ёя ", min_size=1, max_size=30)
    | st.from_regex(
        r"[A-Za-z0-9._+-]{1,12}@[A-Za-z0-9-]{1,10}(\.[A-Za-z0-9-]{1,8}){1,3}", fullmatch=True
    )
)
def test_fast_email_equals_normalize_email(text: str) -> None:
    assert _outcome(normalize_email_fast, text) == _outcome(normalize_email, text)


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
    | st.text(
        alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000aЁёİß", max_size=20
    )
)
def test_fast_fold_equals_fold(text: str) -> None:
    assert fold_fast(text) == fold(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="+0123456789٣", max_size=15))
def test_phone_digits_equals_digits(text: str) -> None:
    assert phone_digits(text) == digits(text)


@pytest.mark.parametrize(
    "typed",
    ["8 (916) 123-45-67", "+1 650 253 0000", "+44 20 7946 0958", "12345", "", "   ", "8 (916) 12"],
)
def test_a_number_seen_again_gives_the_same_value_or_refusal(typed: str) -> None:
    """The second call answers from the cache of numbers seen: same value, same message."""

    def outcome(fn):  # type: ignore[no-untyped-def]
        try:
            return fn(typed)
        except ValueError as exc:
            return ("ValueError", str(exc))

    expected = outcome(normalize_phone)
    assert outcome(normalize_phone_fast) == expected
    assert outcome(normalize_phone_fast) == expected


def test_the_cache_of_numbers_follows_the_region(settings: Any) -> None:
    settings.PHONE_REGION = "RU"
    assert normalize_phone_fast("8 (916) 123-45-67") == "+79161234567"
    settings.PHONE_REGION = "US"
    assert _outcome(normalize_phone_fast, "8 (916) 123-45-67") == _outcome(
        normalize_phone, "8 (916) 123-45-67"
    )
    assert normalize_phone_fast("(650) 253-0000") == normalize_phone("(650) 253-0000")
