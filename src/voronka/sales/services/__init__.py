"""Every write of the sales domain, split by sub-domain."""

from voronka.sales.services.activities import (
    activity_complete,
    activity_create,
    activity_delete,
    activity_update,
    reminders_deliver_due,
)
from voronka.sales.services.catalog import product_create, product_update
from voronka.sales.services.deals import (
    deal_create,
    deal_delete,
    deal_move,
    deal_update,
    pipeline_create,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
)
from voronka.sales.services.documents import (
    PdfUnavailable,
    document_create,
    document_pdf,
    document_render_html,
    document_send,
    document_template_update,
    payment_record,
    quote_respond,
)
from voronka.sales.services.leads import lead_convert, lead_create, lead_update

__all__ = [
    "PdfUnavailable",
    "activity_complete",
    "activity_create",
    "activity_delete",
    "activity_update",
    "deal_create",
    "deal_delete",
    "deal_move",
    "deal_update",
    "document_create",
    "document_pdf",
    "document_render_html",
    "document_send",
    "document_template_update",
    "lead_convert",
    "lead_create",
    "lead_update",
    "payment_record",
    "pipeline_create",
    "product_create",
    "product_update",
    "quote_respond",
    "reminders_deliver_due",
    "stage_create",
    "stage_delete",
    "stage_reorder",
    "stage_update",
]  # fmt: skip
