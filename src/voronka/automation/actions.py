"""What each action does. Writes go through the domain services with the System actor and
channel "automation", so validation and audit apply exactly as for a person's change.

Messages get an idempotency key per run and step: a retried step never sends twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from voronka.automation.models import AutomationHttpCall, Rule, RuleRun
from voronka.automation.records import (
    ENTITIES,
    field_value,
    primary_address,
    primary_contact,
    primary_phone,
    snapshot,
)
from voronka.core.actors import System
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel, Notification


@dataclass
class Context:
    rule: Rule
    run: RuleRun
    record: Any
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def entity(self) -> str:
        return self.run.entity

    def key(self, index: int) -> str:
        return f"rule:{self.rule.pk}:run:{self.run.pk}:step:{index}"

    def template_context(self) -> dict[str, Any]:
        data = snapshot(self.entity, self.record)
        return {
            "record": data, self.entity or "record": data, "payload": self.payload,
            "discount_code": discount_code(self.run),
        }  # fmt: skip

    def message_context(self) -> dict[str, Any]:
        """Extra variables for messaging, which adds contact and record variables itself."""
        from voronka.messaging.rendering import contact_context

        values = {"record": snapshot(self.entity, self.record), "payload": self.payload,
                  "discount_code": discount_code(self.run)}  # fmt: skip
        contact = primary_contact(self.entity, self.record)
        if contact is not None:
            # Messaging's own record variables would shadow "contact" for a contact record.
            values["contact"] = contact_context(contact)
        return values

    def render(self, text: str) -> str:
        """Render a task subject or notification with the messaging sandbox engine."""
        from voronka.messaging.rendering import render

        return render(text or "", self.template_context())


def discount_code(run: RuleRun) -> str:
    """A code stable for the run (the same on a retried step), hard to guess."""
    raw = f"{run.rule_id}-{run.pk}-{run.record_id or 0}"
    digest = hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return f"THANKS-{digest[:8].upper()}"


def _fail(field_name: str, message: str) -> ServiceValidationError:
    return ServiceValidationError.single(field_name, message)


def _need_record(ctx: Context) -> Any:
    if ctx.record is None:
        raise _fail("record", "this action needs a record")
    return ctx.record


def _update(ctx: Context, changes: dict[str, Any]) -> Any:
    record = _need_record(ctx)
    spec = ENTITIES[ctx.entity]
    return spec.update(actor=System(), record=record, changes=changes, channel=Channel.AUTOMATION)


def _user(ref: Any, ctx: Context) -> Any:
    """A user by id, or the record's owner for "owner"."""
    users = get_user_model().objects.filter(is_active=True)
    if ref in (None, "", "owner"):
        owner_id = getattr(ctx.record, "owner_id", None)
        return users.filter(pk=owner_id).first() if owner_id else None
    try:
        return users.filter(pk=int(ref)).first()
    except (TypeError, ValueError):
        return None


# --- the actions -----------------------------------------------------------------------------


