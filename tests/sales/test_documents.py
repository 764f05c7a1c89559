"""Quotes and invoices: numbering, exact totals, PDF with Cyrillic, e-mail, acceptance, payments."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from voronka.core.audit import history
from voronka.core.errors import ServiceValidationError
from voronka.core.models import OutboxEvent
from voronka.sales.models import DocumentStatus
from voronka.sales.services import (
    deal_create,
    document_create,
    document_pdf,
    document_send,
    document_template_update,
    payment_record,
    quote_respond,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(alice: Any, make_company: Any) -> Any:
    company = make_company(alice, name="ООО «Северные технологии»", inn="7707083893")
    return deal_create(actor=alice, data={"title": "Поставка насосов", "company_id": company.pk, "lines": [
        {"name": "Насос центробежный ЦНС-38", "quantity": 3, "unit": "шт", "unit_price": "1999.99", "discount_percent": 10, "vat_rate": 20},
        {"name": "Монтаж и пусконаладка", "quantity": "1.5", "unit": "ч", "unit_price": "2500", "vat_rate": 20},
        {"name": "Доставка", "quantity": 1, "unit_price": "700"},
    ]})  # fmt: skip


def test_quote_is_numbered_per_year_and_totals_are_exact(alice: Any, deal: Any) -> None:
    q1 = document_create(actor=alice, deal=deal, kind="quote")
    q2 = document_create(actor=alice, deal=deal, kind="quote")
    inv = document_create(actor=alice, deal=deal, kind="invoice")
    year = timezone.localdate().year
    assert q1.number.endswith(f"-{year}-0001") and q2.number.endswith(f"-{year}-0002")
    assert inv.number.endswith(f"-{year}-0001") and inv.number != q1.number
    # 5399.97 + 3750.00 + 700 net; VAT 20 % = 1079.99 + 750.00
    assert (q1.net_total, q1.vat_total, q1.total) == (
        Decimal("9849.97"),
        Decimal("1829.99"),
        Decimal("11679.96"),
    )
    assert q1.total == deal.amount
    assert q1.status == DocumentStatus.DRAFT and inv.status == DocumentStatus.ISSUED


def test_quote_pdf_has_cyrillic_lines_and_totals(alice: Any, deal: Any) -> None:
    pdf = document_pdf(document_create(actor=alice, deal=deal, kind="quote"))
    assert pdf.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in (
        "Коммерческое предложение",
        "Насос центробежный ЦНС-38",
        "Монтаж и пусконаладка",
        "Северные технологии",
        "11",
    ):
        assert expected in text
    assert "679,96" in text  # 11 679,96 in Russian formatting


def test_sending_attaches_the_pdf_and_marks_the_quote_sent(
    alice: Any, deal: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    quote = document_create(actor=alice, deal=deal, kind="quote")
    with pytest.raises(ServiceValidationError) as exc:
        document_send(actor=alice, doc=quote, to=["not-an-email"])
    assert exc.value.errors[0].field == "to[0]"
    with django_capture_on_commit_callbacks(execute=True):
        quote = document_send(actor=alice, doc=quote, to=["buyer@sever.ru"])
    assert quote.status == DocumentStatus.SENT
    assert mail.outbox[0].attachments[0][0] == f"{quote.number}.pdf"
    assert OutboxEvent.objects.filter(name="quote.sent", entity_id=quote.pk).exists()


def test_public_acceptance_is_recorded_on_the_deal(alice: Any, deal: Any) -> None:
    quote = document_create(actor=alice, deal=deal, kind="quote")
    quote = quote_respond(doc=quote, accept=True, name="Иван Петров")
    assert quote.status == DocumentStatus.ACCEPTED and quote.accepted_at is not None
    assert any("quote_accepted" in e.changes for e in history(deal))
    assert OutboxEvent.objects.filter(name="quote.accepted", entity_id=quote.pk).exists()
    with pytest.raises(ServiceValidationError):
        quote_respond(doc=quote, accept=False)


def test_payments_move_the_invoice_to_partly_paid_then_paid(alice: Any, deal: Any) -> None:
    invoice = document_create(actor=alice, deal=deal, kind="invoice")
    payment_record(actor=alice, doc=invoice, data={"amount": "5000"})
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PARTLY_PAID and invoice.balance == Decimal("6679.96")
    with pytest.raises(ServiceValidationError) as exc:
        payment_record(actor=alice, doc=invoice, data={"amount": "7000"})
    assert exc.value.errors[0].field == "amount"
    payment_record(actor=alice, doc=invoice, data={"amount": "6679.96", "paid_on": "2026-11-20"})
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID
    assert OutboxEvent.objects.filter(name="invoice.paid", entity_id=invoice.pk).count() == 1


def test_a_broken_template_is_refused(admin: Any, alice: Any, deal: Any) -> None:
    quote = document_create(actor=alice, deal=deal, kind="quote")
    with pytest.raises(ServiceValidationError) as exc:
        document_template_update(actor=admin, template=quote.template, html="{% if %}")
    assert exc.value.errors[0].field == "html"
