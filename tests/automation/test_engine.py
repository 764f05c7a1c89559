"""Rules fire on the right events, check conditions against the record as it is, and their
actions change records through the services (audit channel "automation")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.automation.models import PendingStep, RuleRun, RunStatus
from voronka.automation.services import rule_create
from voronka.core.errors import ServiceValidationError
from voronka.core.models import AuditEntry, CustomField, Notification
from voronka.customers.services import contact_update
from voronka.sales.models import Activity, Pipeline, Stage, StageKind
from voronka.sales.services import deal_create, deal_move, lead_create

pytestmark = pytest.mark.django_db

NOTIFY = {"type": "notify", "user": "owner", "title": "Hi {{ record.first_name }}"}


def notes(user: Any) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_record_created_trigger_notifies_the_owner(make_rule, make_contact, dispatch, alice):
    make_rule({"type": "record_created", "entity": "contact"}, [NOTIFY])
    contact = make_contact(alice, first_name="Анна")
    dispatch()
    assert notes(alice) == ["Hi Анна"]
    run = RuleRun.objects.get()
    assert run.status == RunStatus.DONE and run.record_id == contact.pk
    assert run.steps.get().result.startswith("notified")


def test_field_changed_to_a_value(make_rule, make_contact, dispatch, alice):
    make_rule({"type": "field_changed", "entity": "contact", "field": "position",
               "to_value": ""}, [NOTIFY])  # fmt: skip
    contact = make_contact(alice, first_name="Анна")
    dispatch()
    assert notes(alice) == []
    contact_update(actor=alice, contact=contact, changes={"source": "web"})
    dispatch()
    assert notes(alice) == []  # another field changed
    contact_update(actor=alice, contact=contact, changes={"position": "CEO"})
    dispatch()
    assert notes(alice) == ["Hi Анна"]


def test_conditions_with_custom_fields_tags_and_or_groups(make_rule, make_contact, dispatch,
                                                         alice, bob):  # fmt: skip
    CustomField.objects.create(entity="customers.contact", key="tier", label="Tier", type="text")
    make_rule({"type": "record_created", "entity": "contact"}, [NOTIFY], conditions={
        "op": "and", "items": [
            {"field": "custom.tier", "cmp": "in", "value": "gold, platinum"},
            {"op": "or", "items": [
                {"field": "tags", "cmp": "eq", "value": "VIP"},
                {"field": "position", "cmp": "contains", "value": "director"},
            ]},
        ]})  # fmt: skip
    make_contact(alice, first_name="A", custom={"tier": "gold"}, tags=["vip"])
    make_contact(alice, first_name="B", custom={"tier": "gold"}, position="Sales Director")
    make_contact(alice, first_name="C", custom={"tier": "silver"}, tags=["VIP"])
    make_contact(alice, first_name="D", custom={"tier": "platinum"})
    make_contact(bob, first_name="E")
    dispatch()
    assert sorted(notes(alice)) == ["Hi A", "Hi B"]
    assert (
        RuleRun.objects.filter(status=RunStatus.SKIPPED, reason="conditions not met").count() == 3
    )


def test_owner_team_and_numbers_compare(make_rule, make_contact, dispatch, alice, charlie):
    make_rule({"type": "record_created", "entity": "deal"}, [NOTIFY], conditions={
        "op": "and", "items": [{"field": "team", "cmp": "eq", "value": alice.team_id},
                               {"field": "amount", "cmp": "gt", "value": "1000"}]})  # fmt: skip
    deal_create(actor=alice, data={"title": "Big", "amount": 5000})
    deal_create(actor=alice, data={"title": "Small", "amount": 500})
    deal_create(actor=charlie, data={"title": "Other team", "amount": 5000})
    dispatch()
    assert RuleRun.objects.filter(status=RunStatus.DONE).count() == 1
    assert len(notes(alice)) == 1 and notes(charlie) == []


def test_stage_won_trigger_and_move_stage_action(make_rule, dispatch, alice, pipeline):
    stages = list(Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position"))
    won = Stage.objects.get(pipeline=pipeline, kind=StageKind.WON)
    make_rule({"type": "deal_stage_changed", "stage_id": stages[1].pk},
              [{"type": "move_stage", "stage_id": stages[2].pk}])  # fmt: skip
    make_rule({"type": "deal_won"}, [{"type": "add_tag", "tag": "won"}])
    deal = deal_create(actor=alice, data={"title": "Deal"})
    deal_move(actor=alice, deal=deal, stage_id=stages[1].pk)
    dispatch()
    deal.refresh_from_db()
    assert deal.stage == stages[2]
    entry = AuditEntry.objects.filter(object_id=deal.pk, channel="automation").first()
    assert entry is not None and entry.actor_id is None
    deal_move(actor=alice, deal=deal, stage_id=won.pk)
    dispatch()
    assert [t.name for t in deal.tags.all()] == ["won"]


def test_actions_set_field_tags_task_assign(make_rule, make_contact, dispatch, alice, bob, team_a):
    make_rule({"type": "record_created", "entity": "contact"}, [
        {"type": "set_field", "field": "position", "value": "Lead of {{ record.last_name }}"},
        {"type": "add_tag", "tag": "new"},
        {"type": "remove_tag", "tag": "old"},
        {"type": "create_task", "subject": "Call {{ record.first_name }}", "due_in_days": 2,
         "assignee": "owner"},
        {"type": "assign_owner", "team_id": team_a.pk},
    ])  # fmt: skip
    c1 = make_contact(alice, first_name="Анна", tags=["old", "keep"])
    c2 = make_contact(alice, first_name="Борис")
    dispatch()
    c1.refresh_from_db()
    assert c1.position == "Lead of Петров"
    assert sorted(t.name for t in c1.tags.all()) == ["keep", "new"]
    task = Activity.objects.get(contact=c1)
    assert task.subject == "Call Анна" and task.owner_id == alice.pk and task.kind == "task"
    c2.refresh_from_db()
    # Round robin hands the two contacts to different team members.
    assert {c1.owner_id, c2.owner_id} == {alice.pk, bob.pk}


def test_failed_step_is_logged_and_stops_the_run(make_rule, make_contact, dispatch, alice):
    make_rule(
        {"type": "record_created", "entity": "contact"},
        [{"type": "set_field", "field": "birthday", "value": "not a date"}, NOTIFY],
    )
    make_contact(alice)
    dispatch()
    run = RuleRun.objects.get()
    assert run.status == RunStatus.FAILED
    step = run.steps.get()
    assert step.status == "failed" and "birthday" in step.error
    assert notes(alice) == []


def test_wait_resumes_after_the_due_time(make_rule, make_contact, dispatch, alice):
    from voronka.automation.engine import resume_due

    make_rule({"type": "record_created", "entity": "contact"},
              [{"type": "wait", "minutes": 30}, NOTIFY])  # fmt: skip
    make_contact(alice, first_name="Анна")
    dispatch()
    run = RuleRun.objects.get()
    assert run.status == RunStatus.WAITING and notes(alice) == []
    assert resume_due() == 0
    assert resume_due(now=timezone.now() + dt.timedelta(minutes=31)) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and notes(alice) == ["Hi Анна"]
    assert not PendingStep.objects.exists()
    assert resume_due(now=timezone.now() + dt.timedelta(minutes=60)) == 0


def test_redelivered_event_has_no_second_effect(make_rule, make_contact, alice):
    from django.db import transaction

    from voronka.automation.engine import handle_event
    from voronka.core.models import OutboxEvent

    make_rule({"type": "record_created", "entity": "contact"},
              [NOTIFY, {"type": "create_task", "subject": "Call"}])  # fmt: skip
    contact = make_contact(alice, first_name="Анна")
    event = OutboxEvent.objects.get(name="contact.created", entity_id=contact.pk)
    for _ in range(3):
        with transaction.atomic():
            handle_event(event)
    assert RuleRun.objects.count() == 1
    assert notes(alice) == ["Hi Анна"] and Activity.objects.count() == 1


def test_loop_protection_stops_a_rule_that_triggers_itself(make_rule, make_contact, dispatch,
                                                          alice):  # fmt: skip
    make_rule(
        {"type": "record_updated", "entity": "contact"},
        [{"type": "set_field", "field": "position", "value": "x{{ record.position }}"}],
    )
    contact = make_contact(alice)
    contact_update(actor=alice, contact=contact, changes={"position": "p"})
    dispatch()
    contact.refresh_from_db()
    assert contact.position == "xxxp"  # depths 1, 2, 3 ran; the fourth is refused
    runs = list(RuleRun.objects.order_by("id"))
    assert [r.depth for r in runs] == [1, 2, 3, 4]
    assert runs[-1].status == RunStatus.SKIPPED and "loop" in runs[-1].reason


def test_rate_limit_per_record_per_hour(make_rule, make_contact, dispatch, alice, settings):
    settings.VORONKA_AUTOMATION_MAX_RUNS_PER_HOUR = 2
    make_rule({"type": "record_updated", "entity": "contact"}, [NOTIFY])
    contact = make_contact(alice)
    for i in range(4):
        contact_update(actor=alice, contact=contact, changes={"position": f"p{i}"})
    dispatch()
    statuses = list(RuleRun.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["done", "done", "skipped", "skipped"]


def test_event_name_trigger_matches_by_name(make_rule, dispatch, alice):
    from django.db import transaction

    from voronka.core import events

    make_rule(
        {"type": "event", "event": "call.missed"},
        [{"type": "notify", "user": str(alice.pk), "title": "Missed {{ payload.from }}"}],
    )
    with transaction.atomic():
        events.publish("call.missed", entity="telephony.call", entity_id=5,
                       payload={"from": "+79990000000"})  # fmt: skip
        events.publish("call.answered", entity="telephony.call", entity_id=6)
    dispatch()
    assert notes(alice) == ["Missed +79990000000"]


def test_webhook_action_is_queued_and_delivered_later(make_rule, make_contact, dispatch, alice):
    from voronka.automation.models import AutomationHttpCall
    from voronka.automation.services import deliver_http_calls

    make_rule(
        {"type": "record_created", "entity": "contact"},
        [{"type": "webhook", "url": "http://127.0.0.1:1/hook"}],
    )
    make_contact(alice)
    dispatch()
    call = AutomationHttpCall.objects.get()
    assert call.status == "queued" and call.body["record"]["last_name"] == "Петров"
    deliver_http_calls()
    call.refresh_from_db()
    assert call.attempts == 1 and call.last_error  # loopback refused or unreachable


def test_validation_names_each_bad_field(admin):
    with pytest.raises(ServiceValidationError) as exc:
        rule_create(actor=admin, data={
            "name": "", "trigger": {"type": "date", "entity": "contact", "field": "nope"},
            "conditions": {"op": "and", "items": [{"field": "", "cmp": "gt", "value": ""}]},
            "actions": [{"type": "move_stage"}, {"type": "wait"}],
        })  # fmt: skip
    fields = {e.field for e in exc.value.errors}
    assert {"name", "trigger.field", "conditions.0.field", "conditions.0.value",
            "actions.0.type", "actions.0.stage_id", "actions.1.minutes"} <= fields  # fmt: skip


def test_non_admin_may_not_create_rules(alice):
    from voronka.core.errors import Forbidden

    with pytest.raises(Forbidden):
        rule_create(actor=alice, data={"name": "x"})


def test_lead_trigger(make_rule, dispatch, alice):
    make_rule(
        {"type": "record_created", "entity": "lead"},
        [{"type": "notify", "user": str(alice.pk), "title": "Lead {{ record.email }}"}],
    )
    lead_create(actor=alice, data={"first_name": "Ivan", "email": "ivan@example.com"})
    dispatch()
    assert notes(alice) == ["Lead ivan@example.com"]


def test_pipeline_fixture_exists(pipeline):
    assert isinstance(pipeline, Pipeline)
