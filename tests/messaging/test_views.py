"""The pages: templates with preview and syntax errors, the message log with retry, the
contact card's messages panel with its compose form, and the timeline."""

from __future__ import annotations

import pytest

from voronka.messaging.models import MessageStatus, MessageTemplate, OutgoingMessage
from voronka.messaging.services import send_email

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "key": "welcome", "name": "Welcome", "channel": "email", "subject_ru": "Привет",
    "body_ru": "Здравствуйте, {{ contact.first_name }}!", "subject_en": "", "body_en": "",
}  # fmt: skip


def test_admin_creates_a_template_and_previews_it_for_a_contact(client, admin, fan) -> None:
    client.force_login(admin)
    r = client.post("/messaging/templates/new/", TEMPLATE)
    assert r.status_code == 302
    t = MessageTemplate.objects.get(key="welcome")
    page = client.get(f"/messaging/templates/{t.pk}/", {"contact": fan.pk})
    assert "Здравствуйте, Мария!" in page.content.decode()
    assert "Welcome" in client.get("/messaging/templates/").content.decode()


def test_broken_template_syntax_is_a_form_error(client, admin) -> None:
    client.force_login(admin)
    for bad in ("{% if %}x", "{% load static %}", "{% include 'base.html' %}", "{{ a|nofilter }}"):
        r = client.post("/messaging/templates/new/", {**TEMPLATE, "body_ru": bad})
        assert r.status_code == 400, bad
        html = r.content.decode()
        assert 'id="id_body_ru_error"' in html and "template error" in html
    assert not MessageTemplate.objects.exists()


def test_preview_button_shows_the_unsaved_text(client, admin, fan) -> None:
    client.force_login(admin)
    r = client.post("/messaging/templates/new/",
                    {**TEMPLATE, "action": "preview", "preview_contact": fan.pk,
                     "body_ru": "Уважаемая {{ contact.full_name }}"})  # fmt: skip
    assert r.status_code == 200
    assert "Уважаемая Иванова Мария" in r.content.decode()
    assert not MessageTemplate.objects.exists()


def test_templates_are_for_administrators(client, alice) -> None:
    client.force_login(alice)
    assert client.get("/messaging/templates/").status_code == 403
    assert client.post("/messaging/templates/new/", TEMPLATE).status_code == 403


def test_log_filters_and_retry(client, admin, fan, alice) -> None:
    ok = send_email(actor=alice, to_contact=fan, subject="Первое", body="x")
    failed = send_email(actor=alice, to_contact=fan, subject="Второе", body="x")
    OutgoingMessage.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED, error="boom")
    client.force_login(alice)
    html = client.get("/messaging/", {"status": "failed"}).content.decode()
    assert "Второе" in html and "Первое" not in html and "boom" in html
    assert "Первое" in client.get("/messaging/", {"channel": "email"}).content.decode()
    r = client.post(f"/messaging/messages/{failed.pk}/retry/")
    assert r.status_code == 302
    failed.refresh_from_db()
    assert failed.status == MessageStatus.QUEUED and failed.attempts == 0
    r = client.post(f"/messaging/messages/{ok.pk}/retry/", follow=True)
    assert "only a failed message" in r.content.decode()


def test_log_shows_only_visible_contacts_messages(client, charlie, fan, alice) -> None:
    send_email(actor=alice, to_contact=fan, subject="Секрет", body="x")
    client.force_login(charlie)
    assert "Секрет" not in client.get("/messaging/").content.decode()
    msg = OutgoingMessage.objects.get()
    assert client.post(f"/messaging/messages/{msg.pk}/retry/").status_code == 404


def test_contact_panel_lists_and_sends(client, alice, fan) -> None:
    send_email(actor=alice, to_contact=fan, subject="Старое письмо", body="x")
    client.force_login(alice)
    url = f"/messaging/contact/{fan.pk}/"
    html = client.get(url).content.decode()
    assert 'class="card vk-section mb-3"' in html and "Старое письмо" in html
    r = client.post(url, {"channel": "email", "subject": "Новое", "body": "Текст"},
                    HTTP_HX_REQUEST="true")  # fmt: skip
    assert r.status_code == 200 and r["HX-Trigger"] == "timeline-changed"
    assert "Message queued" in r.content.decode()
    sent = OutgoingMessage.objects.get(subject="Новое")
    assert (sent.to, sent.created_by, sent.status) == ("maria@example.com", alice, "queued")


def test_contact_panel_errors_name_the_field(client, alice, make_contact) -> None:
    nobody = make_contact(alice, first_name="Без", last_name="Почты")
    client.force_login(alice)
    url = f"/messaging/contact/{nobody.pk}/"
    r = client.post(url, {"channel": "email", "subject": "S", "body": "B"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "this contact has no e-mail" in r.content.decode()
    r = client.post(url, {"channel": "email", "to": "x@example.com", "subject": "", "body": ""})
    html = r.content.decode()
    assert r.status_code == 400 and "give the e-mail a subject" in html
    assert "write the text or choose a template" in html
    assert not OutgoingMessage.objects.exists()


def test_contact_panel_is_404_for_outsiders(client, charlie, fan) -> None:
    client.force_login(charlie)
    assert client.get(f"/messaging/contact/{fan.pk}/").status_code == 404
    assert client.post(f"/messaging/contact/{fan.pk}/", {"body": "x"}).status_code == 404


def test_card_loads_the_panel_and_timeline_shows_messages(client, alice, fan) -> None:
    from voronka.core.timeline import timeline

    send_email(actor=alice, to_contact=fan, subject="На таймлайне", body="x")
    items = [i for i in timeline(fan, alice) if i.kind == "message"]
    assert len(items) == 1 and "На таймлайне" in items[0].title
    client.force_login(alice)
    card = client.get(fan.get_absolute_url()).content.decode()
    assert f"/messaging/contact/{fan.pk}/" in card


def test_related_record_timeline(alice, fan, make_company) -> None:
    from voronka.core.timeline import timeline

    company = make_company(alice)
    send_email(actor=alice, to_contact=fan, subject="О компании", body="x", related=company)
    assert [i.title for i in timeline(company, alice) if i.kind == "message"] == [
        "e-mail to maria@example.com: О компании"
    ]
