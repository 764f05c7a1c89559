"""Contacts in bulk: a chunk of rows validated, deduplicated and written at once.

The per-record services (``contact_create``/``contact_update``) would cost a dozen queries a
row; here a chunk of thousands costs a handful: one IN query per key kind for duplicates, one
for companies, then one COPY (or executemany) per table. The values written are the services':
the same cleaning (customers.validation's rules via imports.cleaning), the same search text
(``contact_search_text``'s recipe), the same audit snapshot and the same events, with the
channel "import"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.audit import diff
from voronka.core.text import fold, format_phone
from voronka.customers.models import Contact
from voronka.customers.services import COMPANY_ENTITY, CONTACT_ENTITY
from voronka.imports import cleaning
from voronka.imports.base import Importer
from voronka.imports.companies import CompanyResolver
from voronka.imports.kinds import CONTACTS
from voronka.imports.pipeline import Context, History, Outcome, plan_rows, remember

EMAIL_TARGETS = (("email", "work"), ("email_personal", "personal"), ("email_other", "other"))
PHONE_TARGETS = (("phone", "mobile"), ("phone_work", "work"), ("phone_home", "home"),
                 ("phone_other", "other"))  # fmt: skip
TEXT_FIELDS = (("first_name", 150), ("middle_name", 150), ("last_name", 150),
               ("position", 255), ("source", 100))  # fmt: skip
SCALARS = ("first_name", "middle_name", "last_name", "position", "source", "birthday",
           "owner_id", "email_consent", "sms_consent", "company_id")  # fmt: skip
CONTACT_COLUMNS = (
    "id", "first_name", "middle_name", "last_name", "company_id", "position", "birthday",
    "owner_id", "source", "email_consent", "sms_consent", "custom", "search_text", "created_at",
    "updated_at",
)  # fmt: skip


@dataclass(slots=True)
class Draft:
    """A contact as a row gives it (or as it is, for one being updated)."""

    row: int = 0
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    position: str = ""
    source: str = ""
    birthday: dt.date | None = None
    owner_id: int | None = None
    email_consent: bool = False
    sms_consent: bool = False
    company: str = ""
    company_id: int | None = None
    emails: list[tuple[str, str]] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)
    # Made once, in the reader thread (``parse``), off the writing thread's path; ``merge``
    # forgets them, as it changes what they are made of.
    keys: list[str] | None = field(default=None, repr=False, compare=False)
    text: str | None = field(default=None, repr=False, compare=False)

    def dedupe_keys(self) -> list[str]:
        keys = self.keys
        if keys is None:
            keys = self.keys = [f"e:{e}" for e, _k in self.emails] + [
                f"p:{p}" for p, _k in self.phones
            ]
        return keys

    def merge(self, row: Draft) -> None:
        """What an update takes from a row: filled cells overwrite, lists grow, tags add."""
        self.keys = self.text = None
        for name in row.given:
            if name in SCALARS:
                setattr(self, name, getattr(row, name))
        if "company" in row.given:
            self.company, self.company_id = row.company, row.company_id
        known = {e for e, _k in self.emails}
        self.emails += [(e, k) for e, k in row.emails if e not in known]
        known = {p for p, _k in self.phones}
        self.phones += [(p, k) for p, k in row.phones if p not in known]
        folded = {fold(t) for t in self.tags}
        self.tags += [t for t in row.tags if fold(t) not in folded]
        self.custom = {**self.custom, **row.custom}

    def snapshot(self, tag_names: list[str]) -> dict[str, Any]:
        """As ``contact_snapshot`` gives it: what audit entries and events carry."""
        return {
            "first_name": self.first_name, "middle_name": self.middle_name,
            "last_name": self.last_name, "company_id": self.company_id,
            "position": self.position, "birthday": self.birthday, "owner_id": self.owner_id,
            "source": self.source, "email_consent": self.email_consent,
            "sms_consent": self.sms_consent, "emails": [e for e, _k in self.emails],
            "phones": [p for p, _k in self.phones], "tags": sorted(tag_names),
            "custom": dict(self.custom),
        }  # fmt: skip

    def copy(self) -> Draft:
        return Draft(
            row=self.row, first_name=self.first_name, middle_name=self.middle_name,
            last_name=self.last_name, position=self.position, source=self.source,
            birthday=self.birthday, owner_id=self.owner_id, email_consent=self.email_consent,
            sms_consent=self.sms_consent, company=self.company, company_id=self.company_id,
            emails=list(self.emails), phones=list(self.phones), tags=list(self.tags),
            custom=dict(self.custom), given=set(),
        )  # fmt: skip

    def state(self) -> dict[str, Any]:
        """Everything undo needs to put the contact back (kinds included)."""
        return {
            "first_name": self.first_name, "middle_name": self.middle_name,
            "last_name": self.last_name, "position": self.position, "source": self.source,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "owner_id": self.owner_id, "email_consent": self.email_consent,
            "sms_consent": self.sms_consent, "company_id": self.company_id,
            "emails": [{"email": e, "kind": k} for e, k in self.emails],
            "phones": [{"phone": p, "kind": k} for p, k in self.phones],
            "tags": list(self.tags), "custom": dict(self.custom),
        }  # fmt: skip

    def search_text(self) -> str:
        """``contact_search_text``'s recipe (names, company, position, e-mails, phone digits)."""
        text = self.text
        if text is None:
            parts = [self.last_name, self.first_name, self.middle_name, self.company,
                     self.position]  # fmt: skip
            parts += [e for e, _k in self.emails]
            parts += [cleaning.phone_digits(p) for p, _k in self.phones]
            text = self.text = cleaning.fold_fast(" ".join(p for p in parts if p))
        return text


