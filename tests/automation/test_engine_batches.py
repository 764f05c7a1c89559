"""The rules consumer takes the dispatcher's batch at once: the same runs and effects as
event by event, with the reads (rules, runs made, loop counts, records) shared by the batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voronka.automation.models import AutomationHttpCall, RuleRun, RunStatus
from voronka.core import dispatch as core_dispatch
from voronka.core.models import Notification
from voronka.customers.services import contact_update
from voronka.sales.services import deal_create, deal_update

pytestmark = pytest.mark.django_db


def _updates(make_contact: Any, owner: Any, n: int) -> list[Any]:
    contacts = [make_contact(owner, first_name=f"К{i}") for i in range(n)]
    core_dispatch.dispatch_pending(only=["automation.rules"])  # the "created" events
    for c in contacts:
        contact_update(actor=owner, contact=c, changes={"position": "CEO"})
    return contacts


def test_a_batch_costs_a_fixed_number_of_queries(make_rule, make_contact, alice):
    rule = make_rule(
        {"type": "record_updated", "entity": "contact"},
        [{"type": "notify", "user": "owner", "title": "x"}],
        conditions={"op": "and", "items": [
            {"field": "tags", "cmp": "eq", "value": "VIP"},
            {"field": "team", "cmp": "eq", "value": alice.team_id},
        ]},
    )  # fmt: skip
    _updates(make_contact, alice, 30)
    with CaptureQueriesContext(connection) as ctx:
        assert core_dispatch.dispatch_pending(only=["automation.rules"]) == 30
    runs = RuleRun.objects.filter(rule=rule)
    assert runs.count() == 30
    assert set(runs.values_list("status", "reason")) == {("skipped", "conditions not met")}
    rule.refresh_from_db()
    assert rule.runs_total == 30 and rule.last_run_at is not None
    # Cursor, events, rules, runs made, loop counts, records with their tags, one INSERT of
    # the runs, receipts …: 14–17 statements whatever the batch's size (event by event it was
    # about ten per event).
    assert len(ctx.captured_queries) <= 18, len(ctx.captured_queries)


def test_a_later_event_sees_what_an_earlier_run_changed(make_rule, make_contact, alice):
    """The batch reads each record once, but a run that changes records makes the rest of the
    batch read them again: "B" must see the tag "A" added for the same event."""
    make_rule({"type": "record_updated", "entity": "contact"},
              [{"type": "add_tag", "tag": "seen"}], name="A")  # fmt: skip
    b = make_rule(
        {"type": "record_updated", "entity": "contact"},
        [{"type": "notify", "user": "owner", "title": "seen {{ record.first_name }}"}],
        conditions={"op": "and", "items": [{"field": "tags", "cmp": "eq", "value": "seen"}]},
        name="B",
    )
    contact = make_contact(alice, first_name="Вера")
    core_dispatch.dispatch_pending(only=["automation.rules"])
    contact_update(actor=alice, contact=contact, changes={"position": "CEO"})
    core_dispatch.dispatch_pending(only=["automation.rules"])
    first = RuleRun.objects.filter(rule=b).order_by("id").first()
    assert first is not None and first.status == RunStatus.DONE, first.reason if first else None
    assert Notification.objects.filter(user=alice, title="seen Вера").exists()


def test_runs_that_do_something_keep_their_order_among_skipped_ones(make_rule, alice):
    """Skipped runs are written at once, but never after a later run: ids follow the events."""
    rule = make_rule(
        {"type": "field_changed", "entity": "deal", "field": "amount"},
        [{"type": "webhook", "url": "https://example.com/hook"}],
        conditions={"op": "and", "items": [{"field": "amount", "cmp": "gt", "value": "1000"}]},
    )
    deals = [deal_create(actor=alice, data={"title": f"D{i}", "amount": 10}) for i in range(6)]
    core_dispatch.dispatch_pending(only=["automation.rules"])
    for i, deal in enumerate(deals):
        deal_update(actor=alice, deal=deal, changes={"amount": 5000 if i % 3 == 1 else 20})
    core_dispatch.dispatch_pending(only=["automation.rules"])
    runs = list(RuleRun.objects.filter(rule=rule).order_by("id"))
    assert [r.record_id for r in runs] == [d.pk for d in deals]
    assert [r.status for r in runs] == ["skipped", "done", "skipped"] * 2
    calls = AutomationHttpCall.objects.order_by("id")
    assert [c.body["record"]["id"] for c in calls] == [deals[1].pk, deals[4].pk]
    assert all(c.body["record"]["amount"] == "5000.00" for c in calls)
