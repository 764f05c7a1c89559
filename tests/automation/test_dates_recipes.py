"""Date and schedule triggers fire once per occurrence however often the scan runs; recipes
install with one click and queue real messages in messaging."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from voronka.automation.models import Rule, RuleRun
from voronka.automation.recipes import RECIPES, recipe_install
from voronka.automation.services import rule_test_run, scan_dates
from voronka.core.models import Notification
from voronka.messaging.models import MessageTemplate, OutgoingMessage
from voronka.sales.models import Activity, Stage, StageKind
from voronka.sales.services import activity_create, deal_create, deal_move, lead_create

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def test_consumer_is_registered_with_the_dispatcher() -> None:
    from voronka.core.dispatch import consumers

    assert "automation.rules" in {c.name for c in consumers()}


def test_birthday_greeting_fires_once_per_year(admin, make_contact, alice):
    rule = recipe_install(actor=admin, key="birthday_greeting")
    assert rule.active and MessageTemplate.objects.filter(key="automation-birthday").exists()
    anna = make_contact(alice, first_name="Анна", birthday="1990-05-14", email_consent=True,
                        emails=[{"email": "anna@example.com"}])  # fmt: skip
    make_contact(alice, first_name="Борис", birthday="1985-05-15",
                 emails=[{"email": "boris@example.com"}])  # fmt: skip
    day = dt.date(2026, 5, 14)
    for hour in (0, 6, 12, 18, 23):
        scan_dates(now=at(day, hour))
    scan_dates(now=at(day + dt.timedelta(days=1), 1))  # catch-up window overlaps: still once
    messages = OutgoingMessage.objects.filter(to="anna@example.com")
    assert messages.count() == 1
    message = messages.get()
    assert message.status == "queued" and message.marketing
    assert "Анна" in message.subject or "Анна" in message.body
    # Борис has no marketing consent: his greeting is kept as suppressed, sent never.
    boris = OutgoingMessage.objects.get(to="boris@example.com")
    assert boris.status == "suppressed"
    scan_dates(now=at(dt.date(2027, 5, 14)))
    assert OutgoingMessage.objects.filter(contact=anna).count() == 2
    assert RuleRun.objects.filter(rule=rule, record_id=anna.pk).count() == 2


def test_days_before_a_deal_closes(make_rule, alice):
    make_rule(
        {
            "type": "date",
            "entity": "deal",
            "field": "expected_close_date",
            "offset": 3,
            "direction": "before",
        },
        [{"type": "notify", "user": "owner", "title": "{{ record.title }} closes soon"}],
    )
    deal_create(actor=alice, data={"title": "Поставка", "expected_close_date": "2026-03-10"})
    scan_dates(now=at(dt.date(2026, 3, 6)))
    assert not Notification.objects.exists()
    scan_dates(now=at(dt.date(2026, 3, 7)))
    scan_dates(now=at(dt.date(2026, 3, 7), 15))
    assert list(Notification.objects.values_list("title", flat=True)) == ["Поставка closes soon"]


def test_custom_date_field_after(make_rule, make_contact, alice):
    from voronka.core.models import CustomField

    CustomField.objects.create(entity="customers.contact", key="contract_end", label="End",
                               type="date")  # fmt: skip
    make_rule(
        {
            "type": "date",
            "entity": "contact",
            "field": "custom.contract_end",
            "offset": 1,
            "direction": "after",
        },
        [{"type": "notify", "user": "owner", "title": "Ended"}],
    )
    make_contact(alice, custom={"contract_end": "2026-01-31"})
    scan_dates(now=at(dt.date(2026, 2, 1)))
    scan_dates(now=at(dt.date(2026, 2, 1), 20))
    assert Notification.objects.count() == 1


def test_schedule_runs_daily_at_its_time_for_matching_records(make_rule, make_contact, alice):
    make_rule({"type": "schedule", "entity": "contact", "every": "day", "time": "09:30"},
              [{"type": "notify", "user": "owner", "title": "Daily {{ record.first_name }}"}],
              conditions={"op": "and", "items": [{"field": "tags", "cmp": "eq",
                                                  "value": "daily"}]})  # fmt: skip
    make_contact(alice, first_name="A", tags=["daily"])
    make_contact(alice, first_name="B")
    day = dt.date(2026, 4, 1)
    scan_dates(now=at(day, 9))
    assert Notification.objects.count() == 0
    scan_dates(now=at(day, 10))
    scan_dates(now=at(day, 11))
    assert Notification.objects.count() == 1
    scan_dates(now=at(day + dt.timedelta(days=1), 10))
    assert Notification.objects.count() == 2


def test_meeting_reminder_recipe(admin, alice):
    recipe_install(actor=admin, key="meeting_reminder")
    starts = timezone.now() + dt.timedelta(minutes=20)
    activity_create(actor=alice, data={"kind": "meeting", "subject": "Demo",
                                       "starts_at": starts.isoformat()})  # fmt: skip
    activity_create(actor=alice, data={"kind": "call", "subject": "Call",
                                       "starts_at": starts.isoformat()})  # fmt: skip
    later = activity_create(actor=alice, data={
        "kind": "meeting", "subject": "Later",
        "starts_at": (timezone.now() + dt.timedelta(hours=3)).isoformat()})  # fmt: skip
    scan_dates()
    scan_dates()
    assert list(Notification.objects.filter(user=alice).values_list("title", flat=True)) == [
        "Meeting soon: Demo"
    ]
    assert later.pk


def test_stale_deal_recipe_creates_one_follow_up(admin, alice):
    recipe_install(actor=admin, key="stale_deal_followup")
    deal = deal_create(actor=alice, data={"title": "Stuck"})
    from voronka.sales.models import Deal

    Deal.objects.filter(pk=deal.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=7, hours=1)
    )
    scan_dates()
    scan_dates()
    task = Activity.objects.get(deal=deal)
    assert task.owner_id == alice.pk and "Stuck" in task.subject


def test_won_thank_you_recipe_with_discount_code(admin, make_contact, dispatch, alice, pipeline):
    recipe_install(actor=admin, key="won_thank_you")
    contact = make_contact(alice, first_name="Анна", emails=[{"email": "anna@example.com"}])
    deal = deal_create(actor=alice, data={"title": "Заказ", "contact_ids": [contact.pk]})
    deal_move(
        actor=alice, deal=deal, stage_id=Stage.objects.get(pipeline=pipeline, kind=StageKind.WON).pk
    )
    dispatch()
    dispatch()
    message = OutgoingMessage.objects.get(to="anna@example.com")
    assert "THANKS-" in message.body and message.status == "queued"


def test_lead_welcome_recipe(admin, dispatch, alice):
    recipe_install(actor=admin, key="lead_welcome")
    lead_create(actor=alice, data={"first_name": "Ivan", "email": "ivan@example.com"})
    lead_create(actor=alice, data={"first_name": "NoMail", "phone": "+79990001122"})
    dispatch()
    message = OutgoingMessage.objects.get()
    assert message.to == "ivan@example.com" and "Ivan" in message.body


def test_send_sms_action(make_rule, make_contact, dispatch, alice):
    make_rule(
        {"type": "record_created", "entity": "contact"},
        [{"type": "send_sms", "text": "Hi {{ contact.first_name }}"}],
    )
    make_contact(alice, first_name="Анна", phones=[{"phone": "+7 999 000-11-22"}])
    dispatch()
    message = OutgoingMessage.objects.get(channel="sms")
    assert message.body == "Hi Анна" and message.status == "queued"


def test_all_recipes_install(admin):
    for recipe in RECIPES:
        recipe_install(actor=admin, key=recipe.key)
    assert Rule.objects.count() == len(RECIPES)


def test_dry_run_changes_nothing_and_really_run_does(make_rule, make_contact, admin, alice):
    rule = make_rule({"type": "record_created", "entity": "contact"},
                     [{"type": "add_tag", "tag": "tested"},
                      {"type": "send_email", "subject": "Hi", "body": "Hello"}])  # fmt: skip
    contact = make_contact(alice, emails=[{"email": "p@example.com"}])
    run = rule_test_run(actor=admin, rule=rule, record_id=contact.pk)
    steps = list(run.steps.values_list("status", "result"))
    assert steps[0] == ("preview", "would add the tag “tested”")
    assert steps[1][1].startswith("would send an e-mail “Hi”")
    assert not contact.tags.exists() and not OutgoingMessage.objects.exists()
    run = rule_test_run(actor=admin, rule=rule, record_id=contact.pk, really=True)
    assert run.status == "done" and contact.tags.get().name == "tested"
    assert OutgoingMessage.objects.count() == 1
