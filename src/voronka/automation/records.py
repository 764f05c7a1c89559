"""What the rule engine knows about each kind of record: how to load it, which fields a
condition may read, and which service writes it (so validation and audit always apply)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EntitySpec:
    key: str  # "contact"
    event_entity: str  # "customers.contact" as published in the outbox
    label: Any
    model_path: str
    update_service: str  # "module:function"
    record_kwarg: str  # keyword the update service takes the record under
    fields: dict[str, Any] = field(default_factory=dict)  # condition fields: name → label
    date_fields: dict[str, Any] = field(default_factory=dict)
    has_tags: bool = False

    def model(self) -> Any:
        from django.apps import apps

        return apps.get_model(self.model_path)

    def update(self, *, actor: Any, record: Any, changes: dict[str, Any], channel: str) -> Any:
        import importlib

        module, name = self.update_service.split(":")
        func: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return func(actor=actor, changes=changes, channel=channel, **{self.record_kwarg: record})


_COMMON = {"owner": _("owner"), "team": _("owner's team")}

ENTITIES: dict[str, EntitySpec] = {
    "contact": EntitySpec(
        "contact", "customers.contact", _("contact"), "customers.Contact",
        "voronka.customers.services:contact_update", "contact",
        fields={"first_name": _("first name"), "last_name": _("last name"),
                "position": _("position"), "source": _("source"), "birthday": _("birthday"),
                "email": _("e-mail"), "phone": _("phone"), "company": _("company"),
                "email_consent": _("agrees to e-mail marketing"),
                "sms_consent": _("agrees to SMS marketing"), "tags": _("tags"), **_COMMON},
        date_fields={"birthday": _("birthday (every year)")},
        has_tags=True,
    ),
    "company": EntitySpec(
        "company", "customers.company", _("company"), "customers.Company",
        "voronka.customers.services:company_update", "company",
        fields={"name": _("name"), "inn": _("INN"), "industry": _("industry"), "size": _("size"),
                "region": _("region"), "email": _("e-mail"), "phone": _("phone"),
                "tags": _("tags"), **_COMMON},
        has_tags=True,
    ),
    "deal": EntitySpec(
        "deal", "sales.deal", _("deal"), "sales.Deal",
        "voronka.sales.services.deals:deal_update", "deal",
        fields={"title": _("title"), "amount": _("amount"), "currency": _("currency"),
                "pipeline": _("pipeline"), "stage": _("stage"), "stage_kind": _("stage kind"),
                "source": _("source"), "probability": _("probability"),
                "expected_close_date": _("expected close date"), "tags": _("tags"), **_COMMON},
        date_fields={"expected_close_date": _("expected close date"),
                     "stage_entered_at": _("entered the current stage")},
        has_tags=True,
    ),
    "lead": EntitySpec(
        "lead", "sales.lead", _("lead"), "sales.Lead",
        "voronka.sales.services.leads:lead_update", "lead",
        fields={"first_name": _("first name"), "last_name": _("last name"),
                "company_name": _("company"), "email": _("e-mail"), "phone": _("phone"),
                "source": _("source"), "region": _("region"), "status": _("status"),
                "utm_source": "utm_source", "utm_campaign": "utm_campaign", **_COMMON},
    ),
    "activity": EntitySpec(
        "activity", "sales.activity", _("activity"), "sales.Activity",
        "voronka.sales.services.activities:activity_update", "activity",
        fields={"kind": _("kind"), "subject": _("subject"), "done": _("done"), **_COMMON},
        date_fields={"due_at": _("due"), "starts_at": _("starts")},
    ),
}  # fmt: skip

BY_EVENT_ENTITY = {spec.event_entity: spec for spec in ENTITIES.values()}


def load(entity: str, record_id: int | None) -> Any:
    """The record as it is now, or None when it is gone."""
    spec = ENTITIES.get(entity)
    if spec is None or not record_id:
        return None
    return spec.model().objects.filter(pk=record_id).first()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _owner_team(record: Any) -> Any:
    """The owner's team. In a dispatcher batch from one map of every user's team (one query
    per batch instead of one per record: owners are few, records many)."""
    from voronka.core.dispatch import batch_memo, in_batch

    owner_id = getattr(record, "owner_id", None)
    if owner_id is None:
        return None
    if in_batch() and not record._state.fields_cache.get("owner"):
        from django.contrib.auth import get_user_model

        teams = batch_memo(
            "automation.user_teams",
            lambda: dict(get_user_model().objects.values_list("id", "team_id")),
        )
        if owner_id in teams:
            return teams[owner_id]
    owner = getattr(record, "owner", None)
    return getattr(owner, "team_id", None)


def field_value(entity: str, record: Any, name: str, payload: dict[str, Any] | None = None) -> Any:
    """The current value of ``name`` on the record: a plain field, ``custom.<key>``,
    ``payload.<key>`` (the event's payload), tags (a list of names), owner/team ids."""
    if name.startswith("payload."):
        return (payload or {}).get(name.removeprefix("payload."))
    if record is None:
        return None
    if name.startswith("custom."):
        return (record.custom or {}).get(name.removeprefix("custom."))
    if name == "tags":
        return sorted(t.name for t in record.tags.all()) if hasattr(record, "tags") else []
    if name == "owner":
        return record.owner_id
    if name == "team":
        return _owner_team(record)
    if name in {"stage", "pipeline", "currency", "company"} and entity != "contact":
        return getattr(record, f"{name}_id", None)
    if name == "stage_kind":
        return record.stage.kind
    if name == "done":
        return record.done_at is not None
    if entity == "contact" and name == "email":
        return [e.email for e in record.emails.all()]
    if entity == "contact" and name == "phone":
        return [p.phone for p in record.phones.all()]
    if entity == "contact" and name == "company":
        return record.company.name if record.company_id else ""
    return _plain(getattr(record, name, None))


def snapshot(entity: str, record: Any) -> dict[str, Any]:
    """Template context for messages and task subjects: every condition field plus custom."""
    if record is None:
        return {}
    spec = ENTITIES[entity]
    data = {name: field_value(entity, record, name) for name in spec.fields}
    data["id"] = record.pk
    data["custom"] = dict(record.custom or {}) if hasattr(record, "custom") else {}
    data["name"] = str(record)
    if hasattr(record, "get_absolute_url"):
        data["url"] = record.get_absolute_url()
    return data


def primary_contact(entity: str, record: Any) -> Any:
    """Whom a message about this record goes to: the contact itself, a deal's first contact,
    an activity's contact."""
    if record is None:
        return None
    if entity == "contact":
        return record
    if entity == "deal":
        return record.contacts.order_by("id").first()
    if entity == "activity":
        return record.contact
    return None


def primary_address(entity: str, record: Any) -> str:
    if entity in {"lead", "company"}:
        return record.email or ""
    return ""


def primary_phone(entity: str, record: Any) -> str:
    if entity in {"lead", "company"}:
        return record.phone or ""
    return ""
