"""Writes of the automation domain: rules, test runs, and the periodic jobs that fire date
and schedule triggers, resume waits and deliver queued webhook calls."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.automation import actions, engine
from voronka.automation.conditions import evaluate
from voronka.automation.models import (
    AutomationHttpCall,
    HttpCallStatus,
    Rule,
    RuleRun,
    RunStatus,
    RunStep,
    StepStatus,
)
from voronka.automation.records import ENTITIES, load
from voronka.automation.schema import clean_rule, trigger_entity
from voronka.core import audit
from voronka.core.errors import Forbidden, ServiceValidationError

log = logging.getLogger("voronka.automation")
CATCH_UP = dt.timedelta(days=1)  # a scan that was down this long still fires what it missed
SCHEDULE_CATCH_UP = dt.timedelta(hours=6)
HTTP_BACKOFF = [60, 300, 1800, 7200, 21600]


def require_admin(actor: Any) -> None:
    if not getattr(actor, "is_admin", False):
        raise Forbidden(_("only an administrator manages automation rules"))


# --- rules -----------------------------------------------------------------------------------


def rule_create(*, actor: Any, data: Mapping[str, Any], recipe: str = "") -> Rule:
    require_admin(actor)
    values, errors = clean_rule(dict(data))
    errors.raise_if_any()
    with transaction.atomic():
        rule = Rule.objects.create(
            **values, recipe=recipe, created_by_id=getattr(actor, "pk", None)
        )
        audit.record(rule, action="create", changes=values, actor=actor)
    return rule


def rule_update(*, actor: Any, rule: Rule, data: Mapping[str, Any]) -> Rule:
    require_admin(actor)
    merged = {"name": rule.name, "active": rule.active, "trigger": rule.trigger,
              "conditions": rule.conditions, "actions": rule.actions, **data}  # fmt: skip
    values, errors = clean_rule(merged)
    errors.raise_if_any()
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = {k: getattr(rule, k) for k in values}
        for name, value in values.items():
            setattr(rule, name, value)
        rule.save()
        changed = audit.diff(before, values)
        if changed:
            audit.record(rule, action="update", changes=changed, actor=actor)
    return rule


def rule_set_active(*, actor: Any, rule: Rule, active: bool) -> Rule:
    return rule_update(actor=actor, rule=rule, data={"active": active})


def rule_delete(*, actor: Any, rule: Rule) -> None:
    require_admin(actor)
    with transaction.atomic():
        audit.record(rule, action="delete", changes={"name": rule.name}, actor=actor)
        rule.delete()


def rule_test_run(
    *, actor: Any, rule: Rule, record_id: int | None, really: bool = False
) -> RuleRun:
    """Try a rule on a chosen record. Without ``really`` nothing is changed: the run shows
    whether the conditions hold and what each action would do."""
    require_admin(actor)
    entity = trigger_entity(rule.trigger)
    record = load(entity, record_id) if entity else None
    if entity and record is None:
        raise ServiceValidationError.single("record_id", _("no such record"))
    with transaction.atomic():
        run = RuleRun.objects.create(rule=rule, entity=entity, record_id=record_id,
                                     test=True, dry_run=not really)  # fmt: skip
        if not evaluate(rule.conditions, entity, record):
            engine._finish(run, RunStatus.SKIPPED, "conditions not met")
            return run
        if really:
            engine.execute(run, rule, record, start=0)
            return run
        ctx = actions.Context(rule=rule, run=run, record=record)
        for index, action in enumerate(rule.actions):
            try:
                text = actions.describe(ctx, index, action)
            except Exception as exc:  # a preview must never break the page
                text = f"cannot preview: {exc}"
            RunStep.objects.create(run=run, index=index, action=action.get("type", ""),
                                   status=StepStatus.PREVIEW, result=text)  # fmt: skip
        engine._finish(run, RunStatus.DONE, "dry run: nothing was changed")
    return run


# --- date triggers ---------------------------------------------------------------------------


def _is_date_field(model: Any, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except Exception:
        return True  # custom fields hold dates as ISO text
    return isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)


def _date_candidates(rule: Rule, now: dt.datetime) -> list[tuple[Any, str]]:
    """(record, occurrence) pairs whose fire moment lies in the catch-up window up to now.

    For a day (a birthday, a close date) the window never reaches back before the rule was
    made: a birthday rule installed today greets today's birthdays, not yesterday's. An
    instant (a meeting's start) still fires late within the window, as a reminder that is
    late but before the meeting is still worth having."""
    trigger = rule.trigger
    since = now - CATCH_UP
    if rule.created_at and since < rule.created_at <= now:
        since = rule.created_at
    spec = ENTITIES[trigger["entity"]]
    model, name = spec.model(), trigger["field"]
    sign = -1 if trigger.get("direction", "before") == "before" else 1
    unit = trigger.get("unit", "days")
    offset = dt.timedelta(**{unit: int(trigger.get("offset") or 0)})
    found: list[tuple[Any, str]] = []
    if _is_date_field(model, name) and unit == "days":
        today = timezone.localdate(now)
        for back in range(CATCH_UP.days + 1):
            fire = today - dt.timedelta(days=back)
            if fire < timezone.localdate(since):
                continue
            occurs = fire - sign * offset
            if spec.key == "contact" and name == "birthday":
                qs = model.objects.filter(birthday__month=occurs.month, birthday__day=occurs.day)
            elif name.startswith("custom."):
                qs = model.objects.filter(
                    **{f"custom__{name.removeprefix('custom.')}": occurs.isoformat()}
                )
            else:
                qs = model.objects.filter(**{name: occurs})
            found += [(r, f"{name}:{occurs.isoformat()}") for r in qs[:1000]]
        return found
    if name.startswith("custom."):
        return found  # date-time custom fields are not scanned
    # An instant: fire moment = value - offset (before) or value + offset (after).
    low, high = now - CATCH_UP - sign * offset, now - sign * offset
    qs = model.objects.filter(**{f"{name}__gt": low, f"{name}__lte": high})
    return [(r, f"{name}:{getattr(r, name).isoformat()}") for r in qs[:1000]]


def _schedule_slot(trigger: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """The latest scheduled moment not after now, if within the catch-up window."""
    local = timezone.localtime(now)
    hour, minute = (int(x) for x in trigger.get("time", "09:00").split(":"))
    for back in range(8):
        day = local.date() - dt.timedelta(days=back)
        if trigger.get("every") == "week" and day.weekday() != trigger.get("weekday"):
            continue
        slot = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)),
                                   timezone.get_current_timezone())  # fmt: skip
        if slot <= now:
            return slot if now - slot <= SCHEDULE_CATCH_UP else None
    return None


def _fire(rule: Rule, record: Any, occurrence: str) -> bool:
    entity = trigger_entity(rule.trigger)
    if RuleRun.objects.filter(rule=rule, entity=entity, record_id=record.pk,
                              occurrence=occurrence).exists():  # fmt: skip
        return False
    if not evaluate(rule.conditions, entity, record):
        return False
    with transaction.atomic():
        run = engine.start_run(rule, entity=entity, record_id=record.pk, occurrence=occurrence)
    return run is not None


def scan_dates(*, now: dt.datetime | None = None) -> int:
    """Periodic job: fire date and schedule rules. Each (rule, record, occurrence) runs once,
    however often the scan runs: the run row is unique on it."""
    now = now or timezone.now()
    fired = 0
    for rule in Rule.objects.filter(active=True, trigger__type__in=["date", "schedule"]):
        try:
            if rule.trigger["type"] == "date":
                for record, occurrence in _date_candidates(rule, now):
                    fired += _fire(rule, record, occurrence)
            else:
                slot = _schedule_slot(rule.trigger, now)
                if slot is None:
                    continue
                model = ENTITIES[rule.trigger["entity"]].model()
                for record in model.objects.order_by("id")[:1000]:
                    fired += _fire(rule, record, f"schedule:{slot.isoformat()}")
        except Exception:
            log.exception("automation scan of rule %s failed", rule.pk)
    return fired


# --- queued webhook calls ----------------------------------------------------------------


def deliver_http_calls(*, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Periodic job: send queued webhook calls through the SSRF-safe client, with backoff."""
    now = now or timezone.now()
    sent = 0
    for pk in list(
        AutomationHttpCall.objects.filter(
            status=HttpCallStatus.QUEUED, next_attempt_at__lte=now
        ).values_list("id", flat=True)[:limit]
    ):
        with transaction.atomic():
            call = (AutomationHttpCall.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, status=HttpCallStatus.QUEUED).first())  # fmt: skip
            if call is None:
                continue
            call.next_attempt_at = now + dt.timedelta(minutes=10)  # a lease while we send
            call.attempts += 1
            call.save(update_fields=["next_attempt_at", "attempts"])
        sent += _send(call, now)
    return sent


def _send(call: AutomationHttpCall, now: dt.datetime) -> int:
    try:
        from voronka.webhooks.http import safe_request

        response = safe_request(call.method, call.url, json=call.body, timeout=10.0)
        ok, status, error = 200 <= response.status < 300, response.status, ""
        if not ok:
            error = f"HTTP {response.status}"
    except Exception as exc:  # unsafe URL, network error, or the client not installed
        ok, status, error = False, None, f"{exc.__class__.__name__}: {exc}"
    unsafe = error.startswith("UnsafeURL")
    fields = ["status", "response_status", "last_error", "next_attempt_at"]
    call.response_status, call.last_error = status, error[:2000]
    if ok:
        call.status = HttpCallStatus.SENT
    elif unsafe or call.attempts > len(HTTP_BACKOFF):
        call.status = HttpCallStatus.FAILED
    else:
        call.next_attempt_at = now + dt.timedelta(seconds=HTTP_BACKOFF[call.attempts - 1])
    call.save(update_fields=fields)
    return int(ok)
