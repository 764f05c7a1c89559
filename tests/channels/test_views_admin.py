"""The administrator's pages: web forms (list, build with preview, delete, submissions) and
lead sources (add, edit, rotate the secret, delete). Others get 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from voronka.channels.models import LeadSource, WebForm
from voronka.channels.services import Visit, form_submit, secret_matches

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin: Any) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def builder_post(**overrides: Any) -> dict[str, Any]:
    """What the builder sends: settings, and one line per field (ticked or not)."""
    data: dict[str, Any] = {"name": "Quote", "title": "Get a quote", "button_text": "Send",
                            "source": "", "active": "on", "success_message": "", "redirect_url": "",
                            "consent_text": "", "allowed_origins": ""}  # fmt: skip
    lines = {"email": (1, True, True, "Your e-mail"), "company_name": (2, True, False, ""),
             "first_name": (3, True, False, "Name")}  # fmt: skip
    for key, (order, on, required, label) in lines.items():
        data[f"f.{key}.order"] = str(order)
        data[f"f.{key}.label"] = label
        if on:
            data[f"f.{key}.on"] = "on"
        if required:
            data[f"f.{key}.required"] = "on"
    data.update(overrides)
    return data


def test_pages_are_for_administrators_only(
    client: Client, alice: Any, web_form: Any, make_source: Any
) -> None:
    source, _secret = make_source()
    urls = ["/channels/forms/", "/channels/forms/new/", f"/channels/forms/{web_form.pk}/",
            f"/channels/forms/{web_form.pk}/delete/", f"/channels/forms/{web_form.pk}/submissions/",
            "/channels/sources/", f"/channels/sources/{source.pk}/"]  # fmt: skip
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    client.force_login(alice)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post("/channels/forms/new/", builder_post()).status_code == 403
    assert client.post(f"/channels/sources/{source.pk}/rotate/").status_code == 403
    assert client.post("/channels/forms/preview/", builder_post()).status_code == 403
    assert WebForm.objects.count() == 1


def test_the_list_shows_forms_with_their_submissions(admin_client: Client, web_form: Any) -> None:
    html = admin_client.get("/channels/forms/").content.decode()
    assert "Contact us" in html and f"/channels/f/{web_form.token}/" in html
    form_submit(form=web_form, values={"first_name": "A", "email": "a@x.ru"}, visit=Visit())
    html = admin_client.get("/channels/forms/").content.decode()
    assert f'href="/channels/forms/{web_form.pk}/submissions/">1</a>' in html


def test_the_empty_list_says_what_to_do(admin_client: Client) -> None:
    html = admin_client.get("/channels/forms/").content.decode()
    assert "No web forms yet" in html and "/channels/forms/new/" in html


def test_building_a_form(admin_client: Client) -> None:
    page = admin_client.get("/channels/forms/new/")
    assert page.status_code == 200
    assert "Preview" in page.content.decode()
    response = admin_client.post("/channels/forms/new/", builder_post())
    form = WebForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/channels/forms/{form.pk}/"
    assert form.fields == [
        {"key": "email", "label": "Your e-mail", "required": True},
        {"key": "company_name", "label": "Company", "required": False},
        {"key": "first_name", "label": "Name", "required": False},
    ]
    html = admin_client.get(response["Location"]).content.decode()
    assert (
        f"&lt;div id=&quot;voronka-form-{form.token}&quot;&gt;&lt;/div&gt;" in html
    )  # the snippet
    assert f"http://testserver/channels/f/{form.token}/embed.js" in html
    assert f"http://testserver/channels/f/{form.token}/" in html


def test_reordering_and_unticking_fields(admin_client: Client, web_form: Any) -> None:
    post = builder_post(**{"f.email.order": "5", "f.first_name.order": "1"})
    del post["f.company_name.on"]
    response = admin_client.post(f"/channels/forms/{web_form.pk}/", post)
    assert response.status_code == 302
    web_form.refresh_from_db()
    assert [f["key"] for f in web_form.fields] == ["first_name", "email"]


def test_builder_errors_are_shown_next_to_the_input(admin_client: Client, web_form: Any) -> None:
    post = builder_post(name="", redirect_url="nope", consent_required="on",
                        allowed_origins="https://ok.example\nftp://bad")  # fmt: skip
    post["f.email.label"] = "x" * 200
    response = admin_client.post(f"/channels/forms/{web_form.pk}/", post)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert html.count('aria-invalid="true"') >= 5  # name, URL, consent, origins, the e-mail label
    assert "is longer than 128 characters" in html and "write what the visitor agrees to" in html
    assert "ftp://bad" in html
    web_form.refresh_from_db()
    assert web_form.name == "Contact us"


def test_a_form_that_cannot_make_a_lead_is_refused(admin_client: Client) -> None:
    post = builder_post()
    for key in ("email", "company_name", "first_name"):
        del post[f"f.{key}.on"]
    post["f.message.on"] = "on"
    response = admin_client.post("/channels/forms/new/", post)
    assert response.status_code == 400
    assert "a lead needs one" in response.content.decode()
    assert not WebForm.objects.exists()


def test_the_preview_follows_unsaved_changes(admin_client: Client) -> None:
    post = builder_post(title="Fresh title", consent_required="on", consent_text="I agree to it")
    post["f.region.on"] = "on"
    post["f.region.label"] = "Your city"
    response = admin_client.post("/channels/forms/preview/", post, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Fresh title" in html and "Your city" in html and "I agree to it" in html
    assert 'name="website"' not in html  # no honeypot in the preview
    assert not WebForm.objects.exists()


def test_deleting_a_form_keeps_its_leads(admin_client: Client, web_form: Any) -> None:
    lead = form_submit(
        form=web_form, values={"first_name": "A", "email": "a@x.ru"}, visit=Visit()
    ).lead
    confirm = admin_client.get(f"/channels/forms/{web_form.pk}/delete/").content.decode()
    assert "1 submission is deleted" in confirm
    response = admin_client.post(f"/channels/forms/{web_form.pk}/delete/")
    assert response.status_code == 302 and not WebForm.objects.exists()
    lead.refresh_from_db()
    assert admin_client.get("/channels/forms/999999/").status_code == 404


def test_submissions_page_links_the_leads(admin_client: Client, web_form: Any) -> None:
    for i in range(3):
        form_submit(form=web_form, values={"first_name": f"Visitor{i}", "email": f"v{i}@x.ru"},
                    visit=Visit(utm={"utm_source": "vk"}, page_url="https://ex.com/p"))  # fmt: skip
    html = admin_client.get(f"/channels/forms/{web_form.pk}/submissions/").content.decode()
    assert html.count("/sales/leads/") >= 3 and "Visitor2" in html and ">vk<" in html
    assert (
        admin_client.get(f"/channels/forms/{web_form.pk}/submissions/?cursor=bad").status_code
        == 404
    )


# --- lead sources -------------------------------------------------------------------------------


def test_adding_a_source_shows_its_secret_once(admin_client: Client) -> None:
    bad = admin_client.post("/channels/sources/", {"name": ""})
    assert bad.status_code == 400 and "this field is required" in bad.content.decode()
    response = admin_client.post("/channels/sources/", {"name": "Tilda", "source": "landing"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    source = LeadSource.objects.get()
    html = response.content.decode()
    secret = html.split('id="vk-secret" value="')[1].split('"')[0]
    assert secret_matches(source, secret)
    assert f"http://testserver/channels/hooks/{source.token}/?secret={secret}" in html
    again = admin_client.get(f"/channels/sources/{source.pk}/").content.decode()
    assert secret not in again and source.secret_hint in again
    assert "Tilda" in admin_client.get("/channels/sources/").content.decode()


def test_editing_rotating_and_deleting_a_source(admin_client: Client, make_source: Any) -> None:
    source, old = make_source()
    response = admin_client.post(
        f"/channels/sources/{source.pk}/", {"name": "Renamed", "source": ""}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.active) == ("Renamed", False)
    rotated = admin_client.post(f"/channels/sources/{source.pk}/rotate/")
    assert rotated.status_code == 200 and "the old one no longer works" in rotated.content.decode()
    source.refresh_from_db()
    assert not secret_matches(source, old)
    assert admin_client.post(f"/channels/sources/{source.pk}/delete/").status_code == 302
    assert not LeadSource.objects.exists()


def test_list_pages_cost_the_same_whatever_the_rows(
    admin_client: Client, make_form: Any, make_source: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    form = make_form()
    make_source()

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = ["/channels/forms/", f"/channels/forms/{form.pk}/submissions/", "/channels/sources/"]
    before = [cost(url) for url in urls]
    for i in range(6):
        make_form(name=f"Form {i}")
        make_source(name=f"Source {i}")
        form_submit(form=form, values={"first_name": f"V{i}", "email": f"v{i}@x.ru"},
                    visit=Visit(ip=f"192.0.2.{i}"))  # fmt: skip
    assert [cost(url) for url in urls] == before
    with django_assert_max_num_queries(12):
        admin_client.get(f"/channels/forms/{form.pk}/submissions/")
