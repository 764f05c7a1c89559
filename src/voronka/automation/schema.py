"""The shape of a rule's trigger, conditions and actions, and their validation.

Validation names the exact place of each problem (``trigger.field``, ``conditions.0.1.value``,
``actions.2.stage_id``) so the editor shows it next to the input."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.automation.records import ENTITIES
from voronka.core.errors import Collector

TRIGGERS: dict[str, Any] = {
    "record_created": gettext_lazy("a record is created"),
    "record_updated": gettext_lazy("a record is updated"),
    "field_changed": gettext_lazy("a field changes"),
    "deal_stage_changed": gettext_lazy("a deal moves to another stage"),
    "deal_won": gettext_lazy("a deal is won"),
    "deal_lost": gettext_lazy("a deal is lost"),
    "event": gettext_lazy("an event happens"),
    "date": gettext_lazy("a date comes"),
    "schedule": gettext_lazy("on a schedule"),
}
EVENT_NAMES = {
    "form.submitted": gettext_lazy("a web form is submitted"),
    "message.received": gettext_lazy("a message is received"),
    "call.missed": gettext_lazy("a call is missed"),
}
COMPARISONS: dict[str, Any] = {
    "eq": "=",
    "ne": "≠",
    "contains": gettext_lazy("contains"),
    "gt": ">",
    "lt": "<",
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
    "in": gettext_lazy("is one of"),
}
NO_VALUE = {"empty", "not_empty"}
ACTIONS: dict[str, Any] = {
    "send_email": gettext_lazy("send an e-mail"),
    "send_sms": gettext_lazy("send an SMS"),
    "create_task": gettext_lazy("create a task"),
    "assign_owner": gettext_lazy("assign an owner"),
    "set_field": gettext_lazy("set a field"),
    "add_tag": gettext_lazy("add a tag"),
    "remove_tag": gettext_lazy("remove a tag"),
    "move_stage": gettext_lazy("move the deal to a stage"),
    "webhook": gettext_lazy("call a webhook"),
    "notify": gettext_lazy("notify a user"),
    "wait": gettext_lazy("wait"),
}
# The parameters each action takes, in the editor's order.
ACTION_PARAMS: dict[str, list[str]] = {
    "send_email": ["template", "subject", "body", "to_address", "marketing"],
    "send_sms": ["text", "to_phone", "marketing"],
    "create_task": ["subject", "due_in_days", "assignee"],
    "assign_owner": ["user_id", "team_id"],
    "set_field": ["field", "value"],
    "add_tag": ["tag"],
    "remove_tag": ["tag"],
    "move_stage": ["stage_id"],
    "webhook": ["url", "method"],
    "notify": ["user", "title", "body"],
    "wait": ["minutes", "days", "until_field"],
}
RECORD_TRIGGERS = {"record_created", "record_updated", "field_changed", "date", "schedule"}
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def trigger_entity(trigger: dict[str, Any]) -> str:
    """The kind of record a trigger is about ("" for a bare event)."""
    kind = trigger.get("type")
    if kind in {"deal_stage_changed", "deal_won", "deal_lost"}:
        return "deal"
    return str(trigger.get("entity") or "")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _clean_trigger(errors: Collector, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("type") not in TRIGGERS:
        errors.add("trigger.type", _("choose a trigger"))
        return {}
    kind = raw["type"]
    out: dict[str, Any] = {"type": kind}
    if kind in RECORD_TRIGGERS:
        if raw.get("entity") not in ENTITIES:
            errors.add("trigger.entity", _("choose a kind of record"))
            return out
        out["entity"] = raw["entity"]
    if kind == "field_changed":
        field = str(raw.get("field") or "").strip()
        if not field:
            errors.add("trigger.field", _("name the field"))
        out["field"] = field
        if raw.get("to_value") not in (None, ""):
            out["to_value"] = str(raw["to_value"])
    if kind == "deal_stage_changed" and raw.get("stage_id") not in (None, ""):
        stage_id = _int(raw["stage_id"])
        if stage_id is None:
            errors.add("trigger.stage_id", _("choose a stage"))
        out["stage_id"] = stage_id
    if kind == "event":
        name = str(raw.get("event") or "").strip()
        if not re.fullmatch(r"[a-z_]+\.[a-z_]+", name):
            errors.add("trigger.event", _("name an event like form.submitted"))
        out["event"] = name
    if kind == "date":
        _clean_date_trigger(errors, raw, out)
    if kind == "schedule":
        _clean_schedule(errors, raw, out)
    return out


def _clean_date_trigger(errors: Collector, raw: dict[str, Any], out: dict[str, Any]) -> None:
    spec = ENTITIES.get(out.get("entity", ""))
    field = str(raw.get("field") or "")
    if spec and field not in spec.date_fields and not field.startswith("custom."):
        errors.add("trigger.field", _("choose a date field"))
    out["field"] = field
    offset = _int(raw.get("offset") if raw.get("offset") not in (None, "") else 0)
    if offset is None or not 0 <= offset <= 100000:
        errors.add("trigger.offset", _("a whole number from 0"))
    out["offset"] = offset or 0
    unit = raw.get("unit") or "days"
    if unit not in {"days", "minutes"}:
        errors.add("trigger.unit", _("days or minutes"))
    out["unit"] = unit
    direction = raw.get("direction") or "before"
    if direction not in {"before", "after"}:
        errors.add("trigger.direction", _("before or after"))
    out["direction"] = direction


def _clean_schedule(errors: Collector, raw: dict[str, Any], out: dict[str, Any]) -> None:
    every = raw.get("every") or "day"
    if every not in {"day", "week"}:
        errors.add("trigger.every", _("every day or every week"))
    out["every"] = every
    time = str(raw.get("time") or "09:00")
    if not HHMM.match(time):
        errors.add("trigger.time", _("a time like 09:30"))
    out["time"] = time
    if every == "week":
        weekday = _int(raw.get("weekday"))
        if weekday is None or not 0 <= weekday <= 6:
            errors.add("trigger.weekday", _("choose a day of the week"))
        out["weekday"] = weekday


def _clean_condition(errors: Collector, raw: Any, where: str, depth: int) -> dict[str, Any]:
    if isinstance(raw, dict) and "items" in raw:
        if depth > 3:
            errors.add(where, _("groups nest at most three deep"))
            return {"op": "and", "items": []}
        op = raw.get("op") or "and"
        if op not in {"and", "or"}:
            errors.add(f"{where}.op", _("AND or OR"))
        items = raw.get("items") or []
        if not isinstance(items, list):
            errors.add(where, _("must be a list of conditions"))
            items = []
        return {
            "op": op,
            "items": [
                _clean_condition(errors, item, f"{where}.{i}", depth + 1)
                for i, item in enumerate(items)
            ],
        }
    if not isinstance(raw, dict):
        errors.add(where, _("must be a condition"))
        return {}
    field = str(raw.get("field") or "").strip()
    if not field:
        errors.add(f"{where}.field", _("choose a field"))
    cmp = raw.get("cmp") or "eq"
    if cmp not in COMPARISONS:
        errors.add(f"{where}.cmp", _("choose a comparison"))
    value = raw.get("value", "")
    if cmp not in NO_VALUE and value in (None, "") and cmp in {"gt", "lt", "in"}:
        errors.add(f"{where}.value", _("give a value"))
    return {"field": field, "cmp": cmp, "value": "" if cmp in NO_VALUE else value}


def _clean_action(errors: Collector, raw: Any, i: int, entity: str) -> dict[str, Any]:
    where = f"actions.{i}"
    if not isinstance(raw, dict) or raw.get("type") not in ACTIONS:
        errors.add(f"{where}.type", _("choose an action"))
        return {}
    kind = raw["type"]
    out = {"type": kind}
    for name in ACTION_PARAMS[kind]:
        value = raw.get(name)
        if value not in (None, ""):
            out[name] = value.strip() if isinstance(value, str) else value
    if "marketing" in out:
        out["marketing"] = out["marketing"] in (True, "on", "true", "1", 1)

    def need(name: str, message: str) -> None:
        if not out.get(name):
            errors.add(f"{where}.{name}", message)

    if kind == "send_email" and not out.get("template"):
        need("subject", _("give a subject or choose a template"))
        need("body", _("write the message or choose a template"))
    elif kind == "send_sms":
        need("text", _("write the message"))
    elif kind == "create_task":
        need("subject", _("give the task a subject"))
        if "due_in_days" in out and _int(out["due_in_days"]) is None:
            errors.add(f"{where}.due_in_days", _("a whole number of days"))
    elif kind == "assign_owner":
        if not out.get("user_id") and not out.get("team_id"):
            errors.add(f"{where}.user_id", _("choose a user or a team for round robin"))
    elif kind == "set_field":
        need("field", _("choose a field"))
    elif kind in {"add_tag", "remove_tag"}:
        need("tag", _("name the tag"))
    elif kind == "move_stage":
        if entity != "deal":
            errors.add(f"{where}.type", _("only a deal rule can move a stage"))
        if _int(out.get("stage_id")) is None:
            errors.add(f"{where}.stage_id", _("choose a stage"))
    elif kind == "webhook":
        if not re.match(r"^https?://", str(out.get("url") or "")):
            errors.add(f"{where}.url", _("an http:// or https:// address"))
        out["method"] = str(out.get("method") or "POST").upper()
        if out["method"] not in {"POST", "PUT", "PATCH", "GET"}:
            errors.add(f"{where}.method", _("POST, PUT, PATCH or GET"))
    elif kind == "notify":
        need("title", _("give the notification a title"))
    elif kind == "wait":
        _clean_wait(errors, out, where)
    return out


def _clean_wait(errors: Collector, out: dict[str, Any], where: str) -> None:
    given = [k for k in ("minutes", "days", "until_field") if out.get(k) not in (None, "")]
    if len(given) != 1:
        errors.add(f"{where}.minutes", _("wait minutes, days or until a date field: one of them"))
        return
    if given[0] != "until_field":
        number = _int(out[given[0]])
        if number is None or not 0 < number <= 100000:
            errors.add(f"{where}.{given[0]}", _("a whole number above 0"))
        else:
            out[given[0]] = number


def clean_rule(data: dict[str, Any]) -> tuple[dict[str, Any], Collector]:
    """Validate a whole rule document; returns the cleaned values and the errors found."""
    errors = Collector()
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 128:
        errors.add("name", _("must be 1 to 128 characters"))
    trigger = _clean_trigger(errors, data.get("trigger"))
    raw_conditions = data.get("conditions") or {"op": "and", "items": []}
    conditions = _clean_condition(errors, raw_conditions, "conditions", 0)
    if "items" not in conditions:
        conditions = {"op": "and", "items": [conditions]}
    actions_raw = data.get("actions") or []
    if not isinstance(actions_raw, list) or not actions_raw:
        errors.add("actions", _("add at least one action"))
        actions_raw = []
    if len(actions_raw) > 20:
        errors.add("actions", _("at most 20 actions"))
    entity = trigger_entity(trigger)
    actions = [_clean_action(errors, a, i, entity) for i, a in enumerate(actions_raw)]
    return {
        "name": name,
        "active": bool(data.get("active", False)),
        "trigger": trigger,
        "conditions": conditions,
        "actions": actions,
    }, errors