class Plan:
    """The compiled mapping (imports.base) laid out for the hot path of a contact row."""

    def __init__(self, columns: dict[str, list[int]], custom: list[tuple[str, int]]) -> None:
        self.columns = columns
        self.emails = [(i, kind) for key, kind in EMAIL_TARGETS for i in self.columns.get(key, [])]
        self.phones = [(i, kind) for key, kind in PHONE_TARGETS for i in self.columns.get(key, [])]
        self.text = [(name, limit, self.columns[name]) for name, limit in TEXT_FIELDS
                     if name in self.columns]  # fmt: skip
        simple = {name for name, _l in TEXT_FIELDS} | {k for k, _v in EMAIL_TARGETS}
        simple |= {k for k, _v in PHONE_TARGETS} | {"full_name", "fio"}
        self.other = bool(custom) or any(k not in simple for k in self.columns)


class ContactImporter(Importer):
    """Validates, deduplicates and writes chunks of contact rows for one run."""

    kind = CONTACTS
    preview_labels = (gettext_lazy("Name"), gettext_lazy("E-mail"), gettext_lazy("Phone"),
                      gettext_lazy("Company"), gettext_lazy("Position"),
                      gettext_lazy("Birthday"), gettext_lazy("Tags"),
                      gettext_lazy("Custom fields"))  # fmt: skip

    def __init__(self, ctx: Context, mapping: list[str]) -> None:
        super().__init__(ctx, mapping)
        self.plan = Plan(self.columns, self.custom)
        self.labels.update({"emails": _("E-mail"), "phones": _("Phone"),
                            "name": _("Name")})  # fmt: skip
        self.companies = CompanyResolver(ctx)

    def preview(self, draft: Draft) -> list[str]:
        return [
            " ".join(p for p in (draft.last_name, draft.first_name, draft.middle_name) if p),
            ", ".join(e for e, _k in draft.emails),
            ", ".join(format_phone(p) for p, _k in draft.phones),
            draft.company, draft.position,
            draft.birthday.isoformat() if draft.birthday else "", ", ".join(draft.tags),
            ", ".join(f"{k}: {v}" for k, v in draft.custom.items()),
        ]  # fmt: skip

    # --- one row ----------------------------------------------------------------------------

    def parse(self, number: int, values: list[str]) -> Draft | str:
        """The row as a Draft, or the reason it is rejected ("Field: what is wrong; …")."""
        plan, errors = self.plan, []
        draft = Draft(row=number)
        given = draft.given
        for name, limit, indexes in plan.text:
            text = cleaning.cell(values, indexes)
            if text:
                try:
                    setattr(draft, name, cleaning.clean_text(text, limit))
                    given.add(name)
                except ValueError as exc:
                    errors.append(f"{self.labels[name]}: {exc}")
        if not draft.first_name and not draft.last_name:
            self._full_name(draft, values, errors)
        if plan.emails:
            cells = [(values[i], kind) for i, kind in plan.emails if values[i]]
            if cells:
                try:
                    draft.emails = cleaning.clean_emails(cells)
                except ValueError as exc:
                    errors.append(f"{self.labels['emails']}: {exc}")
        if plan.phones:
            cells = [(values[i], kind) for i, kind in plan.phones if values[i]]
            if cells:
                try:
                    draft.phones = cleaning.clean_phones(cells)
                except ValueError as exc:
                    errors.append(f"{self.labels['phones']}: {exc}")
        if plan.other:
            self._other_fields(draft, values, errors)
        if "owner" not in given:
            draft.owner_id = self.ctx.default_owner_id
        if not draft.first_name and not draft.last_name:
            errors.append(f"{self.labels['name']}: {_('give a first or a last name')}")
        if errors:
            return "; ".join(errors)
        draft.dedupe_keys()  # made here, in the reader thread (imports.runner)
        draft.search_text()
        return draft

    def _full_name(self, draft: Draft, values: list[str], errors: list[str]) -> None:
        parts = self.name_parts(values)
        if parts is None:
            return
        first, middle, last, key = parts
        for name, value in (("first_name", first), ("middle_name", middle), ("last_name", last)):
            if value and not getattr(draft, name):
                try:
                    setattr(draft, name, cleaning.clean_text(value, 150))
                    draft.given.add(name)
                except ValueError as exc:
                    errors.append(f"{self.labels[key]}: {exc}")

    def _other_fields(self, draft: Draft, values: list[str], errors: list[str]) -> None:
        columns, given = self.plan.columns, draft.given
        if indexes := columns.get("company"):
            text = cleaning.cell(values, indexes)
            if text:
                try:
                    draft.company = cleaning.clean_text(text, 255)
                    given.add("company")
                except ValueError as exc:
                    errors.append(f"{self.labels['company']}: {exc}")
        if indexes := columns.get("birthday"):
            try:
                birthday = cleaning.parse_date(cleaning.cell(values, indexes))
            except ValueError as exc:
                errors.append(f"{self.labels['birthday']}: {exc}")
            else:
                if birthday is not None:
                    draft.birthday = birthday
                    given.add("birthday")
        if "owner" in columns and (owner_id := self.read_owner(values, errors)) is not None:
            draft.owner_id = owner_id
            given.update(("owner", "owner_id"))
        for name in ("email_consent", "sms_consent"):
            if indexes := columns.get(name):
                text = cleaning.cell(values, indexes)
                if text:
                    try:
                        setattr(draft, name, cleaning.parse_bool(text))
                        given.add(name)
                    except ValueError as exc:
                        errors.append(f"{self.labels[name]}: {exc}")
        if "tags" in columns:
            draft.tags = self.read_tags(values, errors)
        if self.custom:
            draft.custom.update(self.read_custom(values, errors))

    # --- a chunk ----------------------------------------------------------------------------

    def process(self, rows: list[tuple[int, list[str]]],
                parsed: list[Draft | str] | None = None) -> Outcome:  # fmt: skip
        ctx, out = self.ctx, Outcome()
        if parsed is None:
            parsed = self.parse_chunk(rows)
        drafts: list[tuple[Draft, list[str]]] = []
        for (number, values), result in zip(rows, parsed, strict=True):
            if isinstance(result, str):
                out.reject(number, result, values)
            else:
                drafts.append((result, values))
        existing = self._lookup(drafts) if ctx.dedupe != "create" else {}
        new, updates = plan_rows(ctx, drafts, existing, out)
        update_rows = [d for ds in updates.values() for d in ds]
        self.companies.resolve([d for d, _v in new] + update_rows)
        creatable = []
        required, companies = self.required_custom, self.companies
        for draft, values in new:
            reason = self.missing_required(draft.custom) if required else ""
            if not reason and draft.company and draft.company_id is None:
                reason = companies.problem(draft)
            if reason:
                out.reject(draft.row, reason, values)
            else:
                creatable.append(draft)
        out.created = len(creatable)
        if ctx.dry_run:
            remember(ctx, creatable, update_rows)
            out.companies_created = self.companies.dry_run_created(creatable + update_rows)
            return out
        ctx.writer.begin_chunk()
        history = History(ctx.writer, ctx.actor_id)
        company_ids = self.companies.write(history, creatable + update_rows)
        out.companies_created = len(company_ids)
        out.created_ids[COMPANY_ENTITY] += company_ids
        self._create(creatable, history, out)
        if updates:
            self._update(updates, history, out, {d.row: v for d, v in drafts})
        history.flush()
        return out

    def _lookup(self, drafts: list[tuple[Draft, list[str]]]) -> dict[str, tuple[str, int]]:
        """Existing contacts (visible to the importer) by "e:<email>" and "p:<phone>"."""
        writer = self.ctx.writer
        found: dict[str, tuple[str, int]] = {}
        for prefix, table, column, keys in (
            ("e", "customers_contactemail", "email", {e for d, _v in drafts for e, _k in d.emails}),
            ("p", "customers_contactphone", "phone", {p for d, _v in drafts for p, _k in d.phones}),
        ):  # fmt: skip
            owners, params = writer.owner_filter(self.ctx.visible_owners, "c.owner_id")
            if owners:
                sql = (
                    f"SELECT x.{column}, x.contact_id FROM {table} x"  # noqa: S608
                    f" JOIN customers_contact c ON c.id = x.contact_id"
                    f" WHERE 1 = 1{owners} AND x.{column} {{in}}"
                )
            else:
                sql = f"SELECT {column}, contact_id FROM {table} WHERE {column} {{in}}"  # noqa: S608
            for key, contact_id in writer.fetch_in(sql, sorted(keys), params):
                current = found.get(f"{prefix}:{key}")
                if current is None or contact_id < current[1]:
                    found[f"{prefix}:{key}"] = ("db", contact_id)
        return found

    # --- writing ----------------------------------------------------------------------------

    def _create(self, drafts: list[Draft], history: History, out: Outcome) -> None:
        if not drafts:
            return
        writer = history.writer
        ids = writer.reserve_ids("customers_contact", len(drafts))
        writer.lock_parents("accounts_user", [d.owner_id for d in drafts])
        writer.lock_parents("customers_company", [d.company_id for d in drafts])
        tags = self.tag_objects([t for d in drafts for t in d.tags])
        writer.lock_parents("customers_tag", [t.pk for t in tags.values()])
        emails: list[tuple[int, str, str]] = []
        phones: list[tuple[int, str, str]] = []
        links: list[tuple[int, int]] = []
        history.content_type(Contact)  # looked up now: no query may run while COPY streams
        rows = self._contact_rows(ids, drafts, tags, history, (emails, phones, links))
        writer.insert_searchable("customers_contact", CONTACT_COLUMNS, rows, ids)
        writer.insert("customers_contactemail", ("contact_id", "email", "kind"), emails)
        writer.insert("customers_contactphone", ("contact_id", "phone", "kind"), phones)
        writer.insert("customers_contact_tags", ("contact_id", "tag_id"), links)
        out.created_ids[self.entity] += ids

    def _contact_rows(
        self, ids: list[int], drafts: list[Draft], tags: dict[str, Any], history: History,
        children: tuple[list[Any], list[Any], list[Any]],
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """The contacts' rows, made while they are sent; their e-mails, phones, tag links,
        audit entries and events are collected on the way.

        A generator, so that the COPY streams each row as it is made: the database indexes
        the first rows (the trigram index is most of its work) while the rest are being made,
        instead of waiting for the whole chunk."""
        writer = history.writer
        emails, phones, links = children
        now, true, false = history.now, writer.flag(True), writer.flag(False)
        postgres, json, add, entity = writer.postgres, writer.json, history.add, self.entity
        for pk, d in zip(ids, drafts, strict=True):
            names: list[str] = []
            if d.tags:
                tag_objects = [tags[fold(t)] for t in d.tags]
                links += [(pk, t.pk) for t in tag_objects]
                names = [t.name for t in tag_objects]
            birthday = d.birthday if postgres or d.birthday is None else d.birthday.isoformat()
            yield (
                pk, d.first_name, d.middle_name, d.last_name, d.company_id, d.position, birthday,
                d.owner_id, d.source, true if d.email_consent else false,
                true if d.sms_consent else false, json(d.custom) if d.custom else "{}",
                d.search_text(), now, now,
            )  # fmt: skip
            for e, k in d.emails:
                emails.append((pk, e, k))
            for p, k in d.phones:
                phones.append((pk, p, k))
            add(Contact, entity, "contact.created", "create", pk, json(d.snapshot(names)))

    def _update(self, updates: dict[int, list[Draft]], history: History, out: Outcome,
                values_by_row: dict[int, list[str]]) -> None:  # fmt: skip
        current = load_contacts(list(updates))
        changed: list[tuple[Draft, Draft, dict[str, Any], dict[str, Any]]] = []
        for pk, rows in updates.items():
            before = current.get(pk)
            if before is None:
                continue
            after = before.copy()
            for row in rows:
                after.merge(row)
            if after.custom != before.custom:
                problem = self.missing_required(after.custom)
                if problem:
                    for row in rows:
                        out.updated -= 1
                        out.reject(row.row, problem, values_by_row[row.row])
                    continue
            tag_map = self.tag_objects(after.tags)
            after.tags = [tag_map[fold(t)].name for t in after.tags]
            old, new = before.snapshot(before.tags), after.snapshot(after.tags)
            changes = diff(old, new)
            if changes:
                changed.append((before, after, old, changes))
        if not changed:
            return
        write_updates(history, changed, self.tag_objects)
        for before, _after, _old, _changes in changed:
            out.updates.append((self.entity, before.row, before.state()))


def load_contacts(ids: list[int]) -> dict[int, Draft]:
    """Contacts as Drafts (``row`` holds the id), with company name, e-mails, phones, tags."""
    result: dict[int, Draft] = {}
    qs = (
        Contact.objects.filter(pk__in=ids)
        .select_related("company")
        .prefetch_related("emails", "phones", "tags")
    )
    for c in qs:
        result[c.pk] = Draft(
            row=c.pk, first_name=c.first_name, middle_name=c.middle_name,
            last_name=c.last_name, position=c.position, source=c.source, birthday=c.birthday,
            owner_id=c.owner_id, email_consent=c.email_consent, sms_consent=c.sms_consent,
            company=c.company.name if c.company else "", company_id=c.company_id,
            emails=[(e.email, e.kind) for e in c.emails.all()],
            phones=[(p.phone, p.kind) for p in c.phones.all()],
            tags=[t.name for t in c.tags.all()], custom=dict(c.custom or {}),
        )  # fmt: skip
    return result


def write_updates(history: History, changed: list[tuple[Draft, Draft, dict[str, Any],
                  dict[str, Any]]], tags_for: Any) -> None:  # fmt: skip
    """The changed contacts' rows, their new e-mails, phones and tags, audit and events."""
    from django.utils import timezone

    writer = history.writer
    writer.lock_parents("customers_contact", [before.row for before, _a, _o, _c in changed])
    writer.lock_parents("accounts_user", [after.owner_id for _b, after, _o, _c in changed])
    writer.lock_parents("customers_company", [after.company_id for _b, after, _o, _c in changed])
    objs, emails, phones, links = [], [], [], []
    for before, after, _old, changes in changed:
        pk = before.row
        objs.append(Contact(
            pk=pk, first_name=after.first_name, middle_name=after.middle_name,
            last_name=after.last_name, position=after.position, source=after.source,
            birthday=after.birthday, owner_id=after.owner_id, email_consent=after.email_consent,
            sms_consent=after.sms_consent, company_id=after.company_id, custom=after.custom,
            search_text=after.search_text(), updated_at=timezone.now(),
        ))  # fmt: skip
        had = {e for e, _k in before.emails}
        emails += [(pk, e, k) for e, k in after.emails if e not in had]
        had = {p for p, _k in before.phones}
        phones += [(pk, p, k) for p, k in after.phones if p not in had]
        had_tags = {fold(t) for t in before.tags}
        new_tags = [t for t in after.tags if fold(t) not in had_tags]
        if new_tags:
            tag_map = tags_for(new_tags)
            writer.lock_parents("customers_tag", [t.pk for t in tag_map.values()])
            links += [(pk, tag_map[fold(t)].pk) for t in new_tags]
        payload = writer.json({"changed": sorted(changes), "changes": changes})
        history.add(Contact, CONTACT_ENTITY, "contact.updated", "update", pk,
                    writer.json(changes), payload)  # fmt: skip
    Contact.objects.bulk_update(
        objs,
        ["first_name", "middle_name", "last_name", "position", "source", "birthday", "owner_id",
         "email_consent", "sms_consent", "company_id", "custom", "search_text", "updated_at"],
        batch_size=200,
    )  # fmt: skip
    writer.insert("customers_contactemail", ("contact_id", "email", "kind"), emails)
    writer.insert("customers_contactphone", ("contact_id", "phone", "kind"), phones)
    writer.insert("customers_contact_tags", ("contact_id", "tag_id"), links)


__all__ = ["ContactImporter", "Draft", "Plan", "load_contacts"]
