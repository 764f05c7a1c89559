"""Sales API: deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from ninja import Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    check_query,
    idempotent,
    page_body,
    patch_body,
)
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS
from voronka.customers.models import Contact
from voronka.sales import selectors, services
from voronka.sales.api.common import (
    DEAL_LIST_DOC,
    line_out,
)
from voronka.sales.models import (
    Deal,
    DealStageHistory,
)
from voronka.sales.schemas import (
    DealDetailOut,
    DealIn,
    DealMoveIn,
    DealPage,
)

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
        "lines": [{**line_out(ln), "product_id": ln.product_id} for ln in lines],
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
    deal = services.deal_create(actor=request.auth, data=patch_body(payload), channel=Channel.API)
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
        actor=request.auth, deal=deal, changes=patch_body(payload), channel=Channel.API
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
    body = patch_body(payload)
    deal = services.deal_move(
        actor=request.auth, deal=deal, stage_id=body["stage_id"], channel=Channel.API,
        lost_reason_id=body.get("lost_reason_id"), lost_comment=body.get("lost_comment"),
    )  # fmt: skip
    return _written_deal(deal)
