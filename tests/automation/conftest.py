"""Automation fixtures: a dispatcher that feeds outbox events to the rules consumer, and
quick rule builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def dispatch(db: Any) -> Callable[[], int]:
    """Deliver every new outbox event to the automation consumer, each in its own transaction
    (as the real dispatcher does). Uses voronka.core.dispatch when it exists."""
    from django.db import transaction

    from voronka.automation.engine import handle_event
    from voronka.core.models import OutboxEvent

    try:
        from voronka.core.dispatch import consumers, dispatch_pending
    except ImportError:
        dispatch_pending = None
    if dispatch_pending is not None and any(c.name == "automation.rules" for c in consumers()):

        def real() -> int:
            total = 0
            for _round in range(20):  # effects publish new events: follow the chain
                handled = dispatch_pending(only=["automation.rules"])
                total += handled
                if not handled:
                    break
            return total

        return real

    state = {"last": OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0}

    def run() -> int:
        count = 0
        for _round in range(10):  # effects publish new events: follow them a few rounds
            batch = list(OutboxEvent.objects.filter(id__gt=state["last"]).order_by("id"))
            if not batch:
                break
            for event in batch:
                with transaction.atomic():
                    count += handle_event(event)
                state["last"] = event.pk
        return count

    return run


@pytest.fixture
def make_rule(admin: Any) -> Callable[..., Any]:
    from voronka.automation.services import rule_create

    def make(trigger: dict[str, Any], actions: list[dict[str, Any]], conditions: Any = None,
             name: str = "Rule") -> Any:  # fmt: skip
        return rule_create(actor=admin, data={
            "name": name, "active": True, "trigger": trigger, "actions": actions,
            "conditions": conditions or {"op": "and", "items": []},
        })  # fmt: skip

    return make


@pytest.fixture
def pipeline(db: Any) -> Any:
    from voronka.sales.models import Pipeline

    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
