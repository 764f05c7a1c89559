"""Quotes and invoices: made from a deal, numbered per year, rendered from an administrator's
HTML template to PDF, sent by e-mail, accepted through a public link, paid in parts."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import engines
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_email
from voronka.sales.models import (
    CompanyProfile,
    Deal,
    DocumentCounter,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    DocumentTemplate,
    Payment,
    SalesDocument,
)
from voronka.sales.money import LineTotals, document_totals, line_totals
from voronka.sales.services.common import clean_decimal, require_admin, require_writer

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "sales" / "documents"
PREFIXES: dict[str, dict[str, str]] = {
    "ru": {"quote": "КП", "invoice": "СЧ"},
    "en": {"quote": "Q", "invoice": "INV"},
}


class PdfUnavailable(Exception):
    """WeasyPrint or the system's Pango library is missing."""


def default_template(kind: str) -> DocumentTemplate:
    """The default template of a kind, created from the shipped file on first use."""
    template = DocumentTemplate.objects.filter(kind=kind, is_default=True).first()
    if template is None:
        html = (TEMPLATE_DIR / f"default_{kind}.html").read_text(encoding="utf-8")
        name = _("Standard quote") if kind == DocumentKind.QUOTE else _("Standard invoice")
        template = DocumentTemplate.objects.create(kind=kind, name=name, html=html, is_default=True)
    return template


def _next_number(kind: str, year: int) -> str:
    counter, _created = DocumentCounter.objects.select_for_update().get_or_create(
        kind=kind, year=year
    )
    DocumentCounter.objects.filter(pk=counter.pk).update(last=counter.last + 1)
    lang = "ru" if settings.LANGUAGE_CODE.startswith("ru") else "en"
    return f"{PREFIXES[lang][kind]}-{year}-{counter.last + 1:04d}"


def _customer(deal: Deal) -> tuple[str, str]:
    if deal.company_id and deal.company:
        c = deal.company
        details = ", ".join(p for p in (c.legal_name, f"ИНН {c.inn}" if c.inn else "",
                                        c.addresses.values_list("address", flat=True).first() or "") if p)  # fmt: skip
        return c.legal_name or c.name, details
    contact = deal.contacts.order_by("id").first()
    return (contact.full_name if contact else deal.title), ""


def document_create(
    *, actor: Any, deal: Deal, kind: str, template_id: int | None = None, notes: str = "",
    valid_days: int = 14, due_days: int = 5, channel: str = Channel.UI,
) -> SalesDocument:  # fmt: skip
    """A quote or invoice with a copy of the deal's lines (or one line for the deal's amount)."""
    require_writer(actor)
    errors = Collector()
    if kind not in DocumentKind.values:
        errors.add("kind", _("must be quote or invoice"))
    template = None
    if template_id is not None:
        template = DocumentTemplate.objects.filter(pk=template_id, kind=kind).first()
        if template is None:
            errors.add("template_id", _("no such template"))
    lines = list(deal.lines.order_by("position", "id"))
    if not lines and not deal.amount:
        errors.add("lines", _("add products or an amount to the deal first"))
    if len(notes or "") > 5000:
        errors.add("notes", _("is longer than %(n)d characters") % {"n": 5000})
    errors.raise_if_any()
    today = timezone.localdate()
    with transaction.atomic():
        template = template or default_template(kind)
        name, details = _customer(deal)
        doc = SalesDocument.objects.create(
            kind=kind, number=_next_number(kind, today.year), year=today.year, deal=deal, template=template,
            status=DocumentStatus.DRAFT if kind == DocumentKind.QUOTE else DocumentStatus.ISSUED,
            currency_id=deal.currency_id, issue_date=today,
            valid_until=today + dt.timedelta(days=valid_days) if kind == DocumentKind.QUOTE else None,
            due_date=today + dt.timedelta(days=due_days) if kind == DocumentKind.INVOICE else None,
            customer_name=name[:255], customer_details=details, notes=notes or "",
            public_token=secrets.token_urlsafe(32), created_by_id=getattr(actor, "pk", None),
        )  # fmt: skip
        if lines:
            rows = [DocumentLine(document=doc, name=ln.name, quantity=ln.quantity, unit=ln.unit, unit_price=ln.unit_price,
                                 discount_percent=ln.discount_percent, vat_rate=ln.vat_rate, net_total=ln.net_total,
                                 vat_total=ln.vat_total, total=ln.total, position=ln.position) for ln in lines]  # fmt: skip
        else:
            t = line_totals(Decimal(1), deal.amount, Decimal(0), None)
            rows = [DocumentLine(document=doc, name=deal.title, quantity=Decimal(1), unit="", unit_price=deal.amount,
                                 net_total=t.net, vat_total=t.vat, total=t.total)]  # fmt: skip
        DocumentLine.objects.bulk_create(rows)
        totals = document_totals(
            [LineTotals(r.net_total, r.vat_total, r.total) for r in rows],
            [r.vat_rate for r in rows],
        )
        doc.net_total, doc.vat_total, doc.total = totals.net, totals.vat, totals.total
        doc.save(update_fields=["net_total", "vat_total", "total"])
        audit.record(
            deal, action="update", changes={kind: [None, doc.number]}, actor=actor, channel=channel
        )
        events.publish(f"{kind}.created", entity="sales.document", entity_id=doc.pk,
                       payload={"number": doc.number, "deal_id": deal.pk, "total": doc.total}, actor=actor, channel=channel)  # fmt: skip
    return doc


