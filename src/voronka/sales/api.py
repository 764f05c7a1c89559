"""Leads, pipelines, deals, products, activities, quotes and invoices over the REST API.

Every write calls the same service as the web pages, so validation, history and events do not
depend on the door a change came through. Owned records (leads, deals, activities, and the
documents of a deal) come through the sales selectors: one the caller may not see answers 404
whatever the method. Pipelines and products are shared by everyone; pipelines are changed by
administrators only (the services say so with a 403)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import DateTimeField, Prefetch, Q, QuerySet, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    page_body,
    query_doc,
    simple_page,
)
from voronka.core.errors import Collector, NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS, ErrorOut
from voronka.customers.models import Contact
from voronka.sales import selectors, services
from voronka.sales.models import (
    Activity,
    ActivityKind,
    Deal,
    DealStageHistory,
    DocumentKind,
    DocumentStatus,
    Lead,
    Payment,
    Pipeline,
    Product,
    ProductPrice,
    SalesDocument,
    Stage,
)
from voronka.sales.money import LineTotals, document_totals
from voronka.sales.schemas import (
    ActivityCompleteIn,
    ActivityIn,
    ActivityOut,
    ActivityPage,
    DealDetailOut,
    DealIn,
    DealMoveIn,
    DealPage,
    DocumentDetailOut,
    DocumentPage,
    DocumentSendIn,
    InvoiceCreateIn,
    LeadConvertIn,
    LeadConvertOut,
    LeadIn,
    LeadOut,
    LeadPage,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    PipelineIn,
    PipelineOut,
    PipelinePage,
    PipelinePatch,
    ProductIn,
    ProductOut,
    ProductPage,
    QuoteCreateIn,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
)
from voronka.sales.services.setup import starter_stages

PAGE_PARAMS = (
    ("cursor", "string", "next_cursor of the previous page"),
    ("limit", "integer", "page size, 1 to 500 (default 50)"),
)
LEAD_LIST_DOC = query_doc(
    ("status", "string", "new, in_progress, qualified or junk"),
    ("owner", "string", "owner's user id or `me`"),
    ("source", "string", "source equals"),
    ("q", "string", "name, company, e-mail or phone (4+ digits)"),
    *PAGE_PARAMS,
)
DEAL_LIST_DOC = query_doc(
    ("q", "string", "title or company name contains"),
    ("pipeline", "integer", "pipeline id"),
    ("stage", "integer", "stage id"),
    ("status", "string", "open, won or lost (the kind of the deal's stage)"),
    ("owner", "string", "owner's user id or `me`"),
    ("team", "integer", "owner's team id"),
    ("company", "integer", "company id"),
    ("tag", "string", "tag name; repeat for several (all must match)"),
    ("created_from", "string", "created on or after this date (YYYY-MM-DD)"),
    ("created_to", "string", "created on or before this date (YYYY-MM-DD)"),
    ("close_from", "string", "expected to close on or after this date (YYYY-MM-DD)"),
    ("close_to", "string", "expected to close on or before this date (YYYY-MM-DD)"),
    ("amount_min", "string", "amount at least (a decimal)"),
    ("amount_max", "string", "amount at most (a decimal)"),
    ("sort", "string", "updated_at, created_at, amount, expected_close_date or title; "
                       "prefix `-` for descending (default -updated_at)"),
    *PAGE_PARAMS,
)  # fmt: skip
ACTIVITY_LIST_DOC = query_doc(
    ("kind", "string", "task, call or meeting"),
    ("assignee", "string", "assignee's user id or `me` (`owner` is the same)"),
    ("done", "boolean", "true: completed only; false: open only"),
    ("due_from", "string", "due on or after this date (YYYY-MM-DD) or moment (ISO 8601)"),
    ("due_to", "string", "due on or before this date (YYYY-MM-DD) or moment (ISO 8601)"),
    ("deal", "integer", "deal id"),
    ("contact", "integer", "contact id"),
    ("company", "integer", "company id"),
    ("lead", "integer", "lead id"),
    ("sort", "string", "due_at (default; activities without a due time last), -due_at, "
                       "created_at or -created_at"),
    *PAGE_PARAMS,
)  # fmt: skip
PDF_DOC = {
    "responses": {
        200: {
            "description": "the document as PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
WITH_503: dict[int, Any] = {**ERRORS, 503: ErrorOut}


def _body(payload: Any) -> dict[str, Any]:
    """Only the keys the client sent: PATCH changes nothing else."""
    return dict(payload.model_dump(exclude_unset=True))


def _pdf_unavailable(exc: services.PdfUnavailable) -> HttpError:
    return HttpError(503, str(exc))


# --- leads ----------------------------------------------------------------------------------

leads = Router(tags=["leads"])

LEAD_OUT_FIELDS = (
    "first_name", "middle_name", "last_name", "company_name", "inn", "email", "phone",
    "source", "region", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "message", "status", "junk_reason", "owner_id", "converted_contact_id",
    "converted_company_id", "converted_deal_id", "converted_at", "created_at", "updated_at",
)  # fmt: skip


def lead_out(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        **{name: getattr(lead, name) for name in LEAD_OUT_FIELDS},
        "custom": dict(lead.custom or {}),
    }


@leads.get("", response={200: LeadPage, **ERRORS}, openapi_extra=LEAD_LIST_DOC)
def list_leads(request: ApiRequest) -> dict[str, Any]:
    """Leads the caller may see, newest first, paged by cursor."""
    page = selectors.lead_list(request.auth, check_query(request.GET))
    return page_body(page, lead_out)


@leads.post("", response={201: LeadOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_lead(request: ApiRequest, payload: LeadIn) -> Status[dict[str, Any]]:
    """Create a lead; without ``owner_id`` the assignment rules choose, else the caller owns it."""
    lead = services.lead_create(actor=request.auth, data=_body(payload), channel=Channel.API)
    return Status(201, lead_out(lead))


@leads.get("/{lead_id}", response={200: LeadOut, **ERRORS})
def read_lead(request: ApiRequest, lead_id: int) -> dict[str, Any]:
    return lead_out(selectors.get_lead_for_user(request.auth, lead_id))


@leads.patch("/{lead_id}", response={200: LeadOut, **ERRORS})
def update_lead(request: ApiRequest, lead_id: int, payload: LeadIn) -> dict[str, Any]:
    """Change only the keys sent. A converted lead only changes owner."""
    lead = selectors.get_lead_for_user(request.auth, lead_id, write=True)
    lead = services.lead_update(
        actor=request.auth, lead=lead, changes=_body(payload), channel=Channel.API
    )
    return lead_out(lead)


@leads.post(
    "/{lead_id}/convert", response={200: LeadConvertOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def convert_lead(
    request: ApiRequest, lead_id: int, payload: LeadConvertIn | None = None
) -> dict[str, Any]:
    """Turn the lead into a contact and a company (existing ones are reused when the e-mail,
    phone, INN or name match) and, unless ``create_deal`` is false, a deal. The body may be
    omitted."""
    lead = selectors.get_lead_for_user(request.auth, lead_id, write=True)
    options = _body(payload) if payload is not None else {}
    lead = services.lead_convert(
        actor=request.auth, lead=lead, channel=Channel.API,
        create_deal=options.get("create_deal", True), deal_title=options.get("deal_title", ""),
        pipeline_id=options.get("pipeline_id"), amount=options.get("amount"),
    )  # fmt: skip
    return {
        "contact_id": lead.converted_contact_id,
        "company_id": lead.converted_company_id,
        "deal_id": lead.converted_deal_id,
        "lead": lead_out(lead),
    }


# --- pipelines and stages -------------------------------------------------------------------

pipelines = Router(tags=["pipelines"])
stages = Router(tags=["pipelines"])


def stage_out(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.pk, "pipeline_id": stage.pipeline_id, "name": stage.name,
        "position": stage.position, "probability": stage.probability, "color": stage.color,
        "kind": stage.kind, "instructions": list(stage.instructions or []),
        "required_fields": list(stage.required_fields or []),
    }  # fmt: skip


def pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    """Expects the stages prefetched in order (``selectors.pipelines()``)."""
    return {
        "id": pipeline.pk, "name": pipeline.name, "position": pipeline.position,
        "is_default": pipeline.is_default, "created_at": pipeline.created_at,
        "stages": [stage_out(s) for s in pipeline.stages.all()],
    }  # fmt: skip


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = selectors.pipelines().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return pipeline


def _stage(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise NotFound(f"stage {stage_id} not found")
    return stage


@pipelines.get("", response={200: PipelinePage, **ERRORS})
def list_pipelines(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every pipeline with its stages in order."""
    return page_body(simple_page(selectors.pipelines(), ["position", "id"], page), pipeline_out)


