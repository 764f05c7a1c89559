"""Sales settings services: pipelines and stages keep one stage of each kind and never lose
deals, lost reasons, currencies and rates, assignment rules, and who may edit products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import AuditEntry
from voronka.sales.models import (
    AssignmentRule,
    Currency,
    LostReason,
    Pipeline,
    Product,
    Stage,
    StageKind,
)
from voronka.sales.services import (
    assignment_rule_create,
    assignment_rule_shift,
    assignment_rule_update,
    currency_create,
    currency_set_base,
    currency_update,
    deal_create,
    deal_move,
    lead_create,
    lost_reason_create,
    lost_reason_update,
    pipeline_create,
    pipeline_delete,
    pipeline_rename,
    pipeline_set_default,
    product_create,
    product_update,
    stage_add,
    stage_change,
    stage_remove,
    stage_shift,
)
from voronka.sales.services.setup import round_robin_next, starter_stages

pytestmark = pytest.mark.django_db


def fields_of(exc: pytest.ExceptionInfo[ServiceValidationError]) -> set[str]:
    return {e.field for e in exc.value.errors}


def messages_of(exc: pytest.ExceptionInfo[ServiceValidationError]) -> str:
    return "; ".join(e.message for e in exc.value.errors)


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "id"))


def new_pipeline(admin: Any, name: str = "Partners") -> Pipeline:
    return pipeline_create(actor=admin, name=name, stages=starter_stages())


# --- pipelines ---------------------------------------------------------------------------------


def test_a_new_pipeline_starts_with_a_stage_of_each_kind(admin: Any) -> None:
    pipeline = new_pipeline(admin)
    assert [s.kind for s in stages_of(pipeline)] == ["open", "won", "lost"]
    assert not pipeline.is_default  # the migration's pipeline stays the default


def test_rename_checks_the_name_and_the_role(admin: Any, alice: Any) -> None:
    pipeline = default_pipeline()
    with pytest.raises(ServiceValidationError) as exc:
        pipeline_rename(actor=admin, pipeline=pipeline, name="   ")
    assert fields_of(exc) == {"name"}
    with pytest.raises(Forbidden):
        pipeline_rename(actor=alice, pipeline=pipeline, name="Mine")
    pipeline_rename(actor=admin, pipeline=pipeline, name="  B2B  ")
    pipeline.refresh_from_db()
    assert pipeline.name == "B2B"


def test_exactly_one_default_pipeline(admin: Any, alice: Any) -> None:
    old = default_pipeline()
    other = new_pipeline(admin)
    pipeline_set_default(actor=admin, pipeline=other)
    assert list(Pipeline.objects.filter(is_default=True)) == [other]
    deal = deal_create(actor=alice, data={"title": "Goes to the new default"})
    assert deal.pipeline == other
    old.refresh_from_db()
    assert not old.is_default


def test_a_pipeline_with_deals_is_not_deleted(admin: Any, alice: Any) -> None:
    other = new_pipeline(admin)
    for title in ("A", "B"):
        deal_create(actor=alice, data={"title": title, "pipeline_id": other.pk})
    with pytest.raises(ServiceValidationError) as exc:
        pipeline_delete(actor=admin, pipeline=other)
    assert "2 deals are in this pipeline" in messages_of(exc)
    assert Pipeline.objects.filter(pk=other.pk).exists()


def test_the_last_pipeline_stays_and_a_deleted_default_passes_it_on(admin: Any) -> None:
    only = default_pipeline()
    with pytest.raises(ServiceValidationError) as exc:
        pipeline_delete(actor=admin, pipeline=only)
    assert "only pipeline" in messages_of(exc)
    other = new_pipeline(admin)
    only_pk = only.pk
    pipeline_delete(actor=admin, pipeline=only)
    other.refresh_from_db()
    assert other.is_default and Pipeline.objects.count() == 1
    assert not Stage.objects.filter(pipeline_id=only_pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=only_pk).exists()


# --- stages ------------------------------------------------------------------------------------


def test_deleting_a_stage_with_deals_is_refused_naming_how_many(admin: Any, alice: Any) -> None:
    stage = stages_of(default_pipeline())[1]
    for title in ("A", "B", "C"):
        deal_create(actor=alice, data={"title": title, "stage_id": stage.pk})
    with pytest.raises(ServiceValidationError) as exc:
        stage_remove(actor=admin, stage=stage)
    assert fields_of(exc) == {"stage"}
    assert "3 deals are in this stage" in messages_of(exc)
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_one_deal_is_named_in_the_singular(admin: Any, alice: Any) -> None:
    stage = stages_of(default_pipeline())[1]
    deal_create(actor=alice, data={"title": "A", "stage_id": stage.pk})
    with pytest.raises(ServiceValidationError) as exc:
        stage_remove(actor=admin, stage=stage)
    assert "1 deal is in this stage" in messages_of(exc)


def test_the_last_stage_of_a_kind_stays(admin: Any) -> None:
    pipeline = new_pipeline(admin)
    won = pipeline.stages.get(kind=StageKind.WON)
    with pytest.raises(ServiceValidationError) as exc:
        stage_remove(actor=admin, stage=won)
    assert fields_of(exc) == {"stage"}
    assert "needs at least one" in messages_of(exc)
    with pytest.raises(ServiceValidationError) as exc:
        stage_change(actor=admin, stage=won, changes={"kind": StageKind.OPEN})
    assert fields_of(exc) == {"kind"}
    won.refresh_from_db()
    assert won.kind == StageKind.WON
    open_stage = pipeline.stages.get(kind=StageKind.OPEN)
    with pytest.raises(ServiceValidationError):
        stage_remove(actor=admin, stage=open_stage)


def test_an_empty_stage_is_deleted_with_an_audit_entry(admin: Any) -> None:
    stage = stages_of(default_pipeline())[1]
    stage_pk = stage.pk
    stage_remove(actor=admin, stage=stage)
    assert not Stage.objects.filter(pk=stage_pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=stage_pk).exists()


def test_kind_does_not_change_while_deals_are_in_the_stage(admin: Any, alice: Any) -> None:
    stage = stages_of(default_pipeline())[0]
    deal_create(actor=alice, data={"title": "A"})
    with pytest.raises(ServiceValidationError) as exc:
        stage_change(actor=admin, stage=stage, changes={"kind": StageKind.WON})
    assert "1 deal" in messages_of(exc)


def test_a_new_open_stage_goes_before_the_closing_stages(admin: Any) -> None:
    pipeline = default_pipeline()
    stage = stage_add(
        actor=admin,
        pipeline=pipeline,
        data={"name": "Contract", "probability": "90", "color": "#AABBCC", "kind": "open",
              "instructions": "Send the contract\n\n  Get it signed  \n"},
    )  # fmt: skip
    kinds = [(s.name, s.kind) for s in stages_of(pipeline)]
    assert [k for _name, k in kinds[-3:]] == ["open", "won", "lost"]
    assert kinds[-3][0] == "Contract"
    assert stage.instructions == ["Send the contract", "Get it signed"]
    assert stage.color == "#aabbcc" and stage.probability == 90
    won = stage_add(actor=admin, pipeline=pipeline, data={"name": "Won again", "kind": "won"})
    assert stages_of(pipeline)[-1] == won


def test_bad_stage_input_reports_every_field_and_writes_nothing(admin: Any) -> None:
    pipeline = default_pipeline()
    before = pipeline.stages.count()
    with pytest.raises(ServiceValidationError) as exc:
        stage_add(
            actor=admin,
            pipeline=pipeline,
            data={"name": "", "color": "red", "probability": "150", "kind": "maybe",
                  "required_fields": ["amount", "shoe_size"]},
        )  # fmt: skip
    assert fields_of(exc) == {"name", "color", "probability", "kind", "required_fields"}
    assert pipeline.stages.count() == before
    with pytest.raises(ServiceValidationError) as exc:
        stage_add(actor=admin, pipeline=pipeline, data={"name": "Long", "instructions": "x" * 300})
    assert fields_of(exc) == {"instructions"}
    assert pipeline.stages.count() == before


def test_bad_edit_leaves_the_stage_as_it_was(admin: Any) -> None:
    stage = stages_of(default_pipeline())[0]
    with pytest.raises(ServiceValidationError) as exc:
        stage_change(actor=admin, stage=stage, changes={"name": "Renamed", "color": "#12345"})
    assert fields_of(exc) == {"color"}
    stage.refresh_from_db()
    assert stage.name != "Renamed"


def test_required_fields_accept_deal_custom_fields(admin: Any) -> None:
    from voronka.core.services import custom_field_create

    custom_field_create(entity="sales.deal", label="Tender number", type="text", actor=admin)
    stage = stages_of(default_pipeline())[2]
    stage_change(
        actor=admin, stage=stage, changes={"required_fields": ["amount", "cf.tender_number"]}
    )
    stage.refresh_from_db()
    assert stage.required_fields == ["amount", "cf.tender_number"]


def test_shift_moves_a_stage_one_place(admin: Any, alice: Any) -> None:
    pipeline = default_pipeline()
    first, second = stages_of(pipeline)[:2]
    stage_shift(actor=admin, stage=second, offset=-1)
    assert stages_of(pipeline)[:2] == [second, first]
    stage_shift(actor=admin, stage=second, offset=-1)  # already at the top: nothing changes
    assert stages_of(pipeline)[:2] == [second, first]
    last = stages_of(pipeline)[-1]
    stage_shift(actor=admin, stage=last, offset=1)
    assert stages_of(pipeline)[-1] == last
    with pytest.raises(Forbidden):
        stage_shift(actor=alice, stage=first, offset=1)


# --- lost reasons ------------------------------------------------------------------------------


def test_lost_reasons_are_unique_and_can_be_renamed(admin: Any) -> None:
    reason = lost_reason_create(actor=admin, name="Went bankrupt")
    with pytest.raises(ServiceValidationError) as exc:
        lost_reason_create(actor=admin, name="went BANKRUPT ")
    assert fields_of(exc) == {"name"}
    existing = LostReason.objects.exclude(pk=reason.pk).first()
    with pytest.raises(ServiceValidationError):
        lost_reason_update(actor=admin, reason=reason, changes={"name": existing.name})
    lost_reason_update(actor=admin, reason=reason, changes={"name": "Closed down"})
    reason.refresh_from_db()
    assert reason.name == "Closed down"


def test_an_inactive_reason_is_no_longer_accepted(admin: Any, alice: Any) -> None:
    reason = LostReason.objects.first()
    lost_reason_update(actor=admin, reason=reason, changes={"active": False})
    lost = default_pipeline().stages.get(kind=StageKind.LOST)
    deal = deal_create(actor=alice, data={"title": "A"})
    with pytest.raises(ServiceValidationError) as exc:
        deal_move(actor=alice, deal=deal, stage_id=lost.pk, lost_reason_id=reason.pk)
    assert "lost_reason_id" in fields_of(exc)
    with pytest.raises(ServiceValidationError):
        lost_reason_update(actor=admin, reason=reason, changes={"active": "no"})


# --- currencies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [({"code": "US", "name": "x", "rate": "1"}, "code"),
     ({"code": "usd", "name": "x", "rate": "1"}, "code"),
     ({"code": "CNY", "name": "", "rate": "12"}, "name"),
     ({"code": "CNY", "name": "Yuan", "rate": "0"}, "rate"),
     ({"code": "CNY", "name": "Yuan", "rate": "-5"}, "rate"),
     ({"code": "CNY", "name": "Yuan", "rate": "abc"}, "rate"),
     ({"code": "CNY", "name": "Yuan", "rate": "1.1234567"}, "rate"),
     ({"code": "CNY", "name": "Yuan", "rate": ""}, "rate"),
     ({"code": "CNY", "name": "Yuan", "rate": "12", "symbol": "too long!"}, "symbol")],
)  # fmt: skip
def test_bad_currency_input_names_the_field(admin: Any, data: dict[str, Any], field: str) -> None:
    before = Currency.objects.count()
    with pytest.raises(ServiceValidationError) as exc:
        currency_create(actor=admin, data=data)
    assert field in fields_of(exc)
    assert Currency.objects.count() == before


def test_a_currency_is_added_with_its_rate(admin: Any, alice: Any) -> None:
    cny = currency_create(actor=admin, data={"code": " cny ", "name": "Yuan", "symbol": "¥",
                                             "rate": "12,35"})  # fmt: skip
    assert (cny.code, cny.rate, cny.is_base) == ("CNY", Decimal("12.35"), False)
    with pytest.raises(Forbidden):
        currency_create(actor=alice, data={"code": "KZT", "name": "Tenge", "rate": "0.18"})


def test_rates_change_but_the_base_stays_at_one(admin: Any) -> None:
    usd = Currency.objects.get(code="USD")
    currency_update(actor=admin, currency=usd, changes={"rate": "92.5"})
    usd.refresh_from_db()
    assert usd.rate == Decimal("92.5")
    rub = Currency.objects.get(is_base=True)
    with pytest.raises(ServiceValidationError) as exc:
        currency_update(actor=admin, currency=rub, changes={"rate": "2"})
    assert fields_of(exc) == {"rate"}
    with pytest.raises(ServiceValidationError):
        currency_update(actor=admin, currency=usd, changes={"rate": ""})


def test_a_new_base_currency_recalculates_every_rate(admin: Any) -> None:
    usd = Currency.objects.get(code="USD")
    currency_set_base(actor=admin, currency=usd)
    rates = dict(Currency.objects.values_list("code", "rate"))
    assert rates == {"USD": Decimal(1), "RUB": Decimal("0.011111"), "EUR": Decimal("1.111111")}
    assert list(Currency.objects.filter(is_base=True).values_list("code", flat=True)) == ["USD"]


# --- assignment rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "RR", "kind": "round_robin"}, "team_id"),
     ({"name": "", "kind": "round_robin", "team": True}, "name"),
     ({"name": "Site", "kind": "by_source", "team": True}, "match_value"),
     ({"name": "Site", "kind": "by_source", "match_value": "website"}, "user_id"),
     ({"name": "Site", "kind": "by_source", "match_value": "website", "team": True,
       "user": True}, "user_id"),
     ({"name": "X", "kind": "lottery", "team": True}, "kind"),
     ({"name": "X", "kind": "round_robin", "team_id": 999999}, "team_id")],
)  # fmt: skip
def test_bad_rules_name_the_field(
    admin: Any, alice: Any, team_a: Any, data: dict[str, Any], field: str
) -> None:
    data = dict(data)
    if data.pop("team", False):
        data["team_id"] = team_a.pk
    if data.pop("user", False):
        data["user_id"] = alice.pk
    with pytest.raises(ServiceValidationError) as exc:
        assignment_rule_create(actor=admin, data=data)
    assert field in fields_of(exc)
    assert not AssignmentRule.objects.exists()


def test_round_robin_shows_who_gets_the_next_lead(admin: Any, alice: Any, bob: Any,
                                                   team_a: Any) -> None:  # fmt: skip
    rule = assignment_rule_create(
        actor=admin, data={"name": "Team A", "kind": "round_robin", "team_id": team_a.pk}
    )
    first, second = sorted([alice, bob], key=lambda u: u.pk)
    assert round_robin_next(rule) == first
    lead = lead_create(actor=None, data={"last_name": "Смирнов"})
    assert lead.owner_id == first.pk
    rule.refresh_from_db()
    assert round_robin_next(rule) == second
    lead = lead_create(actor=None, data={"last_name": "Кузнецов"})
    assert lead.owner_id == second.pk


def test_rules_are_edited_and_reordered(admin: Any, alice: Any, team_a: Any) -> None:
    rr = assignment_rule_create(
        actor=admin, data={"name": "RR", "kind": "round_robin", "team_id": team_a.pk}
    )
    site = assignment_rule_create(
        actor=admin,
        data={"name": "Site", "kind": "by_source", "match_value": "website", "user_id": alice.pk},
    )
    assignment_rule_shift(actor=admin, rule=site, offset=-1)
    assert list(AssignmentRule.objects.order_by("position", "id")) == [site, rr]
    assignment_rule_update(actor=admin, rule=rr, changes={"active": False, "name": "Off"})
    rr.refresh_from_db()
    assert (rr.active, rr.name) == (False, "Off")


# --- products ----------------------------------------------------------------------------------


def test_duplicate_sku_is_refused(admin: Any) -> None:
    product_create(actor=admin, data={"sku": "PUMP-1", "name": "Pump"})
    with pytest.raises(ServiceValidationError) as exc:
        product_create(actor=admin, data={"sku": "pump-1", "name": "Another pump"})
    assert fields_of(exc) == {"sku"}
    assert Product.objects.count() == 1


def test_bad_prices_name_the_currency(admin: Any) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        product_create(actor=admin, data={"sku": "A", "name": "A", "vat_rate": "120",
                                          "prices": {"USD": "abc", "XXX": "1"}})  # fmt: skip
    assert fields_of(exc) == {"vat_rate", "prices.USD", "prices.XXX"}


def test_only_admins_and_heads_of_sales_edit_products(
    admin: Any, alice: Any, make_user: Any
) -> None:
    head = make_user("head", role="head_of_sales")
    marketer = make_user("marketer", role="marketer")
    product = product_create(
        actor=head, data={"sku": "S-1", "name": "Service", "prices": {"RUB": "100"}}
    )
    for outsider in (alice, marketer):
        with pytest.raises(Forbidden):
            product_create(actor=outsider, data={"sku": "S-2", "name": "Other"})
        with pytest.raises(Forbidden):
            product_update(actor=outsider, product=product, changes={"active": False})
    product_update(actor=admin, product=product, changes={"active": False})
    product.refresh_from_db()
    assert not product.active
