"""Lead pages through Django's test client: list with filters and pages, the create form
with errors next to fields, the card (status, junk reason, owner), and conversion."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.customers.models import Company, Contact
from voronka.sales.models import Deal, Lead, LeadStatus, Pipeline
from voronka.sales.services import lead_create

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_lead(owner: Any, **data: Any) -> Lead:
    data.setdefault("last_name", "Сидоров")
    data.setdefault("owner_id", owner.pk)
    return lead_create(actor=owner, data=data)


def test_list_shows_visible_leads_and_filters(
    client: Any, alice: Any, charlie: Any, django_assert_max_num_queries: Any
) -> None:
    make_lead(alice, last_name="Webform", source="website", phone="+79161234567")
    make_lead(alice, last_name="Caller", source="phone", status=LeadStatus.IN_PROGRESS)
    make_lead(alice, last_name="Spammer", status=LeadStatus.JUNK, junk_reason="spam")
    make_lead(charlie, last_name="Hidden")
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        html = client.get("/sales/leads/").content.decode()
    assert "Webform" in html and "Caller" in html and "Spammer" in html
    assert "Hidden" not in html
    assert 'href="tel:+79161234567"' in html
    html = client.get("/sales/leads/", {"status": "in_progress"}).content.decode()
    assert "Caller" in html and "Webform" not in html
    html = client.get("/sales/leads/", {"source": "website"}).content.decode()
    assert "Webform" in html and "Caller" not in html
    html = client.get("/sales/leads/", {"q": "916 123"}).content.decode()
    assert "Webform" in html and "Caller" not in html
    html = client.get("/sales/leads/", {"owner": "me", "q": "hidden"}).content.decode()
    assert "No leads match" in html
    bad = client.get("/sales/leads/", {"status": "weird"})
    assert bad.status_code == 200 and "Some filters could not be used" in bad.content.decode()


def test_list_pages_with_htmx(client: Any, alice: Any) -> None:
    for i in range(3):
        make_lead(alice, last_name=f"Lead{i}")
    client.force_login(alice)
    html = client.get("/sales/leads/", {"limit": 2}).content.decode()
    assert 'id="more-row"' in html and "Lead0" not in html
    more = client.get(
        "/sales/leads/", {"limit": 2, "cursor": _cursor(html)}, HTTP_HX_TARGET="more-row", **HTMX
    ).content.decode()
    assert "Lead0" in more and "<html" not in more and 'id="more-row"' not in more


def _cursor(html: str) -> str:
    import html as html_lib
    import re

    match = re.search(r'hx-get="[^"]*cursor=([^"&]+)', html)
    assert match
    return html_lib.unescape(match.group(1))


def test_new_lead_reports_errors_per_field_then_normalizes(client: Any, alice: Any) -> None:
    client.force_login(alice)
    assert "Campaign (UTM)" in client.get("/sales/leads/new/").content.decode()
    bad = client.post("/sales/leads/new/", {"last_name": "Олегов", "email": "nope", "phone": "12"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_email_error"' in html and "not a valid e-mail address" in html
    assert 'id="id_phone_error"' in html and 'value="nope"' in html
    assert not Lead.objects.exists()
    empty = client.post("/sales/leads/new/", {"message": "hello"})
    assert empty.status_code == 400 and 'id="id_last_name_error"' in empty.content.decode()
    ok = client.post(
        "/sales/leads/new/",
        {"last_name": "Олегов", "email": "Oleg@Mail.RU", "phone": "8 (916) 123-45-67",
         "utm_source": "yandex", "message": "Call me"},
    )  # fmt: skip
    lead = Lead.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/sales/leads/{lead.pk}/"
    assert (lead.email, lead.phone, lead.owner_id) == ("oleg@mail.ru", "+79161234567", alice.pk)


def test_card_shows_lead_and_loads_activities(client: Any, alice: Any) -> None:
    lead = make_lead(
        alice, phone="+79161234567", utm_campaign="spring", message="Need 10 chairs", source="site"
    )
    client.force_login(alice)
    html = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "Need 10 chairs" in html and "spring" in html
    assert 'hx-get="/sales/' in html and 'hx-trigger="load"' in html
    from django.urls import reverse

    assert f'hx-get="{reverse("sales:lead_activities", args=[lead.pk])}"' in html
    assert 'id="convert-dialog"' in html
    edit = client.post(f"/sales/leads/{lead.pk}/edit/", {"last_name": "Новиков", "email": "bad"})
    assert edit.status_code == 400 and 'id="id_email_error"' in edit.content.decode()
    client.post(f"/sales/leads/{lead.pk}/edit/", {"last_name": "Новиков", "source": "site"})
    lead.refresh_from_db()
    assert lead.last_name == "Новиков" and lead.message == ""  # the form sends every field


def test_junk_needs_a_reason(client: Any, alice: Any) -> None:
    lead = make_lead(alice)
    client.force_login(alice)
    refused = client.post(f"/sales/leads/{lead.pk}/status/", {"status": "junk", "junk_reason": ""})
    assert refused.status_code == 400
    assert "say why this lead is junk" in refused.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    client.post(f"/sales/leads/{lead.pk}/status/", {"status": "junk", "junk_reason": "spam bot"})
    lead.refresh_from_db()
    assert (lead.status, lead.junk_reason) == (LeadStatus.JUNK, "spam bot")
    html = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "spam bot" in html and 'id="convert-dialog"' not in html  # junk is not converted


def test_reassign_owner(client: Any, alice: Any, bob: Any) -> None:
    lead = make_lead(alice)
    client.force_login(alice)
    bad = client.post(f"/sales/leads/{lead.pk}/owner/", {"owner_id": "999999"})
    assert bad.status_code == 400 and "no such active user" in bad.content.decode()
    response = client.post(f"/sales/leads/{lead.pk}/owner/", {"owner_id": str(bob.pk)})
    lead.refresh_from_db()
    assert lead.owner_id == bob.pk
    assert response["Location"] == "/sales/leads/"  # alice can no longer see it


def test_convert_creates_contact_company_and_deal_then_opens_the_deal(
    client: Any, alice: Any
) -> None:
    lead = make_lead(
        alice, first_name="Иван", company_name="ООО Вектор", email="ivan@vector.ru", source="site"
    )
    pipeline = Pipeline.objects.get(is_default=True)
    client.force_login(alice)
    page = client.get(f"/sales/leads/{lead.pk}/convert/")
    assert page.status_code == 200 and 'value="ООО Вектор"' in page.content.decode()
    response = client.post(
        f"/sales/leads/{lead.pk}/convert/",
        {"create_deal": "on", "deal_title": "Поставка для Вектора", "amount": "150 000,50",
         "currency": "USD", "pipeline_id": str(pipeline.pk)},
    )  # fmt: skip
    lead.refresh_from_db()
    deal = lead.converted_deal
    assert deal is not None and response["Location"] == f"/sales/deals/{deal.pk}/"
    assert (deal.title, str(deal.amount), deal.currency_id) == (
        "Поставка для Вектора", "150000.50", "USD"
    )  # fmt: skip
    assert lead.status == LeadStatus.QUALIFIED and lead.converted_contact is not None
    assert lead.converted_company.name == "ООО Вектор"
    assert list(deal.contacts.all()) == [lead.converted_contact]
    card = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert f'href="/sales/deals/{deal.pk}/"' in card and "Converted on" in card
    again = client.post(f"/sales/leads/{lead.pk}/convert/", {"create_deal": "on"})
    assert again.status_code == 400 and "already converted" in again.content.decode()


def test_convert_reuses_the_contact_and_can_skip_the_deal(
    client: Any, alice: Any, make_contact: Any
) -> None:
    existing = make_contact(alice, last_name="Уже-есть", phones=["+79161112233"])
    lead = make_lead(alice, last_name="Новый", phone="8 916 111-22-33")
    client.force_login(alice)
    page = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "Уже-есть" in page  # the dialog says which contact will be reused
    response = client.post(f"/sales/leads/{lead.pk}/convert/", {"deal_title": "x"})
    assert response["Location"] == f"/customers/contacts/{existing.pk}/"
    assert Contact.objects.count() == 1 and not Deal.objects.exists()


def test_bad_conversion_input_changes_nothing(client: Any, alice: Any) -> None:
    lead = make_lead(alice, company_name="Альфа")
    client.force_login(alice)
    response = client.post(
        f"/sales/leads/{lead.pk}/convert/",
        {"create_deal": "on", "amount": "lots", "currency": "RUB"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_convert_amount_error"' in html and "must be a number" in html
    bad_currency = client.post(
        f"/sales/leads/{lead.pk}/convert/", {"create_deal": "on", "currency": "XXX"}
    )
    assert "unknown currency" in bad_currency.content.decode()
    lead.refresh_from_db()
    assert lead.converted_at is None
    assert not Company.objects.exists() and not Contact.objects.exists()
    assert not Deal.objects.exists()


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_invisible_lead_is_404(client: Any, request: Any, alice: Any, who: str) -> None:
    lead = make_lead(alice)
    client.force_login(request.getfixturevalue(who))
    base = f"/sales/leads/{lead.pk}"
    assert client.get(f"{base}/").status_code == 404
    assert client.get(f"{base}/edit/").status_code == 404
    assert client.get(f"{base}/convert/").status_code == 404
    assert client.post(f"{base}/convert/", {"create_deal": "on"}).status_code == 404
    assert client.post(f"{base}/status/", {"status": "in_progress"}).status_code == 404
    assert client.post(f"{base}/owner/", {"owner_id": ""}).status_code == 404
    assert client.post(f"{base}/notes/", {"body": "hi"}).status_code == 404
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.converted_at is None


def test_read_only_role_cannot_write(client: Any, make_user: Any, alice: Any) -> None:
    lead = make_lead(alice)
    reader = make_user("rita", role="read_only")
    client.force_login(reader)
    card = client.get(f"/sales/leads/{lead.pk}/")
    assert card.status_code == 200
    html = card.content.decode()
    assert 'id="convert-dialog"' not in html and "/status/" not in html
    assert client.get("/sales/leads/new/").status_code == 403
    assert client.post("/sales/leads/new/", {"last_name": "X"}).status_code == 403
    assert client.post(f"/sales/leads/{lead.pk}/convert/", {}).status_code == 403
    assert client.post(f"/sales/leads/{lead.pk}/status/", {"status": "junk"}).status_code == 403
    assert Lead.objects.count() == 1 and not Contact.objects.exists()


def test_note_on_a_lead_appears_in_its_timeline(client: Any, alice: Any) -> None:
    lead = make_lead(alice)
    client.force_login(alice)
    html = client.post(f"/sales/leads/{lead.pk}/notes/", {"body": "Called, no answer"}, **HTMX)
    assert "Called, no answer" in html.content.decode()
    empty = client.post(f"/sales/leads/{lead.pk}/notes/", {"body": "  "}, **HTMX).content.decode()
    assert "the note is empty" in empty
