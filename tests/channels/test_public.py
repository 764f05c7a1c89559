"""The public side, as a visitor's browser or another website meets it: the hosted page, the
embed script, the JSON submit endpoint with CORS, and the inbound lead webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voronka.channels.models import FormSubmission
from voronka.core.models import OutboxEvent
from voronka.sales.models import Lead

pytestmark = pytest.mark.django_db


def page_url(form: Any) -> str:
    return f"/channels/f/{form.token}/"


def submit_url(form: Any) -> str:
    return f"/channels/f/{form.token}/submit/"


def post_json(client: Any, url: str, body: Any, **headers: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", **headers)


# --- hosted page -------------------------------------------------------------------------------


def test_the_hosted_page_shows_the_form_without_login_or_cookies(
    public: Any, web_form: Any
) -> None:
    response = public.get(page_url(web_form) + "?utm_source=vk&utm_campaign=autumn",
                          HTTP_REFERER="https://vk.com/wall")  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ask us" in html
    assert 'name="first_name"' in html and 'name="email"' in html and "Question" in html
    assert 'name="utm_source" value="vk"' in html
    assert 'name="referrer" value="https://vk.com/wall"' in html
    assert 'name="website"' in html  # the honeypot, hidden from people
    assert not response.cookies
    assert "X-Frame-Options" not in response  # the page may be put in an iframe


def test_the_hosted_page_creates_a_lead_with_utm(public: Any, web_form: Any) -> None:
    response = public.post(page_url(web_form), {
        "first_name": "Анна", "email": "anna@example.com", "phone": "", "message": "Hello",
        "website": "", "utm_source": "vk", "utm_campaign": "autumn", "referrer": "https://vk.com/",
        "page_url": "http://testserver/channels/f/x/?utm_source=vk",
    })  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/channels/f/{web_form.token}/thanks/"
    lead = Lead.objects.get()
    assert (lead.first_name, lead.email, lead.utm_source, lead.utm_campaign, lead.source) == (
        "Анна", "anna@example.com", "vk", "autumn", "website")  # fmt: skip
    submission = FormSubmission.objects.get()
    assert (submission.lead, submission.ip, submission.referrer) == (
        lead,
        "203.0.113.7",
        "https://vk.com/",
    )
    thanks = public.get(response["Location"])
    assert "Thanks, we will call." in thanks.content.decode()


def test_the_hosted_page_redirects_when_told(public: Any, make_form: Any) -> None:
    form = make_form(redirect_url="https://example.com/thanks")
    response = public.post(page_url(form), {"first_name": "A", "email": "a@example.com"})
    assert (response.status_code, response["Location"]) == (302, "https://example.com/thanks")


def test_bad_input_redraws_the_page_with_errors_and_writes_nothing(
    public: Any, web_form: Any, rows: Any
) -> None:
    before = rows()
    response = public.post(page_url(web_form), {
        "first_name": "", "email": "not-an-email", "phone": "12", "message": "Keep me",
        "utm_source": "vk",
    })  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "this field is required" in html  # first_name
    assert "not a valid e-mail address" in html
    assert "Keep me" in html and 'value="not-an-email"' in html  # what was typed stays
    assert 'name="utm_source" value="vk"' in html
    assert 'aria-invalid="true"' in html
    assert rows() == before


def test_the_honeypot_looks_like_success_and_writes_nothing(
    public: Any, web_form: Any, rows: Any
) -> None:
    before = rows()
    response = public.post(page_url(web_form), {"first_name": "Bot", "email": "bot@x.ru",
                                                "website": "http://buy.example"})  # fmt: skip
    assert response.status_code == 302
    assert rows() == before


def test_a_switched_off_form_is_closed(public: Any, admin: Any, web_form: Any) -> None:
    from voronka.channels.services import web_form_update

    web_form_update(actor=admin, form=web_form, changes={"active": False})
    assert public.get(page_url(web_form)).status_code == 404
    assert "no longer accepts" in public.get(page_url(web_form)).content.decode()
    assert public.post(page_url(web_form), {"email": "a@b.ru"}).status_code == 404
    assert public.get(f"/channels/f/{web_form.token}/embed.js").status_code == 404
    assert post_json(public, submit_url(web_form), {"email": "a@b.ru"}).status_code == 404
    assert public.get("/channels/f/no-such-token/").status_code == 404
    assert not Lead.objects.exists()


# --- embed script and JSON endpoint --------------------------------------------------------------


def test_the_embed_script_carries_the_form(public: Any, web_form: Any) -> None:
    response = public.get(f"/channels/f/{web_form.token}/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert f"voronka-form-{web_form.token}" in script
    assert f"http://testserver/channels/f/{web_form.token}/submit/" in script
    assert '"label": "Your name"' in script and "window.location.search" in script
    assert "{{" not in script and "{%" not in script


def test_json_submit_creates_a_lead(public: Any, web_form: Any) -> None:
    body = {"first_name": "Олег", "email": "oleg@example.com", "phone": "+7 916 000-11-22",
            "website": "", "utm": {"utm_source": "yandex", "utm_medium": "cpc"},
            "referrer": "https://ya.ru/", "page_url": "https://shop.example/landing?utm_source=yandex"}  # fmt: skip
    response = post_json(public, submit_url(web_form), body, HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {"ok": True, "message": "Thanks, we will call.", "redirect_url": ""}
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.phone) == ("yandex", "cpc", "+79160001122")
    submission = FormSubmission.objects.get()
    assert submission.page_url == "https://shop.example/landing?utm_source=yandex"
    assert OutboxEvent.objects.filter(name="form.submitted", entity_id=web_form.pk).count() == 1


def test_cors_preflight_is_answered(public: Any, web_form: Any) -> None:
    response = public.options(submit_url(web_form), HTTP_ORIGIN="https://shop.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")  # fmt: skip
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"].lower() == "content-type"
    assert not Lead.objects.exists()


def test_a_form_may_limit_the_websites(public: Any, make_form: Any) -> None:
    form = make_form(allowed_origins=["https://shop.example"])
    ok = public.options(submit_url(form), HTTP_ORIGIN="https://shop.example")
    assert ok["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Origin" in ok["Vary"]
    other = public.options(submit_url(form), HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    refused = post_json(public, submit_url(form), {"first_name": "A", "email": "a@x.ru"},
                        HTTP_ORIGIN="https://evil.example")  # fmt: skip
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    accepted = post_json(public, submit_url(form), {"first_name": "A", "email": "a@x.ru"},
                         HTTP_ORIGIN="https://shop.example")  # fmt: skip
    assert accepted.status_code == 201
    assert accepted["Access-Control-Allow-Origin"] == "https://shop.example"
    assert Lead.objects.count() == 1


def test_json_errors_name_each_field_and_write_nothing(
    public: Any, web_form: Any, rows: Any
) -> None:
    before = rows()
    response = post_json(public, submit_url(web_form), {"first_name": "", "email": "x", "phone": 5})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"first_name", "email", "phone"}  # all at once
    assert errors["phone"] == "not a valid phone number"
    response = post_json(public, submit_url(web_form), {"first_name": ["a"], "email": {"a": 1}})
    assert {e["field"] for e in response.json()["errors"]} == {"first_name", "email"}
    for raw in ("{not json", "[1, 2]", "[" * 100_000):
        response = post_json(public, submit_url(web_form), raw)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "body"
    assert rows() == before


def test_json_honeypot_and_rate_limit(public: Any, web_form: Any, rows: Any, settings: Any) -> None:
    settings.VORONKA_FORM_RATE_LIMIT = 10
    before = rows()
    spam = post_json(
        public, submit_url(web_form), {"first_name": "B", "email": "b@x.ru", "website": "x"}
    )
    assert spam.status_code == 201
    assert rows() == before
    for i in range(9):
        response = post_json(
            public, submit_url(web_form), {"first_name": f"P{i}", "email": f"p{i}@x.ru"}
        )
        assert response.status_code == 201
    limited = post_json(public, submit_url(web_form), {"first_name": "Late", "email": "late@x.ru"})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert limited["Access-Control-Allow-Origin"] == "*"
    assert Lead.objects.count() == 9
    # The hosted page shares the limit: same form, same address.
    page = public.post(page_url(web_form), {"first_name": "Late", "email": "late@x.ru"})
    assert page.status_code == 429 and "Too many attempts" in page.content.decode()


def test_the_submit_endpoint_takes_a_plain_form_post_too(public: Any, web_form: Any) -> None:
    response = public.post(submit_url(web_form), {"first_name": "Plain", "email": "p@x.ru",
                                                  "utm_source": "mail"})  # fmt: skip
    assert response.status_code == 201
    assert Lead.objects.get().utm_source == "mail"


def test_other_methods_are_refused_as_json(public: Any, web_form: Any) -> None:
    response = public.get(submit_url(web_form))
    assert response.status_code == 405 and response.json()["detail"]
    assert public.put(page_url(web_form)).status_code == 405


def test_the_client_address_honours_trusted_proxies(
    public: Any, web_form: Any, settings: Any
) -> None:
    settings.VORONKA_NUM_PROXIES = 1
    post_json(public, submit_url(web_form), {"first_name": "A", "email": "a@x.ru"},
              HTTP_X_FORWARDED_FOR="10.0.0.1, 192.0.2.44")  # fmt: skip
    assert FormSubmission.objects.get().ip == "192.0.2.44"


# --- inbound lead webhook --------------------------------------------------------------------------


def hook(source: Any) -> str:
    return f"/channels/hooks/{source.token}/"


def test_the_webhook_creates_one_lead_per_external_id(public: Any, make_source: Any) -> None:
    source, secret = make_source(source="marketplace")
    body = {"external_id": "order-1", "first_name": "Ivan", "email": "ivan@example.com",
            "utm_source": "market", "delivery": "courier"}  # fmt: skip
    first = post_json(public, hook(source), body, HTTP_X_VORONKA_SECRET=secret)
    assert first.status_code == 201
    lead_id = first.json()["lead_id"]
    assert first.json()["created"] is True
    second = post_json(public, hook(source) + f"?secret={secret}", body)
    assert second.status_code == 200
    assert second.json() == {"lead_id": lead_id, "created": False}
    lead = Lead.objects.get()
    assert (lead.pk, lead.source, lead.utm_source) == (lead_id, "marketplace", "market")
    assert lead.message == "delivery: courier"
    source.refresh_from_db()
    assert source.last_used_at is not None


def test_webhook_refusals_are_json_and_write_nothing(
    public: Any, make_source: Any, admin: Any, rows: Any
) -> None:
    source, secret = make_source()
    from voronka.channels.services import lead_source_update

    before = rows()
    wrong = post_json(public, hook(source), {"email": "a@b.ru"}, HTTP_X_VORONKA_SECRET="nope")
    assert wrong.status_code == 403 and wrong.json()["errors"][0]["field"] == "secret"
    assert post_json(public, hook(source), {"email": "a@b.ru"}).status_code == 403
    malformed = post_json(public, hook(source), "{oops", HTTP_X_VORONKA_SECRET=secret)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["field"] == "body"
    missing = post_json(public, hook(source), {"message": "hi"}, HTTP_X_VORONKA_SECRET=secret)
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "last_name"
    assert "give a name" in missing.json()["detail"]
    bad = post_json(public, hook(source), {"email": "nope"}, HTTP_X_VORONKA_SECRET=secret)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "email"
    assert post_json(public, "/channels/hooks/unknown/", {}).status_code == 404
    assert public.get(hook(source)).status_code == 405
    assert rows() == before
    lead_source_update(actor=admin, source=source, changes={"active": False})
    before = rows()
    off = post_json(public, hook(source), {"email": "a@b.ru"}, HTTP_X_VORONKA_SECRET=secret)
    assert off.status_code == 403 and "switched off" in off.json()["detail"]
    assert rows() == before
