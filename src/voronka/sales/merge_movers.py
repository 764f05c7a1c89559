"""When contacts or companies are merged, their deals, activities and converted leads follow
the surviving record (see :mod:`voronka.core.merging`).

Every linked row moves, including rows the person merging cannot see: left on the deleted
record, an activity would be deleted with it (``CASCADE``) and a deal or lead would lose its
link (``SET_NULL``). Each moved row gets a history entry naming the change, so its own card
says why its contact or company changed. :func:`register` is called from
``SalesConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils.translation import ngettext_lazy

from voronka.core.merging import register_mover
from voronka.core.models import AuditEntry
from voronka.sales.models import Activity, Deal, Lead

CONTACT = "customers.contact"
COMPANY = "customers.company"


def _history(model: type[Model], ids: list[int], changes: dict[str, Any], actor: Any,
             channel: str) -> None:  # fmt: skip
    """One INSERT for the history entries of every moved row."""
    ct = ContentType.objects.get_for_model(model)
    AuditEntry.objects.bulk_create(
        [AuditEntry(content_type=ct, object_id=pk, action="update", changes=changes,
                    actor_id=getattr(actor, "pk", None), channel=channel) for pk in ids],
        batch_size=1000,
    )  # fmt: skip


def _move_fk(model: type[Model], column: str, loser_pk: int, survivor_pk: int, actor: Any,
             channel: str) -> int:  # fmt: skip
    ids = list(model._default_manager.filter(**{column: loser_pk}).values_list("pk", flat=True))
    if ids:
        model._default_manager.filter(pk__in=ids).update(**{column: survivor_pk})
        _history(model, ids, {column: [loser_pk, survivor_pk]}, actor, channel)
    return len(ids)


# --- contacts ----------------------------------------------------------------------------------


def move_contact_deals(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    """The loser's deals list the survivor instead; a deal that lists both keeps one link."""
    through: Any = Deal.contacts.through
    deal_ids = list(through.objects.filter(contact_id=loser_pk).values_list("deal_id", flat=True))
    if not deal_ids:
        return 0
    has_both = set(
        through.objects.filter(contact_id=survivor_pk, deal_id__in=deal_ids).values_list(
            "deal_id", flat=True
        )
    )
    through.objects.filter(contact_id=loser_pk, deal_id__in=has_both).delete()
    through.objects.filter(contact_id=loser_pk).update(contact_id=survivor_pk)
    _history(Deal, deal_ids, {"contact_ids": {"added": [survivor_pk], "removed": [loser_pk]}},
             actor, channel)  # fmt: skip
    return len(deal_ids)


def move_contact_activities(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    return _move_fk(Activity, "contact_id", loser_pk, survivor_pk, actor, channel)


def move_contact_leads(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    return _move_fk(Lead, "converted_contact_id", loser_pk, survivor_pk, actor, channel)


def count_contact_deals(pks: Iterable[int], user: Any) -> int:
    return Deal.objects.visible_to(user).filter(contacts__in=list(pks)).distinct().count()


def count_contact_activities(pks: Iterable[int], user: Any) -> int:
    return Activity.objects.visible_to(user).filter(contact_id__in=list(pks)).count()


def count_contact_leads(pks: Iterable[int], user: Any) -> int:
    return Lead.objects.visible_to(user).filter(converted_contact_id__in=list(pks)).count()


# --- companies ---------------------------------------------------------------------------------


def move_company_deals(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    return _move_fk(Deal, "company_id", loser_pk, survivor_pk, actor, channel)


def move_company_activities(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    return _move_fk(Activity, "company_id", loser_pk, survivor_pk, actor, channel)


def move_company_leads(*, loser_pk: int, survivor_pk: int, actor: Any, channel: str) -> int:
    return _move_fk(Lead, "converted_company_id", loser_pk, survivor_pk, actor, channel)


def count_company_deals(pks: Iterable[int], user: Any) -> int:
    return Deal.objects.visible_to(user).filter(company_id__in=list(pks)).count()


def count_company_activities(pks: Iterable[int], user: Any) -> int:
    return Activity.objects.visible_to(user).filter(company_id__in=list(pks)).count()


def count_company_leads(pks: Iterable[int], user: Any) -> int:
    return Lead.objects.visible_to(user).filter(converted_company_id__in=list(pks)).count()


def register() -> None:
    """Called from SalesConfig.ready(); registering twice replaces, never doubles."""
    register_mover(CONTACT, "sales.deals", move_contact_deals, label=ngettext_lazy("%(n)d deal", "%(n)d deals", "n"),
                   count=count_contact_deals)  # fmt: skip
    register_mover(CONTACT, "sales.activities", move_contact_activities, label=ngettext_lazy("%(n)d activity", "%(n)d activities", "n"),
                   count=count_contact_activities)  # fmt: skip
    register_mover(CONTACT, "sales.leads", move_contact_leads, label=ngettext_lazy("%(n)d lead", "%(n)d leads", "n"),
                   count=count_contact_leads)  # fmt: skip
    register_mover(COMPANY, "sales.deals", move_company_deals, label=ngettext_lazy("%(n)d deal", "%(n)d deals", "n"),
                   count=count_company_deals)  # fmt: skip
    register_mover(COMPANY, "sales.activities", move_company_activities, label=ngettext_lazy("%(n)d activity", "%(n)d activities", "n"),
                   count=count_company_activities)  # fmt: skip
    register_mover(COMPANY, "sales.leads", move_company_leads, label=ngettext_lazy("%(n)d lead", "%(n)d leads", "n"),
                   count=count_company_leads)  # fmt: skip
