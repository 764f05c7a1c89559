"""Calls and tracking numbers over the REST API.

``calls`` is read-only (the PBX reports calls through its webhook) and shows what the
caller may see: calls of visible contacts and leads, and calls they took. Tracking numbers
are settings: administrators only. The same selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    page_body,
    patch_body,
    query_doc,
    require_admin,
    simple_page,
)
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.telephony import selectors, services
from voronka.telephony.models import Call, TrackingNumber
from voronka.telephony.schemas import (
    CallOut,
    CallPage,
    TrackingNumberIn,
    TrackingNumberOut,
    TrackingNumberPage,
)

calls = Router(tags=["calls"])
tracking_numbers = Router(tags=["tracking numbers"])

CALL_LIST_DOC = query_doc(
    ("direction", "string", "in or out"),
    ("status", "string", "ringing, answered, missed or completed"),
    ("manager_id", "integer", "the manager's user id"),
    ("contact_id", "integer", "contact id"),
    ("lead_id", "integer", "lead id"),
    ("tracking_number_id", "integer", "tracking number id"),
    ("number", "string", "the customer's or our number, in any common format"),
    ("since", "string", "started at or after (YYYY-MM-DD or ISO 8601)"),
    ("until", "string", "started before (YYYY-MM-DD or ISO 8601)"),
    ("cursor", "string", "next_cursor of the previous page"),
    ("limit", "integer", "page size, 1 to 500 (default 50)"),
)


def call_out(c: Call) -> dict[str, Any]:
    return {
        "id": c.pk, "integration_id": c.integration_id, "external_id": c.external_id,
        "direction": c.direction, "status": c.status, "caller": c.caller, "called": c.called,
        "extension": c.extension, "manager_id": c.manager_id, "started_at": c.started_at,
        "answered_at": c.answered_at, "ended_at": c.ended_at, "duration": c.duration,
        "recording_url": c.recording_url, "tracking_number_id": c.tracking_number_id,
        "source": c.source, "contact_id": c.contact_id, "lead_id": c.lead_id,
        "conversation_id": c.conversation_id, "activity_id": c.activity_id,
        "callback_task_id": c.callback_task_id,
    }  # fmt: skip


def number_out(t: TrackingNumber) -> dict[str, Any]:
    return {
        "id": t.pk, "number": t.number, "source": t.source, "utm_source": t.utm_source,
        "utm_campaign": t.utm_campaign, "default_owner_id": t.default_owner_id,
        "created_at": t.created_at, "updated_at": t.updated_at,
    }  # fmt: skip


# --- calls --------------------------------------------------------------------------------------


@calls.get("", response={200: CallPage, **ERRORS}, openapi_extra=CALL_LIST_DOC)
def list_calls(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Calls the caller may see, newest first."""
    filters = selectors.call_filters(check_query(request.GET))
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    result = keyset_page(
        selectors.call_list(request.auth, filters),
        [SortKey("started_at", descending=True), SortKey("id", descending=True)],
        page.cursor, page.limit,
    )  # fmt: skip
    return page_body(result, call_out)


@calls.get("/{call_id}", response={200: CallOut, **ERRORS})
def read_call(request: ApiRequest, call_id: int) -> dict[str, Any]:
    return call_out(selectors.get_call_for_user(request.auth, call_id))


# --- tracking numbers ---------------------------------------------------------------------------


@tracking_numbers.get("", response={200: TrackingNumberPage, **ERRORS})
def list_tracking_numbers(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    require_admin(request.auth)
    return page_body(simple_page(TrackingNumber.objects.all(), ["number", "id"], page), number_out)


@tracking_numbers.post(
    "", response={201: TrackingNumberOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def create_tracking_number(
    request: ApiRequest, payload: TrackingNumberIn
) -> Status[dict[str, Any]]:
    """A number published in one channel; ``source`` is written on its callers' leads."""
    require_admin(request.auth)
    number = services.tracking_number_create(
        actor=request.auth, data=patch_body(payload), channel=Channel.API
    )
    return Status(201, number_out(number))


@tracking_numbers.get("/{number_id}", response={200: TrackingNumberOut, **ERRORS})
def read_tracking_number(request: ApiRequest, number_id: int) -> dict[str, Any]:
    require_admin(request.auth)
    return number_out(selectors.get_tracking_number(number_id))


@tracking_numbers.patch("/{number_id}", response={200: TrackingNumberOut, **ERRORS})
def update_tracking_number(
    request: ApiRequest, number_id: int, payload: TrackingNumberIn
) -> dict[str, Any]:
    require_admin(request.auth)
    number = services.tracking_number_update(
        actor=request.auth, number=selectors.get_tracking_number(number_id),
        changes=patch_body(payload), channel=Channel.API,
    )  # fmt: skip
    return number_out(number)


@tracking_numbers.delete("/{number_id}", response={204: None, **ERRORS})
def delete_tracking_number(request: ApiRequest, number_id: int) -> Status[None]:
    require_admin(request.auth)
    services.tracking_number_delete(
        actor=request.auth, number=selectors.get_tracking_number(number_id), channel=Channel.API
    )
    return Status(204, None)
