"""The quotes and invoices pages: create from a deal, the document page (PDF, e-mail, payments,
manual answers), the public quote page, the list, the template editor and company details.

Every test goes through HTTP as a person would; visibility follows the deal, so an outsider
gets 404 for everything of a deal they cannot see."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from voronka.core.audit import history
from voronka.sales.models import (
    CompanyProfile,
    DocumentStatus,
    DocumentTemplate,
    SalesDocument,
)
from voronka.sales.services import deal_create, document_create, quote_respond

pytestmark = pytest.mark.django_db
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"


@pytest.fixture
def deal(alice: Any, make_company: Any, make_contact: Any) -> Any:
    company = make_company(alice, name="ООО «Северные технологии»", inn="7707083893")
    contact = make_contact(alice, company_id=company.pk, emails=[{"email": "buyer@sever.ru"}])
    return deal_create(actor=alice, data={
        "title": "Поставка насосов", "company_id": company.pk, "contact_ids": [contact.pk],
        "lines": [
            {"name": "Насос центробежный ЦНС-38", "quantity": 3, "unit": "шт", "unit_price": "1999.99",
             "discount_percent": 10, "vat_rate": 20},
            {"name": "Монтаж и пусконаладка", "quantity": "1.5", "unit": "ч", "unit_price": "2500", "vat_rate": 20},
            {"name": "Доставка", "quantity": 1, "unit_price": "700"},
        ],
    })  # fmt: skip


def as_user(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


# --- creating from a deal and the deal's panel --------------------------------------------------


def test_creating_a_quote_from_the_deal_copies_its_lines_and_totals(
    client: Client, alice: Any, deal: Any
) -> None:
    c = as_user(client, alice)
    panel = c.get(reverse("sales:deal_documents", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    assert panel.content.decode().lstrip().startswith("<section")
    assert "Create quote" in text(panel) and "Create invoice" in text(panel)

    response = c.post(reverse("sales:deal_document_create", args=[deal.pk]), {"kind": "quote"})
    doc = SalesDocument.objects.get(deal=deal)
    assert response.status_code == 302 and response["Location"] == f"/sales/documents/{doc.pk}/"
    assert doc.kind == "quote" and doc.status == DocumentStatus.DRAFT
    lines = list(doc.lines.order_by("position", "id"))
    assert [ln.name for ln in lines] == [ln.name for ln in deal.lines.order_by("position", "id")]
    assert [ln.total for ln in lines] == [ln.total for ln in deal.lines.order_by("position", "id")]
    assert (doc.net_total, doc.vat_total, doc.total) == (
        Decimal("9849.97"),
        Decimal("1829.99"),
        Decimal("11679.96"),
    )

    page = text(c.get(response["Location"]))
    assert f"Quote {doc.number}" in page
    assert "11,679.96" in page  # the header, in alice's English formatting
    assert "ООО «Северные технологии»" in page
    assert "Насос центробежный ЦНС-38" in page  # inside the preview's srcdoc
    raw = c.get(response["Location"]).content.decode()
    # The admin-edited HTML stays inside the sandboxed frame, escaped, never in the page.
    assert (
        'sandbox="" srcdoc="{% load l10n %}' not in raw and 'srcdoc="&lt;!doctype html&gt;' in raw
    )
    assert f"/sales/q/{doc.public_token}/" in page  # the link to copy

    panel = text(c.get(reverse("sales:deal_documents", args=[deal.pk]), HTTP_HX_REQUEST="true"))
    assert doc.number in panel and "draft" in panel


def test_creating_from_htmx_redirects_to_the_new_invoice(
    client: Client, alice: Any, deal: Any
) -> None:
    c = as_user(client, alice)
    response = c.post(
        reverse("sales:deal_document_create", args=[deal.pk]),
        {"kind": "invoice"},
        HTTP_HX_REQUEST="true",
    )
    doc = SalesDocument.objects.get(deal=deal)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("sales:document", args=[doc.pk])
    assert doc.kind == "invoice" and doc.status == DocumentStatus.ISSUED and doc.due_date


def test_a_deal_without_products_or_amount_says_what_to_do(client: Client, alice: Any) -> None:
    empty = deal_create(actor=alice, data={"title": "Пустая сделка"})
    c = as_user(client, alice)
    response = c.post(reverse("sales:deal_document_create", args=[empty.pk]), {"kind": "quote"})
    assert response.status_code == 400
    assert "add products or an amount to the deal first" in text(response)
    htmx = c.post(
        reverse("sales:deal_document_create", args=[empty.pk]),
        {"kind": "quote"},
        HTTP_HX_REQUEST="true",
    )
    assert htmx.status_code == 200 and "Nothing was created" in text(htmx)
    assert not SalesDocument.objects.exists()


def test_an_invisible_deals_documents_answer_404(
    client: Client, alice: Any, bob: Any, charlie: Any, deal: Any, set_scope: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="invoice")
    urls = [
        reverse("sales:deal_documents", args=[deal.pk]),
        reverse("sales:document", args=[doc.pk]),
        reverse("sales:document_pdf", args=[doc.pk]),
    ]
    posts = [
        (reverse("sales:deal_document_create", args=[deal.pk]), {"kind": "quote"}),
        (reverse("sales:document_send", args=[doc.pk]), {"to": "x@example.com"}),
        (reverse("sales:document_payment", args=[doc.pk]), {"amount": "1"}),
        (reverse("sales:document_respond", args=[doc.pk]), {"answer": "accept"}),
    ]
    for outsider in (charlie, bob):  # bob is alice's teammate, but his scope is "own"
        c = as_user(Client(), outsider)
        for url in urls:
            assert c.get(url).status_code == 404, url
        for url, data in posts:
            assert c.post(url, data).status_code == 404, url
        listing = text(c.get(reverse("sales:documents")))
        assert doc.number not in listing
    assert SalesDocument.objects.count() == 1 and not doc.payments.exists()

    set_scope("sales_rep", "team")
    c = as_user(client, bob)
    assert c.get(reverse("sales:document", args=[doc.pk])).status_code == 200
    assert doc.number in text(c.get(reverse("sales:documents")))


def test_a_read_only_user_sees_but_cannot_write(
    client: Client, alice: Any, make_user: Any, deal: Any
) -> None:
    viewer = make_user("viewer", role="read_only")
    doc = document_create(actor=alice, deal=deal, kind="invoice")
    c = as_user(client, viewer)
    page = c.get(reverse("sales:document", args=[doc.pk]))
    assert page.status_code == 200 and "Record a payment" not in text(page)
    response = c.post(reverse("sales:document_payment", args=[doc.pk]), {"amount": "1"})
    assert response.status_code == 403
    response = c.post(reverse("sales:deal_document_create", args=[deal.pk]), {"kind": "quote"})
    assert response.status_code == 403
    assert SalesDocument.objects.count() == 1


# --- PDF and e-mail ---------------------------------------------------------------------------------


def test_the_pdf_downloads_as_a_pdf(client: Client, alice: Any, deal: Any) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    response = as_user(client, alice).get(reverse("sales:document_pdf", args=[doc.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment")
    assert doc.number.split("-")[-1] in response["Content-Disposition"]


def test_sending_mails_the_pdf_and_marks_the_quote_sent(
    client: Client, alice: Any, deal: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = LOCMEM
    doc = document_create(actor=alice, deal=deal, kind="quote")
    c = as_user(client, alice)
    page = text(c.get(reverse("sales:document", args=[doc.pk])))
    assert 'value="buyer@sever.ru"' in page  # prefilled from the deal's contact

    response = c.post(
        reverse("sales:document_send", args=[doc.pk]),
        {"to": "buyer@sever.ru, boss@sever.ru", "subject": "Наше предложение", "message": "Добрый день!"},
    )  # fmt: skip
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["buyer@sever.ru", "boss@sever.ru"] and sent.subject == "Наше предложение"
    name, content, mimetype = sent.attachments[0]
    assert name == f"{doc.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.SENT and doc.sent_at is not None
    assert "Sent to buyer@sever.ru, boss@sever.ru." in text(c.get(response["Location"]))


def test_a_bad_address_is_shown_next_to_the_field(
    client: Client, alice: Any, deal: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = LOCMEM
    doc = document_create(actor=alice, deal=deal, kind="quote")
    response = as_user(client, alice).post(
        reverse("sales:document_send", args=[doc.pk]), {"to": "buyer@sever.ru, not-an-email"}
    )
    assert response.status_code == 400
    page = text(response)
    assert 'id="id_to_send_error"' in page and "not a valid e-mail address" in page
    assert 'value="buyer@sever.ru, not-an-email"' in page  # what was typed stays
    assert not mail.outbox
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DRAFT


def test_without_mail_settings_sending_explains_why(
    client: Client, alice: Any, deal: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = CONSOLE
    doc = document_create(actor=alice, deal=deal, kind="quote")
    c = as_user(client, alice)
    assert "E-mail is not set up on this server" in text(
        c.get(reverse("sales:document", args=[doc.pk]))
    )
    response = c.post(reverse("sales:document_send", args=[doc.pk]), {"to": "buyer@sever.ru"})
    assert response.status_code == 400
    assert "e-mail is not set up on this server (EMAIL_URL)" in text(response)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DRAFT and doc.sent_at is None


# --- payments, overdue and manual answers -----------------------------------------------------------


def test_payments_make_the_invoice_partly_paid_then_paid(
    client: Client, alice: Any, deal: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="invoice")
    c = as_user(client, alice)
    url = reverse("sales:document_payment", args=[doc.pk])
    response = c.post(url, {"amount": "5000", "paid_on": "2026-01-15", "method": "Bank transfer",
                            "reference": "п/п 123"})  # fmt: skip
    assert response.status_code == 302
    page = text(c.get(response["Location"]))
    assert "partly paid" in page and "п/п 123" in page and "6,679.96" in page  # the balance

    too_much = c.post(url, {"amount": "7000"})
    assert too_much.status_code == 400
    assert 'id="id_amount_pay_error"' in text(too_much)
    assert "more than the balance" in text(too_much)

    bad = c.post(url, {"amount": "abc", "paid_on": "yesterday"})
    assert bad.status_code == 400 and "must be a number" in text(bad)

    c.post(url, {"amount": "6679,96"})
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.PAID and doc.balance == 0
    assert doc.payments.count() == 2


def test_an_issued_invoice_past_its_due_date_shows_overdue(
    client: Client, alice: Any, deal: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="invoice")
    SalesDocument.objects.filter(pk=doc.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    other = document_create(actor=alice, deal=deal, kind="invoice")
    c = as_user(client, alice)
    page = text(c.get(reverse("sales:document", args=[doc.pk])))
    assert "overdue" in page
    listing = text(c.get(reverse("sales:documents"), {"status": "overdue"}))
    assert doc.number in listing and other.number not in listing


def test_a_manager_marks_a_quote_accepted_by_hand(client: Client, alice: Any, deal: Any) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    c = as_user(client, alice)
    response = c.post(reverse("sales:document_respond", args=[doc.pk]), {"answer": "accept"})
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.ACCEPTED
    again = c.post(
        reverse("sales:document_respond", args=[doc.pk]), {"answer": "reject"}, follow=True
    )
    assert "this quote has already been answered" in text(again)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.ACCEPTED


# --- the public quote page -------------------------------------------------------------------------


def test_the_customer_accepts_through_the_public_link(alice: Any, deal: Any) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("sales:public_quote", args=[doc.public_token])
    page = anon.get(url)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    assert doc.number in text(page) and "Accept" in text(page) and "Reject" in text(page)

    nameless = anon.post(url, {"answer": "accept", "name": ""})
    assert nameless.status_code == 400 and "give your name" in text(nameless)

    response = anon.post(url, {"answer": "accept", "name": "Иван Петров", "comment": "Ждём счёт"})
    assert response.status_code == 302 and response["Location"] == url
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.ACCEPTED and doc.accepted_at is not None
    after = text(anon.get(url))
    assert "You accepted this quote" in after and 'name="answer"' not in after
    entry = next(e for e in history(deal) if "quote_accepted" in e.changes)
    assert entry.changes["quote_accepted"] == [doc.number, "Иван Петров"]
    assert entry.changes["quote_comment"] == [None, "Ждём счёт"]

    twice = anon.post(url, {"answer": "reject", "name": "Иван Петров"})
    assert twice.status_code == 400 and "this quote has already been answered" in text(twice)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.ACCEPTED

    assert (
        anon.get(reverse("sales:public_quote_pdf", args=[doc.public_token]))["Content-Type"]
        == "application/pdf"
    )


def test_the_customer_rejects_and_the_staff_page_shows_it(
    client: Client, alice: Any, deal: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("sales:public_quote", args=[doc.public_token])
    anon.post(url, {"answer": "reject", "name": "Иван", "comment": "Дорого"})
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.REJECTED
    assert "You declined this quote" in text(anon.get(url))
    page = text(as_user(client, alice).get(reverse("sales:document", args=[doc.pk])))
    assert 'id="doc-status">rejected<' in page and "Mark accepted" not in page


def test_unknown_tokens_invoices_and_expired_quotes(alice: Any, deal: Any) -> None:
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert anon.get(reverse("sales:public_quote", args=["no-such-token"])).status_code == 404
    invoice = document_create(actor=alice, deal=deal, kind="invoice")
    assert anon.get(reverse("sales:public_quote", args=[invoice.public_token])).status_code == 404
    quote = document_create(actor=alice, deal=deal, kind="quote")
    SalesDocument.objects.filter(pk=quote.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    url = reverse("sales:public_quote", args=[quote.public_token])
    page = text(anon.get(url))
    assert "This quote has expired" in page and 'name="answer"' not in page
    response = anon.post(url, {"answer": "accept", "name": "Иван"})
    assert response.status_code == 400 and "this quote has expired" in text(response)
    quote.refresh_from_db()
    assert quote.status == DocumentStatus.DRAFT


# --- the list -------------------------------------------------------------------------------------


def test_the_list_filters_by_kind_status_and_search(
    client: Client, alice: Any, deal: Any, make_company: Any, django_assert_max_num_queries: Any
) -> None:
    quote = document_create(actor=alice, deal=deal, kind="quote")
    invoice = document_create(actor=alice, deal=deal, kind="invoice")
    other_deal = deal_create(actor=alice, data={"title": "Ремонт котельной", "amount": "5000"})
    repair = document_create(actor=alice, deal=other_deal, kind="quote")
    quote_respond(doc=repair, accept=True, name="Пётр")
    c = as_user(client, alice)
    url = reverse("sales:documents")

    def shown(**params: str) -> set[str]:
        page = text(c.get(url, params))
        return {d.number for d in (quote, invoice, repair) if d.number in page}

    assert shown() == {quote.number, invoice.number, repair.number}
    assert shown(kind="invoice") == {invoice.number}
    assert shown(status="accepted") == {repair.number}
    assert shown(q="котельн") == {repair.number}
    assert shown(q=invoice.number) == {invoice.number}
    bad = text(c.get(url, {"status": "nonsense"}))
    assert "Some filters could not be used" in bad
    fragment = c.get(url, {"kind": "quote"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="doc-results")
    assert "<html" not in fragment.content.decode() and quote.number in text(fragment)

    for _i in range(5):
        document_create(actor=alice, deal=deal, kind="invoice")
    with django_assert_max_num_queries(12):
        assert c.get(url).status_code == 200


def test_an_empty_list_says_what_to_do(client: Client, alice: Any) -> None:
    page = text(as_user(client, alice).get(reverse("sales:documents")))
    assert "No quotes or invoices yet." in page


# --- templates and company details ------------------------------------------------------------------


def test_a_template_syntax_error_is_a_form_error(
    client: Client, admin: Any, alice: Any, deal: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    template = doc.template
    original = template.html
    c = as_user(client, admin)
    url = reverse("sales:document_template", args=[template.pk])
    page = text(c.get(url))
    assert "document.number" in page and "company.bank_name" in page  # the variables
    assert doc.number in page  # previewed with the newest real quote

    broken = c.post(url, {"name": template.name, "html": "<p>{% if %}</p>", "action": "save"})
    assert broken.status_code == 400
    assert "the template does not compile" in text(broken)
    assert 'id="id_html_error"' in text(broken)
    failing = c.post(url, {"name": template.name, "html": "{% url 'nope' %}", "action": "save"})
    assert failing.status_code == 400 and "the template fails to render" in text(failing)
    template.refresh_from_db()
    assert template.html == original

    preview = c.post(url, {"name": template.name, "html": "<h1>Hi {{ document.customer_name }}</h1>",
                           "action": "preview", "source": "sample"})  # fmt: skip
    assert preview.status_code == 200 and "Hi Sample customer LLC" in text(preview)
    template.refresh_from_db()
    assert template.html == original

    saved = c.post(url, {"name": "Короткое КП", "html": "<h1>КП {{ document.number }}</h1>",
                         "action": "save", "is_default": "on"})  # fmt: skip
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.name == "Короткое КП" and "КП {{ document.number }}" in template.html
    page = text(as_user(Client(), alice).get(reverse("sales:document", args=[doc.pk])))
    assert f"КП {doc.number}" in page

    hostile = '<p title="x">"</p><script>alert(1)</script>'
    saved = c.post(url, {"name": "x", "html": hostile, "action": "save", "is_default": "on"})
    assert saved.status_code == 302
    for user, path in ((alice, reverse("sales:document", args=[doc.pk])),
                       (None, reverse("sales:public_quote", args=[doc.public_token]))):  # fmt: skip
        viewer = as_user(Client(), user) if user else Client()
        raw = viewer.get(path).content.decode()
        assert "<script>alert(1)" not in raw and "&lt;script&gt;alert(1)" in raw


def test_a_new_template_starts_from_the_default_and_can_become_it(
    client: Client, admin: Any
) -> None:
    c = as_user(client, admin)
    url = reverse("sales:document_templates")
    assert c.post(url, {"kind": "invoice", "name": ""}).status_code == 400
    response = c.post(url, {"kind": "invoice", "name": "Счёт с печатью"})
    assert response.status_code == 302
    new = DocumentTemplate.objects.get(name="Счёт с печатью")
    standard = DocumentTemplate.objects.get(kind="invoice", is_default=True)
    assert new.html == standard.html and not new.is_default
    c.post(reverse("sales:document_template", args=[new.pk]),
           {"name": new.name, "html": new.html, "is_default": "on", "action": "save"})  # fmt: skip
    assert list(DocumentTemplate.objects.filter(kind="invoice", is_default=True)) == [new]
    page = text(c.get(url))
    assert "Счёт с печатью" in page and "Standard invoice" in page


def test_company_details_are_validated_and_printed(
    client: Client, admin: Any, alice: Any, deal: Any
) -> None:
    c = as_user(client, admin)
    url = reverse("sales:company_profile")
    data = {"name": "Воронка", "legal_name": "ООО «Воронка»", "inn": "77070838", "kpp": "",
            "ogrn": "", "address": "Москва", "phone": "", "email": "sales@voronka.example",
            "bank_name": "АО Банк", "bic": "044525225", "account": "40702810900000000001",
            "corr_account": "30101810400000000225", "director": "Иванов И. И."}  # fmt: skip
    bad = c.post(url, data)
    assert bad.status_code == 400 and "must be 10 / 12 digits" in text(bad)
    assert CompanyProfile.get().name == ""
    data["inn"] = "7707083893"
    assert c.post(url, data).status_code == 302
    assert CompanyProfile.get().bic == "044525225"
    invoice = document_create(actor=alice, deal=deal, kind="invoice")
    page = text(as_user(Client(), alice).get(reverse("sales:document", args=[invoice.pk])))
    assert "40702810900000000001" in page and "ООО «Воронка»" in page


def test_only_administrators_edit_templates_and_company_details(client: Client, alice: Any) -> None:
    c = as_user(client, alice)
    assert c.get(reverse("sales:document_templates")).status_code == 403
    assert c.get(reverse("sales:company_profile")).status_code == 403
    assert c.post(reverse("sales:company_profile"), {"name": "x"}).status_code == 403


def test_every_listed_variable_is_in_the_context(alice: Any, deal: Any) -> None:
    from voronka.sales.services.documents import TEMPLATE_VARIABLES, document_context

    context = document_context(document_create(actor=alice, deal=deal, kind="quote"))
    for name, _help in TEMPLATE_VARIABLES:
        root = name.split(".")[0]
        assert root in context or root == "line", name


def test_a_refusing_mail_server_is_reported_and_nothing_changes(
    client: Client, alice: Any, deal: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    doc = document_create(actor=alice, deal=deal, kind="quote")
    response = as_user(client, alice).post(
        reverse("sales:document_send", args=[doc.pk]), {"to": "buyer@sever.ru"}
    )
    assert response.status_code == 400
    assert "the mail server did not take the message" in text(response)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DRAFT and doc.sent_at is None
    assert not any("quote_sent" in e.changes for e in history(deal))


def test_a_template_broken_after_saving_never_breaks_the_page(
    client: Client, alice: Any, deal: Any
) -> None:
    doc = document_create(actor=alice, deal=deal, kind="quote")
    DocumentTemplate.objects.filter(pk=doc.template_id).update(html="{% url 'nope' %}")
    c = as_user(client, alice)
    page = c.get(reverse("sales:document", args=[doc.pk]))
    assert page.status_code == 200 and "The document's template is broken" in text(page)
    pdf = c.get(reverse("sales:document_pdf", args=[doc.pk]), follow=True)
    assert "The PDF cannot be made" in text(pdf)
    public = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("sales:public_quote", args=[doc.public_token])
    )
    assert public.status_code == 200 and "Насос центробежный ЦНС-38" in text(public)
