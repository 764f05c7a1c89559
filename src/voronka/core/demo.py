"""Demo data that looks like a real customer base: ``voronka demo`` and the first ``make run``.

Rows are inserted with ``bulk_create`` so thousands load in seconds, but every value is what the
services would store: phones in E.164 through ``normalize_phone``, e-mails through
``normalize_email``, custom values through ``clean_custom``, ``search_text`` through the
services' own ``*_search_text`` functions, an audit "create" entry per record. No outbox events
are published: demo records must not set off automations or webhooks. The generator is
deterministic for a given seed."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from voronka.accounts.models import RoleCode, Team, User
from voronka.core.custom_fields import clean_custom
from voronka.core.demo_data import (
    CHANNELS,
    DEMO_TEAMS,
    DEMO_USERS,
    EN_FEMALE,
    EN_HEADS,
    EN_MALE,
    EN_POSITIONS,
    EN_SURNAMES,
    EN_TAILS,
    FOREIGN,
    INDUSTRIES,
    RU_ADJECTIVES,
    RU_BRAND_HEADS,
    RU_BRAND_TAILS,
    RU_FEMALE,
    RU_FORMS,
    RU_MALE,
    RU_NOUNS,
    RU_PATRONYMICS,
    RU_PLACES,
    RU_POSITIONS,
    RU_SURNAMES,
    SEGMENTS,
    SOURCES,
    STREETS_EN,
    STREETS_RU,
    TAGS,
    female_surname,
    fill,
    inn_checked,
    translit,
)
from voronka.core.errors import Collector
from voronka.core.events import json_safe
from voronka.core.models import (
    AuditAction,
    AuditEntry,
    Channel,
    CustomField,
    CustomFieldType,
    OutboxEvent,
)
from voronka.core.text import normalize_email, normalize_phone, validate_url
from voronka.customers import search_index
from voronka.customers.models import (
    AddressKind,
    Company,
    CompanyAddress,
    CompanySize,
    Contact,
    ContactEmail,
    ContactPhone,
    EmailKind,
    PhoneKind,
)
from voronka.customers.services import (
    COMPANY_ENTITY,
    CONTACT_ENTITY,
    company_search_text,
    contact_search_text,
    tags_get_or_create,
)

# The contact every demo database has, so "8 (916) 123-45-67" in the search box finds someone.
KNOWN_PHONE = "+79161234567"
KNOWN_COMPANY = "Северные технологии"
CHUNK = 2000


@dataclass
class DemoResult:
    companies: int = 0
    contacts: int = 0
    users: list[str] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    user_password: str | None = None
    more: dict[str, int] = field(default_factory=dict)  # what later domains loaded, by name


@dataclass
class DemoContext:
    """What a later domain's demo step gets: the people and the customers just loaded."""

    rng: random.Random
    users: list[Any]
    company_ids: list[int]
    contact_ids: list[int]
    result: DemoResult


DemoStep = Callable[[DemoContext], None]
_steps: list[DemoStep] = []


def register_step(step: DemoStep) -> None:
    """Later domains (sales, …) add their demo records after the customers; core knows none."""
    if step not in _steps:
        _steps.append(step)


