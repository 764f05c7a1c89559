"""Reads of the sales domain shared by views, the API and the dashboard.

Deal lists and kanban columns are keyset pages (``-updated_at, -id`` within a stage), so a
pipeline with 100k deals opens as fast as one with ten; each column's count and sum come from
one GROUP BY over the same filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DateField, Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from voronka.core.errors import Collector, Forbidden, NotFound
from voronka.core.pagination import Page, SortKey, keyset_page
from voronka.core.text import digits, fold
from voronka.core.visibility import get_for_user
from voronka.customers.models import Tag
from voronka.sales.analytics import StageTotal, stage_totals
from voronka.sales.models import (
    Activity,
    Deal,
    Lead,
    LeadStatus,
    Pipeline,
    SalesDocument,
    Stage,
)

KANBAN_PAGE = 20


def deals_visible_to(user: Any) -> QuerySet[Deal]:
    return Deal.objects.visible_to(user)


def leads_visible_to(user: Any) -> QuerySet[Lead]:
    return Lead.objects.visible_to(user)


def activities_visible_to(user: Any) -> QuerySet[Activity]:
    return Activity.objects.visible_to(user)


def get_deal_for_user(user: Any, pk: Any, *, write: bool = False) -> Deal:
    qs = Deal.objects.select_related(
        "stage", "pipeline", "company", "owner", "currency", "lost_reason"
    )
    return get_for_user(qs.prefetch_related("contacts", "lines", "tags"), user, pk, write=write)


def get_lead_for_user(user: Any, pk: Any, *, write: bool = False) -> Lead:
    return get_for_user(Lead.objects.select_related("owner"), user, pk, write=write)


def get_activity_for_user(user: Any, pk: Any, *, write: bool = False) -> Activity:
    return get_for_user(Activity.objects.select_related("owner"), user, pk, write=write)


def documents_visible_to(user: Any, kind: str | None = None) -> QuerySet[SalesDocument]:
    """A quote or invoice is as visible as its deal."""
    qs = SalesDocument.objects.filter(deal__in=deals_visible_to(user).values("pk"))
    return qs.filter(kind=kind) if kind else qs


def get_document_for_user(
    user: Any, pk: Any, *, kind: str | None = None, write: bool = False
) -> SalesDocument:
    """The document if its deal is visible (NotFound otherwise); with ``write``, changeable."""
    qs = documents_visible_to(user, kind).select_related(
        "deal", "deal__company", "currency", "template", "created_by"
    )
    try:
        doc = qs.get(pk=int(pk))
    except (ValueError, TypeError, SalesDocument.DoesNotExist) as exc:
        raise NotFound(f"document {pk} not found") from exc
    if write and not user.can_write:
        raise Forbidden(_("your role is read-only"))
    return doc


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
    ).order_by("position", "id")


def get_pipeline(pk: Any = None) -> Pipeline:
    qs = Pipeline.objects.all()
    try:
        pipeline = (
            qs.get(pk=int(pk))
            if pk not in (None, "")
            else (qs.filter(is_default=True).first() or qs.first())
        )
    except (ValueError, TypeError, Pipeline.DoesNotExist) as exc:
        raise NotFound("no such pipeline") from exc
    if pipeline is None:
        raise NotFound("no pipeline yet")
    return pipeline


# --- deal lists and the kanban ------------------------------------------------------------------


@dataclass
class DealQuery:
    conditions: list[Q] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    cursor: str | None = None
    limit: int = 50
    annotations: dict[str, Any] = field(default_factory=dict)


# A deal without a close date sorts after every dated one (and a cursor can point past it).
NO_CLOSE_DATE = dt.date(9999, 12, 31)


DEAL_SORTS = {
    "updated_at": ["updated_at", "id"],
    "created_at": ["created_at", "id"],
    "amount": ["amount", "id"],
    "expected_close_date": ["close_key", "id"],
    "title": ["title", "id"],
}


def _one(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip() if value is not None else ""


def _int(errors: Collector, name: str, raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        errors.add(name, _("must be a whole number"))
        return None


def parse_deal_query(params: Mapping[str, Any], user: Any) -> DealQuery:
    """Filters shared by the deal list, the kanban and the API: q, pipeline, stage, owner
    (id|me), team, tag, status (open|won|lost), created_from/to, close_from/to, amount_min/max,
    company, sort, cursor, limit."""
    errors = Collector()
    query = DealQuery()
    conds = query.conditions
    for name, column in (
        ("pipeline", "pipeline_id"),
        ("stage", "stage_id"),
        ("company", "company_id"),
        ("team", "owner__team_id"),
    ):
        raw = _one(params, name)
        if raw and (value := _int(errors, name, raw)) is not None:
            conds.append(Q(**{column: value}))
    owner = _one(params, "owner")
    if owner == "me":
        conds.append(Q(owner_id=user.pk))
    elif owner and (owner_id := _int(errors, "owner", owner)) is not None:
        conds.append(Q(owner_id=owner_id))
    if status := _one(params, "status"):
        if status not in ("open", "won", "lost"):
            errors.add("status", _("must be open, won or lost"))
        else:
            conds.append(Q(stage__kind=status))
    tags = (
        params.getlist("tag")
        if hasattr(params, "getlist")
        else ([params["tag"]] if params.get("tag") else [])
    )
    for tag in tags:
        if str(tag).strip():
            conds.append(
                Q(
                    Exists(
                        Deal.tags.through.objects.filter(
                            deal_id=OuterRef("pk"), tag__name_folded=fold(str(tag))
                        )
                    )
                )
            )
    for name, column in (("created_from", "created_at__date__gte"), ("created_to", "created_at__date__lte"),
                         ("close_from", "expected_close_date__gte"), ("close_to", "expected_close_date__lte")):  # fmt: skip
        if raw := _one(params, name):
            day = parse_date(raw)
            if day is None:
                errors.add(name, _("must be a date (YYYY-MM-DD)"))
            else:
                conds.append(Q(**{column: day}))
    for name, op in (("amount_min", "gte"), ("amount_max", "lte")):
        if raw := _one(params, name):
            try:
                conds.append(Q(**{f"amount__{op}": Decimal(raw.replace(",", "."))}))
            except ArithmeticError:
                errors.add(name, _("must be a number"))
    if q := _one(params, "q"):
        conds.append(Q(title__icontains=q) | Q(company__name__icontains=q))
    sort = _one(params, "sort") or "-updated_at"
    names = DEAL_SORTS.get(sort.lstrip("-"))
    if names is None:
        errors.add("sort", _("cannot sort by %(name)s") % {"name": sort})
        names = DEAL_SORTS["updated_at"]
    query.sort = [SortKey(n, sort.startswith("-")) for n in names]
    if "close_key" in names:
        query.annotations["close_key"] = Coalesce(
            "expected_close_date", Value(NO_CLOSE_DATE, output_field=DateField())
        )
    query.cursor = _one(params, "cursor") or None
    if raw := _one(params, "limit"):
        limit = _int(errors, "limit", raw)
        if limit is not None and not 1 <= limit <= 500:
            errors.add("limit", _("must be between 1 and 500"))
        elif limit is not None:
            query.limit = limit
    errors.raise_if_any()
    return query


def _deals(user: Any, query: DealQuery) -> QuerySet[Deal]:
    qs = deals_visible_to(user)
    if query.annotations:
        qs = qs.annotate(**query.annotations)
    for cond in query.conditions:
        qs = qs.filter(cond)
    return qs


def _with_relations(qs: QuerySet[Deal]) -> QuerySet[Deal]:
    return qs.select_related("stage", "company", "owner", "currency").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name_folded"))
    )


def deal_list(user: Any, query: DealQuery) -> Page[Deal]:
    return keyset_page(_with_relations(_deals(user, query)), query.sort, query.cursor, query.limit)


@dataclass
class KanbanColumn:
    stage: Stage
    count: int
    total: Decimal
    page: Page[Deal]


def kanban_column(
    user: Any, stage: Stage, query: DealQuery, cursor: str | None = None, limit: int = KANBAN_PAGE
) -> Page[Deal]:
    """One page of a column: the stage's deals, most recently touched first."""
    qs = _with_relations(_deals(user, query).filter(stage=stage))
    return keyset_page(qs, [SortKey("updated_at", True), SortKey("id", True)], cursor, limit)


