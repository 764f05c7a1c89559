"""The rule editor's form: flat POST fields ⇄ the rule's JSON, and errors back onto the rows.

Field names: ``trigger_<param>``; conditions ``cop`` (between groups), ``g-<g>-op`` and
``c-<g>-<r>-field|cmp|value``; actions ``a-<i>-type`` and ``a-<i>-<param>``. Row numbers
only order the rows; the saved JSON is renumbered from 0, which is what error keys use."""

from __future__ import annotations

import re
import time
from typing import Any

from django.http import QueryDict

from voronka.automation.schema import ACTION_PARAMS

TRIGGER_PARAMS = ["type", "entity", "field", "to_value", "stage_id", "event", "offset", "unit",
                  "direction", "every", "time", "weekday"]  # fmt: skip


def new_index() -> str:
    """A row number larger than any before it, so added rows keep their order (text, so the
    template never formats it with thousands separators)."""
    return str(time.time_ns() // 1000 % 10**12)


def _indices(post: QueryDict, pattern: str) -> list[str]:
    found = {m.group(1) for key in post for m in [re.fullmatch(pattern, key)] if m}
    return sorted(found, key=lambda x: int(x) if x.isdigit() else 0)


def parse(post: QueryDict) -> dict[str, Any]:
    raw = {p: post.get(f"trigger_{p}", "").strip() for p in TRIGGER_PARAMS}
    trigger: dict[str, Any] = {k: v for k, v in raw.items() if v != ""}
    for name in ("stage_id", "weekday"):
        if str(trigger.get(name, "")).isdigit():
            trigger[name] = int(trigger[name])
    groups = []
    for g in _indices(post, r"g-(\d+)-op"):
        rows = []
        for r in _indices(post, rf"c-{g}-(\d+)-field"):
            rows.append(
                {k: post.get(f"c-{g}-{r}-{k}", "").strip() for k in ("field", "cmp", "value")}
            )
        if rows:
            groups.append({"op": post.get(f"g-{g}-op", "and"), "items": rows})
    actions = []
    for i in _indices(post, r"a-(\d+)-type"):
        kind = post.get(f"a-{i}-type", "")
        action: dict[str, Any] = {"type": kind}
        for param in ACTION_PARAMS.get(kind, []):
            value = post.get(f"a-{i}-{param}", "")
            if param == "marketing":
                action[param] = value == "on"
            elif value.strip():
                action[param] = value.strip()
        actions.append(action)
    return {
        "name": post.get("name", ""),
        "active": post.get("active") == "on",
        "trigger": trigger,
        "conditions": {"op": post.get("cop", "and"), "items": groups},
        "actions": actions,
    }


def errors_by_field(exc_errors: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in exc_errors:
        out.setdefault(e.field, []).append(e.message)
    return out


def editor_rows(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The rule as rows for the template, each with its own errors attached."""
    trigger = dict(data.get("trigger") or {})
    trigger_errors = {k.removeprefix("trigger."): v for k, v in errors.items()
                      if k.startswith("trigger.")}  # fmt: skip
    conditions = data.get("conditions") or {"op": "and", "items": []}
    groups = []
    for g, group in enumerate(conditions.get("items") or []):
        if "items" not in group:  # a bare comparison at the top: show it as its own group
            group = {"op": "and", "items": [group]}
        rows = []
        for r, row in enumerate(group.get("items") or []):
            prefix = f"conditions.{g}.{r}."
            rows.append({**row, "g": str(g), "r": str(r), "prefix": f"c-{g}-{r}-",
                         "errors": {k.removeprefix(prefix): v for k, v in errors.items()
                                    if k.startswith(prefix)}})  # fmt: skip
        groups.append({"g": str(g), "op": group.get("op", "and"), "rows": rows})
    actions = []
    for i, action in enumerate(data.get("actions") or []):
        prefix = f"actions.{i}."
        actions.append({"i": str(i), "a": action, "type": action.get("type", ""), "prefix": f"a-{i}-",
                        "errors": {k.removeprefix(prefix): v for k, v in errors.items()
                                   if k.startswith(prefix)}})  # fmt: skip
    return {"trigger": trigger, "trigger_errors": trigger_errors,
            "cop": conditions.get("op", "and"), "groups": groups, "actions": actions}  # fmt: skip