class _Generator:
    def __init__(self, seed: int | None) -> None:
        self.rng = random.Random(seed)
        self.used_phones: set[str] = {KNOWN_PHONE}
        self.used_emails: set[str] = set()
        self.used_names: set[str] = set(Company.objects.values_list("name", flat=True))

    # --- small values ------------------------------------------------------------------------

    def unique_phone(self, make: Any) -> str:
        for _ in range(50):
            try:
                phone = normalize_phone(make())
            except ValueError:
                continue
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone
        # A small foreign range is used up: a Russian mobile will do.
        return self.unique_phone(self.mobile)

    def mobile(self) -> str:
        r = self.rng
        # Typed as people type them; normalize_phone turns every form into E.164.
        code, a, b, c = (
            r.randint(900, 999),
            r.randint(100, 999),
            r.randint(10, 99),
            r.randint(10, 99),
        )
        form = r.choice(["+7 {code} {a}-{b}-{c}", "8 ({code}) {a}-{b}-{c}", "8{code}{a}{b}{c}"])
        return form.format(code=code, a=a, b=b, c=c)

    def landline(self, area: str) -> str:
        r = self.rng
        rest = 10 - 1 - len(area)  # the number after +7 has ten digits
        first = str(r.randint(2, 9))
        return f"+7 ({area}) {first}{''.join(str(r.randint(0, 9)) for _ in range(rest))}"

    def unique_email(self, local: str, domain: str) -> str:
        local = translit(local).strip(".-") or "info"
        candidate = normalize_email(f"{local}@{domain}")
        n = 1
        while candidate in self.used_emails:
            n += 1
            candidate = normalize_email(f"{local}{n}@{domain}")
        self.used_emails.add(candidate)
        return candidate

    def birthday(self) -> dt.date | None:
        if self.rng.random() < 0.4:
            return None
        start = dt.date(1960, 1, 1).toordinal()
        return dt.date.fromordinal(self.rng.randint(start, dt.date(2003, 12, 31).toordinal()))

    # --- companies ---------------------------------------------------------------------------

    def company_name(self, foreign: bool) -> tuple[str, str, str]:
        """(name, legal name, domain stem) not used yet."""
        r = self.rng
        for attempt in range(20):
            if foreign:
                name = f"{r.choice(EN_HEADS)} {r.choice(EN_TAILS)}"
                legal = f"{name} {r.choice(['Ltd', 'Inc.', 'GmbH', 'LLP'])}"
            else:
                if r.random() < 0.5:
                    name = f"{r.choice(RU_ADJECTIVES)} {r.choice(RU_NOUNS)}"
                else:
                    name = r.choice(RU_BRAND_HEADS) + r.choice(RU_BRAND_TAILS)
                legal = f"{r.choice(RU_FORMS)} «{name}»"
            if attempt == 19:
                # The vocabulary is used up (large demos): number the name, as groups do.
                name = f"{name}-{len(self.used_names)}"
                legal = legal.replace("»", f"-{len(self.used_names)}»")
            if name not in self.used_names:
                break
        self.used_names.add(name)
        stem = translit(name.replace(" ", "" if foreign else "-"))
        return name, legal, stem

    def company(self, owner_id: int | None, segment: CustomField, revenue: CustomField) -> Company:
        r = self.rng
        foreign = r.random() < 0.12
        name, legal, stem = self.company_name(foreign)
        if foreign:
            place_f = r.choice(FOREIGN)
            region = place_f.region
            domain = f"{stem}.{place_f.domain}"
            inn = place_f.tax_prefix + "".join(str(r.randint(0, 9)) for _ in range(9))
            phone = self.unique_phone(lambda: fill(place_f.phone_format, r))
            street = r.choice(STREETS_EN)
            addresses = [
                (AddressKind.LEGAL, place_f.street_format.format(
                    n=r.randint(1, 240), street=street, d=r.randint(1, 9)))
            ]  # fmt: skip
        else:
            place = r.choices(RU_PLACES, weights=[p.weight for p in RU_PLACES])[0]
            region = place.region
            domain = f"{stem}.ru"
            inn = inn_checked(r.choice(place.inn_prefixes), r)
            phone = self.unique_phone(lambda: self.landline(place.area_code))
            legal_addr = (
                f"{place.city}, ул. {r.choice(STREETS_RU)}, д. {r.randint(1, 120)}, "
                f"офис {r.randint(1, 950)}"
            )
            addresses = [(AddressKind.LEGAL, legal_addr)]
            if r.random() < 0.4:
                addresses.append(
                    (AddressKind.ACTUAL,
                     f"{place.city}, ул. {r.choice(STREETS_RU)}, д. {r.randint(1, 120)}")
                )  # fmt: skip
        revenue_value = r.choice([12, 25, 40, 75, 120, 300, 650, 1200, 4800]) * 1_000_000
        errors = Collector()
        custom = clean_custom(
            COMPANY_ENTITY,
            {"segment": r.choice(segment.options), "annual_revenue": revenue_value},
            errors=errors, fields=[segment, revenue],
        )  # fmt: skip
        errors.raise_if_any()
        company = Company(
            name=name, legal_name=legal, inn=inn, industry=r.choice(INDUSTRIES),
            size=r.choice(CompanySize.values), website=validate_url(domain), phone=phone,
            email=self.unique_email("info", domain), region=region, owner_id=owner_id,
            custom=custom,
        )  # fmt: skip
        company.search_text = company_search_text(company)
        company._demo_addresses = addresses  # type: ignore[attr-defined]
        company._demo_foreign = foreign  # type: ignore[attr-defined]
        company._demo_domain = domain  # type: ignore[attr-defined]
        return company

    # --- contacts ----------------------------------------------------------------------------

    def person(self, foreign: bool) -> tuple[str, str, str, bool]:
        """(first, middle, last, is_female)."""
        r = self.rng
        female = r.random() < 0.45
        if foreign:
            first = r.choice(EN_FEMALE if female else EN_MALE)
            return first, "", r.choice(EN_SURNAMES), female
        first = r.choice(RU_FEMALE if female else RU_MALE)
        male_pat, female_pat = r.choice(RU_PATRONYMICS)
        surname = r.choice(RU_SURNAMES)
        return (
            first,
            female_pat if female else male_pat,
            (female_surname(surname) if female else surname),
            female,
        )

    def contact(
        self, company: Company | None, owner_id: int | None, channel_field: CustomField
    ) -> tuple[Contact, list[tuple[str, str]], list[tuple[str, str]]]:
        r = self.rng
        foreign = bool(company and company._demo_foreign) if company else r.random() < 0.1  # type: ignore[attr-defined]
        first, middle, last, _female = self.person(foreign)
        contact = Contact(
            first_name=first, middle_name=middle, last_name=last, company=company,
            position=r.choice(EN_POSITIONS if foreign else RU_POSITIONS) if company else "",
            birthday=self.birthday(), owner_id=owner_id, source=r.choice(SOURCES),
            email_consent=r.random() < 0.6, sms_consent=r.random() < 0.3,
        )  # fmt: skip
        phones: list[tuple[str, str]] = []
        if r.random() < 0.92:
            if foreign:
                fmt = r.choice(["+44 7911 ######", "+49 151 ########", "+1 202 55# ####"])
                phones.append((self.unique_phone(lambda: fill(fmt, r)), PhoneKind.MOBILE))
            else:
                phones.append((self.unique_phone(self.mobile), PhoneKind.MOBILE))
        if company and r.random() < 0.25 and not foreign:
            area = next((p.area_code for p in RU_PLACES if p.region == company.region), "495")
            phones.append((self.unique_phone(lambda: self.landline(area)), PhoneKind.WORK))
        emails: list[tuple[str, str]] = []
        first_l, last_l = translit(first), translit(last)
        if company and r.random() < 0.88:
            local = r.choice([f"{first_l}.{last_l}", f"{first_l[0]}.{last_l}", last_l])
            emails.append((self.unique_email(local, company._demo_domain), EmailKind.WORK))  # type: ignore[attr-defined]
        if not emails or r.random() < 0.2:
            domain = r.choice(["gmail.com", "outlook.com"] if foreign else
                              ["yandex.ru", "mail.ru", "gmail.com", "bk.ru"])  # fmt: skip
            local = f"{last_l}.{first_l}{r.randint(70, 99)}"
            emails.append((self.unique_email(local, domain), EmailKind.PERSONAL))
        if r.random() < 0.3:
            errors = Collector()
            contact.custom = clean_custom(
                CONTACT_ENTITY, {"preferred_channel": r.choice(CHANNELS)}, errors=errors,
                fields=[channel_field],
            )  # fmt: skip
            errors.raise_if_any()
        contact.search_text = contact_search_text(
            contact, [e for e, _k in emails], [p for p, _k in phones]
        )
        return contact, emails, phones


