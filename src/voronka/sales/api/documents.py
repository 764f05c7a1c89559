"""Sales API: quotes and invoices."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    simple_page,
)
from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.sales import selectors, services
from voronka.sales.api.common import (
    PDF_DOC,
    WITH_503,
    _pdf_unavailable,
    line_out,
)
from voronka.sales.models import (
    Deal,
    DocumentKind,
    DocumentStatus,
    Payment,
    SalesDocument,
)
from voronka.sales.money import LineTotals, document_totals
from voronka.sales.schemas import (
    DocumentDetailOut,
    DocumentPage,
    DocumentSendIn,
    InvoiceCreateIn,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    QuoteCreateIn,
)

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
        "lines": [line_out(ln) for ln in lines],
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
    body = patch_body(payload)
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
        actor=request.auth, doc=doc, data=patch_body(payload), channel=Channel.API
    )
    return Status(201, payment_out(payment))
