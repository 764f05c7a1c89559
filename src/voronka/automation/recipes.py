"""Ready-made rules an administrator installs with one click and then edits like any rule.

A recipe that sends e-mail also creates the message template it needs (once, by key), so the
text can be changed in messaging without touching the rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.automation.models import Rule


@dataclass(frozen=True)
class Recipe:
    key: str
    title: Any
    description: Any
    rule: dict[str, Any]
    templates: list[dict[str, Any]] = field(default_factory=list)


RECIPES: list[Recipe] = [
    Recipe(
        "birthday_greeting",
        gettext_lazy("Birthday greeting"),
        gettext_lazy("E-mails each contact on their birthday (only those who agreed to "
                     "marketing e-mail)."),
        {"trigger": {"type": "date", "entity": "contact", "field": "birthday", "offset": 0,
                     "unit": "days", "direction": "before"},
         "actions": [{"type": "send_email", "template": "automation-birthday",
                      "marketing": True}]},
        [{"key": "automation-birthday", "name": "Birthday greeting",
          "subject_en": "Happy birthday, {{ contact.first_name }}!",
          "body_en": "Dear {{ contact.first_name }},\n\nHappy birthday from all of us!",
          "subject_ru": "С днём рождения, {{ contact.first_name }}!",
          "body_ru": "{{ contact.first_name }}, поздравляем вас с днём рождения!"}],
    ),
    Recipe(
        "meeting_reminder",
        gettext_lazy("Reminder before a meeting"),
        gettext_lazy("Notifies the assignee 30 minutes before a meeting starts."),
        {"trigger": {"type": "date", "entity": "activity", "field": "starts_at", "offset": 30,
                     "unit": "minutes", "direction": "before"},
         "conditions": {"op": "and", "items": [
             {"field": "kind", "cmp": "eq", "value": "meeting"},
             {"field": "done", "cmp": "eq", "value": "false"}]},
         "actions": [{"type": "notify", "user": "owner",
                      "title": "Meeting soon: {{ record.subject }}"}]},
    ),
    Recipe(
        "stale_deal_followup",
        gettext_lazy("Follow-up on a stuck deal"),
        gettext_lazy("Creates a follow-up task for the owner when an open deal stays in one "
                     "stage for 7 days."),
        {"trigger": {"type": "date", "entity": "deal", "field": "stage_entered_at", "offset": 7,
                     "unit": "days", "direction": "after"},
         "conditions": {"op": "and", "items": [
             {"field": "stage_kind", "cmp": "eq", "value": "open"}]},
         "actions": [{"type": "create_task", "assignee": "owner", "due_in_days": 1,
                      "subject": "Follow up: {{ record.title }} is stuck in its stage"}]},
    ),
    Recipe(
        "won_thank_you",
        gettext_lazy("Thank-you after a won deal"),
        gettext_lazy("E-mails the deal's contact a thank-you with a personal discount code."),
        {"trigger": {"type": "deal_won"},
         "actions": [{"type": "send_email", "template": "automation-thank-you"}]},
        [{"key": "automation-thank-you", "name": "Thank you for your order",
          "subject_en": "Thank you, {{ contact.first_name }}!",
          "body_en": "Thank you for your trust. Your discount code for the next order: "
                     "{{ discount_code }}",
          "subject_ru": "Спасибо, {{ contact.first_name }}!",
          "body_ru": "Спасибо за доверие! Ваш промокод на следующий заказ: {{ discount_code }}"}],
    ),
    Recipe(
        "lead_welcome",
        gettext_lazy("Welcome e-mail to a new lead"),
        gettext_lazy("E-mails every new lead that left an e-mail address."),
        {"trigger": {"type": "record_created", "entity": "lead"},
         "conditions": {"op": "and", "items": [
             {"field": "email", "cmp": "not_empty", "value": ""}]},
         "actions": [{"type": "send_email", "template": "automation-welcome"}]},
        [{"key": "automation-welcome", "name": "Welcome",
          "subject_en": "Thank you for your interest",
          "body_en": "Hello {{ record.first_name }},\n\nthank you for reaching out. "
                     "We will contact you shortly.",
          "subject_ru": "Спасибо за интерес",
          "body_ru": "Здравствуйте, {{ record.first_name }}!\n\nСпасибо за обращение. "
                     "Мы скоро свяжемся с вами."}],
    ),
]  # fmt: skip

BY_KEY = {r.key: r for r in RECIPES}


def ensure_templates(actor: Any, recipe: Recipe) -> None:
    """Create the messaging templates the recipe uses, unless one with the key exists."""
    from voronka.messaging.models import MessageChannel, MessageTemplate

    for spec in recipe.templates:
        MessageTemplate.objects.get_or_create(
            key=spec["key"],
            defaults={**{k: v for k, v in spec.items() if k != "key"},
                      "channel": MessageChannel.EMAIL},
        )  # fmt: skip


def recipe_install(*, actor: Any, key: str) -> Rule:
    """Create the recipe's rule (active) and its templates; the admin may edit it afterwards."""
    from voronka.automation.services import rule_create
    from voronka.core.errors import ServiceValidationError

    recipe = BY_KEY.get(key)
    if recipe is None:
        raise ServiceValidationError.single("recipe", _("no such recipe"))
    with transaction.atomic():
        rule = rule_create(
            actor=actor, data={"name": str(recipe.title), "active": True, **recipe.rule},
            recipe=recipe.key,
        )  # fmt: skip
        ensure_templates(actor, recipe)
    return rule
