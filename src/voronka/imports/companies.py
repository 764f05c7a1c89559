"""Companies in bulk: a company file, and the companies a contact file names.

Same recipe as imports.contacts: the services' cleaning rules (customers.validation), their
search text (``company_search_text``) and audit snapshot, written a chunk at a time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.audit import diff
from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector
from voronka.core.text import digits, fold, format_phone, normalize_email, validate_url
from voronka.customers.models import AddressKind, Company, CompanySize
from voronka.customers.services import COMPANY_ENTITY
from voronka.customers.validation import clean_inn
from voronka.imports import cleaning
from voronka.imports.base import Importer
from voronka.imports.kinds import COMPANIES
from voronka.imports.phones import normalize_phone_fast
from voronka.imports.pipeline import Context, History, Outcome, plan_rows, remember

COMPANY_COLUMNS = (
    "id", "name", "legal_name", "inn", "industry", "size", "website", "phone", "email", "region",
    "owner_id", "custom", "search_text", "created_at", "updated_at",
)  # fmt: skip
TEXT_FIELDS = (("name", 255), ("legal_name", 255), ("industry", 128), ("region", 128))
ADDRESS_TARGETS = (("address", AddressKind.ACTUAL), ("legal_address", AddressKind.LEGAL),
                   ("postal_address", AddressKind.POSTAL))  # fmt: skip
SCALARS = ("name", "legal_name", "inn", "industry", "size", "website", "phone", "email",
           "region", "owner_id")  # fmt: skip
SIZE_LIMITS = ((10, "1-10"), (50, "11-50"), (250, "51-250"), (1000, "251-1000"))


@dataclass(slots=True)
class CompanyDraft:
    row: int = 0
    name: str = ""
    legal_name: str = ""
    inn: str = ""
    industry: str = ""
    size: str = ""
    website: str = ""
    phone: str = ""
    email: str = ""
    region: str = ""
    owner_id: int | None = None
    tags: list[str] = field(default_factory=list)
    addresses: list[tuple[str, str]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)

    def dedupe_keys(self) -> list[str]:
        keys = [f"i:{self.inn}"] if self.inn else []
        if self.email:
            keys.append(f"e:{self.email}")
        if self.phone:
            keys.append(f"p:{self.phone}")
        return keys

    def merge(self, row: CompanyDraft) -> None:
        for name in row.given:
            if name in SCALARS:
                setattr(self, name, getattr(row, name))
        folded = {fold(t) for t in self.tags}
        self.tags += [t for t in row.tags if fold(t) not in folded]
        self.addresses += [a for a in row.addresses if a not in self.addresses]
        self.custom = {**self.custom, **row.custom}

    def copy(self) -> CompanyDraft:
        return CompanyDraft(
            row=self.row, name=self.name, legal_name=self.legal_name, inn=self.inn,
            industry=self.industry, size=self.size, website=self.website, phone=self.phone,
            email=self.email, region=self.region, owner_id=self.owner_id, tags=list(self.tags),
            addresses=list(self.addresses), custom=dict(self.custom),
        )  # fmt: skip

    def search_text(self) -> str:
        parts = [self.name, self.legal_name, self.inn, self.email, digits(self.phone),
                 self.region, self.industry]  # fmt: skip
        return cleaning.fold_fast(" ".join(p for p in parts if p))

    def snapshot(self) -> dict[str, Any]:
        """As ``company_snapshot`` gives it."""
        return {
            "name": self.name, "legal_name": self.legal_name, "inn": self.inn,
            "industry": self.industry, "size": self.size, "website": self.website,
            "phone": self.phone, "email": self.email, "region": self.region,
            "owner_id": self.owner_id, "tags": sorted(self.tags),
            "addresses": [[k, a] for k, a in self.addresses], "custom": dict(self.custom),
        }  # fmt: skip

    def state(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in SCALARS},
            "tags": list(self.tags), "custom": dict(self.custom),
            "addresses": [{"kind": k, "address": a} for k, a in self.addresses],
        }  # fmt: skip


def _company_row(writer: Any, pk: int, d: CompanyDraft, now: Any) -> tuple[Any, ...]:
    custom = writer.json(d.custom) if d.custom else "{}"
    return (pk, d.name, d.legal_name, d.inn, d.industry, d.size, d.website, d.phone, d.email,
            d.region, d.owner_id, custom, d.search_text(), now, now)  # fmt: skip


def _lookup(ctx: Context, keys: dict[str, list[str]]) -> dict[str, tuple[str, int]]:
    """Visible companies by "i:<inn>", "e:<email>", "p:<phone>" (the lowest id wins)."""
    found: dict[str, tuple[str, int]] = {}
    writer = ctx.writer
    owners, params = writer.owner_filter(ctx.visible_owners, "owner_id")
    for prefix, column in (("i", "inn"), ("e", "email"), ("p", "phone")):
        sql = f"SELECT {column}, id FROM customers_company WHERE 1 = 1{owners} AND {column} {{in}}"  # noqa: S608
        for value, pk in writer.fetch_in(sql, sorted(set(keys.get(prefix, []))), params):
            current = found.get(f"{prefix}:{value}")
            if current is None or pk < current[1]:
                found[f"{prefix}:{value}"] = ("db", pk)
    return found


class CompanyResolver:
    """The companies a contact file names: found by exact name among those the importer
    sees, or created (unless company custom fields are required, which a name cannot fill)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.can_create = not any(f.required for f in definitions(COMPANY_ENTITY))
        self.found: dict[str, int] = {}
        self.missing: set[str] = set()

    def resolve(self, drafts: list[Any]) -> None:
        names = sorted({d.company for d in drafts if d.company} - set(self.found))
        self.missing = set()
        writer = self.ctx.writer
        owners, params = writer.owner_filter(self.ctx.visible_owners, "owner_id")
        sql = f"SELECT name, id FROM customers_company WHERE 1 = 1{owners} AND name {{in}}"  # noqa: S608
        for name, pk in sorted(writer.fetch_in(sql, names, params), key=lambda r: r[1]):
            self.found.setdefault(name, pk)
        if len(self.found) > 50_000:  # a bound on memory for files naming many companies
            self.found = {}
        for d in drafts:
            if d.company:
                pk = self.found.get(d.company)
                if pk is None:
                    self.missing.add(d.company)
                d.company_id = pk

    def problem(self, draft: Any) -> str:
        if draft.company and draft.company_id is None and not self.can_create:
            return "{}: {}".format(
                _("Company"),
                _("no company “%(name)s”; create it first (companies have required fields)")
                % {"name": draft.company},
            )
        return ""

    def dry_run_created(self, drafts: list[Any]) -> int:
        names = {d.company for d in drafts if d.company and d.company_id is None}
        new = names - self.ctx.memory_companies
        self.ctx.memory_companies |= new
        return len(new)

    def write(self, history: History, drafts: list[Any]) -> list[int]:
        """Create the missing companies the drafts name; set each draft's company_id."""
        names = sorted({d.company for d in drafts if d.company and d.company_id is None})
        if not names:
            return []
        writer = history.writer
        ids = writer.reserve_ids("customers_company", len(names))
        owner = next((d.owner_id for d in drafts if d.company), self.ctx.default_owner_id)
        writer.lock_parents("accounts_user", [owner])
        rows = []
        for pk, name in zip(ids, names, strict=True):
            company = CompanyDraft(name=name, owner_id=owner)
            rows.append(_company_row(writer, pk, company, history.now))
            history.add(Company, COMPANY_ENTITY, "company.created", "create", pk,
                        writer.json(company.snapshot()))  # fmt: skip
            self.found[name] = pk
        writer.insert_searchable("customers_company", COMPANY_COLUMNS, rows, ids)
        for d in drafts:
            if d.company and d.company_id is None:
                d.company_id = self.found[d.company]
        return ids