def kanban(
    user: Any, pipeline: Pipeline, query: DealQuery, limit: int = KANBAN_PAGE
) -> list[KanbanColumn]:
    """The board's first screen: each stage's count and base-currency sum under the filters
    (one GROUP BY) and the first page of every column that has deals."""
    stages = list(pipeline.stages.order_by("position", "id"))
    totals = stage_totals(user, pipeline, query.conditions)
    columns = []
    for stage in stages:
        total = totals.get(stage.pk, StageTotal())
        page: Page[Deal] = (
            kanban_column(user, stage, query, None, limit)
            if total.count
            else Page(items=[], next_cursor=None)
        )
        columns.append(KanbanColumn(stage=stage, count=total.count, total=total.amount, page=page))
    return columns


# --- leads ----------------------------------------------------------------------------------------


def parse_lead_filters(params: Mapping[str, Any], user: Any) -> tuple[list[Q], str | None, int]:
    errors = Collector()
    conds: list[Q] = []
    if status := _one(params, "status"):
        if status not in LeadStatus.values:
            errors.add(
                "status",
                _("must be one of: %(options)s") % {"options": ", ".join(LeadStatus.values)},
            )
        else:
            conds.append(Q(status=status))
    owner = _one(params, "owner")
    if owner == "me":
        conds.append(Q(owner_id=user.pk))
    elif owner and (owner_id := _int(errors, "owner", owner)) is not None:
        conds.append(Q(owner_id=owner_id))
    if source := _one(params, "source"):
        conds.append(Q(source=source))
    if q := _one(params, "q"):
        cond = (
            Q(last_name__icontains=q)
            | Q(first_name__icontains=q)
            | Q(company_name__icontains=q)
            | Q(email__icontains=q.lower())
        )
        if len(digits(q)) >= 4:
            cond |= Q(phone__contains=digits(q)[1:] if digits(q).startswith("8") else digits(q))
        conds.append(cond)
    limit = 50
    if raw := _one(params, "limit"):
        value = _int(errors, "limit", raw)
        if value is not None and not 1 <= value <= 500:
            errors.add("limit", _("must be between 1 and 500"))
        elif value is not None:
            limit = value
    errors.raise_if_any()
    return conds, _one(params, "cursor") or None, limit


