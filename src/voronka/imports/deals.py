"""Deals from a file (another CRM's export, a spreadsheet of opportunities), through
``deal_create``/``deal_update``: stage rules, required fields, history and events as usual.

Names are looked up the way people write them: the pipeline and the stage by name (the
default pipeline when the file names none, its first stage when it names no stage), the owner
by username, e-mail or full name, the currency by code, symbol or name. The contact is found
by e-mail or phone and the company by INN or name, among the records the importer sees; none
is created (import contacts and companies first): a row naming one that is not found is
imported without it and counted in the job's notes. With an "external ID" column the deal
remembers the id it had in the other system, so that importing the export again finds it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.actors import OnBehalfOf
from voronka.core.errors import Collector
from voronka.core.text import fold
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone
from voronka.customers.validation import clean_inn
from voronka.imports import cleaning
from voronka.imports.kinds import DEALS
from voronka.imports.models import ImportKey
from voronka.imports.phones import normalize_phone_fast
from voronka.imports.pipeline import Match
from voronka.imports.records import RecordImporter, Row
from voronka.sales.models import Currency, Deal, LostReason, Pipeline, Stage
from voronka.sales.services import deal_create, deal_update
from voronka.sales.services.deals import deal_snapshot

MAX_KEY = 255


def money(amount: Decimal) -> str:
    """An amount as the user's locale writes it ("1 234,50"), for the preview."""
    return number_format(amount, decimal_pos=2, force_grouping=True)


class Currencies:
    """Currencies by what people write: "RUB", "руб.", "₽", "рубль", "Russian rouble"."""

    def __init__(self) -> None:
        self.by_word: dict[str, str] = {}
        self.base = "RUB"
        for code, symbol, name, is_base in Currency.objects.values_list(
            "code", "symbol", "name", "is_base"
        ):
            for word in (code, symbol, name):
                if word:
                    self.by_word.setdefault(fold(word).rstrip("."), code)
            if is_base:
                self.base = code
        codes = set(self.by_word.values())
        for word, code in cleaning.CURRENCY_MARKS.items():
            if code in codes:
                self.by_word.setdefault(word, code)

    def resolve(self, text: str) -> str | None:
        return self.by_word.get(fold(text).rstrip("."))