def document_context(doc: SalesDocument) -> dict[str, Any]:
    lines = list(doc.lines.order_by("position", "id"))
    for line in lines:
        # 1.500 → "1,5": trailing zeros of the quantity mean nothing to the customer.
        line.quantity_display = number_format(line.quantity.normalize(), use_l10n=True)  # type: ignore[attr-defined]
    totals = document_totals(
        [LineTotals(ln.net_total, ln.vat_total, ln.total) for ln in lines],
        [ln.vat_rate for ln in lines],
    )
    return {
        "document": doc, "deal": doc.deal, "lines": lines, "company": CompanyProfile.get(),
        "currency": doc.currency, "vat_by_rate": sorted(totals.vat_by_rate.items()),
    }  # fmt: skip


def document_render_html(doc: SalesDocument) -> str:
    template = doc.template or default_template(doc.kind)
    with translation.override(settings.LANGUAGE_CODE):
        return engines["django"].from_string(template.html).render(document_context(doc))


def document_pdf(doc: SalesDocument) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango is not installed
        raise PdfUnavailable(
            _(
                "PDF needs WeasyPrint and the Pango library (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
            )
        ) from exc
    return HTML(string=document_render_html(doc)).write_pdf()


def document_send(
    *, actor: Any, doc: SalesDocument, to: list[str], subject: str = "", message: str = "",
    channel: str = Channel.UI,
) -> SalesDocument:  # fmt: skip
    """E-mail the PDF to the customer; a quote in draft becomes "sent"."""
    require_writer(actor)
    errors = Collector()
    recipients = []
    for i, raw in enumerate(to or []):
        try:
            recipients.append(normalize_email(raw))
        except ValueError:
            errors.add(f"to[{i}]", _("not a valid e-mail address"))
    if not recipients and not errors.errors:
        errors.add("to", _("give at least one recipient"))
    errors.raise_if_any()
    pdf = document_pdf(doc)
    subject = (subject or "").strip() or f"{doc.get_kind_display().capitalize()} {doc.number}"
    with transaction.atomic():
        doc = SalesDocument.objects.select_for_update().get(pk=doc.pk)
        doc.sent_at = timezone.now()
        if doc.kind == DocumentKind.QUOTE and doc.status == DocumentStatus.DRAFT:
            doc.status = DocumentStatus.SENT
        doc.save(update_fields=["sent_at", "status", "updated_at"])
        email = EmailMessage(subject=subject, body=message or "", to=recipients)
        email.attach(f"{doc.number}.pdf", pdf, "application/pdf")
        transaction.on_commit(partial(email.send, fail_silently=False))
        audit.record(
            doc.deal,
            action="update",
            changes={f"{doc.kind}_sent": [doc.number, ", ".join(recipients)]},
            actor=actor,
            channel=channel,
        )
        events.publish(f"{doc.kind}.sent", entity="sales.document", entity_id=doc.pk,
                       payload={"number": doc.number, "deal_id": doc.deal_id, "to": recipients}, actor=actor, channel=channel)  # fmt: skip
    return doc


