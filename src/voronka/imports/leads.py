"""Leads from a file (a web-form export, an event's sign-up list, another CRM's leads), through
``lead_create``/``lead_update``: the same normalization and the same assignment rules.

Duplicates are leads not yet converted, visible to the importer, with the same normalized
e-mail or phone; a converted lead is history and a new request makes a new lead."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.errors import Collector
from voronka.core.text import fold, format_phone
from voronka.customers.validation import clean_inn
from voronka.imports import cleaning
from voronka.imports.kinds import LEADS
from voronka.imports.phones import normalize_phone_fast
from voronka.imports.pipeline import Match
from voronka.imports.records import RecordImporter, Row
from voronka.sales.models import Lead, LeadStatus
from voronka.sales.services import lead_create, lead_update
from voronka.sales.services.leads import lead_snapshot

TEXT_FIELDS = ("first_name", "middle_name", "last_name", "company_name", "source", "region",
               "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "message",
               "junk_reason")  # fmt: skip
# What people write in a status column, besides the values and their labels.
STATUS_WORDS = {
    "новый": "new", "новая": "new", "new lead": "new", "в работе": "in_progress",
    "в обработке": "in_progress", "working": "in_progress", "contacted": "in_progress",
    "квалифицирован": "qualified", "квалифицированный": "qualified", "qualified lead": "qualified",
    "мусор": "junk", "спам": "junk", "spam": "junk", "нецелевой": "junk",
}  # fmt: skip


def _statuses() -> dict[str, str]:
    words = {fold(value): value for value in LeadStatus.values}
    words.update({fold(str(label)): value for value, label in LeadStatus.choices})
    words.update({fold(value.replace("_", " ")): value for value in LeadStatus.values})
    return {**words, **STATUS_WORDS}


class LeadImporter(RecordImporter):
    kind = LEADS
    model = Lead
    deleted_event = "lead.deleted"
    field_targets = {"owner_id": "owner"}
    preview_labels = (gettext_lazy("Name"), gettext_lazy("Company"), gettext_lazy("E-mail"),
                      gettext_lazy("Phone"), gettext_lazy("Source"), gettext_lazy("Status"),
                      gettext_lazy("Message"), gettext_lazy("Custom fields"))  # fmt: skip

    def __init__(self, ctx: Any, mapping: list[str]) -> None:
        super().__init__(ctx, mapping)
        self.statuses = _statuses()

    def parse(self, number: int, values: list[str]) -> Row | str:
        errors: list[str] = []
        row = Row(row=number)
        data = row.data
        for name in TEXT_FIELDS:
            if text := self.text(values, name):
                data[name] = text
        if not data.get("first_name") and not data.get("last_name"):
            parts = self.name_parts(values)
            if parts is not None:
                for name, value in zip(("first_name", "middle_name", "last_name"), parts,
                                       strict=False):  # fmt: skip
                    if value:
                        data[name] = value
        if inn := self.text(values, "inn"):
            collector, holder = Collector(), {"inn": inn}
            clean_inn(collector, holder)
            if collector.errors:
                errors.append(f"{self.label('inn')}: {collector.errors[0].message} ({inn})")
            data["inn"] = holder["inn"]
        if text := self.text(values, "email"):
            try:
                data["email"] = cleaning.normalize_email_fast(cleaning.split_emails(text)[0])
                row.keys.append(f"e:{data['email']}")
            except ValueError:
                errors.append(f"{self.label('email')}: "
                              + _("not a valid e-mail address: %(value)s") % {"value": text})  # fmt: skip
        if text := self.text(values, "phone"):
            try:
                data["phone"] = normalize_phone_fast(cleaning.split_phones(text)[0])
                row.keys.append(f"p:{data['phone']}")
            except ValueError:
                errors.append(f"{self.label('phone')}: "
                              + _("not a valid phone number: %(value)s") % {"value": text})  # fmt: skip
        if text := self.text(values, "status"):
            status = self.statuses.get(fold(text))
            if status is None:
                options = ", ".join(str(label) for _v, label in LeadStatus.choices)
                errors.append(f"{self.label('status')}: "
                              + _("“%(value)s” is none of: %(options)s")
                              % {"value": text, "options": options})  # fmt: skip
            else:
                data["status"] = status
        owner = self.read_owner(values, errors, self.label("owner"))
        if owner is not None:
            data["owner_id"] = owner
        # Without an owner, lead_create asks the assignment rules, then takes the importer.
        row.defaults["owner_id"] = owner or self.ctx.default_owner_id
        row.owner_id = row.defaults["owner_id"] or self.ctx.actor_id
        if self.custom:
            custom = self.read_custom(values, errors)
            if custom:
                data["custom"] = custom
        if not any(data.get(k) for k in ("first_name", "last_name", "company_name", "email",
                                         "phone")):  # fmt: skip
            errors.append(f"{_('Name')}: {_('give a name, a company, an e-mail or a phone')}")
        return "; ".join(errors) if errors else row

    def preview(self, row: Row) -> list[str]:
        data = row.data
        name = " ".join(data.get(k, "") for k in ("last_name", "first_name", "middle_name"))
        status = dict(LeadStatus.choices).get(data.get("status", ""), "")
        return [
            " ".join(name.split()), data.get("company_name", ""), data.get("email", ""),
            format_phone(data["phone"]) if data.get("phone") else "", data.get("source", ""),
            str(status), data.get("message", "")[:80],
            ", ".join(f"{k}: {v}" for k, v in data.get("custom", {}).items()),
        ]  # fmt: skip

    # --- the database ------------------------------------------------------------------------

    def lookup(self, rows: list[Row]) -> dict[str, Match]:
        emails = sorted({k[2:] for r in rows for k in r.keys if k.startswith("e:")})
        phones = sorted({k[2:] for r in rows for k in r.keys if k.startswith("p:")})
        if not emails and not phones:
            return {}
        found: dict[str, Match] = {}
        leads = (
            Lead.objects.visible_to(self.ctx.actor)
            .filter(converted_at__isnull=True)
            .filter(Q(email__in=emails) | Q(phone__in=phones))
            .order_by("pk")
            .values_list("pk", "email", "phone")
        )
        for pk, email, phone in leads:
            if email:
                found.setdefault(f"e:{email}", ("db", pk))
            if phone:
                found.setdefault(f"p:{phone}", ("db", pk))
        return found

    def create(self, row: Row) -> int:
        data = {**row.defaults, **row.data}
        return lead_create(actor=self.ctx.actor, data=data, channel=self.channel).pk

    def update(self, pk: int, row: Row) -> dict[str, Any] | None:
        lead = Lead.objects.get(pk=pk)
        before = lead_snapshot(lead)
        lead = lead_update(actor=self.ctx.actor, lead=lead, changes=dict(row.data),
                           channel=self.channel)  # fmt: skip
        return self.changed_before(before, lead_snapshot(lead))

    @classmethod
    def restore(cls, user: Any, record: Any, changes: dict[str, Any]) -> None:
        from voronka.core.actors import OnBehalfOf

        lead_update(actor=OnBehalfOf(user), lead=record, changes=changes, channel=cls.channel)


__all__ = ["LeadImporter"]