def _custom_field(entity: str, key: str, label: str, type_: str, options: list[str]) -> CustomField:
    from voronka.core.services import custom_field_create

    existing = CustomField.objects.filter(entity=entity, key=key).first()
    if existing is not None:
        return existing
    return custom_field_create(
        entity=entity, key=key, label=label, type=type_, options=options, channel=Channel.SYSTEM
    )


def _demo_users(password: str | None, result: DemoResult) -> list[User]:
    from voronka.accounts.services import team_create, user_create

    teams = []
    for name in DEMO_TEAMS:
        team = Team.objects.filter(name=name).first() or team_create(
            name=name, channel=Channel.SYSTEM
        )
        teams.append(team)
    users = []
    for username, first, last, role, team_index in DEMO_USERS:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = user_create(
                username=username, password=password, email=f"{username}@example.com",
                first_name=first, last_name=last, role_code=role,
                team_id=teams[team_index].pk, language="ru",
            )  # fmt: skip
            result.new_users.append(username)
        users.append(user)
        result.users.append(username)
    return users


def _audit_rows(model: type[Any], records: list[Any], snapshots: list[dict[str, Any]]) -> None:
    content_type = ContentType.objects.get_for_model(model)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                content_type=content_type,
                object_id=record.pk,
                action=AuditAction.CREATE,
                changes=json_safe(snapshot),
                channel=Channel.SYSTEM,
            )
            for record, snapshot in zip(records, snapshots, strict=True)
        ],
        batch_size=CHUNK,
    )


