"""Pipelines, stages and deals: creation, editing, line items, and moves between stages.

Moving a deal checks the target stage's required fields first; a refused move changes
nothing. Every move is kept in the stage history, so time spent per stage is known."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Max, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.custom_fields import clean_custom, definitions
from voronka.core.errors import Collector, Forbidden, ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.selectors import companies_visible_to, contacts_visible_to
from voronka.customers.services import tags_get_or_create
from voronka.sales import progress
from voronka.sales.models import (
    Currency,
    Deal,
    DealLine,
    DealStageHistory,
    LostReason,
    Pipeline,
    Product,
    Stage,
    StageKind,
)
from voronka.sales.money import line_totals
from voronka.sales.services.common import (
    clean_day,
    clean_decimal,
    clean_fk,
    require_admin,
    require_writer,
    unknown_fields,
)

DEAL_ENTITY = "sales.deal"
DEAL_FIELDS = {
    "title", "company_id", "contact_ids", "pipeline_id", "stage_id", "amount", "currency",
    "expected_close_date", "probability", "owner_id", "source", "custom", "lines",
    "lost_reason_id", "lost_comment", "tags",
}  # fmt: skip
# What an administrator may require before a deal enters a stage (plus "cf.<key>").
REQUIRABLE_FIELDS = {"amount", "expected_close_date", "company", "contacts", "lines", "source"}
_STAGE_KEYS = {"name", "probability", "color", "kind", "instructions", "required_fields"}
_LINE_KEYS = {
    "product_id",
    "name",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "vat_rate",
}


# --- pipelines and stages ----------------------------------------------------------------------


def _clean_stage_input(errors: Collector, data: dict[str, Any], entity_fields: set[str]) -> None:
    name = (data.get("name") or "").strip()
    if not name or len(name) > 128:
        errors.add("name", _("must be 1 to 128 characters"))
    data["name"] = name
    prob = data.get("probability", 0)
    if isinstance(prob, bool) or not isinstance(prob, int) or not 0 <= prob <= 100:
        errors.add("probability", _("must be a whole number from 0 to 100"))
    if data.get("kind", StageKind.OPEN) not in StageKind.values:
        errors.add(
            "kind", _("must be one of: %(options)s") % {"options": ", ".join(StageKind.values)}
        )
    instructions = data.get("instructions") or []
    if isinstance(instructions, str):
        instructions = [line.strip() for line in instructions.splitlines() if line.strip()]
    if not isinstance(instructions, list) or not all(isinstance(i, str) for i in instructions):
        errors.add("instructions", _("must be a list of lines"))
        instructions = []
    data["instructions"] = instructions
    required = data.get("required_fields") or []
    if not isinstance(required, list):
        errors.add("required_fields", _("must be a list"))
        required = []
    for field_name in required:
        if field_name not in REQUIRABLE_FIELDS and field_name not in entity_fields:
            errors.add("required_fields", _("unknown field: %(name)s") % {"name": field_name})
    data["required_fields"] = list(dict.fromkeys(required))


def _deal_cf_keys() -> set[str]:
    return {f"cf.{f.key}" for f in definitions(DEAL_ENTITY)}


def pipeline_create(
    *, actor: Any, name: str, stages: list[dict[str, Any]] | None = None
) -> Pipeline:
    require_admin(actor)
    name = (name or "").strip()
    errors = Collector()
    if not name or len(name) > 128:
        errors.add("name", _("must be 1 to 128 characters"))
    cf_keys = _deal_cf_keys()
    stage_data = [dict(s) for s in (stages or [])]
    for s in stage_data:
        unknown_fields(errors, s, _STAGE_KEYS)
        _clean_stage_input(errors, s, cf_keys)
    errors.raise_if_any()
    with transaction.atomic():
        position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
        pipeline = Pipeline.objects.create(
            name=name, position=position, is_default=not Pipeline.objects.exists()
        )
        for i, s in enumerate(stage_data):
            Stage.objects.create(pipeline=pipeline, position=i, **s)
        audit.record(pipeline, action="create", changes={"name": name}, actor=actor)
    return pipeline


def stage_create(*, actor: Any, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    require_admin(actor)
    values = dict(data)
    errors = Collector()
    unknown_fields(errors, values, _STAGE_KEYS)
    _clean_stage_input(errors, values, _deal_cf_keys())
    errors.raise_if_any()
    with transaction.atomic():
        position = (pipeline.stages.aggregate(m=Max("position"))["m"] or 0) + 1
        stage = Stage.objects.create(pipeline=pipeline, position=position, **values)
        audit.record(stage, action="create", changes=values, actor=actor)
    return stage


def stage_update(*, actor: Any, stage: Stage, changes: Mapping[str, Any]) -> Stage:
    require_admin(actor)
    errors = Collector()
    unknown_fields(errors, dict(changes), _STAGE_KEYS)
    values = {k: getattr(stage, k) for k in _STAGE_KEYS} | dict(changes)
    _clean_stage_input(errors, values, _deal_cf_keys())
    errors.raise_if_any()
    before = {k: getattr(stage, k) for k in _STAGE_KEYS}
    with transaction.atomic():
        for key in _STAGE_KEYS:
            setattr(stage, key, values[key])
        stage.save()
        if before["kind"] != stage.kind:
            # Deals that passed through it now count it as lost, or no longer do.
            progress.refresh(_visitors(stage.pipeline_id, [stage.pk]), DealStageHistory)
        audit.record(stage, action="update", changes=audit.diff(before, values), actor=actor)
    return stage


def _visitors(pipeline_id: int, stage_ids: list[int]) -> QuerySet[Deal]:
    """The pipeline's deals whose kept progress may depend on ``stage_ids``."""
    return progress.visitors(
        Deal.objects.filter(pipeline_id=pipeline_id), DealStageHistory, stage_ids
    )


