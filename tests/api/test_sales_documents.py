"""/api/v1/quotes and /api/v1/invoices: made from a deal, read with lines and totals, PDF,
sending by e-mail, payments; a document is as visible as its deal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from voronka.sales.models import Payment, SalesDocument

pytestmark = pytest.mark.django_db

QUOTES = "/api/v1/quotes"
INVOICES = "/api/v1/invoices"


@pytest.fixture
def reader(make_user: Any) -> Any:
    return make_user("reader", role="read_only")


@pytest.fixture
def deal(alice: Any, make_company: Any) -> Any:
    from voronka.sales.services import deal_create

    company = make_company(alice, name="ООО «Северные технологии»", inn="7707083893")
    return deal_create(actor=alice, data={"title": "Поставка насосов", "company_id": company.pk, "lines": [
        {"name": "Насос ЦНС-38", "quantity": 3, "unit": "шт", "unit_price": "1999.99", "discount_percent": 10, "vat_rate": 20},
        {"name": "Монтаж", "quantity": "1.5", "unit": "ч", "unit_price": "2500", "vat_rate": 10},
        {"name": "Доставка", "quantity": 1, "unit_price": "700"},
    ]})  # fmt: skip


def make_document(actor: Any, deal: Any, kind: str) -> SalesDocument:
    from voronka.sales.services import document_create

    return document_create(actor=actor, deal=deal, kind=kind)


def test_quote_from_a_deal_with_lines_and_totals(api: Any, alice: Any, deal: Any) -> None:
    client = api(alice)
    created = client.post(QUOTES, {"deal_id": deal.pk, "valid_days": 30, "notes": "Срок 2 недели"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "quote" and body["status"] == "draft"
    assert body["number"].startswith(("КП-", "Q-"))
    # 5399.97 net + 1079.99 VAT 20 %; 3750.00 + 375.00 VAT 10 %; 700.00 without VAT
    assert (body["net_total"], body["vat_total"], body["total"]) == (
        "9849.97", "1454.99", "11304.96",
    )  # fmt: skip
    assert body["vat_by_rate"] == [
        {"rate": "10.00", "amount": "375.00"}, {"rate": "20.00", "amount": "1079.99"},
    ]  # fmt: skip
    assert [ln["name"] for ln in body["lines"]] == ["Насос ЦНС-38", "Монтаж", "Доставка"]
    assert body["lines"][1]["quantity"] == "1.500"
    assert body["customer_name"] == "ООО «Северные технологии»"
    assert body["valid_until"] is not None and body["due_date"] is None
    assert body["notes"] == "Срок 2 недели" and body["balance"] == "11304.96"
    assert client.get(f"{QUOTES}/{body['id']}").json() == body
    listed = client.get(QUOTES).json()
    assert [d["id"] for d in listed["items"]] == [body["id"]]
    assert "lines" not in listed["items"][0]
    assert client.get(INVOICES).json()["items"] == []
    assert client.get(f"{INVOICES}/{body['id']}").status_code == 404


def test_invoice_list_filters(api: Any, alice: Any, deal: Any) -> None:
    from voronka.sales.services import deal_create

    other = deal_create(actor=alice, data={"title": "Другая", "amount": "100"})
    first = make_document(alice, deal, "invoice")
    second = make_document(alice, other, "invoice")
    client = api(alice)
    assert [d["id"] for d in client.get(INVOICES).json()["items"]] == [second.pk, first.pk]
    assert [d["id"] for d in client.get(INVOICES, deal=other.pk).json()["items"]] == [second.pk]
    page = client.get(INVOICES, limit=1).json()
    assert [d["id"] for d in page["items"]] == [second.pk]
    rest = client.get(INVOICES, limit=1, cursor=page["next_cursor"]).json()
    assert [d["id"] for d in rest["items"]] == [first.pk] and rest["next_cursor"] is None
    assert client.get(INVOICES, status="paid").json()["items"] == []
    bad = client.get(INVOICES, status="lost")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_a_deal_without_lines_gives_one_line(api: Any, alice: Any) -> None:
    from voronka.sales.services import deal_create

    deal = deal_create(actor=alice, data={"title": "Консультация", "amount": "5000"})
    body = api(alice).post(INVOICES, {"deal_id": deal.pk, "due_days": 10}).json()
    assert [(ln["name"], ln["total"]) for ln in body["lines"]] == [("Консультация", "5000.00")]
    assert body["status"] == "issued" and body["due_date"] is not None


def test_pdf(api: Any, alice: Any, deal: Any) -> None:
    doc = make_document(alice, deal, "quote")
    response = api(alice).get(f"{QUOTES}/{doc.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "inline" in response["Content-Disposition"]
    assert ".pdf" in response["Content-Disposition"]


def test_send_mails_the_pdf_and_marks_the_quote_sent(api: Any, alice: Any, deal: Any) -> None:
    doc = make_document(alice, deal, "quote")
    response = api(alice).post(f"{QUOTES}/{doc.pk}/send", {
        "to": ["Buyer@Example.com"], "subject": "Наше предложение", "message": "Добрый день!",
    })  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent" and response.json()["sent_at"] is not None
    [message] = mail.outbox
    assert message.to == ["buyer@example.com"] and message.subject == "Наше предложение"
    assert message.attachments[0][2] == "application/pdf"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"to": ["nope"]}, "to[0]"), ({"to": []}, "to"), ({}, "to"), ({"to": "a@b.ru"}, "to"),
     ({"to": ["a@b.ru"], "cc": ["x@y.ru"]}, "cc")],
)  # fmt: skip
def test_send_refuses_bad_recipients(
    api: Any, alice: Any, deal: Any, body: dict[str, Any], field: str
) -> None:
    doc = make_document(alice, deal, "quote")
    response = api(alice).post(f"{QUOTES}/{doc.pk}/send", body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert mail.outbox == []
    doc.refresh_from_db()
    assert doc.status == "draft" and doc.sent_at is None


def test_payments(api: Any, alice: Any, deal: Any) -> None:
    invoice = make_document(alice, deal, "invoice")
    client = api(alice)
    url = f"{INVOICES}/{invoice.pk}/payments"
    part = client.post(url, {"amount": "1000.50", "paid_on": "2030-01-15", "method": "bank"})
    assert part.status_code == 201, part.content
    assert part.json()["amount"] == "1000.50" and part.json()["paid_on"] == "2030-01-15"
    doc = client.get(f"{INVOICES}/{invoice.pk}").json()
    assert doc["status"] == "partly_paid" and doc["paid_total"] == "1000.50"
    assert doc["balance"] == "10304.46"
    too_much = client.post(url, {"amount": "10304.47"})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "amount"
    rest = client.post(url, {"amount": 10304.46, "paid_on": "2030-01-20"})
    assert rest.status_code == 201
    assert client.get(f"{INVOICES}/{invoice.pk}").json()["status"] == "paid"
    listed = client.get(url).json()
    assert [p["amount"] for p in listed["items"]] == ["1000.50", "10304.46"]
    assert listed["next_cursor"] is None
    assert client.post(f"{QUOTES}/{invoice.pk}/payments", {"amount": 1}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "ten"}, "amount"),
     ({"amount": "1", "paid_on": "yesterday"}, "paid_on"), ({"amount": "1", "tip": 1}, "tip"),
     ({"amount": "1", "method": "m" * 65}, "method")],
)  # fmt: skip
def test_bad_payments_write_nothing(
    api: Any, alice: Any, deal: Any, body: dict[str, Any], field: str
) -> None:
    invoice = make_document(alice, deal, "invoice")
    response = api(alice).post(f"{INVOICES}/{invoice.pk}/payments", body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "deal_id"), ({"deal_id": 999999}, "deal_id"), ({"deal_id": "x"}, "deal_id"),
     ({"deal_id": "{deal}", "template_id": 999999}, "template_id"),
     ({"deal_id": "{deal}", "valid_days": -1}, "valid_days"),
     ({"deal_id": "{deal}", "valid_days": 100000}, "valid_days"),
     ({"deal_id": "{deal}", "due_days": 5}, "due_days"),
     ({"deal_id": "{deal}", "notes": "n" * 5001}, "notes")],
)  # fmt: skip
def test_bad_quote_input_names_the_field(
    api: Any, alice: Any, deal: Any, body: dict[str, Any], field: str
) -> None:
    body = {k: deal.pk if v == "{deal}" else v for k, v in body.items()}
    response = api(alice).post(QUOTES, body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert SalesDocument.objects.count() == 0


def test_a_deal_without_amount_or_lines_is_refused(api: Any, alice: Any) -> None:
    from voronka.sales.services import deal_create

    empty = deal_create(actor=alice, data={"title": "Пусто"})
    response = api(alice).post(INVOICES, {"deal_id": empty.pk})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines"


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_documents_of_a_colleagues_deal_are_404(
    api: Any, alice: Any, bob: Any, charlie: Any, deal: Any, viewer: str
) -> None:
    quote = make_document(alice, deal, "quote")
    invoice = make_document(alice, deal, "invoice")
    client = api({"bob": bob, "charlie": charlie}[viewer])
    for response in (
        client.get(f"{QUOTES}/{quote.pk}"),
        client.get(f"{QUOTES}/{quote.pk}/pdf"),
        client.post(f"{QUOTES}/{quote.pk}/send", {"to": ["a@b.ru"]}),
        client.get(f"{INVOICES}/{invoice.pk}"),
        client.get(f"{INVOICES}/{invoice.pk}/payments"),
        client.post(f"{INVOICES}/{invoice.pk}/payments", {"amount": "1"}),
    ):
        assert response.status_code == 404
    assert client.get(QUOTES).json()["items"] == []
    assert client.get(INVOICES, deal=deal.pk).json()["items"] == []
    made = client.post(QUOTES, {"deal_id": deal.pk})
    assert made.status_code == 422 and made.json()["errors"][0]["field"] == "deal_id"
    assert SalesDocument.objects.count() == 2 and Payment.objects.count() == 0
    assert mail.outbox == []


def test_read_only_role_reads_but_may_not_write(
    api: Any, alice: Any, reader: Any, deal: Any
) -> None:
    invoice = make_document(alice, deal, "invoice")
    client = api(reader)
    assert client.get(f"{INVOICES}/{invoice.pk}").status_code == 200
    assert client.get(f"{INVOICES}/{invoice.pk}/payments").status_code == 200
    for response in (
        client.post(INVOICES, {"deal_id": deal.pk}),
        client.post(f"{INVOICES}/{invoice.pk}/send", {"to": ["a@b.ru"]}),
        client.post(f"{INVOICES}/{invoice.pk}/payments", {"amount": "1"}),
    ):
        assert response.status_code == 403
    assert SalesDocument.objects.count() == 1 and Payment.objects.count() == 0
    assert mail.outbox == []


def test_create_and_payment_are_idempotent(api: Any, alice: Any, deal: Any) -> None:
    client = api(alice)
    first = client.post(INVOICES, {"deal_id": deal.pk}, HTTP_IDEMPOTENCY_KEY="i-1")
    again = client.post(INVOICES, {"deal_id": deal.pk}, HTTP_IDEMPOTENCY_KEY="i-1")
    assert (first.status_code, again.content) == (201, first.content)
    assert SalesDocument.objects.count() == 1
    url = f"{INVOICES}/{first.json()['id']}/payments"
    paid = client.post(url, {"amount": "10"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    repeat = client.post(url, {"amount": "10"}, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert (paid.status_code, repeat.content) == (201, paid.content)
    assert Payment.objects.count() == 1