def _spread_dates(model: type[Any], ids: list[int], gen: _Generator) -> None:
    """Records created over the past year, so lists and reports look lived-in.

    One UPDATE per day (not per row): ``bulk_create`` always stamps "now"."""
    now = timezone.now()
    by_day: dict[int, list[int]] = {}
    for pk in ids:
        by_day.setdefault(gen.rng.randint(0, 364), []).append(pk)
    for days, day_ids in sorted(by_day.items()):
        when = now - dt.timedelta(days=days, minutes=gen.rng.randint(0, 600))
        for start in range(0, len(day_ids), CHUNK):
            model.objects.filter(pk__in=day_ids[start : start + CHUNK]).update(
                created_at=when, updated_at=when
            )


def generate(
    *,
    companies: int = 200,
    contacts: int = 1000,
    seed: int | None = None,
    user_password: str | None = None,
    with_users: bool = True,
) -> DemoResult:
    """Load ``companies`` companies and ``contacts`` contacts (plus the demo team) at once.

    ``user_password`` is given to new demo users; None gives them a generated one, which is
    returned in the result. Runs in one transaction: a failure leaves nothing behind."""
    result = DemoResult()
    gen = _Generator(seed)
    if with_users:
        result.user_password = user_password or secrets.token_urlsafe(9)
    with transaction.atomic():
        owner_ids: list[int | None] = [None]
        if with_users:
            users = _demo_users(result.user_password, result)
            # Marketers own no customers; the sales team does.
            owner_ids = [
                u.pk
                for u, spec in zip(users, DEMO_USERS, strict=True)
                if spec[3] != RoleCode.MARKETER
            ]
        segment = _custom_field(COMPANY_ENTITY, "segment", "Сегмент", CustomFieldType.SELECT,
                                SEGMENTS)  # fmt: skip
        revenue = _custom_field(COMPANY_ENTITY, "annual_revenue", "Годовая выручка, ₽",
                                CustomFieldType.MONEY, [])  # fmt: skip
        channel = _custom_field(CONTACT_ENTITY, "preferred_channel", "Предпочтительная связь",
                                CustomFieldType.SELECT, CHANNELS)  # fmt: skip
        tags = tags_get_or_create(TAGS)

        # The known contact (and its company) once per database, so reruns add no twins.
        with_known = not ContactPhone.objects.filter(phone=KNOWN_PHONE).exists()
        if with_known:
            gen.used_names.add(KNOWN_COMPANY)
        company_rows = [
            gen.company(gen.rng.choice(owner_ids), segment, revenue) for _ in range(companies)
        ]
        if company_rows and with_known:
            _make_known_company(gen, company_rows[0])
        Company.objects.bulk_create(company_rows, batch_size=CHUNK)
        _spread_dates(Company, [c.pk for c in company_rows], gen)
        CompanyAddress.objects.bulk_create(
            [
                CompanyAddress(company=c, kind=kind, address=address)
                for c in company_rows
                for kind, address in c._demo_addresses  # type: ignore[attr-defined]
            ],
            batch_size=CHUNK,
        )
        company_tags = _pick_tags(gen, company_rows, tags, 0.3)
        Company.tags.through.objects.bulk_create(
            [Company.tags.through(company_id=c.pk, tag_id=t.pk) for c, t in company_tags],
            batch_size=CHUNK,
        )
        tag_names: dict[int, list[str]] = {}
        for c, t in company_tags:
            tag_names.setdefault(c.pk, []).append(t.name)
        _audit_rows(Company, company_rows, [_company_snapshot(c, tag_names) for c in company_rows])
        result.companies = len(company_rows)

        done = 0
        contact_ids: list[int] = []
        while done < contacts:
            size = min(CHUNK, contacts - done)
            batch = []
            for i in range(size):
                company = (
                    gen.rng.choice(company_rows)
                    if company_rows and gen.rng.random() < 0.85
                    else None
                )
                owner_id = (
                    company.owner_id
                    if company and gen.rng.random() < 0.8
                    else gen.rng.choice(owner_ids)
                )
                batch.append(gen.contact(company, owner_id, channel))
                if done == 0 and i == 0 and with_known:
                    known_company = company_rows[0] if company_rows else None
                    known_owner = known_company.owner_id if known_company else owner_ids[0]
                    batch[0] = _known_contact(gen, known_company, known_owner, channel)
            contact_ids += _insert_contacts(gen, batch, tags)
            done += size
        _spread_dates(Contact, contact_ids, gen)
        result.contacts = done
        first_event = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
        users_now = users if with_users else []
        context = DemoContext(gen.rng, users_now, [c.pk for c in company_rows], contact_ids, result)
        for step in _steps:
            step(context)
        # Steps write through the services, which publish events; demo records must not set
        # off automations or webhooks, so those events go.
        OutboxEvent.objects.filter(id__gt=first_event or 0).delete()
        search_index.rebuild()
    return result