def stage_reorder(*, actor: Any, pipeline: Pipeline, stage_ids: list[int]) -> None:
    require_admin(actor)
    current = set(pipeline.stages.values_list("id", flat=True))
    if set(stage_ids) != current or len(stage_ids) != len(current):
        raise ServiceValidationError.single("stage_ids", _("give every stage of the pipeline once"))
    with transaction.atomic():
        old = dict(pipeline.stages.exclude(kind=StageKind.LOST).values_list("id", "position"))
        for i, stage_id in enumerate(stage_ids):
            Stage.objects.filter(pk=stage_id).update(position=i)
        _renumber_progress(pipeline, old, {pk: i for i, pk in enumerate(stage_ids) if pk in old})


def _renumber_progress(pipeline: Pipeline, old: dict[int, int], new: dict[int, int]) -> None:
    """Keep the deals' furthest positions right after the open and won stages got positions
    ``new`` (they had ``old``). In the same order (a stage added before the closing ones
    shifts them) the positions are renumbered in one pass; in another order the furthest
    stage reached may be another one, so it is recomputed from the history."""
    if old == new:
        return
    if sorted(old, key=old.__getitem__) != sorted(new, key=new.__getitem__):
        # Only a deal that entered a stage whose position changed can have another furthest
        # stage; moving a late stage touches few deals, swapping the first two nearly all.
        moved = [pk for pk in old if old[pk] != new[pk]]
        progress.refresh(_visitors(pipeline.pk, moved), DealStageHistory)
        return
    renumbered = {old[pk]: new[pk] for pk in old if old[pk] != new[pk]}
    Deal.objects.filter(pipeline=pipeline, furthest_position__in=list(renumbered)).update(
        furthest_position=Case(
            *[When(furthest_position=a, then=Value(b)) for a, b in renumbered.items()],
            default=F("furthest_position"),
        )
    )


def stage_delete(*, actor: Any, stage: Stage) -> None:
    require_admin(actor)
    if stage.deals.exists():
        raise ServiceValidationError.single("stage", _("move the deals out of this stage first"))
    with transaction.atomic():
        # Counted as if the stage were gone already: its visits go with it.
        progress.refresh(
            _visitors(stage.pipeline_id, [stage.pk]), DealStageHistory, without_stage_id=stage.pk
        )
        stage.delete()


# --- deals -------------------------------------------------------------------------------------


def deal_snapshot(deal: Deal) -> dict[str, Any]:
    return {
        "title": deal.title, "company_id": deal.company_id,
        "contact_ids": sorted(deal.contacts.values_list("id", flat=True)) if deal.pk else [],
        "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id, "amount": deal.amount,
        "currency": deal.currency_id, "expected_close_date": deal.expected_close_date,
        "probability": deal.probability, "owner_id": deal.owner_id, "source": deal.source,
        "lost_reason_id": deal.lost_reason_id, "custom": dict(deal.custom or {}),
        "tags": sorted(t.name for t in deal.tags.all()) if deal.pk else [],
    }  # fmt: skip