def quote_respond(*, doc: SalesDocument, accept: bool, name: str = "", actor: Any = None,
                  channel: str = Channel.UI) -> SalesDocument:  # fmt: skip
    """The customer (through the public link) or a manager accepts or rejects a quote."""
    if doc.kind != DocumentKind.QUOTE:
        raise ServiceValidationError.single("kind", _("only a quote can be accepted"))
    if doc.status in (DocumentStatus.ACCEPTED, DocumentStatus.REJECTED):
        raise ServiceValidationError.single("status", _("this quote has already been answered"))
    if doc.valid_until and doc.valid_until < timezone.localdate():
        raise ServiceValidationError.single("valid_until", _("this quote has expired"))
    name = (name or "").strip()[:255]
    with transaction.atomic():
        doc = SalesDocument.objects.select_for_update().get(pk=doc.pk)
        doc.status = DocumentStatus.ACCEPTED if accept else DocumentStatus.REJECTED
        doc.accepted_at = timezone.now() if accept else None
        doc.save(update_fields=["status", "accepted_at", "updated_at"])
        verb = "accepted" if accept else "rejected"
        audit.record(
            doc.deal,
            action="update",
            changes={f"quote_{verb}": [doc.number, name or None]},
            actor=actor,
            channel=channel,
        )
        events.publish(f"quote.{verb}", entity="sales.document", entity_id=doc.pk,
                       payload={"number": doc.number, "deal_id": doc.deal_id, "by": name}, actor=actor, channel=channel)  # fmt: skip
    return doc


def payment_record(
    *, actor: Any, doc: SalesDocument, data: Mapping[str, Any], channel: str = Channel.UI
) -> Payment:
    require_writer(actor)
    values = dict(data)
    errors = Collector()
    if doc.kind != DocumentKind.INVOICE:
        errors.add("document", _("payments are recorded against invoices"))
    clean_decimal(errors, values, "amount", minimum=Decimal("0.01"), required=True)
    paid_on = values.get("paid_on") or timezone.localdate()
    if isinstance(paid_on, str):
        try:
            paid_on = dt.date.fromisoformat(paid_on)
        except ValueError:
            errors.add("paid_on", _("must be a date (YYYY-MM-DD)"))
    errors.raise_if_any()
    with transaction.atomic():
        doc = SalesDocument.objects.select_for_update().get(pk=doc.pk)
        if values["amount"] > doc.total - doc.paid_total:
            raise ServiceValidationError.single(
                "amount", _("more than the balance of %(b)s") % {"b": doc.total - doc.paid_total}
            )
        payment = Payment.objects.create(
            document=doc, amount=values["amount"], paid_on=paid_on, method=str(values.get("method") or "")[:64],
            reference=str(values.get("reference") or "")[:128], created_by_id=getattr(actor, "pk", None),
        )  # fmt: skip
        doc.paid_total += payment.amount
        doc.status = (
            DocumentStatus.PAID if doc.paid_total >= doc.total else DocumentStatus.PARTLY_PAID
        )
        doc.save(update_fields=["paid_total", "status", "updated_at"])
        audit.record(
            doc.deal,
            action="update",
            changes={"payment": [doc.number, str(payment.amount)]},
            actor=actor,
            channel=channel,
        )
        name = "invoice.paid" if doc.status == DocumentStatus.PAID else "invoice.partly_paid"
        events.publish(name, entity="sales.document", entity_id=doc.pk,
                       payload={"number": doc.number, "deal_id": doc.deal_id, "amount": payment.amount,
                                "paid_total": doc.paid_total}, actor=actor, channel=channel)  # fmt: skip
    return payment


def document_template_update(
    *, actor: Any, template: DocumentTemplate, html: str, name: str | None = None
) -> DocumentTemplate:
    """Save an administrator's template after checking that it renders."""
    require_admin(actor)
    from django.template import TemplateSyntaxError

    try:
        engines["django"].from_string(html)
    except TemplateSyntaxError as exc:
        raise ServiceValidationError.single(
            "html", _("the template does not compile: %(e)s") % {"e": exc}
        ) from exc
    with transaction.atomic():
        before = {"name": template.name, "html": template.html}
        template.html = html
        if name is not None and name.strip():
            template.name = name.strip()[:128]
        template.save()
        audit.record(
            template,
            action="update",
            changes=audit.diff(before, {"name": template.name, "html": template.html}),
            actor=actor,
        )
    return template
