"""Sales API: leads."""

from __future__ import annotations

from typing import Any

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
from voronka.sales import selectors, services
from voronka.sales.api.common import (
    LEAD_LIST_DOC,
)
from voronka.sales.models import (
    Lead,
)
from voronka.sales.schemas import (
    LeadConvertIn,
    LeadConvertOut,
    LeadIn,
    LeadOut,
    LeadPage,
)

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
    lead = services.lead_create(actor=request.auth, data=patch_body(payload), channel=Channel.API)
    return Status(201, lead_out(lead))


@leads.get("/{lead_id}", response={200: LeadOut, **ERRORS})
def read_lead(request: ApiRequest, lead_id: int) -> dict[str, Any]:
    return lead_out(selectors.get_lead_for_user(request.auth, lead_id))


@leads.patch("/{lead_id}", response={200: LeadOut, **ERRORS})
def update_lead(request: ApiRequest, lead_id: int, payload: LeadIn) -> dict[str, Any]:
    """Change only the keys sent. A converted lead only changes owner."""
    lead = selectors.get_lead_for_user(request.auth, lead_id, write=True)
    lead = services.lead_update(
        actor=request.auth, lead=lead, changes=patch_body(payload), channel=Channel.API
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
    options = patch_body(payload) if payload is not None else {}
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
