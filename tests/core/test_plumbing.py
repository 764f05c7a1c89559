"""Outbox, notes sanitizing, custom field definitions, cursors."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core import events
from voronka.core.errors import ServiceValidationError
from voronka.core.models import OutboxEvent
from voronka.core.pagination import _decode, _encode
from voronka.core.services import custom_field_create, custom_field_update, note_create
from voronka.core.text import format_phone, normalize_phone, sanitize_html
from voronka.core.timeline import timeline
from voronka.customers.services import contact_create

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps content type ids
def test_publish_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError):
        events.publish("x.y", entity="x", entity_id=1)


def test_a_rolled_back_service_leaves_no_event(alice: Any) -> None:
    before = OutboxEvent.objects.count()
    with pytest.raises(ServiceValidationError):
        contact_create(actor=alice, data={"last_name": "A", "emails": ["bad"]})
    assert OutboxEvent.objects.count() == before


@pytest.mark.parametrize(
    "dirty",
    ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">x</a>',
     '<p onclick="alert(1)">x</p>', '<iframe src="https://evil"></iframe>', '<svg onload=alert(1)>'],
)  # fmt: skip
def test_no_script_survives_sanitizing(dirty: str) -> None:
    clean = sanitize_html(dirty).lower()
    assert "script" not in clean and "onerror" not in clean and "javascript:" not in clean
    assert "onclick" not in clean and "iframe" not in clean and "onload" not in clean


def test_notes_keep_formatting_and_appear_on_the_timeline(alice: Any) -> None:
    contact = contact_create(actor=alice, data={"last_name": "Петров"})
    note_create(
        record=contact, body="<p><b>Позвонить</b> в пятницу<script>x()</script></p>", actor=alice
    )
    items = timeline(contact, alice)
    assert items[0].kind == "note"
    assert items[0].body_html == "<p><b>Позвонить</b> в пятницу</p>"
    assert {i.kind for i in items} == {"note", "change"}
    with pytest.raises(ServiceValidationError):
        note_create(record=contact, body="<script>only()</script>", actor=alice)


def test_custom_field_keys_from_labels_and_unique(db: Any) -> None:
    field = custom_field_create(entity="customers.contact", label="Annual revenue", type="money")
    assert field.key == "annual_revenue"
    with pytest.raises(ServiceValidationError) as exc:
        custom_field_create(entity="customers.contact", label="Annual revenue", type="number")
    assert exc.value.errors[0].field == "key"
    with pytest.raises(ServiceValidationError) as exc:
        custom_field_create(entity="customers.contact", label="Segment", type="select")
    assert exc.value.errors[0].field == "options"
    with pytest.raises(ServiceValidationError) as exc:
        custom_field_create(entity="nowhere", label="X", type="text")
    assert exc.value.errors[0].field == "entity"
    with pytest.raises(ServiceValidationError):
        custom_field_update(field=field, changes={"type": "text"})


def test_phone_helpers() -> None:
    assert normalize_phone("8 (916) 123-45-67") == "+79161234567"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert format_phone("+79161234567") == "+7 916 123-45-67"
    with pytest.raises(ValueError):
        normalize_phone("123")


def test_cursor_round_trip() -> None:
    import datetime as dt

    values = ["Иванов", dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), dt.date(2026, 1, 2), 5]
    assert _decode(_encode(values), 4) == values
    with pytest.raises(ServiceValidationError):
        _decode(_encode(values), 3)
