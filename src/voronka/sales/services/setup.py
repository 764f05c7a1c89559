"""Administrator settings of sales: pipelines and their stages, lost reasons, currencies with
their exchange rates, and the rules that give new leads an owner.

Two rules hold whatever the interface:

* every pipeline keeps at least one open, one won and one lost stage, because the kanban, the
  lost-reason question and the win rate all rely on them;
* a stage or a pipeline that holds deals is never deleted: the deals would have nowhere to be.

Stage creation, editing and deletion build on ``services.deals`` (``stage_create``,
``stage_update``, ``stage_delete``, ``stage_reorder``) and add these checks in front."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.accounts.models import Team
from voronka.core import audit
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.sales.models import (
    AssignmentRule,
    AssignmentRuleKind,
    Currency,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from voronka.sales.services.common import clean_decimal, clean_fk, require_admin, unknown_fields
from voronka.sales.services.deals import stage_create, stage_delete, stage_reorder, stage_update

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
CURRENCY_CODE_RE = re.compile(r"^[A-Z]{3}$")
MAX_CHECKLIST_ITEMS = 30
MAX_CHECKLIST_LINE = 255
RATE_PLACES = 6
MIN_RATE = Decimal(1).scaleb(-RATE_PLACES)


def _clean_name(errors: Collector, value: Any, limit: int, field: str = "name") -> str:
    name = str(value or "").strip()
    if not name:
        errors.add(field, _("this field is required"))
    elif len(name) > limit:
        errors.add(field, _("is longer than %(n)d characters") % {"n": limit})
    return name


def _merge_and_raise(errors: Collector, exc: ServiceValidationError) -> NoReturn:
    """Report our own checks together with those of the service we build on."""
    raise ServiceValidationError(errors.errors + exc.errors) from None


def _neighbours_swapped(ids: list[int], pk: int, offset: int) -> list[int] | None:
    """``ids`` with ``pk`` moved one place up (-1) or down (+1); None at either end."""
    if offset not in (-1, 1) or pk not in ids:
        return None
    i = ids.index(pk)
    j = i + offset
    if not 0 <= j < len(ids):
        return None
    ids = list(ids)
    ids[i], ids[j] = ids[j], ids[i]
    return ids


# --- pipelines ---------------------------------------------------------------------------------


def starter_stages() -> list[dict[str, Any]]:
    """The stages a new pipeline starts with: one of each kind, renamed and extended later."""
    return [
        {"name": _("New"), "probability": 10, "color": "#74c0fc", "kind": StageKind.OPEN},
        {"name": _("Won"), "probability": 100, "color": "#40c057", "kind": StageKind.WON},
        {"name": _("Lost"), "probability": 0, "color": "#fa5252", "kind": StageKind.LOST},
    ]


def pipeline_rename(
    *, actor: Any, pipeline: Pipeline, name: str, channel: str = Channel.UI
) -> Pipeline:
    require_admin(actor)
    errors = Collector()
    name = _clean_name(errors, name, 128)
    errors.raise_if_any()
    with transaction.atomic():
        before = pipeline.name
        pipeline.name = name
        pipeline.save(update_fields=["name"])
        audit.record(
            pipeline,
            action="update",
            changes=audit.diff({"name": before}, {"name": name}),
            actor=actor,
            channel=channel,
        )
    return pipeline


def pipeline_set_default(*, actor: Any, pipeline: Pipeline, channel: str = Channel.UI) -> Pipeline:
    """New deals land in the default pipeline when none is chosen; there is exactly one."""
    require_admin(actor)
    with transaction.atomic():
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
        if not pipeline.is_default:
            pipeline.is_default = True
            pipeline.save(update_fields=["is_default"])
            audit.record(
                pipeline,
                action="update",
                changes={"is_default": [False, True]},
                actor=actor,
                channel=channel,
            )
    return pipeline


def _deals_in_pipeline_error(count: int) -> str:
    return ngettext(
        "%(n)d deal is in this pipeline: move it to another pipeline or delete it first",
        "%(n)d deals are in this pipeline: move them to another pipeline or delete them first",
        count,
    ) % {"n": count}


def pipeline_delete(*, actor: Any, pipeline: Pipeline, channel: str = Channel.UI) -> None:
    """Delete an empty pipeline with its stages. The last pipeline stays, because new deals
    need one; if the default goes, the first remaining pipeline becomes the default."""
    require_admin(actor)
    count = pipeline.deals.count()
    if count:
        raise ServiceValidationError.single("pipeline", _deals_in_pipeline_error(count))
    if not Pipeline.objects.exclude(pk=pipeline.pk).exists():
        raise ServiceValidationError.single(
            "pipeline", _("this is the only pipeline; create another one before deleting it")
        )
    with transaction.atomic():
        audit.record(
            pipeline, action="delete", changes={"name": pipeline.name}, actor=actor, channel=channel
        )
        was_default = pipeline.is_default
        try:
            pipeline.delete()
        except ProtectedError as exc:  # a deal arrived since the count above
            count = Pipeline.objects.get(pk=pipeline.pk).deals.count()
            raise ServiceValidationError.single(
                "pipeline", _deals_in_pipeline_error(count)
            ) from exc
        if was_default:
            successor = Pipeline.objects.order_by("position", "id").first()
            if successor is not None:
                Pipeline.objects.filter(pk=successor.pk).update(is_default=True)


# --- stages ------------------------------------------------------------------------------------


def _kinds_left(
    pipeline: Pipeline, *, without: Stage | None = None, changed: tuple[Stage, str] | None = None
) -> set[str]:
    kinds = dict(pipeline.stages.values_list("id", "kind"))
    if without is not None:
        kinds.pop(without.pk, None)
    if changed is not None:
        kinds[changed[0].pk] = changed[1]
    return set(kinds.values())


def _missing_kind_message(kinds: set[str]) -> str | None:
    for kind in StageKind:
        if kind.value not in kinds:
            return _("a pipeline needs at least one “%(kind)s” stage; add another one first") % {
                "kind": kind.label
            }
    return None


def _clean_stage_extras(errors: Collector, values: dict[str, Any]) -> None:
    """What ``services.deals`` leaves unchecked: the colour and the checklist's size."""
    if "color" in values:
        color = str(values["color"] or "").strip()
        if not COLOR_RE.match(color):
            errors.add("color", _("must be a colour like #3b5bdb"))
        values["color"] = color.lower()
    if "instructions" in values:
        raw = values["instructions"] or []
        lines = (
            [ln.strip() for ln in raw.splitlines() if ln.strip()] if isinstance(raw, str) else raw
        )
        if isinstance(lines, list):
            if len(lines) > MAX_CHECKLIST_ITEMS:
                errors.add("instructions", _("at most %(n)d items") % {"n": MAX_CHECKLIST_ITEMS})
            if any(isinstance(ln, str) and len(ln) > MAX_CHECKLIST_LINE for ln in lines):
                errors.add(
                    "instructions",
                    _("each item at most %(n)d characters") % {"n": MAX_CHECKLIST_LINE},
                )
        values["instructions"] = lines
    if "probability" in values and isinstance(values["probability"], str):
        raw_prob = values["probability"].strip()
        values["probability"] = int(raw_prob) if raw_prob.isdigit() else raw_prob