def lead_list(user: Any, params: Mapping[str, Any]) -> Page[Lead]:
    conds, cursor, limit = parse_lead_filters(params, user)
    qs = leads_visible_to(user).select_related("owner")
    for cond in conds:
        qs = qs.filter(cond)
    return keyset_page(qs, [SortKey("created_at", True), SortKey("id", True)], cursor, limit)


# --- activities: my day -------------------------------------------------------------------------


@dataclass
class MyDay:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]


def my_day(user: Any, *, now: dt.datetime | None = None, limit: int = 100) -> MyDay:
    """The user's open activities: overdue (due before now), the rest of today (in the active
    time zone), and the following seven days."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    mine = Activity.objects.filter(owner=user, done_at__isnull=True).select_related(
        "contact", "company", "deal", "lead"
    )
    return MyDay(
        overdue=list(mine.filter(due_at__lt=now).order_by("due_at", "id")[:limit]),
        today=list(mine.filter(due_at__gte=now, due_at__lt=end).order_by("due_at", "id")[:limit]),
        upcoming=list(
            mine.filter(due_at__gte=end, due_at__lt=end + dt.timedelta(days=7)).order_by(
                "due_at", "id"
            )[:limit]
        ),
    )


def activities_for(record_field: str, record: Any, user: Any, limit: int = 50) -> list[Activity]:
    """Activities linked to a contact, company, deal or lead that the user may see."""
    return list(
        activities_visible_to(user)
        .filter(**{record_field: record})
        .select_related("owner")
        .order_by("done_at", "due_at", "-id")[:limit]
    )
