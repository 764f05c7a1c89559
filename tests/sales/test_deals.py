"""Deals: stage moves with required fields, won/lost, history, line items, visibility."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.models import OutboxEvent
from voronka.sales.models import Deal, DealStageHistory, LostReason, Pipeline, Stage, StageKind
from voronka.sales.selectors import deals_visible_to, get_deal_for_user
from voronka.sales.services import deal_create, deal_move, deal_update, product_create, stage_change

pytestmark = pytest.mark.django_db


def stage(kind: str = "open", position: int | None = None) -> Stage:
    qs = Stage.objects.filter(pipeline=Pipeline.objects.get(is_default=True), kind=kind).order_by(
        "position"
    )
    return qs[position] if position is not None else qs.first()


def test_new_deal_lands_in_the_first_stage_of_the_default_pipeline(alice: Any) -> None:
    deal = deal_create(actor=alice, data={"title": "Поставка"})
    assert deal.stage == stage("open", 0)
    assert deal.currency_id == "RUB" and deal.owner_id == alice.pk
    assert DealStageHistory.objects.filter(deal=deal, left_at__isnull=True).count() == 1
    assert OutboxEvent.objects.filter(name="deal.created", entity_id=deal.pk).exists()


def test_required_field_refuses_the_move_and_changes_nothing(admin: Any, alice: Any) -> None:
    target = stage("open", 2)
    stage_change(
        actor=admin, stage=target, changes={"required_fields": ["amount", "expected_close_date"]}
    )
    deal = deal_create(actor=alice, data={"title": "Поставка"})
    events_before = OutboxEvent.objects.count()
    with pytest.raises(ServiceValidationError) as exc:
        deal_move(actor=alice, deal=deal, stage_id=target.pk)
    assert {e.field for e in exc.value.errors} == {"amount", "expected_close_date"}
    assert target.name in exc.value.errors[0].message
    deal.refresh_from_db()
    assert deal.stage == stage("open", 0)
    assert DealStageHistory.objects.filter(deal=deal).count() == 1
    assert OutboxEvent.objects.count() == events_before
    deal_update(
        actor=alice,
        deal=deal,
        changes={"stage_id": target.pk, "amount": "150000", "expected_close_date": "2027-01-31"},
    )
    deal.refresh_from_db()
    assert deal.stage == target and deal.amount == Decimal("150000.00")


def test_won_and_lost_close_the_deal_and_publish_events(alice: Any) -> None:
    deal = deal_create(actor=alice, data={"title": "A", "amount": 100})
    deal = deal_move(actor=alice, deal=deal, stage_id=stage(StageKind.WON).pk)
    assert deal.closed_at is not None
    assert OutboxEvent.objects.filter(name="deal.won", entity_id=deal.pk).exists()
    assert OutboxEvent.objects.filter(name="deal.stage_changed", entity_id=deal.pk).exists()
    other = deal_create(actor=alice, data={"title": "B"})
    with pytest.raises(ServiceValidationError) as exc:
        deal_move(actor=alice, deal=other, stage_id=stage(StageKind.LOST).pk)
    assert exc.value.errors[0].field == "lost_reason_id"
    reason = LostReason.objects.first()
    other = deal_move(
        actor=alice, deal=other, stage_id=stage(StageKind.LOST).pk, lost_reason_id=reason.pk
    )
    assert other.lost_reason == reason
    assert OutboxEvent.objects.filter(name="deal.lost", entity_id=other.pk).exists()
    reopened = deal_move(actor=alice, deal=other, stage_id=stage("open", 1).pk)
    assert reopened.closed_at is None and reopened.lost_reason_id is None


def test_stage_history_records_time_in_each_stage(alice: Any) -> None:
    deal = deal_create(actor=alice, data={"title": "A"})
    deal_move(actor=alice, deal=deal, stage_id=stage("open", 1).pk)
    deal_move(actor=alice, deal=deal, stage_id=stage("open", 2).pk)
    rows = list(DealStageHistory.objects.filter(deal=deal).order_by("id"))
    assert [r.stage_id for r in rows] == [stage("open", i).pk for i in range(3)]
    assert rows[0].left_at is not None and rows[1].left_at is not None and rows[2].left_at is None


def test_line_items_set_the_amount(admin: Any, alice: Any) -> None:
    product = product_create(
        actor=admin,
        data={"sku": "SKU-1", "name": "Насос", "vat_rate": "20", "prices": {"RUB": "1999.99"}},
    )
    deal = deal_create(actor=alice, data={"title": "A", "lines": [
        {"product_id": product.pk, "quantity": 3, "unit_price": "1999.99", "discount_percent": 10},
        {"name": "Доставка", "quantity": "1", "unit_price": "500"},
    ]})  # fmt: skip
    assert deal.amount == Decimal("6979.96")
    assert [line.vat_rate for line in deal.lines.all()] == [Decimal("20.00"), None]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"amount": "abc"}, "amount"), ({"amount": -5}, "amount"), ({"currency": "XYZ"}, "currency"),
     ({"stage_id": 999999}, "stage_id"), ({"probability": 101}, "probability"), ({"title": ""}, "title"),
     ({"lines": [{"name": "x", "quantity": 0, "unit_price": 1}]}, "lines[0].quantity"),
     ({"lines": [{"name": "x", "quantity": 1, "unit_price": 1, "discount_percent": 150}]}, "lines[0].discount_percent"),
     ({"contact_ids": [999999]}, "contact_ids"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_deal_input_names_the_field(alice: Any, data: dict[str, Any], field: str) -> None:
    before = Deal.objects.count()
    with pytest.raises(ServiceValidationError) as exc:
        deal_create(actor=alice, data={"title": "A", **data})
    assert field in {e.field for e in exc.value.errors}
    assert Deal.objects.count() == before


def test_a_rep_never_sees_another_teams_deals(alice: Any, charlie: Any, set_scope: Any) -> None:
    set_scope("sales_rep", "team")
    theirs = deal_create(actor=charlie, data={"title": "Чужая"})
    mine = deal_create(actor=alice, data={"title": "Моя"})
    alice.refresh_from_db()
    assert list(deals_visible_to(alice)) == [mine]
    with pytest.raises(NotFound):
        get_deal_for_user(alice, theirs.pk)