def stage_add(*, actor: Any, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    """A new stage. An open stage goes before the first won or lost stage, where people
    expect it; a closing stage goes at the end."""
    require_admin(actor)
    values = dict(data)
    errors = Collector()
    _clean_stage_extras(errors, values)
    with transaction.atomic():
        try:
            stage = stage_create(actor=actor, pipeline=pipeline, data=values)
        except ServiceValidationError as exc:
            _merge_and_raise(errors, exc)
        errors.raise_if_any()  # rolls the new stage back
        if stage.kind == StageKind.OPEN:
            ordered = list(pipeline.stages.order_by("position", "id").values_list("id", "kind"))
            ids = [pk for pk, _kind in ordered if pk != stage.pk]
            first_closed = next(
                (i for i, (pk, kind) in enumerate(ordered) if kind != StageKind.OPEN), None
            )
            if first_closed is not None:
                ids.insert(first_closed, stage.pk)
                stage_reorder(actor=actor, pipeline=pipeline, stage_ids=ids)
                stage.refresh_from_db(fields=["position"])
    return stage


def stage_change(*, actor: Any, stage: Stage, changes: Mapping[str, Any]) -> Stage:
    """Edit a stage. Its kind stays while deals are in it (open deals would become closed
    without a close date) and while it is the pipeline's last stage of that kind."""
    require_admin(actor)
    values = dict(changes)
    errors = Collector()
    _clean_stage_extras(errors, values)
    new_kind = values.get("kind", stage.kind)
    if new_kind != stage.kind and new_kind in StageKind.values:
        count = stage.deals.count()
        if count:
            errors.add(
                "kind",
                ngettext(
                    "cannot change while %(n)d deal is in this stage",
                    "cannot change while %(n)d deals are in this stage",
                    count,
                )
                % {"n": count},
            )
        elif message := _missing_kind_message(
            _kinds_left(stage.pipeline, changed=(stage, new_kind))
        ):
            errors.add("kind", message)
    with transaction.atomic():
        try:
            stage = stage_update(actor=actor, stage=stage, changes=values)
        except ServiceValidationError as exc:
            _merge_and_raise(errors, exc)
        errors.raise_if_any()  # rolls the update back
    return stage


def _deals_in_stage_error(count: int) -> str:
    return ngettext(
        "%(n)d deal is in this stage: move it to another stage first",
        "%(n)d deals are in this stage: move them to another stage first",
        count,
    ) % {"n": count}


def stage_remove(*, actor: Any, stage: Stage, channel: str = Channel.UI) -> None:
    """Delete a stage that holds no deals and is not its pipeline's last of its kind."""
    require_admin(actor)
    count = stage.deals.count()
    if count:
        raise ServiceValidationError.single("stage", _deals_in_stage_error(count))
    message = _missing_kind_message(_kinds_left(stage.pipeline, without=stage))
    if message:
        raise ServiceValidationError.single("stage", message)
    with transaction.atomic():
        audit.record(
            stage,
            action="delete",
            changes={"name": stage.name, "kind": stage.kind, "pipeline_id": stage.pipeline_id},
            actor=actor,
            channel=channel,
        )
        try:
            stage_delete(actor=actor, stage=stage)
        except ProtectedError as exc:  # a deal arrived since the count above
            raise ServiceValidationError.single(
                "stage", _deals_in_stage_error(stage.deals.count())
            ) from exc


def stage_shift(*, actor: Any, stage: Stage, offset: int) -> None:
    """Move a stage one place up (-1) or down (+1); at either end nothing changes."""
    require_admin(actor)
    pipeline = stage.pipeline
    ids = list(pipeline.stages.order_by("position", "id").values_list("id", flat=True))
    new_order = _neighbours_swapped(ids, stage.pk, offset)
    if new_order is not None:
        stage_reorder(actor=actor, pipeline=pipeline, stage_ids=new_order)


# --- lost reasons ------------------------------------------------------------------------------


def _unique_reason_name(errors: Collector, name: str, instance: LostReason | None) -> None:
    others = LostReason.objects.filter(name__iexact=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if name and others.exists():
        errors.add("name", _("this reason exists already"))


def lost_reason_create(*, actor: Any, name: str, channel: str = Channel.UI) -> LostReason:
    require_admin(actor)
    errors = Collector()
    name = _clean_name(errors, name, 128)
    _unique_reason_name(errors, name, None)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            position = (LostReason.objects.aggregate(m=Max("position"))["m"] or 0) + 1
            reason = LostReason.objects.create(name=name, position=position)
            audit.record(
                reason, action="create", changes={"name": name}, actor=actor, channel=channel
            )
    except IntegrityError as exc:
        raise ServiceValidationError.single("name", _("this reason exists already")) from exc
    return reason


def lost_reason_update(
    *, actor: Any, reason: LostReason, changes: Mapping[str, Any], channel: str = Channel.UI
) -> LostReason:
    """Rename a reason or (de)activate it. An inactive reason is not offered when a deal is
    lost, but deals that were lost for it keep it and the dashboard still counts them."""
    require_admin(actor)
    values = dict(changes)
    errors = Collector()
    unknown_fields(errors, values, {"name", "active"})
    if "name" in values:
        values["name"] = _clean_name(errors, values["name"], 128)
        _unique_reason_name(errors, values["name"], reason)
    if "active" in values and not isinstance(values["active"], bool):
        errors.add("active", _("must be true or false"))
    errors.raise_if_any()
    before = {k: getattr(reason, k) for k in values}
    try:
        with transaction.atomic():
            for key, value in values.items():
                setattr(reason, key, value)
            reason.save(update_fields=list(values) or None)
            audit.record(
                reason,
                action="update",
                changes=audit.diff(before, values),
                actor=actor,
                channel=channel,
            )
    except IntegrityError as exc:
        raise ServiceValidationError.single("name", _("this reason exists already")) from exc
    return reason


# --- currencies --------------------------------------------------------------------------------
# A currency's primary key is its code, which the audit log (integer object ids) cannot name,
# so these changes are not in the history.


def _clean_rate(errors: Collector, values: dict[str, Any], *, required: bool) -> None:
    clean_decimal(
        errors,
        values,
        "rate",
        places=RATE_PLACES,
        minimum=MIN_RATE,
        maximum=Decimal("1e12"),
        required=required,
    )


def _clean_currency(errors: Collector, values: dict[str, Any], *, new: bool) -> None:
    allowed = {"name", "symbol", "rate"} | ({"code"} if new else set())
    unknown_fields(errors, values, allowed)
    if new:
        code = str(values.get("code") or "").strip().upper()
        if not CURRENCY_CODE_RE.match(code):
            errors.add("code", _("must be three Latin letters, like USD"))
        elif Currency.objects.filter(code=code).exists():
            errors.add("code", _("this currency exists already"))
        values["code"] = code
    if "name" in values or new:
        values["name"] = _clean_name(errors, values.get("name"), 64)
    if "symbol" in values:
        symbol = str(values["symbol"] or "").strip()
        if len(symbol) > 8:
            errors.add("symbol", _("is longer than %(n)d characters") % {"n": 8})
        values["symbol"] = symbol
    _clean_rate(errors, values, required=new)


def currency_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Currency:
    """A new currency with its rate: how many units of the base currency one unit is worth.
    The very first currency becomes the base one."""
    require_admin(actor)
    values = dict(data)
    first = not Currency.objects.exists()
    if first and values.get("rate") in (None, ""):
        values["rate"] = Decimal(1)
    errors = Collector()
    _clean_currency(errors, values, new=True)
    if first and values.get("rate") not in (None, Decimal(1)) and not errors.errors:
        errors.add("rate", _("the base currency's rate is always 1"))
    errors.raise_if_any()
    try:
        with transaction.atomic():
            currency = Currency.objects.create(**values, is_base=first)
    except IntegrityError as exc:
        raise ServiceValidationError.single("code", _("this currency exists already")) from exc
    return currency


def currency_update(
    *, actor: Any, currency: Currency, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Currency:
    """Rename a currency or set its exchange rate to the base currency."""
    require_admin(actor)
    values = dict(changes)
    errors = Collector()
    _clean_currency(errors, values, new=False)
    if (
        currency.is_base
        and isinstance(values.get("rate"), Decimal)
        and values["rate"] != Decimal(1)
    ):
        errors.add("rate", _("the base currency's rate is always 1"))
    if "rate" in values and values["rate"] is None:
        errors.add("rate", _("this field is required"))
    errors.raise_if_any()
    for key, value in values.items():
        setattr(currency, key, value)
    currency.save(update_fields=list(values) or None)
    return currency


def currency_set_base(*, actor: Any, currency: Currency, channel: str = Channel.UI) -> Currency:
    """Make ``currency`` the base one. Every rate is divided by its old rate, so each
    currency keeps its value: with RUB base and USD at 90, making USD the base turns RUB
    into 1/90 and leaves USD at 1."""
    require_admin(actor)
    if currency.is_base:
        return currency
    with transaction.atomic():
        rows = list(Currency.objects.select_for_update().order_by("code"))
        pivot = next(c for c in rows if c.code == currency.code).rate
        errors = Collector()
        for row in rows:
            new_rate = (row.rate / pivot).quantize(MIN_RATE, rounding=ROUND_HALF_UP)
            if row.code == currency.code:
                new_rate = Decimal(1)
            if new_rate < MIN_RATE:
                errors.add(
                    "rate",
                    _("%(code)s would be worth less than %(min)s of %(base)s")
                    % {"code": row.code, "min": MIN_RATE, "base": currency.code},
                )
            row.rate = new_rate
            row.is_base = row.code == currency.code
        errors.raise_if_any()
        Currency.objects.bulk_update(rows, ["rate", "is_base"])
    currency.refresh_from_db()
    return currency


# --- lead assignment rules ---------------------------------------------------------------------

RULE_FIELDS = {"name", "kind", "match_value", "team_id", "user_id", "active"}


def _clean_rule(
    data: dict[str, Any], *, instance: AssignmentRule | None
) -> tuple[dict[str, Any], Collector]:
    """A rule names a user, or a team whose members take turns. Round robin always takes a
    team; by source and by region also need the source or region they match."""
    errors = Collector()
    unknown_fields(errors, data, RULE_FIELDS)
    if "name" in data or instance is None:
        data["name"] = _clean_name(errors, data.get("name"), 128)
    kind = data.get("kind", instance.kind if instance else None)
    if kind not in AssignmentRuleKind.values:
        errors.add(
            "kind",
            _("must be one of: %(options)s") % {"options": ", ".join(AssignmentRuleKind.values)},
        )
    if "match_value" in data:
        data["match_value"] = str(data["match_value"] or "").strip()
        if len(data["match_value"]) > 128:
            errors.add("match_value", _("is longer than %(n)d characters") % {"n": 128})
    clean_fk(errors, data, "team_id", Team.objects.all(), _("no such team"))
    clean_fk(
        errors,
        data,
        "user_id",
        get_user_model().objects.filter(is_active=True),
        _("no such active user"),
    )
    if "active" in data and not isinstance(data["active"], bool):
        errors.add("active", _("must be true or false"))
    team_id = data["team_id"] if "team_id" in data else getattr(instance, "team_id", None)
    user_id = data["user_id"] if "user_id" in data else getattr(instance, "user_id", None)
    match = data.get("match_value", instance.match_value if instance else "")
    if kind == AssignmentRuleKind.ROUND_ROBIN:
        if not team_id:
            errors.add("team_id", _("choose the team whose members take turns"))
        data["user_id"] = None
        data["match_value"] = ""
    elif kind in AssignmentRuleKind.values:
        if not match:
            errors.add("match_value", _("this field is required"))
        if team_id and user_id:
            errors.add("user_id", _("choose a user or a team, not both"))
        elif not team_id and not user_id:
            errors.add("user_id", _("choose a user, or a team whose members take turns"))
    return data, errors


def assignment_rule_create(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI
) -> AssignmentRule:
    """A new rule, tried after the existing ones."""
    require_admin(actor)
    values, errors = _clean_rule(dict(data), instance=None)
    errors.raise_if_any()
    with transaction.atomic():
        position = (AssignmentRule.objects.aggregate(m=Max("position"))["m"] or 0) + 1
        rule = AssignmentRule.objects.create(**values, position=position)
        audit.record(rule, action="create", changes=values, actor=actor, channel=channel)
    return rule


def assignment_rule_update(
    *, actor: Any, rule: AssignmentRule, changes: Mapping[str, Any], channel: str = Channel.UI
) -> AssignmentRule:
    require_admin(actor)
    values, errors = _clean_rule(dict(changes), instance=rule)
    errors.raise_if_any()
    before = {k: getattr(rule, k) for k in values}
    with transaction.atomic():
        for key, value in values.items():
            setattr(rule, key, value)
        if "team_id" in values and before.get("team_id") != values["team_id"]:
            rule.last_user_id = None  # the turn starts again with the new team
        rule.save()
        audit.record(
            rule, action="update", changes=audit.diff(before, values), actor=actor, channel=channel
        )
    return rule


def assignment_rule_delete(*, actor: Any, rule: AssignmentRule, channel: str = Channel.UI) -> None:
    require_admin(actor)
    with transaction.atomic():
        audit.record(
            rule,
            action="delete",
            changes={"name": rule.name, "kind": rule.kind},
            actor=actor,
            channel=channel,
        )
        rule.delete()


def assignment_rule_shift(*, actor: Any, rule: AssignmentRule, offset: int) -> None:
    """Try a rule one place earlier (-1) or later (+1); the first matching rule assigns."""
    require_admin(actor)
    ids = list(AssignmentRule.objects.order_by("position", "id").values_list("id", flat=True))
    new_order = _neighbours_swapped(ids, rule.pk, offset)
    if new_order is None:
        return
    with transaction.atomic():
        for i, pk in enumerate(new_order):
            AssignmentRule.objects.filter(pk=pk).update(position=i)


def round_robin_next(rule: AssignmentRule) -> Any:
    """The team member who gets the rule's next lead: the active member with the smallest id
    above the last one served, else the first (the order ``leads._assign`` follows). A read:
    nothing moves. None when the rule has no team or the team no active member."""
    if not rule.team_id:
        return None
    members = list(
        get_user_model().objects.filter(team_id=rule.team_id, is_active=True).order_by("id")
    )
    following = [m for m in members if rule.last_user_id is None or m.pk > rule.last_user_id]
    return following[0] if following else (members[0] if members else None)
