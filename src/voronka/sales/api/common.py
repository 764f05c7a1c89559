"""What the sales API modules share: query docs, PATCH bodies, the PDF error."""

from __future__ import annotations

from typing import Any

from ninja.errors import HttpError

from voronka.core.api import (
    query_doc,
)
from voronka.core.schemas import ERRORS, ErrorOut
from voronka.sales import services

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


def _pdf_unavailable(exc: services.PdfUnavailable) -> HttpError:
    return HttpError(503, str(exc))


def line_out(line: Any) -> dict[str, Any]:
    return {
        "id": line.pk, "name": line.name, "quantity": line.quantity, "unit": line.unit,
        "unit_price": line.unit_price, "discount_percent": line.discount_percent,
        "vat_rate": line.vat_rate, "net_total": line.net_total, "vat_total": line.vat_total,
        "total": line.total,
    }  # fmt: skip
