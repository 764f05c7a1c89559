"""Reads of the customer base that the UI, the API and exports share.

Every query starts from ``visible_to(user)``; filters, sorting and search are parsed from the
same query parameters in the UI and the API (``?q=&owner=&tag=&cf.region=&sort=-created_at``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Exists,
    Expression,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Collate
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector
from voronka.core.models import CustomField, CustomFieldType
from voronka.core.pagination import Page, SortKey, keyset_page
from voronka.core.text import digits, fold, normalize_phone
from voronka.core.visibility import get_for_user
from voronka.customers import search_index
from voronka.customers.models import Company, Contact, ContactEmail, Tag

MIN_TERM = 3  # trigram indexes need three characters
PREFIX_END = "\U0010ffff"  # the highest code point: text < prefix + PREFIX_END starts with it


def contacts_visible_to(user: Any) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user)


def companies_visible_to(user: Any) -> QuerySet[Company]:
    return Company.objects.visible_to(user)


def get_contact_for_user(user: Any, pk: Any, *, write: bool = False) -> Contact:
    return get_for_user(_contact_detail_qs(), user, pk, write=write)


def get_company_for_user(user: Any, pk: Any, *, write: bool = False) -> Company:
    return get_for_user(
        Company.objects.select_related("owner").prefetch_related("tags", "addresses"),
        user, pk, write=write,
    )  # fmt: skip


def _contact_detail_qs() -> Any:
    return Contact.objects.select_related("company", "owner").prefetch_related(
        "emails", "phones", "tags"
    )


# --- search ----------------------------------------------------------------------------------


def search_terms(text: str) -> list[str]:
    """What a person typed, as terms stored in ``search_text``: a phone typed in any format is
    normalized first, so "8 (916) 123-45-67" finds +79161234567; other text is folded."""
    text = (text or "").strip()
    raw_digits = digits(text)
    if len(raw_digits) >= 5 and not any(ch.isalpha() for ch in text):
        try:
            return [digits(normalize_phone(text))]
        except ValueError:
            return [raw_digits]
    return [t for t in fold(text).split(" ") if t]


def _contains(model: type[Contact] | type[Company], terms: list[str]) -> Q:
    condition = Q()
    long_terms = [t for t in terms if len(t) >= MIN_TERM]
    if long_terms:
        if connection.vendor == "sqlite":
            table = model._meta.db_table
            match = " AND ".join(search_index.fts_quote(t) for t in long_terms)
            condition &= Q(id__in=RawSQL(search_index.fts_match_sql(table), [match]))
        else:
            for term in long_terms:
                condition &= Q(search_text__contains=term)
    for term in terms:
        if len(term) < MIN_TERM:
            # One or two letters: the start of the name, or anywhere beside longer terms.
            condition &= (
                Q(search_text__startswith=term) if not long_terms else Q(search_text__contains=term)
            )
    return condition


def search_condition(model: type[Contact] | type[Company], text: str) -> Q | None:
    """A condition matching records whose search text contains every term of ``text``.

    Returns None when there is nothing to search for."""
    terms = search_terms(text)
    return _contains(model, terms) if terms else None


def search_key() -> Any:
    """``search_text`` in byte order, the order of its index ``search_index.SORT_INDEX``."""
    if connection.vendor == "postgresql":
        return Collate(F("search_text"), "C")
    return F("search_text")


def ranked_search(qs: QuerySet[Any], text: str, limit: int) -> list[Any]:
    """The top ``limit`` records of ``qs`` matching ``text``: first those whose search text
    starts with the first term (the name begins with what was typed), then the rest, each part
    in alphabetical order of the folded search text.

    Why two parts: a common surname matches tens of thousands of contacts in a million. Sorting
    all of them to show eight costs hundreds of milliseconds; the records whose name starts
    with it are a range of the search-text index, read in order and stopped at the limit. Only
    when they are fewer than the limit are the other matches searched (a term found only inside
    names, e-mails or phones, which usually matches few records)."""
    terms = search_terms(text)
    if not terms:
        return []
    model = qs.model
    first, rest = terms[0], terms[1:]
    qs = qs.annotate(search_key=search_key())
    starts = Q(search_key__gte=first, search_key__lt=first + PREFIX_END)
    found = list(qs.filter(starts, _contains(model, rest)).order_by("search_key", "id")[:limit])
    if len(found) < limit and any(len(t) >= MIN_TERM for t in terms):
        others = qs.filter(_contains(model, terms)).exclude(starts)
        found += list(others.order_by("search_key", "id")[: limit - len(found)])
    return found


def contact_search(user: Any, text: str, limit: int = 8) -> list[Contact]:
    found = ranked_search(contacts_visible_to(user).select_related("company"), text, limit)
    prefetch_related_objects(found, "emails", "phones")  # once for both tiers
    return found


def company_search(user: Any, text: str, limit: int = 8) -> list[Company]:
    return ranked_search(companies_visible_to(user), text, limit)


def tags_all() -> QuerySet[Tag]:
    return Tag.objects.order_by("name_folded")


# --- list queries ----------------------------------------------------------------------------


@dataclass
class ListQuery:
    """A parsed list request: search, filters, sort, page."""

    q: str = ""
    conditions: list[Q] = field(default_factory=list)
    annotations: dict[str, Expression | F] = field(default_factory=dict)
    sort: list[SortKey] = field(default_factory=list)
    sort_param: str = ""
    cursor: str | None = None
    limit: int = 50


def _get(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip() if value is not None else ""


def _getlist(params: Mapping[str, Any], name: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        values = value if isinstance(value, list) else ([value] if value not in (None, "") else [])
    return [str(v).strip() for v in values if str(v).strip()]


def _int(errors: Collector, name: str, value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        errors.add(name, _("must be a whole number"))
        return None


def _parse_date(raw: str) -> dt.date | None:
    """None for text that is not a date, including well-formed impossible ones (2020-13-45)."""
    try:
        return parse_date(raw)
    except ValueError:
        return None


def _multi_select_has(model: type[Contact] | type[Company], key: str, option: str) -> Q:
    """Records whose multi-select value (a JSON list) contains ``option``."""
    if connection.vendor == "postgresql":
        return Q(**{f"custom__{key}__contains": [option]})
    table = model._meta.db_table
    sql = f"SELECT t.id FROM {table} t, json_each(t.custom, %s) j WHERE j.value = %s"
    return Q(id__in=RawSQL(sql, [f'$."{key}"', option]))


def _custom_filter(
    errors: Collector, model: type[Contact] | type[Company], cf: CustomField, op: str, value: str
) -> Q | None:
    path = f"custom__{cf.key}"
    kind = cf.type
    if op in ("gte", "lte"):
        if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                errors.add(f"cf.{cf.key}.{op}", _("must be a number"))
                return None
            return Q(**{f"{path}__{op}": number})
        if kind in (CustomFieldType.DATE, CustomFieldType.DATETIME):
            if _parse_date(value[:10]) is None:
                errors.add(f"cf.{cf.key}.{op}", _("must be a date (YYYY-MM-DD)"))
                return None
            return Q(**{f"{path}__{op}": value})
        errors.add(f"cf.{cf.key}.{op}", _("this field has no range"))
        return None
    if value in ("__empty__",):
        return Q(**{f"{path}__isnull": True})
    if kind == CustomFieldType.BOOLEAN:
        if value.lower() not in {"true", "false", "1", "0", "yes", "no"}:
            errors.add(f"cf.{cf.key}", _("must be yes or no"))
            return None
        return Q(**{path: value.lower() in {"true", "1", "yes"}})
    if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            errors.add(f"cf.{cf.key}", _("must be a number"))
            return None
        return Q(**{path: int(number) if number.is_integer() else number})
    if kind == CustomFieldType.MULTI_SELECT:
        return _multi_select_has(model, cf.key, value)
    if kind in (CustomFieldType.SELECT, CustomFieldType.DATE):
        return Q(**{path: value})
    return Q(**{f"{path}__icontains": value})


def _custom_sort(cf: CustomField) -> Expression:
    text = KeyTextTransform(cf.key, "custom")
    if cf.type in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
        return Coalesce(Cast(text, FloatField()), Value(-1e18))
    return Coalesce(text, Value(""), output_field=TextField())


@dataclass(frozen=True)
class EntitySpec:
    model: type[Contact] | type[Company]
    entity: str
    sorts: dict[str, list[str]]
    default_sort: str


CONTACT_SPEC = EntitySpec(
    model=Contact,
    entity="customers.contact",
    sorts={
        "last_name": ["last_name", "first_name", "id"],
        "first_name": ["first_name", "last_name", "id"],
        "created_at": ["created_at", "id"],
        "updated_at": ["updated_at", "id"],
        "company": ["company_sort", "id"],
        "position": ["position", "id"],
    },
    default_sort="last_name",
)
COMPANY_SPEC = EntitySpec(
    model=Company,
    entity="customers.company",
    sorts={
        "name": ["name", "id"],
        "created_at": ["created_at", "id"],
        "updated_at": ["updated_at", "id"],
        "region": ["region", "id"],
        "industry": ["industry", "id"],
        "inn": ["inn", "id"],
    },
    default_sort="name",
)


def parse_list_query(spec: EntitySpec, params: Mapping[str, Any], user: Any) -> ListQuery:
    """Validate list parameters; every bad one is reported by name (ServiceValidationError)."""
    errors = Collector()
    query = ListQuery(q=_get(params, "q"))
    fields = {f.key: f for f in definitions(spec.entity)}
    conds = query.conditions

    if owner := _get(params, "owner"):
        if owner == "me":
            conds.append(Q(owner_id=user.pk))
        elif owner == "none":
            conds.append(Q(owner__isnull=True))
        elif (owner_id := _int(errors, "owner", owner)) is not None:
            conds.append(Q(owner_id=owner_id))
    if (team := _get(params, "team")) and (team_id := _int(errors, "team", team)) is not None:
        conds.append(Q(owner__team_id=team_id))
    through = spec.model.tags.through
    owner_column = "contact_id" if spec.model is Contact else "company_id"
    for tag in _getlist(params, "tag"):
        # EXISTS keeps one row per record (no DISTINCT), so keyset pages stay index-ordered.
        conds.append(Q(Exists(through.objects.filter(
            **{owner_column: OuterRef("pk"), "tag__name_folded": fold(tag)}
        ))))  # fmt: skip
    for name in ("created", "updated"):
        for op, suffix in (("gte", "from"), ("lt", "to")):
            if raw := _get(params, f"{name}_{suffix}"):
                day = _parse_date(raw)
                if day is None:
                    errors.add(f"{name}_{suffix}", _("must be a date (YYYY-MM-DD)"))
                else:
                    conds.append(Q(**{f"{name}_at__date__{'gte' if op == 'gte' else 'lte'}": day}))
    if spec.model is Contact:
        company = _get(params, "company")
        if company and (company_id := _int(errors, "company", company)) is not None:
            conds.append(Q(company_id=company_id))
        if source := _get(params, "source"):
            conds.append(Q(source=source))
        for flag in ("email_consent", "sms_consent"):
            if raw := _get(params, flag):
                conds.append(Q(**{flag: raw.lower() in {"1", "true", "yes", "on"}}))
        if raw := _get(params, "has_email"):
            has = Exists(ContactEmail.objects.filter(contact_id=OuterRef("pk")))
            conds.append(Q(has) if raw.lower() in {"1", "true", "yes", "on"} else ~Q(has))
    else:
        for name in ("industry", "region", "size"):
            if raw := _get(params, name):
                conds.append(Q(**{name: raw}))
        if raw := _get(params, "inn"):
            conds.append(Q(inn=raw.strip()))

    for name in params.keys() if hasattr(params, "keys") else []:
        if not name.startswith("cf."):
            continue
        key, _dot, op = name[3:].partition(".")
        cf = fields.get(key)
        if cf is None:
            errors.add(name, _("unknown custom field"))
            continue
        if op not in ("", "gte", "lte"):
            errors.add(name, _("unknown operator"))
            continue
        value = _get(params, name)
        if value:
            cond = _custom_filter(errors, spec.model, cf, op, value)
            if cond is not None:
                conds.append(cond)

    sort = _get(params, "sort") or spec.default_sort
    descending = sort.startswith("-")
    sort_name = sort.lstrip("-")
    if sort_name.startswith("cf."):
        cf = fields.get(sort_name[3:])
        if cf is None:
            errors.add("sort", _("unknown custom field"))
            sort_name = spec.default_sort
            names = spec.sorts[sort_name]
        else:
            query.annotations["cf_sort"] = _custom_sort(cf)
            names = ["cf_sort", "id"]
    elif sort_name in spec.sorts:
        names = spec.sorts[sort_name]
    else:
        errors.add("sort", _("cannot sort by %(name)s") % {"name": sort_name})
        names = spec.sorts[spec.default_sort]
    if "company_sort" in names:
        query.annotations["company_sort"] = Coalesce(F("company__name"), Value(""))
    query.sort = [SortKey(n, descending) for n in names]
    query.sort_param = sort

    query.cursor = _get(params, "cursor") or None
    if raw := _get(params, "limit"):
        limit = _int(errors, "limit", raw)
        if limit is not None and not 1 <= limit <= 500:
            errors.add("limit", _("must be between 1 and 500"))
        elif limit is not None:
            query.limit = limit
    errors.raise_if_any()
    return query


def filtered_queryset(spec: EntitySpec, user: Any, query: ListQuery) -> QuerySet[Any]:
    qs = spec.model.objects.visible_to(user)
    if query.annotations:
        qs = qs.annotate(**query.annotations)
    for cond in query.conditions:
        qs = qs.filter(cond)
    if query.q:
        search = search_condition(spec.model, query.q)
        if search is not None:
            qs = qs.filter(search)
    return qs


def contact_list(user: Any, query: ListQuery) -> Page[Contact]:
    qs = filtered_queryset(CONTACT_SPEC, user, query).select_related("company", "owner")
    qs = qs.prefetch_related(
        "emails", "phones", Prefetch("tags", queryset=Tag.objects.order_by("name_folded"))
    )
    return keyset_page(qs, query.sort, query.cursor, query.limit)


def company_list(user: Any, query: ListQuery) -> Page[Company]:
    qs = filtered_queryset(COMPANY_SPEC, user, query).select_related("owner")
    qs = qs.prefetch_related(
        "addresses", Prefetch("tags", queryset=Tag.objects.order_by("name_folded"))
    )
    return keyset_page(qs, query.sort, query.cursor, query.limit)


def company_export_rows(user: Any, query: ListQuery) -> Any:
    qs = filtered_queryset(COMPANY_SPEC, user, query).select_related("owner")
    qs = qs.prefetch_related("tags", "addresses").order_by(
        *[f"-{k.name}" if k.descending else k.name for k in query.sort]
    )
    return qs.iterator(chunk_size=2000)


def company_contacts(user: Any, company: Company, limit: int = 100) -> list[Contact]:
    """The company's contacts that this user may see."""
    return list(
        contacts_visible_to(user).filter(company=company).prefetch_related("emails", "phones")
        .order_by("last_name", "first_name", "id")[:limit]
    )  # fmt: skip