def _clean_lines(errors: Collector, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        errors.add("lines", _("must be a list"))
        return []
    wanted: list[int] = [
        i["product_id"] for i in raw if isinstance(i, dict) and isinstance(i.get("product_id"), int)
    ]
    products = {p.pk: p for p in Product.objects.filter(pk__in=wanted)}
    lines: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.add(f"lines[{i}]", _("must be an object"))
            continue
        line = dict(item)
        for key in line:
            if key not in _LINE_KEYS:
                errors.add(f"lines[{i}].{key}", _("unknown field"))
        product = products.get(line["product_id"]) if line.get("product_id") is not None else None
        if line.get("product_id") is not None and product is None:
            errors.add(f"lines[{i}].product_id", _("no such product"))
        name = str(line.get("name") or (product.name if product else "")).strip()
        if not name or len(name) > 255:
            errors.add(f"lines[{i}].name", _("must be 1 to 255 characters"))
        line["name"] = name
        if product is not None:
            line.setdefault("unit", product.unit)
            if "vat_rate" not in line:
                line["vat_rate"] = product.vat_rate
        clean_decimal(
            errors,
            line,
            "quantity",
            places=3,
            minimum=Decimal("0.001"),
            required=True,
            field=f"lines[{i}].quantity",
        )
        clean_decimal(errors, line, "unit_price", required=True, field=f"lines[{i}].unit_price")
        line.setdefault("discount_percent", 0)
        clean_decimal(errors, line, "discount_percent", field=f"lines[{i}].discount_percent")
        if isinstance(line.get("discount_percent"), Decimal) and line["discount_percent"] > 100:
            errors.add(f"lines[{i}].discount_percent", _("must be at most 100"))
        clean_decimal(errors, line, "vat_rate", field=f"lines[{i}].vat_rate", maximum=Decimal(100))
        line["unit"] = str(line.get("unit") or "")[:32]
        lines.append(line)
    return lines


def _clean_deal(
    data: dict[str, Any], *, actor: Any, instance: Deal | None
) -> tuple[dict[str, Any], Collector, Stage | None]:
    from django.contrib.auth import get_user_model

    errors = Collector()
    unknown_fields(errors, data, DEAL_FIELDS)
    if "title" in data or instance is None:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip() or len(title.strip()) > 255:
            errors.add("title", _("must be 1 to 255 characters"))
        else:
            data["title"] = title.strip()
    if "source" in data:
        data["source"] = str(data["source"] or "").strip()[:100]
    if "lost_comment" in data:
        data["lost_comment"] = str(data["lost_comment"] or "").strip()[:500]
    clean_decimal(errors, data, "amount")
    if "amount" in data and data["amount"] is None:
        data["amount"] = Decimal(0)
    clean_day(errors, data, "expected_close_date")
    if "probability" in data and data["probability"] not in (None, ""):
        p = data["probability"]
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 100:
            errors.add("probability", _("must be a whole number from 0 to 100"))
    elif "probability" in data:
        data["probability"] = None
    clean_fk(errors, data, "company_id", companies_visible_to(actor), _("no such company"))
    if "contact_ids" in data:
        ids = data["contact_ids"] or []
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            errors.add("contact_ids", _("must be a list of contact ids"))
        else:
            found = set(contacts_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
            missing = [i for i in ids if i not in found]
            if missing:
                errors.add(
                    "contact_ids",
                    _("no such contacts: %(ids)s") % {"ids": ", ".join(map(str, missing))},
                )
            data["contact_ids"] = list(dict.fromkeys(ids))
    clean_fk(
        errors,
        data,
        "owner_id",
        get_user_model().objects.filter(is_active=True),
        _("no such active user"),
    )
    if "currency" in data or instance is None:
        base = Currency.objects.filter(is_base=True).values_list("code", flat=True).first() or "RUB"
        code = str(data.get("currency") or "").upper() or base
        if not Currency.objects.filter(code=code).exists():
            errors.add("currency", _("unknown currency"))
        data["currency_id"] = code
        data.pop("currency", None)
    pipeline = clean_fk(errors, data, "pipeline_id", Pipeline.objects.all(), _("no such pipeline"))
    if pipeline is None and instance is None and "pipeline_id" not in data:
        pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        if pipeline is None:
            errors.add("pipeline_id", _("create a pipeline first"))
        else:
            data["pipeline_id"] = pipeline.pk
    pipeline = pipeline or (instance.pipeline if instance else None)
    stage = None
    if "stage_id" in data:
        in_pipeline = Stage.objects.filter(pipeline=pipeline) if pipeline else Stage.objects.none()
        stage = clean_fk(errors, data, "stage_id", in_pipeline, _("no such stage in this pipeline"))
    elif pipeline is not None and (instance is None or instance.pipeline_id != pipeline.pk):
        stage = pipeline.stages.order_by("position", "id").first()
        if stage is None:
            errors.add("stage_id", _("the pipeline has no stages"))
        else:
            data["stage_id"] = stage.pk
    clean_fk(
        errors,
        data,
        "lost_reason_id",
        LostReason.objects.filter(active=True),
        _("no such lost reason"),
    )
    if "lines" in data:
        data["lines"] = _clean_lines(errors, data["lines"])
    if "tags" in data:
        tags = data["tags"] or []
        if not isinstance(tags, list) or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= 64 for t in tags
        ):
            errors.add("tags", _("must be a list of tag names"))
        else:
            data["tags"] = list(dict.fromkeys(t.strip() for t in tags))
    if "custom" in data or instance is None:
        existing = instance.custom if instance else None
        data["custom"] = clean_custom(
            DEAL_ENTITY, data.get("custom"), existing=existing, errors=errors
        )
    return data, errors, stage


def deal_missing_required(deal: Deal, stage: Stage) -> list[str]:
    """Fields the stage requires that the deal leaves empty, named as the API names them."""
    missing = []
    for name in stage.required_fields:
        if name == "amount" and not deal.amount:
            missing.append("amount")
        elif name == "expected_close_date" and deal.expected_close_date is None:
            missing.append("expected_close_date")
        elif name == "company" and deal.company_id is None:
            missing.append("company_id")
        elif name == "contacts" and not deal.contacts.exists():
            missing.append("contact_ids")
        elif name == "lines" and not deal.lines.exists():
            missing.append("lines")
        elif name == "source" and not deal.source:
            missing.append("source")
        elif name.startswith("cf.") and (deal.custom or {}).get(name[3:]) in (None, "", []):
            missing.append(f"custom.{name[3:]}")
    return missing


def _write_lines(deal: Deal, lines: list[dict[str, Any]]) -> None:
    deal.lines.all().delete()
    rows = []
    for i, line in enumerate(lines):
        discount = line["discount_percent"] or Decimal(0)
        totals = line_totals(line["quantity"], line["unit_price"], discount, line.get("vat_rate"))
        rows.append(DealLine(
            deal=deal, product_id=line.get("product_id"), name=line["name"], quantity=line["quantity"],
            unit=line.get("unit", ""), unit_price=line["unit_price"], discount_percent=discount,
            vat_rate=line.get("vat_rate"), net_total=totals.net, vat_total=totals.vat, total=totals.total,
            position=i,
        ))  # fmt: skip
    DealLine.objects.bulk_create(rows)
    if rows:
        deal.amount = sum((r.total for r in rows), Decimal("0.00"))
        Deal.objects.filter(pk=deal.pk).update(amount=deal.amount)


def _enter_stage(deal: Deal, stage: Stage, *, actor: Any, now: Any) -> None:
    DealStageHistory.objects.filter(deal=deal, left_at__isnull=True).update(left_at=now)
    DealStageHistory.objects.create(
        deal=deal, stage=stage, entered_at=now, actor_id=getattr(actor, "pk", None)
    )


def _stage_events(deal: Deal, old: Stage | None, new: Stage, *, actor: Any, channel: str) -> None:
    payload = {"from_stage_id": old.pk if old else None, "to_stage_id": new.pk, "pipeline_id": deal.pipeline_id,
               "amount": deal.amount, "currency": deal.currency_id}  # fmt: skip
    common = {"entity": DEAL_ENTITY, "entity_id": deal.pk, "actor": actor, "channel": channel}
    if old is not None:
        events.publish("deal.stage_changed", payload=payload, **common)
    if new.kind == StageKind.WON:
        events.publish("deal.won", payload=payload, **common)
    elif new.kind == StageKind.LOST:
        events.publish(
            "deal.lost", payload={**payload, "lost_reason_id": deal.lost_reason_id}, **common
        )


def _apply_closing(deal: Deal, stage: Stage, now: Any, errors: Collector) -> None:
    if stage.kind == StageKind.OPEN:
        deal.closed_at = None
        deal.lost_reason_id = None
        return
    deal.closed_at = deal.closed_at or now
    needs_reason = LostReason.objects.filter(active=True).exists()
    if stage.kind == StageKind.LOST and deal.lost_reason_id is None and needs_reason:
        errors.add("lost_reason_id", _("say why the deal was lost"))
    if stage.kind == StageKind.WON:
        deal.lost_reason_id = None


def _refuse(errors: Collector) -> None:
    """Roll back what the transaction wrote so far and report every field."""
    if errors.errors:
        transaction.set_rollback(True)
        raise ServiceValidationError(errors.errors)


def deal_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Deal:
    require_writer(actor)
    values = dict(data)
    values.setdefault("owner_id", getattr(actor, "pk", None))
    values, errors, stage_ref = _clean_deal(values, actor=actor, instance=None)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        scalar = {k: v for k, v in values.items() if k not in {"contact_ids", "lines", "tags"}}
        deal = Deal(**scalar, stage_entered_at=now)
        stage: Stage = stage_ref or deal.stage
        _apply_closing(deal, stage, now, errors)
        progress.entered(deal, stage)
        deal.save()
        if values.get("contact_ids"):
            deal.contacts.set(values["contact_ids"])
        if values.get("tags"):
            deal.tags.set(tags_get_or_create(values["tags"]))
        if "lines" in values:
            _write_lines(deal, values["lines"])
        for name in deal_missing_required(deal, stage):
            errors.add(name, _("required in stage “%(stage)s”") % {"stage": stage.name})
        _refuse(errors)
        _enter_stage(deal, stage, actor=actor, now=now)
        snapshot = deal_snapshot(deal)
        audit.record(deal, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish(
            "deal.created",
            entity=DEAL_ENTITY,
            entity_id=deal.pk,
            payload=snapshot,
            actor=actor,
            channel=channel,
        )
        if stage.kind != StageKind.OPEN:
            _stage_events(deal, None, stage, actor=actor, channel=channel)
    return deal


def deal_update(
    *, actor: Any, deal: Deal, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Deal:
    """Edit a deal; a change of stage here is a move, with the same checks as deal_move."""
    require_writer(actor)
    values, errors, stage_ref = _clean_deal(dict(changes), actor=actor, instance=deal)
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        deal = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
        before = deal_snapshot(deal)
        old_stage = deal.stage
        for name, value in values.items():
            if name not in {"contact_ids", "lines", "tags"}:
                setattr(deal, name, value)
        new_stage: Stage = stage_ref or old_stage
        moved = new_stage.pk != old_stage.pk
        other_pipeline = new_stage.pipeline_id != old_stage.pipeline_id
        if moved:
            deal.stage_entered_at = now
            _apply_closing(deal, new_stage, now, errors)
            if not other_pipeline:
                progress.entered(deal, new_stage)
        deal.save()
        if "contact_ids" in values:
            deal.contacts.set(values["contact_ids"] or [])
        if "tags" in values:
            deal.tags.set(tags_get_or_create(values["tags"]))
        if "lines" in values:
            _write_lines(deal, values["lines"])
        if moved:
            for name in deal_missing_required(deal, new_stage):
                errors.add(name, _("required in stage “%(stage)s”") % {"stage": new_stage.name})
        _refuse(errors)
        if moved:
            _enter_stage(deal, new_stage, actor=actor, now=now)
            if other_pipeline:  # its earlier visits to the new pipeline, if any, count again
                progress.refresh(Deal.objects.filter(pk=deal.pk), DealStageHistory)
                deal.refresh_from_db(fields=["furthest_position", "lost_at_stage"])
        changed = audit.diff(before, deal_snapshot(deal))
        if changed:
            audit.record(deal, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("deal.updated", entity=DEAL_ENTITY, entity_id=deal.pk,
                           payload={"changed": sorted(changed), "changes": changed}, actor=actor, channel=channel)  # fmt: skip
        if moved:
            _stage_events(deal, old_stage, new_stage, actor=actor, channel=channel)
    return deal


def deal_move(
    *, actor: Any, deal: Deal, stage_id: int, lost_reason_id: int | None = None,
    lost_comment: str | None = None, channel: str = Channel.UI,
) -> Deal:  # fmt: skip
    """Move a deal to a stage of its pipeline (kanban drag, API, automation)."""
    changes: dict[str, Any] = {"stage_id": stage_id}
    if lost_reason_id is not None:
        changes["lost_reason_id"] = lost_reason_id
    if lost_comment is not None:
        changes["lost_comment"] = lost_comment
    return deal_update(actor=actor, deal=deal, changes=changes, channel=channel)


def deal_delete(*, actor: Any, deal: Deal, channel: str = Channel.UI) -> None:
    if actor is not None and not actor.can_delete:
        raise Forbidden(_("your role may not delete records"))
    with transaction.atomic():
        snapshot = deal_snapshot(deal)
        audit.record(deal, action="delete", changes=snapshot, actor=actor, channel=channel)
        events.publish(
            "deal.deleted",
            entity=DEAL_ENTITY,
            entity_id=deal.pk,
            payload=snapshot,
            actor=actor,
            channel=channel,
        )
        deal.delete()