class DealImporter(RecordImporter):
    kind = DEALS
    model = Deal
    deleted_event = "deal.deleted"
    field_targets = {
        "pipeline_id": "pipeline", "stage_id": "stage", "owner_id": "owner",
        "company_id": "company", "contact_ids": "contact_email", "lost_reason_id": "lost_reason",
    }  # fmt: skip
    preview_labels = (gettext_lazy("Deal"), gettext_lazy("Amount"), gettext_lazy("Pipeline"),
                      gettext_lazy("Stage"), gettext_lazy("Owner"), gettext_lazy("Contact"),
                      gettext_lazy("Company"), gettext_lazy("Close date"),
                      gettext_lazy("Custom fields"))  # fmt: skip

    def __init__(self, ctx: Any, mapping: list[str]) -> None:
        super().__init__(ctx, mapping)
        pipelines = list(Pipeline.objects.order_by("-is_default", "position", "id"))
        self.pipeline_names = {p.pk: p.name for p in pipelines}
        self.pipelines: dict[str, int] = {}
        for p in pipelines:
            self.pipelines.setdefault(fold(p.name), p.pk)
        self.default_pipeline = pipelines[0].pk if pipelines else None
        self.stages: dict[int, dict[str, int]] = {p.pk: {} for p in pipelines}
        self.stage_names: dict[int, str] = {}
        self.first_stage: dict[int, int] = {}
        for stage in Stage.objects.order_by("pipeline", "position", "id"):
            self.stages[stage.pipeline_id].setdefault(fold(stage.name), stage.pk)
            self.stage_names[stage.pk] = stage.name
            self.first_stage.setdefault(stage.pipeline_id, stage.pk)
        self.currencies = Currencies()
        self.lost_reasons: dict[str, int] = {}
        for pk, name in LostReason.objects.filter(active=True).values_list("pk", "name"):
            self.lost_reasons.setdefault(fold(name), pk)

    # --- one row -----------------------------------------------------------------------------

    def parse(self, number: int, values: list[str]) -> Row | str:
        errors: list[str] = []
        row = Row(row=number)
        data = row.data
        for name in ("title", "source", "lost_comment"):
            if text := self.text(values, name):
                data[name] = text
        if "title" not in data:
            errors.append(f"{self.label('title')}: {_('this field is required')}")
        if key := self.text(values, "external_id"):
            if len(key) > MAX_KEY:
                errors.append(f"{self.label('external_id')}: "
                              + _("is longer than %(n)d characters") % {"n": MAX_KEY})  # fmt: skip
            row.keys.append(f"x:{key}")
        self._money(values, data, errors)
        self._pipeline_stage(values, row, errors)
        if text := self.text(values, "expected_close_date"):
            try:
                data["expected_close_date"] = cleaning.parse_day(text)
            except ValueError as exc:
                errors.append(f"{self.label('expected_close_date')}: {exc}")
        if text := self.text(values, "probability"):
            try:
                value = cleaning.parse_percent(text)
                if value is None or value != value.to_integral_value() or not 0 <= value <= 100:
                    raise ValueError(_("must be a whole number from 0 to 100"))
                data["probability"] = int(value)
            except ValueError as exc:
                errors.append(f"{self.label('probability')}: {exc}")
        if text := self.text(values, "lost_reason"):
            reason = self.lost_reasons.get(fold(text))
            if reason is None:
                errors.append(f"{self.label('lost_reason')}: "
                              + _("no lost reason “%(value)s”") % {"value": text})  # fmt: skip
            data["lost_reason_id"] = reason
        owner = self.read_owner(values, errors, self.label("owner"))
        if owner is not None:
            data["owner_id"] = owner
        row.owner_id = owner or self.ctx.default_owner_id
        row.defaults["owner_id"] = row.owner_id
        if "tags" in self.columns:
            tags = self.read_tags(values, errors, self.label("tags"))
            if tags:
                data["tags"] = tags
        if self.custom and (custom := self.read_custom(values, errors)):
            data["custom"] = custom
        self._references(values, row, errors)
        return "; ".join(errors) if errors else row

    def _money(self, values: list[str], data: dict[str, Any], errors: list[str]) -> None:
        written = ""
        if text := self.text(values, "amount"):
            try:
                amount, written = cleaning.parse_money(text)
            except ValueError as exc:
                errors.append(f"{self.label('amount')}: {exc}")
            else:
                data["amount"] = amount
        code = None
        if text := self.text(values, "currency"):
            code = self.currencies.resolve(text)
            if code is None:
                errors.append(f"{self.label('currency')}: "
                              + _("unknown currency “%(value)s”") % {"value": text})  # fmt: skip
        elif written:
            code = self.currencies.resolve(written)
            if code is None:
                errors.append(f"{self.label('amount')}: "
                              + _("unknown currency “%(value)s”") % {"value": written})  # fmt: skip
        if code:
            data["currency"] = code

    def _pipeline_stage(self, values: list[str], row: Row, errors: list[str]) -> None:
        pipeline = self.default_pipeline
        if text := self.text(values, "pipeline"):
            found = self.pipelines.get(fold(text))
            if found is None:
                errors.append(f"{self.label('pipeline')}: "
                              + _("no pipeline “%(value)s”") % {"value": text})  # fmt: skip
                return
            pipeline = row.data["pipeline_id"] = found
        if (text := self.text(values, "stage")) and pipeline is not None:
            row.refs["stage"] = text
            stage = self.stages.get(pipeline, {}).get(fold(text))
            if stage is None:
                errors.append(f"{self.label('stage')}: " + _(
                    "no stage “%(value)s” in the pipeline “%(pipeline)s”"
                ) % {"value": text, "pipeline": self.pipeline_names[pipeline]})  # fmt: skip
            row.data["stage_id"] = stage

    def _references(self, values: list[str], row: Row, errors: list[str]) -> None:
        if text := self.text(values, "contact_email"):
            try:
                row.refs["email"] = cleaning.normalize_email_fast(cleaning.split_emails(text)[0])
            except ValueError:
                errors.append(f"{self.label('contact_email')}: "
                              + _("not a valid e-mail address: %(value)s") % {"value": text})  # fmt: skip
        if text := self.text(values, "contact_phone"):
            try:
                row.refs["phone"] = normalize_phone_fast(cleaning.split_phones(text)[0])
            except ValueError:
                errors.append(f"{self.label('contact_phone')}: "
                              + _("not a valid phone number: %(value)s") % {"value": text})  # fmt: skip
        if text := self.text(values, "company_inn"):
            collector, holder = Collector(), {"inn": text}
            clean_inn(collector, holder)
            if collector.errors:
                errors.append(f"{self.label('company_inn')}: "
                              f"{collector.errors[0].message} ({text})")  # fmt: skip
            row.refs["inn"] = holder["inn"]
        if text := self.text(values, "company"):
            row.refs["company"] = text

    def preview(self, row: Row) -> list[str]:
        data, refs = row.data, row.refs
        amount = data.get("amount")
        pipeline = data.get("pipeline_id") or self.default_pipeline
        owner = data.get("owner_id") or row.owner_id
        stage = data.get("stage_id") or self.first_stage.get(pipeline or 0)
        close = data.get("expected_close_date")
        return [
            data.get("title", ""),
            "" if amount is None else f"{money(amount)} {data.get('currency', self.currencies.base)}",
            self.pipeline_names.get(pipeline, "") if pipeline else "",
            self.stage_names.get(stage or 0, ""),
            self.ctx.owners.name(owner) if owner else "",
            ", ".join(v for v in (refs.get("email"), refs.get("phone")) if v),
            ", ".join(v for v in (refs.get("company"), refs.get("inn")) if v),
            date_format(close, "SHORT_DATE_FORMAT") if close else "",
            ", ".join(f"{k}: {v}" for k, v in data.get("custom", {}).items()),
        ]  # fmt: skip

    # --- the database ------------------------------------------------------------------------

    def lookup(self, rows: list[Row]) -> dict[str, Match]:
        """Deals imported before under the same external id (the oldest that still exists)."""
        keys = sorted({k[2:] for r in rows for k in r.keys})
        if not keys:
            return {}
        refs = list(
            ImportKey.objects.filter(entity=self.entity, key__in=keys)
            .order_by("id")
            .values_list("key", "object_id")
        )
        visible = set(
            Deal.objects.visible_to(self.ctx.actor)
            .filter(pk__in={pk for _k, pk in refs})
            .values_list("pk", flat=True)
        )
        found: dict[str, Match] = {}
        for key, pk in refs:
            if pk in visible:
                found.setdefault(f"x:{key}", ("db", pk))
        return found

    def resolve(self, rows: list[Row]) -> None:
        """Contacts by e-mail, else phone; companies by INN, else name (the oldest first)."""
        actor = self.ctx.actor
        contacts = Contact.objects.visible_to(actor).values("pk")
        by_email = self._first(ContactEmail.objects.filter(
            contact_id__in=contacts, email__in={r.refs["email"] for r in rows if "email" in r.refs}
        ).values_list("email", "contact_id"))  # fmt: skip
        by_phone = self._first(ContactPhone.objects.filter(
            contact_id__in=contacts, phone__in={r.refs["phone"] for r in rows if "phone" in r.refs}
        ).values_list("phone", "contact_id"))  # fmt: skip
        companies = Company.objects.visible_to(actor)
        by_inn = self._first(companies.filter(
            inn__in={r.refs["inn"] for r in rows if "inn" in r.refs}
        ).values_list("inn", "pk"))  # fmt: skip
        by_name = self._company_names(companies, {r.refs["company"] for r in rows
                                                  if "company" in r.refs})  # fmt: skip
        for row in rows:
            refs = row.refs
            if "email" in refs or "phone" in refs:
                contact = by_email.get(refs.get("email", "")) or by_phone.get(refs.get("phone", ""))
                if contact is None:
                    row.notes.append("contact_not_found")
                else:
                    row.data["contact_ids"] = [contact]
            if "inn" in refs or "company" in refs:
                company = by_inn.get(refs.get("inn", "")) or by_name.get(
                    fold(refs.get("company", ""))
                )  # fmt: skip
                if company is None:
                    row.notes.append("company_not_found")
                else:
                    row.data["company_id"] = company

    @staticmethod
    def _first(pairs: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for value, pk in sorted(pairs, key=lambda p: p[1]):
            found.setdefault(value, pk)
        return found

    @staticmethod
    def _company_names(companies: Any, names: set[str]) -> dict[str, int]:
        """Companies by folded name: the exact name at once, then each other one through the
        search column (fold() is Unicode-aware where SQLite's LIKE is not)."""
        found = {fold(n): pk for n, pk in sorted(companies.filter(name__in=names).values_list(
            "name", "pk"), key=lambda p: -p[1])}  # fmt: skip
        for name in names:
            folded = fold(name)
            if folded in found or not folded:
                continue
            for pk, other in companies.filter(search_text__startswith=folded).order_by(
                "pk"
            ).values_list("pk", "name")[:20]:  # fmt: skip
                if fold(other) == folded:
                    found[folded] = pk
                    break
        return found

    def create(self, row: Row) -> int:
        deal = deal_create(actor=self.ctx.actor, data={**row.defaults, **row.data},
                           channel=self.channel)  # fmt: skip
        external = [k[2:] for k in row.keys if k.startswith("x:")]
        if external and self.ctx.job_id:
            ImportKey.objects.create(job_id=self.ctx.job_id, entity=self.entity,
                                     key=external[0], object_id=deal.pk)  # fmt: skip
        return deal.pk

    def update(self, pk: int, row: Row) -> dict[str, Any] | None:
        deal = Deal.objects.select_related("stage").get(pk=pk)
        changes = dict(row.data)
        if "pipeline_id" not in changes and "stage" in row.refs:
            # The file named no pipeline: the stage is the one of the deal's own pipeline.
            changes["stage_id"] = self.stages.get(deal.pipeline_id, {}).get(
                fold(row.refs["stage"]), changes.get("stage_id")
            )  # fmt: skip
        if changes.get("stage_id") == deal.stage_id:
            changes.pop("stage_id")
        before = deal_snapshot(deal)
        if "contact_ids" in changes:
            changes["contact_ids"] = list(dict.fromkeys([*before["contact_ids"],
                                                         *changes["contact_ids"]]))  # fmt: skip
        if "tags" in changes:
            changes["tags"] = list(dict.fromkeys([*before["tags"], *changes["tags"]]))
        before["lost_comment"] = deal.lost_comment
        deal = deal_update(actor=self.ctx.actor, deal=deal, changes=changes, channel=self.channel)
        after = {**deal_snapshot(deal), "lost_comment": deal.lost_comment}
        return self.changed_before(before, after)

    @classmethod
    def restore(cls, user: Any, record: Any, changes: dict[str, Any]) -> None:
        deal_update(actor=OnBehalfOf(user), deal=record, changes=changes, channel=cls.channel)


__all__ = ["DealImporter"]