@pipelines.post("", response={201: PipelineOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_pipeline(request: ApiRequest, payload: PipelineIn) -> Status[dict[str, Any]]:
    """Administrators only. Without ``stages`` it starts with New, Won and Lost; the first
    pipeline becomes the default."""
    body = _body(payload)
    stages = body.get("stages") if "stages" in body else starter_stages()
    pipeline = services.pipeline_create(actor=request.auth, name=body["name"], stages=stages)
    return Status(201, pipeline_out(_pipeline(pipeline.pk)))


@pipelines.get("/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def read_pipeline(request: ApiRequest, pipeline_id: int) -> dict[str, Any]:
    return pipeline_out(_pipeline(pipeline_id))


@pipelines.patch("/{pipeline_id}", response={200: PipelineOut, **ERRORS})
def update_pipeline(
    request: ApiRequest, pipeline_id: int, payload: PipelinePatch
) -> dict[str, Any]:
    """Administrators only: rename, or make it the default (``"is_default": true``)."""
    pipeline = _pipeline(pipeline_id)
    body = _body(payload)
    if "name" in body:
        services.pipeline_rename(
            actor=request.auth, pipeline=pipeline, name=body["name"], channel=Channel.API
        )
    if body.get("is_default"):
        services.pipeline_set_default(actor=request.auth, pipeline=pipeline, channel=Channel.API)
    return pipeline_out(_pipeline(pipeline_id))


@pipelines.delete("/{pipeline_id}", response={204: None, **ERRORS})
def delete_pipeline(request: ApiRequest, pipeline_id: int) -> Status[None]:
    """Administrators only; a pipeline holding deals, or the only one, is refused (422)."""
    services.pipeline_delete(
        actor=request.auth, pipeline=_pipeline(pipeline_id), channel=Channel.API
    )
    return Status(204, None)


@pipelines.post(
    "/{pipeline_id}/stages", response={201: StageOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def create_stage(request: ApiRequest, pipeline_id: int, payload: StageIn) -> Status[dict[str, Any]]:
    """Administrators only. An open stage goes before the first won or lost stage, a closing
    stage at the end."""
    stage = services.stage_add(
        actor=request.auth, pipeline=_pipeline(pipeline_id), data=_body(payload)
    )
    return Status(201, stage_out(stage))


@pipelines.post(
    "/{pipeline_id}/stages/reorder",
    response={200: PipelineOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
)
@idempotent
def reorder_stages(request: ApiRequest, pipeline_id: int, payload: StageOrderIn) -> dict[str, Any]:
    """Administrators only: give every stage id of the pipeline once, in the new order."""
    pipeline = _pipeline(pipeline_id)
    services.stage_reorder(actor=request.auth, pipeline=pipeline, stage_ids=payload.stage_ids)
    return pipeline_out(_pipeline(pipeline_id))


@stages.get("/{stage_id}", response={200: StageOut, **ERRORS})
def read_stage(request: ApiRequest, stage_id: int) -> dict[str, Any]:
    return stage_out(_stage(stage_id))


@stages.patch("/{stage_id}", response={200: StageOut, **ERRORS})
def update_stage(request: ApiRequest, stage_id: int, payload: StagePatch) -> dict[str, Any]:
    """Administrators only; only the keys sent change. A stage's kind stays while deals are
    in it or while it is its pipeline's last stage of that kind (422)."""
    stage = services.stage_change(
        actor=request.auth, stage=_stage(stage_id), changes=_body(payload)
    )
    return stage_out(stage)


@stages.delete("/{stage_id}", response={204: None, **ERRORS})
def delete_stage(request: ApiRequest, stage_id: int) -> Status[None]:
    """Administrators only; a stage holding deals, or the last open, won or lost stage of its
    pipeline, is refused (422)."""
    services.stage_remove(actor=request.auth, stage=_stage(stage_id), channel=Channel.API)
    return Status(204, None)


# --- deals ----------------------------------------------------------------------------------

deals = Router(tags=["deals"])


def deal_out(deal: Deal) -> dict[str, Any]:
    """The deal as lists show it; expects stage and currency joined, tags and contacts
    prefetched."""
    return {
        "id": deal.pk, "title": deal.title, "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id, "stage_name": deal.stage.name, "status": deal.stage.kind,
        "amount": deal.amount, "currency": deal.currency_id, "company_id": deal.company_id,
        "contact_ids": sorted(c.pk for c in deal.contacts.all()),
        "expected_close_date": deal.expected_close_date, "probability": deal.probability,
        "owner_id": deal.owner_id, "source": deal.source,
        "tags": sorted((t.name for t in deal.tags.all()), key=str.casefold),
        "custom": dict(deal.custom or {}), "lost_reason_id": deal.lost_reason_id,
        "lost_comment": deal.lost_comment, "stage_entered_at": deal.stage_entered_at,
        "closed_at": deal.closed_at, "created_at": deal.created_at, "updated_at": deal.updated_at,
    }  # fmt: skip


def _line_out(line: Any) -> dict[str, Any]:
    return {
        "id": line.pk, "name": line.name, "quantity": line.quantity, "unit": line.unit,
        "unit_price": line.unit_price, "discount_percent": line.discount_percent,
        "vat_rate": line.vat_rate, "net_total": line.net_total, "vat_total": line.vat_total,
        "total": line.total,
    }  # fmt: skip


def _visit_out(visit: DealStageHistory, now: dt.datetime) -> dict[str, Any]:
    seconds = ((visit.left_at or now) - visit.entered_at).total_seconds()
    return {
        "stage_id": visit.stage_id, "stage_name": visit.stage.name,
        "entered_at": visit.entered_at, "left_at": visit.left_at,
        "seconds_in_stage": max(0, int(seconds)),
    }  # fmt: skip


def deal_detail_out(deal: Deal) -> dict[str, Any]:
    """A deal with its lines, contacts and the stages it went through."""
    prefetch_related_objects(
        [deal],
        "lines", "contacts", "tags",
        Prefetch("stage_history", queryset=DealStageHistory.objects.select_related("stage")),
    )  # fmt: skip
    lines = list(deal.lines.all())
    net = sum((ln.net_total for ln in lines), Decimal("0.00")) if lines else deal.amount
    vat = sum((ln.vat_total for ln in lines), Decimal("0.00"))
    now = timezone.now()
    return {
        **deal_out(deal),
        "net_total": net,
        "vat_total": vat,
        "lines": [{**_line_out(ln), "product_id": ln.product_id} for ln in lines],
        "contacts": [
            {"id": c.pk, "name": c.full_name} for c in sorted(deal.contacts.all(), key=_pk)
        ],
        "stage_history": [_visit_out(v, now) for v in deal.stage_history.all()],
    }


def _pk(obj: Any) -> int:
    return int(obj.pk)


def _written_deal(deal: Deal) -> dict[str, Any]:
    # Rendered from the service's instance: the deal may now belong to someone the caller
    # cannot see (a new owner), and it was still this caller's write.
    fresh = Deal.objects.select_related("stage", "currency").get(pk=deal.pk)
    return deal_detail_out(fresh)


@deals.get("", response={200: DealPage, **ERRORS}, openapi_extra=DEAL_LIST_DOC)
def list_deals(request: ApiRequest) -> dict[str, Any]:
    """Deals the caller may see, filtered and sorted like the deal list of the web UI."""
    query = selectors.parse_deal_query(check_query(request.GET), request.auth)
    page = selectors.deal_list(request.auth, query)
    prefetch_related_objects(page.items, Prefetch("contacts", queryset=Contact.objects.only("id")))
    return page_body(page, deal_out)


@deals.post("", response={201: DealDetailOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_deal(request: ApiRequest, payload: DealIn) -> Status[dict[str, Any]]:
    """Create a deal (default pipeline, first stage, base currency unless given). With
    ``lines`` the amount is their total, computed here."""
    deal = services.deal_create(actor=request.auth, data=_body(payload), channel=Channel.API)
    return Status(201, _written_deal(deal))


@deals.get("/{deal_id}", response={200: DealDetailOut, **ERRORS})
def read_deal(request: ApiRequest, deal_id: int) -> dict[str, Any]:
    return deal_detail_out(selectors.get_deal_for_user(request.auth, deal_id))


@deals.patch("/{deal_id}", response={200: DealDetailOut, **ERRORS})
def update_deal(request: ApiRequest, deal_id: int, payload: DealIn) -> dict[str, Any]:
    """Change only the keys sent; ``lines``, ``contact_ids`` and ``tags`` replace the old ones.
    A new ``stage_id`` is a move with the same checks as ``POST /deals/{id}/move``."""
    deal = selectors.get_deal_for_user(request.auth, deal_id, write=True)
    deal = services.deal_update(
        actor=request.auth, deal=deal, changes=_body(payload), channel=Channel.API
    )
    return _written_deal(deal)


@deals.delete("/{deal_id}", response={204: None, **ERRORS})
def delete_deal(request: ApiRequest, deal_id: int) -> Status[None]:
    deal = selectors.get_deal_for_user(request.auth, deal_id, write=True)
    services.deal_delete(actor=request.auth, deal=deal, channel=Channel.API)
    return Status(204, None)


@deals.post(
    "/{deal_id}/move", response={200: DealDetailOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def move_deal(request: ApiRequest, deal_id: int, payload: DealMoveIn) -> dict[str, Any]:
    """Move the deal to a stage of its pipeline. When the stage requires fields the deal
    lacks (or a lost stage needs a reason) the answer is 422 naming each of them, and the
    deal is left as it was."""
    deal = selectors.get_deal_for_user(request.auth, deal_id, write=True)
    body = _body(payload)
    deal = services.deal_move(
        actor=request.auth, deal=deal, stage_id=body["stage_id"], channel=Channel.API,
        lost_reason_id=body.get("lost_reason_id"), lost_comment=body.get("lost_comment"),
    )  # fmt: skip
    return _written_deal(deal)


# --- products -------------------------------------------------------------------------------

products = Router(tags=["products"])


def product_out(product: Product) -> dict[str, Any]:
    """Expects the prices prefetched."""
    return {
        "id": product.pk, "sku": product.sku, "name": product.name, "unit": product.unit,
        "category": product.category, "vat_rate": product.vat_rate, "active": product.active,
        "description": product.description,
        "prices": {p.currency_id: p.price for p in product.prices.all()},
        "created_at": product.created_at, "updated_at": product.updated_at,
    }  # fmt: skip


def _products() -> QuerySet[Product]:
    prices = ProductPrice.objects.order_by("currency_id")
    return Product.objects.prefetch_related(Prefetch("prices", queryset=prices))


def _product(product_id: int) -> Product:
    product = _products().filter(pk=product_id).first()
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return product


@products.get("", response={200: ProductPage, **ERRORS})
def list_products(
    request: ApiRequest, page: Query[PageParams], q: str = "", category: str = "",
    active: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The catalogue by name; ``q`` searches the name and SKU."""
    qs = _products()
    if q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(sku__icontains=q.strip()))
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(active=active)
    return page_body(simple_page(qs, ["name", "id"], page), product_out)


@products.post("", response={201: ProductOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_product(request: ApiRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    product = services.product_create(actor=request.auth, data=_body(payload), channel=Channel.API)
    return Status(201, product_out(_product(product.pk)))


@products.get("/{product_id}", response={200: ProductOut, **ERRORS})
def read_product(request: ApiRequest, product_id: int) -> dict[str, Any]:
    return product_out(_product(product_id))


@products.patch("/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: ApiRequest, product_id: int, payload: ProductIn) -> dict[str, Any]:
    """Change only the keys sent; ``prices`` given replaces the whole price list."""
    services.product_update(
        actor=request.auth, product=_product(product_id), changes=_body(payload),
        channel=Channel.API,
    )  # fmt: skip
    return product_out(_product(product_id))


# --- activities -----------------------------------------------------------------------------

activities = Router(tags=["activities"])

# Activities without a due time sort after every dated one, and the cursor stays a plain value.
NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
ACTIVITY_SORTS = {
    "due_at": [SortKey("due_key"), SortKey("id")],
    "-due_at": [SortKey("due_key", True), SortKey("id", True)],
    "created_at": [SortKey("created_at"), SortKey("id")],
    "-created_at": [SortKey("created_at", True), SortKey("id", True)],
}


def activity_out(activity: Activity) -> dict[str, Any]:
    """Expects the participants prefetched."""
    names = (
        "kind", "subject", "description", "owner_id", "due_at", "done_at", "contact_id",
        "company_id", "deal_id", "lead_id", "call_direction", "call_duration", "call_result",
        "recording_url", "starts_at", "ends_at", "place", "remind_at", "created_at", "updated_at",
    )  # fmt: skip
    return {
        "id": activity.pk,
        **{name: getattr(activity, name) for name in names},
        "done": activity.done_at is not None,
        "participant_ids": sorted(u.pk for u in activity.participants.all()),
    }


def _written_activity(activity: Activity) -> dict[str, Any]:
    # Read back, so times come out as stored (UTC) whatever offset the client sent; not through
    # visibility, as a new assignee may be someone the caller cannot see.
    fresh = Activity.objects.prefetch_related("participants").get(pk=activity.pk)
    return activity_out(fresh)


def _due_bound(errors: Collector, name: str, raw: str, *, upper: bool) -> Q | None:
    """A day (whole day, in the active time zone) or an exact ISO 8601 moment."""
    day = parse_date(raw)
    if day is not None:
        return Q(**{f"due_at__date__{'lte' if upper else 'gte'}": day})
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        errors.add(name, _("must be a date (YYYY-MM-DD) or a date and time (ISO 8601)"))
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return Q(**{f"due_at__{'lte' if upper else 'gte'}": moment})


def _activity_filters(params: Any, user: Any) -> tuple[list[Q], list[SortKey]]:
    """The query string of the activity list, each bad parameter named at once."""
    errors = Collector()
    conds: list[Q] = []
    if kind := params.get("kind", "").strip():
        if kind in ActivityKind.values:
            conds.append(Q(kind=kind))
        else:
            options = ", ".join(ActivityKind.values)
            errors.add("kind", _("must be one of: %(options)s") % {"options": options})
    for name in ("assignee", "owner"):
        raw = params.get(name, "").strip()
        if raw == "me":
            conds.append(Q(owner_id=user.pk))
        elif raw.isdigit():
            conds.append(Q(owner_id=int(raw)))
        elif raw:
            errors.add(name, _("must be a user id or “me”"))
    for name in ("deal", "contact", "company", "lead"):
        raw = params.get(name, "").strip()
        if raw.isdigit():
            conds.append(Q(**{f"{name}_id": int(raw)}))
        elif raw:
            errors.add(name, _("must be a whole number"))
    done = params.get("done", "").strip().lower()
    if done in {"true", "1", "yes"}:
        conds.append(Q(done_at__isnull=False))
    elif done in {"false", "0", "no"}:
        conds.append(Q(done_at__isnull=True))
    elif done:
        errors.add("done", _("must be true or false"))
    for name, upper in (("due_from", False), ("due_to", True)):
        raw = params.get(name, "").strip()
        if raw and (bound := _due_bound(errors, name, raw, upper=upper)) is not None:
            conds.append(bound)
    sort = params.get("sort", "").strip() or "due_at"
    if sort not in ACTIVITY_SORTS:
        errors.add("sort", _("cannot sort by %(name)s") % {"name": sort})
    errors.raise_if_any()
    return conds, ACTIVITY_SORTS[sort]


@activities.get("", response={200: ActivityPage, **ERRORS}, openapi_extra=ACTIVITY_LIST_DOC)
def list_activities(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Tasks, calls and meetings the caller may see; by due time unless sorted otherwise."""
    params = check_query(request.GET)
    conds, keys = _activity_filters(params, request.auth)
    qs = selectors.activities_visible_to(request.auth).annotate(
        due_key=Coalesce("due_at", Value(NO_DUE, output_field=DateTimeField()))
    )
    for cond in conds:
        qs = qs.filter(cond)
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    result = keyset_page(qs.prefetch_related("participants"), keys, page.cursor, page.limit)
    return page_body(result, activity_out)


@activities.post("", response={201: ActivityOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_activity(request: ApiRequest, payload: ActivityIn) -> Status[dict[str, Any]]:
    """Create a task, call or meeting; the assignee (``owner_id``) defaults to the caller."""
    activity = services.activity_create(
        actor=request.auth, data=_body(payload), channel=Channel.API
    )
    return Status(201, _written_activity(activity))


@activities.get("/{activity_id}", response={200: ActivityOut, **ERRORS})
def read_activity(request: ApiRequest, activity_id: int) -> dict[str, Any]:
    activity = selectors.get_activity_for_user(request.auth, activity_id)
    prefetch_related_objects([activity], "participants")
    return activity_out(activity)


@activities.patch("/{activity_id}", response={200: ActivityOut, **ERRORS})
def update_activity(request: ApiRequest, activity_id: int, payload: ActivityIn) -> dict[str, Any]:
    """Change only the keys sent; a new ``remind_at`` fires again."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    activity = services.activity_update(
        actor=request.auth, activity=activity, changes=_body(payload), channel=Channel.API
    )
    return _written_activity(activity)


@activities.delete("/{activity_id}", response={204: None, **ERRORS})
def delete_activity(request: ApiRequest, activity_id: int) -> Status[None]:
    """The assignee may delete their own activity; others need the right to delete."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    services.activity_delete(actor=request.auth, activity=activity, channel=Channel.API)
    return Status(204, None)


@activities.post(
    "/{activity_id}/complete",
    response={200: ActivityOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
)
@idempotent
def complete_activity(
    request: ApiRequest, activity_id: int, payload: ActivityCompleteIn | None = None
) -> dict[str, Any]:
    """Mark the activity done (the body may be omitted), or open again with ``done: false``."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    done = payload.done if payload is not None else True
    activity = services.activity_complete(
        actor=request.auth, activity=activity, done=done, channel=Channel.API
    )
    return _written_activity(activity)


# --- quotes and invoices --------------------------------------------------------------------


def _documents(user: Any, kind: str) -> QuerySet[SalesDocument]:
    return selectors.documents_visible_to(user, kind)


def _document(user: Any, kind: str, pk: int, *, write: bool = False) -> SalesDocument:
    return selectors.get_document_for_user(user, pk, kind=kind, write=write)


def document_out(doc: SalesDocument) -> dict[str, Any]:
    names = (
        "kind", "number", "deal_id", "template_id", "status", "currency_id", "issue_date",
        "valid_until", "due_date", "net_total", "vat_total", "total", "paid_total", "balance",
        "is_overdue", "customer_name", "customer_details", "notes", "sent_at", "accepted_at",
        "created_by_id", "created_at", "updated_at",
    )  # fmt: skip
    out = {"id": doc.pk, **{name: getattr(doc, name) for name in names}}
    out["currency"] = out.pop("currency_id")
    return out


def document_detail_out(doc: SalesDocument) -> dict[str, Any]:
    lines = list(doc.lines.order_by("position", "id"))
    totals = document_totals(
        [LineTotals(ln.net_total, ln.vat_total, ln.total) for ln in lines],
        [ln.vat_rate for ln in lines],
    )
    return {
        **document_out(doc),
        "lines": [_line_out(ln) for ln in lines],
        "vat_by_rate": [{"rate": r, "amount": a} for r, a in sorted(totals.vat_by_rate.items())],
    }


def payment_out(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk, "document_id": payment.document_id, "amount": payment.amount,
        "paid_on": payment.paid_on, "method": payment.method, "reference": payment.reference,
        "created_by_id": payment.created_by_id, "created_at": payment.created_at,
    }  # fmt: skip


def _deal_for_document(user: Any, deal_id: int) -> Deal:
    """The deal named in the body: one the caller cannot see is a bad value, not a 404 of the
    endpoint."""
    try:
        return selectors.get_deal_for_user(user, deal_id, write=True)
    except NotFound as exc:
        raise ServiceValidationError.single("deal_id", _("no such deal")) from exc


def _document_router(kind: str) -> Router:
    """The same read and send endpoints for quotes and invoices, each over its own kind."""
    router = Router(tags=[f"{kind}s"])
    plural = f"{kind}s"

    @router.get(
        "",
        response={200: DocumentPage, **ERRORS},
        operation_id=f"list_{plural}",
        summary=f"List {plural.capitalize()}",
    )
    def list_documents(
        request: ApiRequest, page: Query[PageParams], deal: int | None = None, status: str = ""
    ) -> dict[str, Any]:
        """Newest first; ``deal`` and ``status`` narrow the list."""
        qs = _documents(request.auth, kind)
        if deal is not None:
            qs = qs.filter(deal_id=deal)
        if status:
            if status not in DocumentStatus.values:
                options = ", ".join(DocumentStatus.values)
                raise ServiceValidationError.single(
                    "status", _("must be one of: %(options)s") % {"options": options}
                )
            qs = qs.filter(status=status)
        if not 1 <= page.limit <= 500:
            raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
        newest = [SortKey("created_at", True), SortKey("id", True)]
        return page_body(keyset_page(qs, newest, page.cursor, page.limit), document_out)

    @router.get(
        "/{document_id}",
        response={200: DocumentDetailOut, **ERRORS},
        operation_id=f"read_{kind}",
        summary=f"Read {kind.capitalize()}",
    )
    def read_document(request: ApiRequest, document_id: int) -> dict[str, Any]:
        return document_detail_out(_document(request.auth, kind, document_id))

    @router.get(
        "/{document_id}/pdf", response=WITH_503, openapi_extra=PDF_DOC,
        operation_id=f"{kind}_pdf", summary=f"{kind.capitalize()} PDF",
    )  # fmt: skip
    def document_pdf(request: ApiRequest, document_id: int) -> HttpResponse:
        """The document rendered from its template, as shown to the customer."""
        doc = _document(request.auth, kind, document_id)
        try:
            pdf = services.document_pdf(doc)
        except services.PdfUnavailable as exc:
            raise _pdf_unavailable(exc) from exc
        response = HttpResponse(pdf, content_type="application/pdf")
        disposition = content_disposition_header(False, f"{doc.number}.pdf")
        if disposition:
            response["Content-Disposition"] = disposition
        return response

    @router.post(
        "/{document_id}/send", response={200: DocumentDetailOut, **WITH_503},
        openapi_extra=IDEMPOTENCY_DOC, operation_id=f"send_{kind}",
        summary=f"Send {kind.capitalize()}",
    )  # fmt: skip
    @idempotent
    def send_document(
        request: ApiRequest, document_id: int, payload: DocumentSendIn
    ) -> dict[str, Any]:
        """E-mail the PDF; a quote in draft becomes "sent"."""
        doc = _document(request.auth, kind, document_id, write=True)
        try:
            doc = services.document_send(
                actor=request.auth, doc=doc, to=payload.to, subject=payload.subject,
                message=payload.message, channel=Channel.API,
            )  # fmt: skip
        except services.PdfUnavailable as exc:
            raise _pdf_unavailable(exc) from exc
        return document_detail_out(doc)

    return router


quotes = _document_router(DocumentKind.QUOTE)
invoices = _document_router(DocumentKind.INVOICE)


def _create_document(
    request: ApiRequest, kind: str, payload: QuoteCreateIn | InvoiceCreateIn
) -> Status[dict[str, Any]]:
    body = _body(payload)
    deal = _deal_for_document(request.auth, body.pop("deal_id"))
    doc = services.document_create(
        actor=request.auth, deal=deal, kind=kind, channel=Channel.API, **body
    )
    return Status(201, document_detail_out(doc))


@quotes.post("", response={201: DocumentDetailOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_quote(request: ApiRequest, payload: QuoteCreateIn) -> Status[dict[str, Any]]:
    """Make a quote from a deal: its lines are copied (or one line for the deal's amount)."""
    return _create_document(request, DocumentKind.QUOTE, payload)


@invoices.post("", response={201: DocumentDetailOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_invoice(request: ApiRequest, payload: InvoiceCreateIn) -> Status[dict[str, Any]]:
    """Make an invoice from a deal: its lines are copied (or one line for the deal's amount)."""
    return _create_document(request, DocumentKind.INVOICE, payload)


@invoices.get("/{document_id}/payments", response={200: PaymentPage, **ERRORS})
def list_payments(request: ApiRequest, document_id: int, page: Query[PageParams]) -> dict[str, Any]:
    """Payments received against the invoice, oldest first."""
    doc = _document(request.auth, DocumentKind.INVOICE, document_id)
    return page_body(simple_page(doc.payments.all(), ["paid_on", "id"], page), payment_out)


@invoices.post(
    "/{document_id}/payments", response={201: PaymentOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def record_payment(
    request: ApiRequest, document_id: int, payload: PaymentIn
) -> Status[dict[str, Any]]:
    """Record money received; the invoice becomes partly paid or paid. More than the balance
    is refused (422, ``amount``)."""
    doc = _document(request.auth, DocumentKind.INVOICE, document_id, write=True)
    payment = services.payment_record(
        actor=request.auth, doc=doc, data=_body(payload), channel=Channel.API
    )
    return Status(201, payment_out(payment))