def _pick_tags(
    gen: _Generator, records: list[Any], tags: list[Any], share: float
) -> list[tuple[Any, Any]]:
    pairs = []
    for record in records:
        if gen.rng.random() < share:
            for tag in gen.rng.sample(tags, gen.rng.randint(1, 2)):
                pairs.append((record, tag))
    return pairs


def _company_snapshot(company: Company, tag_names: dict[int, list[str]]) -> dict[str, Any]:
    return {
        "name": company.name, "legal_name": company.legal_name, "inn": company.inn,
        "industry": company.industry, "size": company.size, "website": company.website,
        "phone": company.phone, "email": company.email, "region": company.region,
        "owner_id": company.owner_id,
        "tags": sorted(tag_names.get(company.pk, [])),
        "addresses": [[k, a] for k, a in company._demo_addresses],  # type: ignore[attr-defined]
        "custom": dict(company.custom),
    }  # fmt: skip


def _make_known_company(gen: _Generator, company: Company) -> None:
    """The first company is always «Северные технологии», the known contact's employer."""
    company.name = KNOWN_COMPANY
    company.legal_name = "ООО «Северные технологии»"
    company.region = "Москва"
    company.inn = inn_checked("7701", gen.rng)
    company.phone = gen.unique_phone(lambda: gen.landline("495"))
    company._demo_addresses = [  # type: ignore[attr-defined]
        (AddressKind.LEGAL, "г. Москва, ул. Тверская, д. 12, офис 305")
    ]
    company.website = "https://severnye-tekhnologii.ru"
    company.email = "info@severnye-tekhnologii.ru"
    company._demo_domain = "severnye-tekhnologii.ru"  # type: ignore[attr-defined]
    company._demo_foreign = False  # type: ignore[attr-defined]
    company.search_text = company_search_text(company)


def _known_contact(
    gen: _Generator, company: Company | None, owner_id: int | None, channel_field: CustomField
) -> tuple[Contact, list[tuple[str, str]], list[tuple[str, str]]]:
    contact, _emails, _phones = gen.contact(company, owner_id, channel_field)
    contact.first_name, contact.middle_name, contact.last_name = "Иван", "Сергеевич", "Петров"
    contact.position = "Коммерческий директор" if company else ""
    domain = company._demo_domain if company else "yandex.ru"  # type: ignore[attr-defined]
    emails = [(gen.unique_email("ivan.petrov", domain), EmailKind.WORK.value)]
    phones = [(normalize_phone("8 (916) 123-45-67"), PhoneKind.MOBILE.value)]
    contact.search_text = contact_search_text(
        contact, [e for e, _k in emails], [p for p, _k in phones]
    )
    return contact, emails, phones


def _insert_contacts(
    gen: _Generator,
    batch: list[tuple[Contact, list[tuple[str, str]], list[tuple[str, str]]]],
    tags: list[Any],
) -> list[int]:
    rows = [c for c, _e, _p in batch]
    Contact.objects.bulk_create(rows, batch_size=CHUNK)
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(contact_id=c.pk, email=e, kind=k)
            for c, emails, _p in batch
            for e, k in emails
        ],
        batch_size=CHUNK,
    )
    ContactPhone.objects.bulk_create(
        [
            ContactPhone(contact_id=c.pk, phone=p, kind=k)
            for c, _e, phones in batch
            for p, k in phones
        ],
        batch_size=CHUNK,
    )
    tag_pairs = _pick_tags(gen, rows, tags, 0.2)
    Contact.tags.through.objects.bulk_create(
        [Contact.tags.through(contact_id=c.pk, tag_id=t.pk) for c, t in tag_pairs],
        batch_size=CHUNK,
    )
    tags_by_contact: dict[int, list[str]] = {}
    for c, t in tag_pairs:
        tags_by_contact.setdefault(c.pk, []).append(t.name)
    snapshots = [
        {
            "first_name": c.first_name,
            "middle_name": c.middle_name,
            "last_name": c.last_name,
            "company_id": c.company_id,
            "position": c.position,
            "birthday": c.birthday,
            "owner_id": c.owner_id,
            "source": c.source,
            "email_consent": c.email_consent,
            "sms_consent": c.sms_consent,
            "emails": [e for e, _k in emails],
            "phones": [p for p, _k in phones],
            "tags": sorted(tags_by_contact.get(c.pk, [])),
            "custom": dict(c.custom or {}),
        }
        for c, emails, phones in batch
    ]
    _audit_rows(Contact, rows, snapshots)
    return [c.pk for c in rows]
