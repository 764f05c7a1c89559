"""Leads: intake with normalization and assignment rules, status changes, and conversion.

Conversion reuses an existing contact (same normalized e-mail or phone) and company (same
INN, else the same name) instead of creating duplicates, then creates the deal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.actors import OnBehalfOf
from voronka.core.custom_fields import clean_custom
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import fold, normalize_email, normalize_phone
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone
from voronka.customers.services import company_create, contact_create, contact_update
from voronka.customers.validation import clean_inn, clean_str
from voronka.sales.models import AssignmentRule, AssignmentRuleKind, Deal, Lead, LeadStatus
from voronka.sales.services.common import clean_fk, require_writer, unknown_fields
from voronka.sales.services.deals import deal_create

LEAD_ENTITY = "sales.lead"
LEAD_FIELDS = {
    "first_name", "middle_name", "last_name", "company_name", "inn", "email", "phone", "source",
    "region", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "message",
    "status", "junk_reason", "owner_id", "custom",
}  # fmt: skip


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    return {
        name if name != "owner_id" else "owner_id": getattr(lead, name)
        for name in sorted(LEAD_FIELDS)
    }


def _clean_lead(data: dict[str, Any], *, instance: Lead | None) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    unknown_fields(errors, data, LEAD_FIELDS)
    for name, limit in (("first_name", 150), ("middle_name", 150), ("last_name", 150), ("company_name", 255),
                        ("source", 100), ("region", 128), ("utm_source", 255), ("utm_medium", 255),
                        ("utm_campaign", 255), ("utm_term", 255), ("utm_content", 255), ("message", 10000),
                        ("junk_reason", 255), ("inn", 32)):  # fmt: skip
        clean_str(errors, data, name, limit)
    clean_inn(errors, data)
    if data.get("email"):
        try:
            data["email"] = normalize_email(str(data["email"]))
        except ValueError:
            errors.add("email", _("not a valid e-mail address"))
    if data.get("phone"):
        try:
            data["phone"] = normalize_phone(str(data["phone"]))
        except ValueError:
            errors.add("phone", _("not a valid phone number"))
    if "status" in data and data["status"] not in LeadStatus.values:
        errors.add(
            "status", _("must be one of: %(options)s") % {"options": ", ".join(LeadStatus.values)}
        )
    if data.get("status") == LeadStatus.JUNK and not data.get(
        "junk_reason", instance.junk_reason if instance else ""
    ):
        errors.add("junk_reason", _("say why this lead is junk"))
    clean_fk(
        errors,
        data,
        "owner_id",
        get_user_model().objects.filter(is_active=True),
        _("no such active user"),
    )
    if "custom" in data or instance is None:
        data["custom"] = clean_custom(
            LEAD_ENTITY,
            data.get("custom"),
            existing=instance.custom if instance else None,
            errors=errors,
        )
    merged = {k: data.get(k, getattr(instance, k, "") if instance else "") for k in
              ("first_name", "last_name", "company_name", "email", "phone")}  # fmt: skip
    if not any(merged.values()):
        errors.add("last_name", _("give a name, a company, an e-mail or a phone"))
    return data, errors


def _assign(lead_data: dict[str, Any]) -> int | None:
    """The owner chosen by the first matching active rule (round robin moves its pointer)."""
    user_model = get_user_model()
    for rule in (
        AssignmentRule.objects.select_for_update().filter(active=True).order_by("position", "id")
    ):
        if rule.kind == AssignmentRuleKind.BY_SOURCE and fold(rule.match_value) != fold(
            lead_data.get("source", "")
        ):
            continue
        if rule.kind == AssignmentRuleKind.BY_REGION and fold(rule.match_value) != fold(
            lead_data.get("region", "")
        ):
            continue
        if rule.user_id and rule.kind != AssignmentRuleKind.ROUND_ROBIN:
            return rule.user_id
        if rule.team_id:
            members = list(
                user_model.objects.filter(team_id=rule.team_id, is_active=True)
                .order_by("id")
                .values_list("id", flat=True)
            )
            if not members:
                continue
            following = [m for m in members if rule.last_user_id is None or m > rule.last_user_id]
            chosen = following[0] if following else members[0]
            AssignmentRule.objects.filter(pk=rule.pk).update(last_user_id=chosen)
            return chosen
    return None


def lead_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Lead:
    """A new lead. Without an owner given, assignment rules choose one; failing that, the
    actor (when a person creates it) owns it."""
    require_writer(actor)
    values, errors = _clean_lead(dict(data), instance=None)
    errors.raise_if_any()
    with transaction.atomic():
        if not values.get("owner_id"):
            values["owner_id"] = _assign(values) or getattr(actor, "pk", None)
        lead = Lead.objects.create(**values)
        snapshot = lead_snapshot(lead)
        audit.record(lead, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish(
            "lead.created",
            entity=LEAD_ENTITY,
            entity_id=lead.pk,
            payload=snapshot,
            actor=actor,
            channel=channel,
        )
    return lead


def lead_update(
    *, actor: Any, lead: Lead, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Lead:
    require_writer(actor)
    if lead.converted_at is not None and set(changes) - {"owner_id"}:
        raise ServiceValidationError.single("status", _("a converted lead can no longer be edited"))
    values, errors = _clean_lead(dict(changes), instance=lead)
    errors.raise_if_any()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        before = lead_snapshot(lead)
        for name, value in values.items():
            setattr(lead, name, value)
        lead.save()
        changed = audit.diff(before, lead_snapshot(lead))
        if changed:
            audit.record(lead, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("lead.updated", entity=LEAD_ENTITY, entity_id=lead.pk,
                           payload={"changed": sorted(changed), "changes": changed}, actor=actor, channel=channel)  # fmt: skip
    return lead


def find_contact(email: str, phone: str) -> Contact | None:
    """An existing contact with this normalized e-mail or phone, whoever owns it."""
    if email:
        match = (
            ContactEmail.objects.filter(email=email)
            .order_by("contact_id")
            .values_list("contact_id", flat=True)
            .first()
        )
        if match:
            return Contact.objects.get(pk=match)
    if phone:
        match = (
            ContactPhone.objects.filter(phone=phone)
            .order_by("contact_id")
            .values_list("contact_id", flat=True)
            .first()
        )
        if match:
            return Contact.objects.get(pk=match)
    return None


def find_company(inn: str, name: str) -> Company | None:
    if inn:
        company = Company.objects.filter(inn=inn).order_by("id").first()
        if company:
            return company
    if name:
        folded = fold(name)
        for company in Company.objects.filter(name__iexact=name.strip()).order_by("id")[:5]:
            if fold(company.name) == folded:
                return company
        for company in Company.objects.filter(search_text__startswith=folded).order_by("id")[:20]:
            if fold(company.name) == folded:
                return company
    return None


def lead_convert(
    *, actor: Any, lead: Lead, create_deal: bool = True, deal_title: str = "",
    pipeline_id: int | None = None, amount: Any = None, currency: str | None = None,
    channel: str = Channel.UI,
) -> Lead:  # fmt: skip
    """Turn a lead into a contact (reused when it exists), a company and a deal, in one step."""
    require_writer(actor)
    if lead.converted_at is not None:
        raise ServiceValidationError.single("status", _("this lead is already converted"))
    if lead.status == LeadStatus.JUNK:
        raise ServiceValidationError.single("status", _("a junk lead cannot be converted"))
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.converted_at is not None:
            raise ServiceValidationError.single("status", _("this lead is already converted"))
        owner_id = lead.owner_id or getattr(actor, "pk", None)
        # Matched records may be ones the actor cannot see: they were found, not chosen.
        system = OnBehalfOf(actor)
        company = find_company(lead.inn, lead.company_name)
        if company is None and (lead.company_name or lead.inn):
            company = company_create(actor=system, channel=channel, data={
                "name": lead.company_name or lead.inn, "inn": lead.inn, "region": lead.region, "owner_id": owner_id})  # fmt: skip
        contact = find_contact(lead.email, lead.phone)
        if contact is None and (lead.first_name or lead.last_name or lead.email or lead.phone):
            contact = contact_create(actor=system, channel=channel, data={
                "first_name": lead.first_name, "middle_name": lead.middle_name,
                "last_name": lead.last_name or (not lead.first_name and (lead.email or lead.phone)) or "",
                "emails": [lead.email] if lead.email else [], "phones": [lead.phone] if lead.phone else [],
                "company_id": company.pk if company else None, "source": lead.source, "owner_id": owner_id,
            })  # fmt: skip
        elif contact is not None:
            additions: dict[str, Any] = {}
            emails = list(contact.emails.values_list("email", "kind"))
            phones = list(contact.phones.values_list("phone", "kind"))
            if lead.email and lead.email not in [e for e, _k in emails]:
                additions["emails"] = [{"email": e, "kind": k} for e, k in emails] + [
                    {"email": lead.email}
                ]
            if lead.phone and lead.phone not in [p for p, _k in phones]:
                additions["phones"] = [{"phone": p, "kind": k} for p, k in phones] + [
                    {"phone": lead.phone}
                ]
            if company is not None and contact.company_id is None:
                additions["company_id"] = company.pk
            if additions:
                # The matched contact may belong to someone the actor cannot see: it is
                # completed on the actor's behalf, so no duplicate is created.
                contact = contact_update(
                    actor=system, contact=contact, changes=additions, channel=channel
                )
        deal: Deal | None = None
        if create_deal:
            title = deal_title.strip() or lead.company_name or str(lead)
            deal_data: dict[str, Any] = {
                "title": title[:255], "company_id": company.pk if company else None,
                "contact_ids": [contact.pk] if contact else [], "owner_id": owner_id, "source": lead.source,
            }  # fmt: skip
            if pipeline_id is not None:
                deal_data["pipeline_id"] = pipeline_id
            if amount not in (None, ""):
                deal_data["amount"] = amount
            if currency:
                deal_data["currency"] = currency
            deal = deal_create(actor=system, data=deal_data, channel=channel)
        lead.status = LeadStatus.QUALIFIED
        lead.converted_contact = contact
        lead.converted_company = company
        lead.converted_deal = deal
        lead.converted_at = timezone.now()
        lead.save()
        payload = {"contact_id": getattr(contact, "pk", None), "company_id": getattr(company, "pk", None),
                   "deal_id": getattr(deal, "pk", None)}  # fmt: skip
        audit.record(
            lead, action="update", changes={"converted": payload}, actor=actor, channel=channel
        )
        events.publish(
            "lead.converted",
            entity=LEAD_ENTITY,
            entity_id=lead.pk,
            payload=payload,
            actor=actor,
            channel=channel,
        )
    return lead