class CompanyImporter(Importer):
    """Validates, deduplicates (INN, e-mail, phone) and writes chunks of company rows."""

    kind = COMPANIES
    preview_labels = (gettext_lazy("Name"), gettext_lazy("INN / tax id"), gettext_lazy("E-mail"),
                      gettext_lazy("Phone"), gettext_lazy("Website"), gettext_lazy("Region"),
                      gettext_lazy("Tags"), gettext_lazy("Custom fields"))  # fmt: skip

    def preview(self, draft: CompanyDraft) -> list[str]:
        return [
            draft.name, draft.inn, draft.email, format_phone(draft.phone) if draft.phone else "",
            draft.website, draft.region, ", ".join(draft.tags),
            ", ".join(f"{k}: {v}" for k, v in draft.custom.items()),
        ]  # fmt: skip

    def parse(self, number: int, values: list[str]) -> CompanyDraft | str:
        draft, errors, columns = CompanyDraft(row=number), [], self.columns
        for name, limit in TEXT_FIELDS:
            if name in columns and (text := cleaning.cell(values, columns[name])):
                try:
                    setattr(draft, name, cleaning.clean_text(text, limit))
                    draft.given.add(name)
                except ValueError as exc:
                    errors.append(f"{self.labels[name]}: {exc}")
        if "inn" in columns and (text := cleaning.cell(values, columns["inn"]).strip()):
            collector = Collector()
            data = {"inn": text}
            clean_inn(collector, data)
            if collector.errors:
                errors.append(f"{self.labels['inn']}: {collector.errors[0].message} ({text})")
            else:
                draft.inn = data["inn"]
                draft.given.add("inn")
        for name, normalize in (("phone", normalize_phone_fast), ("email", normalize_email),
                                ("website", validate_url)):  # fmt: skip
            if name in columns and (text := cleaning.cell(values, columns[name]).strip()):
                try:
                    value = normalize(text)
                    if name == "website" and len(value) > 255:
                        raise ValueError
                    setattr(draft, name, value)
                    draft.given.add(name)
                except ValueError:
                    errors.append(f"{self.labels[name]}: {_('not a valid value')} ({text})")
        if "size" in columns and (text := cleaning.cell(values, columns["size"]).strip()):
            size = _size(text)
            if size is None:
                errors.append(
                    f"{self.labels['size']}: "
                    + _("must be one of: %(options)s") % {"options": ", ".join(CompanySize.values)}
                )
            else:
                draft.size = size
                draft.given.add("size")
        self._owner_tags_addresses(draft, values, errors)
        if "owner_id" not in draft.given:
            draft.owner_id = self.ctx.default_owner_id
        if not draft.name:
            errors.append(f"{self.labels['name']}: {_('this field is required')}")
        return "; ".join(errors) if errors else draft

    def _owner_tags_addresses(self, draft: CompanyDraft, values: list[str],
                              errors: list[str]) -> None:  # fmt: skip
        columns = self.columns
        if "owner" in columns and (owner_id := self.read_owner(values, errors)) is not None:
            draft.owner_id = owner_id
            draft.given.add("owner_id")
        if "tags" in columns:
            draft.tags = self.read_tags(values, errors)
        for target, kind in ADDRESS_TARGETS:
            for i in columns.get(target, []):
                address = values[i].strip()
                if len(address) > 500:
                    errors.append(f"{self.labels[target]}: {_('must be 1 to 500 characters')}")
                elif address and (kind, address) not in draft.addresses:
                    draft.addresses.append((kind, address))
        if self.custom:
            draft.custom.update(self.read_custom(values, errors))

    def process(self, rows: list[tuple[int, list[str]]],
                parsed: list[CompanyDraft | str] | None = None) -> Outcome:  # fmt: skip
        ctx, out = self.ctx, Outcome()
        if parsed is None:
            parsed = self.parse_chunk(rows)
        drafts: list[tuple[CompanyDraft, list[str]]] = []
        for (number, values), result in zip(rows, parsed, strict=True):
            if isinstance(result, str):
                out.reject(number, result, values)
            elif problem := self.missing_required(result.custom):
                out.reject(number, problem, values)
            else:
                drafts.append((result, values))
        existing: dict[str, tuple[str, int]] = {}
        if ctx.dedupe != "create":
            keys: dict[str, list[str]] = defaultdict(list)
            for d, _v in drafts:
                for key in d.dedupe_keys():
                    keys[key[0]].append(key[2:])
            existing = _lookup(ctx, keys)
        planned, updates = plan_rows(ctx, drafts, existing, out)
        new = [d for d, _v in planned]
        out.created = len(new)
        if ctx.dry_run:
            remember(ctx, new, [d for ds in updates.values() for d in ds])
            return out
        ctx.writer.begin_chunk()
        history = History(ctx.writer, ctx.actor_id)
        self._create(new, history, out)
        if updates:
            self._update(updates, history, out)
        history.flush()
        return out

    def _create(self, drafts: list[CompanyDraft], history: History, out: Outcome) -> None:
        if not drafts:
            return
        writer = history.writer
        ids = writer.reserve_ids("customers_company", len(drafts))
        tags = self.tag_objects([t for d in drafts for t in d.tags])
        writer.lock_parents("accounts_user", [d.owner_id for d in drafts])
        writer.lock_parents("customers_tag", [t.pk for t in tags.values()])
        rows, links, addresses = [], [], []
        for pk, d in zip(ids, drafts, strict=True):
            d.tags = [tags[fold(t)].name for t in d.tags]
            rows.append(_company_row(writer, pk, d, history.now))
            links += [(pk, tags[fold(t)].pk) for t in d.tags]
            addresses += [(pk, kind, address) for kind, address in d.addresses]
            history.add(Company, self.entity, "company.created", "create", pk,
                        writer.json(d.snapshot()))  # fmt: skip
        writer.insert_searchable("customers_company", COMPANY_COLUMNS, rows, ids)
        writer.insert("customers_company_tags", ("company_id", "tag_id"), links)
        writer.insert("customers_companyaddress", ("company_id", "kind", "address"), addresses)
        out.created_ids[self.entity] += ids

    def _update(self, updates: dict[int, list[CompanyDraft]], history: History,
                out: Outcome) -> None:  # fmt: skip
        current = load_companies(list(updates))
        writer = history.writer
        writer.lock_parents("customers_company", list(current))
        writer.lock_parents(
            "accounts_user", [r.owner_id for rows in updates.values() for r in rows]
        )
        objs, links, addresses = [], [], []
        for pk, rows in updates.items():
            before = current.get(pk)
            if before is None:
                continue
            after = before.copy()
            for row in rows:
                after.merge(row)
            tag_map = self.tag_objects(after.tags)
            writer.lock_parents("customers_tag", [t.pk for t in tag_map.values()])
            after.tags = [tag_map[fold(t)].name for t in after.tags]
            changes = diff(before.snapshot(), after.snapshot())
            if not changes:
                continue
            objs.append(Company(
                pk=pk, **{name: getattr(after, name) for name in SCALARS},
                custom=after.custom, search_text=after.search_text(), updated_at=timezone.now(),
            ))  # fmt: skip
            had = {fold(t) for t in before.tags}
            links += [(pk, tag_map[fold(t)].pk) for t in after.tags if fold(t) not in had]
            addresses += [(pk, k, a) for k, a in after.addresses if (k, a) not in before.addresses]
            payload = writer.json({"changed": sorted(changes), "changes": changes})
            history.add(Company, self.entity, "company.updated", "update", pk,
                        writer.json(changes), payload)  # fmt: skip
            out.updates.append((self.entity, pk, before.state()))
        if objs:
            Company.objects.bulk_update(
                objs, [*SCALARS, "custom", "search_text", "updated_at"], batch_size=200
            )
        writer.insert("customers_company_tags", ("company_id", "tag_id"), links)
        writer.insert("customers_companyaddress", ("company_id", "kind", "address"), addresses)


def _size(text: str) -> str | None:
    value = text.strip().replace(" ", "").replace("–", "-")
    if value in CompanySize.values:
        return value
    if value.isdigit():
        count = int(value)
        for limit, choice in SIZE_LIMITS:
            if count <= limit:
                return choice
        return CompanySize.ENTERPRISE.value
    return None


def load_companies(ids: list[int]) -> dict[int, CompanyDraft]:
    result: dict[int, CompanyDraft] = {}
    for c in Company.objects.filter(pk__in=ids).prefetch_related("tags", "addresses"):
        result[c.pk] = CompanyDraft(
            row=c.pk, **{name: getattr(c, name) for name in SCALARS},
            tags=[t.name for t in c.tags.all()],
            addresses=[(a.kind, a.address) for a in c.addresses.all()],
            custom=dict(c.custom or {}),
        )  # fmt: skip
    return result
