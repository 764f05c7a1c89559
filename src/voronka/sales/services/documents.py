"""Quotes and invoices: made from a deal, numbered per year, rendered from an administrator's
HTML template to PDF, sent by e-mail, accepted through a public link, paid in parts."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import smtplib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import TemplateSyntaxError, engines
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from voronka.core import audit, events
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_email
from voronka.sales.models import (
    CompanyProfile,
    Currency,
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


def _context(doc: SalesDocument, deal: Deal, lines: list[DocumentLine]) -> dict[str, Any]:
    for line in lines:
        # 1.500 → "1,5": trailing zeros of the quantity mean nothing to the customer.
        line.quantity_display = number_format(line.quantity.normalize(), use_l10n=True)  # type: ignore[attr-defined]
    totals = document_totals(
        [LineTotals(ln.net_total, ln.vat_total, ln.total) for ln in lines],
        [ln.vat_rate for ln in lines],
    )
    return {
        "document": doc, "deal": deal, "lines": lines, "company": CompanyProfile.get(),
        "currency": doc.currency, "vat_by_rate": sorted(totals.vat_by_rate.items()),
    }  # fmt: skip


def document_context(doc: SalesDocument) -> dict[str, Any]:
    """What a document template sees; ``TEMPLATE_VARIABLES`` lists it for the editor."""
    return _context(doc, doc.deal, list(doc.lines.order_by("position", "id")))


# (name, what it is) for the template editor; every top-level name is a key of the context.
TEMPLATE_VARIABLES: list[tuple[str, Any]] = [
    ("document.number", _lazy("number, e.g. Q-2025-0001")),
    ("document.get_kind_display", _lazy("quote or invoice")),
    ("document.get_status_display", _lazy("status")),
    ("document.issue_date", _lazy("date of issue")),
    ("document.valid_until", _lazy("quote: valid until")),
    ("document.due_date", _lazy("invoice: payment due")),
    ("document.customer_name", _lazy("customer")),
    ("document.customer_details", _lazy("customer's legal name, INN, address")),
    ("document.net_total", _lazy("total without VAT")),
    ("document.vat_total", _lazy("VAT")),
    ("document.total", _lazy("total with VAT")),
    ("document.paid_total", _lazy("paid so far")),
    ("document.notes", _lazy("notes")),
    ("deal.title", _lazy("the deal's title")),
    ("lines", _lazy("list of lines: {% for line in lines %}…{% endfor %}")),
    ("line.name", _lazy("line: product or service")),
    ("line.quantity_display", _lazy("line: quantity without trailing zeros")),
    ("line.unit", _lazy("line: unit")),
    ("line.unit_price", _lazy("line: price without VAT")),
    ("line.discount_percent", _lazy("line: discount, %")),
    ("line.vat_rate", _lazy("line: VAT, % (None: no VAT)")),
    ("line.net_total", _lazy("line: sum without VAT")),
    ("line.vat_total", _lazy("line: VAT")),
    ("line.total", _lazy("line: sum with VAT")),
    ("vat_by_rate", _lazy("list of (rate, VAT amount) pairs")),
    ("currency.code", _lazy("currency code, e.g. RUB")),
    ("currency.symbol", _lazy("currency symbol, e.g. ₽")),
    ("company.name", _lazy("our company: name")),
    ("company.legal_name", _lazy("our company: legal name")),
    ("company.inn", _lazy("our company: INN / VAT number")),
    ("company.kpp", _lazy("our company: KPP")),
    ("company.ogrn", _lazy("our company: OGRN")),
    ("company.address", _lazy("our company: address")),
    ("company.phone", _lazy("our company: phone")),
    ("company.email", _lazy("our company: e-mail")),
    ("company.bank_name", _lazy("our bank")),
    ("company.bic", _lazy("bank BIC")),
    ("company.account", _lazy("our account")),
    ("company.corr_account", _lazy("correspondent account")),
    ("company.director", _lazy("director")),
]


def document_sample_context(kind: str) -> dict[str, Any]:
    """Made-up, unsaved data for previewing a template before any document exists."""
    today = timezone.localdate()
    currency = Currency.objects.filter(is_base=True).first() or Currency(
        code="RUB", name="Russian rouble", symbol="₽"
    )
    deal = Deal(title=_("Sample deal"), currency=currency)
    doc = SalesDocument(
        kind=kind, number=f"{PREFIXES['en'][kind] if kind in DocumentKind.values else 'X'}-{today.year}-0000",
        year=today.year, status=DocumentStatus.DRAFT if kind == DocumentKind.QUOTE else DocumentStatus.ISSUED,
        currency=currency, issue_date=today, valid_until=today + dt.timedelta(days=14),
        due_date=today + dt.timedelta(days=5), customer_name=_("Sample customer LLC"),
        customer_details="ООО «Пример», ИНН 7707083893", notes="",
    )  # fmt: skip
    doc.deal = deal
    lines = []
    for i, (name, qty, price, vat) in enumerate(
        [
            (_("Sample product"), "3", "1999.99", Decimal(20)),
            (_("Installation"), "1.5", "2500", None),
        ]
    ):
        t = line_totals(Decimal(qty), Decimal(price), Decimal(0), vat)
        lines.append(DocumentLine(name=name, quantity=Decimal(qty), unit="шт", unit_price=Decimal(price),
                                  vat_rate=vat, net_total=t.net, vat_total=t.vat, total=t.total, position=i))  # fmt: skip
    doc.net_total = sum((ln.net_total for ln in lines), Decimal(0))
    doc.vat_total = sum((ln.vat_total for ln in lines), Decimal(0))
    doc.total = doc.net_total + doc.vat_total
    return _context(doc, deal, lines)


def template_render(html: str, context: Mapping[str, Any]) -> str:
    """Render an administrator's template; any failure is a field error on ``html``, never a
    crash, because the template is typed in a browser and may call anything."""
    try:
        template = engines["django"].from_string(html)
    except TemplateSyntaxError as exc:
        raise ServiceValidationError.single(
            "html", _("the template does not compile: %(e)s") % {"e": exc}
        ) from exc
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return template.render(dict(context))
    except Exception as exc:  # any tag or filter may fail at render time
        raise ServiceValidationError.single(
            "html", _("the template fails to render: %(e)s") % {"e": exc}
        ) from exc


def document_render_html(doc: SalesDocument) -> str:
    template = doc.template or default_template(doc.kind)
    return template_render(template.html, document_context(doc))


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


def email_configured() -> bool:
    """False when mail would only be printed or dropped (no EMAIL_URL set)."""
    return settings.EMAIL_BACKEND not in (
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    )


def document_send(
    *, actor: Any, doc: SalesDocument, to: list[str], subject: str = "", message: str = "",
    channel: str = Channel.UI,
) -> SalesDocument:  # fmt: skip
    """E-mail the PDF to the customer; a quote in draft becomes "sent".

    The message goes out inside the transaction, after the writes: if the mail server refuses
    it, the status and history roll back and the person is told, instead of a quote marked
    "sent" that nobody received."""
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
    if len(subject or "") > 255:
        errors.add("subject", _("is longer than %(n)d characters") % {"n": 255})
    if len(message or "") > 10000:
        errors.add("message", _("is longer than %(n)d characters") % {"n": 10000})
    if not email_configured():
        errors.add("email", _("e-mail is not set up on this server (EMAIL_URL)"))
    errors.raise_if_any()
    pdf = document_pdf(doc)
    subject = (subject or "").strip() or f"{doc.get_kind_display().capitalize()} {doc.number}"
    reply_to = [a for a in (getattr(actor, "email", ""), CompanyProfile.get().email) if a][:1]
    try:
        with transaction.atomic():
            doc = SalesDocument.objects.select_for_update().get(pk=doc.pk)
            doc.sent_at = timezone.now()
            if doc.kind == DocumentKind.QUOTE and doc.status == DocumentStatus.DRAFT:
                doc.status = DocumentStatus.SENT
            doc.save(update_fields=["sent_at", "status", "updated_at"])
            audit.record(
                doc.deal,
                action="update",
                changes={f"{doc.kind}_sent": [doc.number, ", ".join(recipients)]},
                actor=actor,
                channel=channel,
            )
            events.publish(f"{doc.kind}.sent", entity="sales.document", entity_id=doc.pk,
                           payload={"number": doc.number, "deal_id": doc.deal_id, "to": recipients}, actor=actor, channel=channel)  # fmt: skip
            email = EmailMessage(
                subject=subject, body=message or "", to=recipients, reply_to=reply_to
            )
            email.attach(f"{doc.number}.pdf", pdf, "application/pdf")
            email.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        raise ServiceValidationError.single(
            "email", _("the mail server did not take the message: %(e)s") % {"e": exc}
        ) from exc
    return doc


def quote_respond(*, doc: SalesDocument, accept: bool, name: str = "", comment: str = "",
                  actor: Any = None, channel: str = Channel.UI) -> SalesDocument:  # fmt: skip
    """The customer (through the public link, ``actor`` None) or a manager accepts or rejects a
    quote. The answer lands on the deal's history, so it shows on the deal's timeline."""
    require_writer(actor)
    name = (name or "").strip()[:255]
    comment = (comment or "").strip()
    errors = Collector()
    if doc.kind != DocumentKind.QUOTE:
        errors.add("kind", _("only a quote can be accepted"))
    elif doc.status in (DocumentStatus.ACCEPTED, DocumentStatus.REJECTED):
        errors.add("status", _("this quote has already been answered"))
    elif doc.status == DocumentStatus.CANCELLED:
        errors.add("status", _("this quote was withdrawn"))
    elif doc.valid_until and doc.valid_until < timezone.localdate():
        errors.add("valid_until", _("this quote has expired"))
    if actor is None and not name:
        errors.add("name", _("give your name"))
    if len(comment) > 2000:
        errors.add("comment", _("is longer than %(n)d characters") % {"n": 2000})
    errors.raise_if_any()
    with transaction.atomic():
        doc = SalesDocument.objects.select_for_update().get(pk=doc.pk)
        if doc.status in (DocumentStatus.ACCEPTED, DocumentStatus.REJECTED):  # answered meanwhile
            raise ServiceValidationError.single("status", _("this quote has already been answered"))
        doc.status = DocumentStatus.ACCEPTED if accept else DocumentStatus.REJECTED
        doc.accepted_at = timezone.now() if accept else None
        doc.save(update_fields=["status", "accepted_at", "updated_at"])
        verb = "accepted" if accept else "rejected"
        changes: dict[str, Any] = {f"quote_{verb}": [doc.number, name or None]}
        if comment:
            changes["quote_comment"] = [None, comment]
        audit.record(doc.deal, action="update", changes=changes, actor=actor, channel=channel)
        events.publish(f"quote.{verb}", entity="sales.document", entity_id=doc.pk,
                       payload={"number": doc.number, "deal_id": doc.deal_id, "by": name, "comment": comment},
                       actor=actor, channel=channel)  # fmt: skip
    return doc


def payment_record(
    *, actor: Any, doc: SalesDocument, data: Mapping[str, Any], channel: str = Channel.UI
) -> Payment:
    require_writer(actor)
    values = dict(data)
    errors = Collector()
    if doc.kind != DocumentKind.INVOICE:
        errors.add("document", _("payments are recorded against invoices"))
    elif doc.status == DocumentStatus.CANCELLED:
        errors.add("document", _("this invoice was cancelled"))
    clean_decimal(errors, values, "amount", minimum=Decimal("0.01"), required=True)
    paid_on = values.get("paid_on") or timezone.localdate()
    if isinstance(paid_on, str):
        try:
            paid_on = dt.date.fromisoformat(paid_on)
        except ValueError:
            errors.add("paid_on", _("must be a date (YYYY-MM-DD)"))
    if len(str(values.get("method") or "")) > 64:
        errors.add("method", _("is longer than %(n)d characters") % {"n": 64})
    if len(str(values.get("reference") or "")) > 128:
        errors.add("reference", _("is longer than %(n)d characters") % {"n": 128})
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


# --- templates and our company's details (administrators) ---------------------------------------


def _check_template(kind: str, html: str) -> None:
    """Compile and render once, on the newest real document of the kind (the sample when
    there is none), so a template that would break every document is refused at save."""
    doc = SalesDocument.objects.filter(kind=kind).order_by("-id").first()
    template_render(html, document_context(doc) if doc else document_sample_context(kind))


def document_template_create(
    *, actor: Any, kind: str, name: str, copy_from: DocumentTemplate | None = None
) -> DocumentTemplate:
    """A new template of a kind, starting from a copy of another (the default by default)."""
    require_admin(actor)
    errors = Collector()
    if kind not in DocumentKind.values:
        errors.add("kind", _("must be quote or invoice"))
    name = (name or "").strip()
    if not name:
        errors.add("name", _("this field is required"))
    elif len(name) > 128:
        errors.add("name", _("is longer than %(n)d characters") % {"n": 128})
    if copy_from is not None and copy_from.kind != kind:
        errors.add("copy_from", _("copy a template of the same kind"))
    errors.raise_if_any()
    with transaction.atomic():
        source = copy_from or default_template(kind)
        template = DocumentTemplate.objects.create(kind=kind, name=name, html=source.html)
        audit.record(template, action="create", changes={"name": [None, name]}, actor=actor)
    return template


def document_template_update(
    *, actor: Any, template: DocumentTemplate, html: str, name: str | None = None,
    is_default: bool | None = None,
) -> DocumentTemplate:  # fmt: skip
    """Save an administrator's template after checking that it compiles and renders."""
    require_admin(actor)
    errors = Collector()
    if name is not None and not name.strip():
        errors.add("name", _("this field is required"))
    elif name is not None and len(name.strip()) > 128:
        errors.add("name", _("is longer than %(n)d characters") % {"n": 128})
    if not (html or "").strip():
        errors.add("html", _("this field is required"))
    if is_default is False and template.is_default:
        errors.add("is_default", _("make another template the default instead"))
    errors.raise_if_any()
    _check_template(template.kind, html)
    with transaction.atomic():
        before = {"name": template.name, "html": template.html, "is_default": template.is_default}
        template.html = html
        if name is not None:
            template.name = name.strip()
        if is_default and not template.is_default:
            DocumentTemplate.objects.filter(kind=template.kind, is_default=True).update(
                is_default=False
            )
            template.is_default = True
        template.save()
        after = {"name": template.name, "html": template.html, "is_default": template.is_default}
        audit.record(template, action="update", changes=audit.diff(before, after), actor=actor)
    return template


