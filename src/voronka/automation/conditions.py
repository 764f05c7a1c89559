"""Evaluate a rule's AND/OR condition tree against a record's current state."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from voronka.automation.records import field_value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip().casefold()


def _options(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [_text(v) for v in str(value or "").split(",") if v.strip()]


def _equal(actual: Any, expected: Any) -> bool:
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a == b
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _text(actual) in {"true", "1", "yes", "on"} if _text(expected) in {
            "true", "1", "yes", "on"} else _text(actual) in {"false", "0", "no", "off", ""}  # fmt: skip
    return _text(actual) == _text(expected)


def compare(actual: Any, cmp: str, expected: Any) -> bool:
    """One comparison. A list value (tags, e-mails) matches when any element does, except for
    the emptiness tests which look at the list itself."""
    if cmp == "empty":
        return actual in (None, "", [], {})
    if cmp == "not_empty":
        return actual not in (None, "", [], {})
    if isinstance(actual, list):
        if cmp == "ne":
            return not any(_equal(a, expected) for a in actual)
        return any(compare(a, cmp, expected) for a in actual)
    if cmp == "eq":
        return _equal(actual, expected)
    if cmp == "ne":
        return not _equal(actual, expected)
    if cmp == "contains":
        return _text(expected) in _text(actual)
    if cmp == "in":
        return any(_equal(actual, option) for option in _options(expected))
    if cmp in {"gt", "lt"}:
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            # Dates in ISO form compare correctly as text.
            a_text, b_text = _text(actual), _text(expected)
            if not a_text or not b_text:
                return False
            return a_text > b_text if cmp == "gt" else a_text < b_text
        return a > b if cmp == "gt" else a < b
    return False


def evaluate(
    tree: dict[str, Any] | None, entity: str, record: Any, payload: dict[str, Any] | None = None
) -> bool:
    """True when the tree holds; an empty tree always holds."""
    if not tree:
        return True
    if "items" in tree:
        results = (evaluate(item, entity, record, payload) for item in tree["items"])
        if not tree["items"]:
            return True
        return any(results) if tree.get("op") == "or" else all(results)
    actual = field_value(entity, record, tree.get("field", ""), payload)
    return compare(actual, tree.get("cmp", "eq"), tree.get("value"))