def send_email(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from voronka.messaging import services as messaging

    contact = primary_contact(ctx.entity, ctx.record)
    address = ctx.render(a.get("to_address", "")) or (
        "" if contact else primary_address(ctx.entity, ctx.record)
    )
    if contact is None and not address:
        raise _fail("to_address", "the record has no e-mail address")
    message = messaging.send_email(
        actor=System(), to_contact=contact if not a.get("to_address") else None,
        to_address=address, template=a.get("template") or None,
        subject=a.get("subject", ""), body=a.get("body", ""), context=ctx.message_context(), marketing=bool(a.get("marketing")),
        related=ctx.record, idempotency_key=ctx.key(index),
    )  # fmt: skip
    status = getattr(message, "status", "queued")
    reason = getattr(message, "reason", "")
    text = f"e-mail {status} to {message.to}" + (f" ({reason})" if reason else "")
    return text, {"message_id": message.pk, "status": status}


def send_sms(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from voronka.messaging import services as messaging

    contact = primary_contact(ctx.entity, ctx.record)
    phone = ctx.render(a.get("to_phone", "")) or (
        "" if contact else primary_phone(ctx.entity, ctx.record)
    )
    if contact is None and not phone:
        raise _fail("to_phone", "the record has no phone number")
    message = messaging.send_sms(
        actor=System(), to_contact=contact if not a.get("to_phone") else None, to_phone=phone,
        text=a.get("text", ""), context=ctx.message_context(),
        marketing=bool(a.get("marketing")), related=ctx.record, idempotency_key=ctx.key(index),
    )  # fmt: skip
    status = getattr(message, "status", "queued")
    return f"SMS {status} to {message.to}", {"message_id": message.pk, "status": status}


def create_task(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from voronka.sales.services.activities import activity_create

    record = ctx.record
    owner = _user(a.get("assignee"), ctx)
    days = int(a.get("due_in_days") or 0)
    data: dict[str, Any] = {
        "kind": "task", "subject": ctx.render(a["subject"])[:255],
        "due_at": timezone.now() + dt.timedelta(days=days),
        "owner_id": owner.pk if owner else None,
    }  # fmt: skip
    if record is not None and ctx.entity in {"contact", "company", "deal", "lead"}:
        data[f"{ctx.entity}_id"] = record.pk
    if record is not None and ctx.entity == "activity":
        for name in ("contact_id", "company_id", "deal_id", "lead_id"):
            if getattr(record, name, None):
                data[name] = getattr(record, name)
    task = activity_create(actor=System(), data=data, channel=Channel.AUTOMATION)
    return f"task “{task.subject}” created", {"activity_id": task.pk}


def assign_owner(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    user_id = a.get("user_id")
    if not user_id and a.get("team_id"):
        user_id = round_robin(ctx.rule, int(a["team_id"]), index)
    user = _user(user_id, ctx) if user_id else None
    if user is None:
        raise _fail("user_id", "no active user to assign")
    _update(ctx, {"owner_id": user.pk})
    return f"owner set to {user.get_full_name() or user.username}", {"user_id": user.pk}


def round_robin(rule: Rule, team_id: int, index: int) -> int | None:
    """The next active member of the team after the one this step chose last time."""
    members = list(
        get_user_model()
        .objects.filter(team_id=team_id, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not members:
        return None
    locked = Rule.objects.select_for_update().get(pk=rule.pk)
    state = dict(locked.state or {})
    last = state.get(f"rr:{index}")
    following = [m for m in members if last is None or m > last]
    chosen = following[0] if following else members[0]
    state[f"rr:{index}"] = chosen
    Rule.objects.filter(pk=rule.pk).update(state=state)
    return chosen


def set_field(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = a["field"]
    value = a.get("value", "")
    if isinstance(value, str):
        value = ctx.render(value)
    if name.startswith("custom."):
        changes: dict[str, Any] = {"custom": {name.removeprefix("custom."): value}}
    elif name in {"owner", "stage", "pipeline", "company", "currency"}:
        changes = {f"{name}_id": value or None}
    else:
        changes = {name: value}
    _update(ctx, changes)
    return f"{name} set to “{value}”", {"field": name, "value": value}


def _tags(ctx: Context) -> list[str]:
    record = _need_record(ctx)
    if not ENTITIES[ctx.entity].has_tags:
        raise _fail("tag", "this kind of record has no tags")
    return [t.name for t in record.tags.all()]


def add_tag(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    tags = _tags(ctx)
    tag = ctx.render(a["tag"]).strip()
    if tag.casefold() in {t.casefold() for t in tags}:
        return f"tag “{tag}” already there", {}
    _update(ctx, {"tags": [*tags, tag]})
    return f"tag “{tag}” added", {"tag": tag}


def remove_tag(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    tags = _tags(ctx)
    tag = ctx.render(a["tag"]).strip().casefold()
    kept = [t for t in tags if t.casefold() != tag]
    if len(kept) == len(tags):
        return "tag was not there", {}
    _update(ctx, {"tags": kept})
    return f"tag “{a['tag']}” removed", {"tag": a["tag"]}


def move_stage(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from voronka.sales.services.deals import deal_move

    record = _need_record(ctx)
    if ctx.entity != "deal":
        raise _fail("stage_id", "only a deal moves between stages")
    deal = deal_move(actor=System(), deal=record, stage_id=int(a["stage_id"]),
                     channel=Channel.AUTOMATION)  # fmt: skip
    return f"moved to “{deal.stage.name}”", {"stage_id": deal.stage_id}


def webhook(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = {
        "rule": {"id": ctx.rule.pk, "name": ctx.rule.name}, "run": ctx.run.pk,
        "entity": ctx.entity, "record": snapshot(ctx.entity, ctx.record), "event": ctx.payload,
    }  # fmt: skip
    # A run does each step once (a failed step ends it), so the call is always new; the
    # unique (run, step) constraint still stands guard.
    call = AutomationHttpCall.objects.create(
        run=ctx.run, step_index=index, method=a.get("method", "POST"), url=a["url"],
        body=_json(body), next_attempt_at=timezone.now(),
    )  # fmt: skip
    return f"{call.method} {call.url} queued", {"http_call_id": call.pk}


def _json(value: Any) -> Any:
    from voronka.core.events import json_safe

    return json_safe(value)


def notify(ctx: Context, index: int, a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    user = _user(a.get("user"), ctx)
    if user is None:
        raise _fail("user", "no active user to notify")
    url = getattr(ctx.record, "get_absolute_url", lambda: "")() if ctx.record else ""
    note, _created = Notification.objects.get_or_create(
        dedupe_key=ctx.key(index)[:128],
        defaults={"user": user, "title": ctx.render(a["title"])[:255],
                  "body": ctx.render(a.get("body", "")), "url": url},
    )  # fmt: skip
    return f"notified {user.get_full_name() or user.username}", {"notification_id": note.pk}


PERFORM = {
    "send_email": send_email, "send_sms": send_sms, "create_task": create_task,
    "assign_owner": assign_owner, "set_field": set_field, "add_tag": add_tag,
    "remove_tag": remove_tag, "move_stage": move_stage, "webhook": webhook, "notify": notify,
}  # fmt: skip


def perform(ctx: Context, index: int, action: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return PERFORM[action["type"]](ctx, index, action)


def wait_until(ctx: Context, action: dict[str, Any]) -> dt.datetime | None:
    """When a wait step ends: now plus minutes/days, or the date in a record's field."""
    now = timezone.now()
    if action.get("minutes"):
        return now + dt.timedelta(minutes=int(action["minutes"]))
    if action.get("days"):
        return now + dt.timedelta(days=int(action["days"]))
    value = field_value(ctx.entity, ctx.record, action.get("until_field", ""))
    return parse_moment(value)


def parse_moment(value: Any) -> dt.datetime | None:
    """A date or datetime (or its ISO text) as an aware datetime; a date means its 9:00."""
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        return timezone.make_aware(dt.datetime.combine(value, dt.time(9, 0)))
    return None


def describe(ctx: Context, index: int, action: dict[str, Any]) -> str:
    """What the action WOULD do, for a dry run: no effects at all."""
    kind = action.get("type")
    if kind == "send_email":
        subject = ctx.render(action.get("subject", "")) or f"template {action.get('template')}"
        contact = primary_contact(ctx.entity, ctx.record)
        to = action.get("to_address") or (str(contact) if contact else
                                           primary_address(ctx.entity, ctx.record))  # fmt: skip
        return f"would send an e-mail “{subject}” to {to or '(no address)'}"
    if kind == "send_sms":
        return f"would send an SMS: {ctx.render(action.get('text', ''))}"
    if kind == "create_task":
        return f"would create a task “{ctx.render(action.get('subject', ''))}”"
    if kind == "assign_owner":
        if action.get("user_id"):
            user = _user(action["user_id"], ctx)
            return f"would make {user} the owner"
        return f"would assign the next member of team {action.get('team_id')} (round robin)"
    if kind == "set_field":
        return f"would set {action.get('field')} to “{ctx.render(str(action.get('value', '')))}”"
    if kind in {"add_tag", "remove_tag"}:
        verb = "add" if kind == "add_tag" else "remove"
        return f"would {verb} the tag “{action.get('tag')}”"
    if kind == "move_stage":
        from voronka.sales.models import Stage

        stage = Stage.objects.filter(pk=int(action.get("stage_id") or 0)).first()
        return f"would move the deal to “{stage.name if stage else action.get('stage_id')}”"
    if kind == "webhook":
        return f"would call {action.get('method', 'POST')} {action.get('url')}"
    if kind == "notify":
        user = _user(action.get("user"), ctx)
        return f"would notify {user}: {ctx.render(action.get('title', ''))}"
    if kind == "wait":
        due = wait_until(ctx, action)
        when = f"{timezone.localtime(due):%Y-%m-%d %H:%M}" if due else "(no date)"
        return f"would wait until {when}"
    return "unknown action"