_DIGITS = {"inn": (10, 12), "kpp": (9,), "ogrn": (13, 15), "bic": (9,), "account": (20,),
           "corr_account": (20,)}  # fmt: skip
PROFILE_FIELDS = ["name", "legal_name", "inn", "kpp", "ogrn", "address", "phone", "email",
                  "bank_name", "bic", "account", "corr_account", "director"]  # fmt: skip


def company_profile_update(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI
) -> CompanyProfile:
    """Our company's details and bank account as printed on quotes and invoices."""
    require_admin(actor)
    errors = Collector()
    values: dict[str, str] = {}
    for field in PROFILE_FIELDS:
        if field not in data:
            continue
        value = re.sub(r"\s+", " ", str(data[field] or "")).strip()
        if field in _DIGITS and value:
            value = value.replace(" ", "")
            if not value.isdigit() or len(value) not in _DIGITS[field]:
                sizes = " / ".join(str(n) for n in _DIGITS[field])
                errors.add(field, _("must be %(n)s digits") % {"n": sizes})
        elif field == "email" and value:
            try:
                value = normalize_email(value)
            except ValueError:
                errors.add(field, _("not a valid e-mail address"))
        limit = getattr(CompanyProfile._meta.get_field(field), "max_length", None) or 255
        if len(value) > limit:
            errors.add(field, _("is longer than %(n)d characters") % {"n": limit})
        values[field] = value
    for field in sorted(set(data) - set(PROFILE_FIELDS)):
        errors.add(field, _("unknown field"))
    if "name" in values and not values["name"]:
        errors.add("name", _("this field is required"))
    errors.raise_if_any()
    with transaction.atomic():
        profile = CompanyProfile.get()
        before = {f: getattr(profile, f) for f in values}
        for field, value in values.items():
            setattr(profile, field, value)
        profile.save()
        changes = audit.diff(before, values)
        if changes:
            audit.record(profile, action="update", changes=changes, actor=actor, channel=channel)
    return profile
