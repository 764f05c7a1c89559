"""E-mail through a real SMTP server and SMS through fake gateways: what arrives, once, with
which headers; consent and unsubscribe honoured; retries until the server comes up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.messaging.models import MessageStatus, OutgoingMessage
from voronka.messaging.services import send_email, send_sms, template_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def promo(admin: Any) -> Any:
    return template_create(actor=admin, data={
        "key": "promo", "name": "Promo", "channel": "email",
        "subject_ru": "Скидка для {{ contact.first_name }}",
        "body_ru": "Здравствуйте, {{ contact.first_name }}!\nОтписаться: {{ unsubscribe_url }}",
        "subject_en": "A discount for {{ contact.first_name }}", "body_en": "Hello!",
    })  # fmt: skip


def test_marketing_email_arrives_once_with_headers(smtp, deliver, promo, fan, alice) -> None:
    msg = send_email(actor=alice, to_contact=fan, template="promo", marketing=True)
    assert msg.status == MessageStatus.QUEUED and msg.to == "maria@example.com"
    assert smtp.received == []  # queueing sends nothing

    assert deliver() == 1
    assert deliver(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert len(smtp.received) == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Скидка для Мария"
    assert mail["To"] == "maria@example.com"
    token = _token(fan)
    assert mail["List-Unsubscribe"].strip() == f"<http://localhost:8000/messaging/u/{token}/>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    msg.refresh_from_db()
    assert msg.status == MessageStatus.SENT and msg.sent_at and msg.attempts == 1
    assert mail["Message-ID"] == msg.provider_message_id
    body = mail.get_body(("plain",)).get_content()
    assert "Здравствуйте, Мария!" in body
    assert f"/messaging/u/{token}/" in body


def _token(contact: Any) -> str:
    from voronka.messaging.models import Unsubscribe

    return Unsubscribe.objects.get(contact=contact).token


def test_transactional_email_has_no_unsubscribe_header(smtp, deliver, quiet, alice) -> None:
    send_email(actor=alice, to_contact=quiet, subject="Счёт №5", body="Ваш счёт во вложении.")
    deliver()
    [mail] = smtp.messages
    assert mail["List-Unsubscribe"] is None
    assert "Ваш счёт во вложении." in mail.get_body(("plain",)).get_content()


def test_a_burst_drains_in_one_run_of_the_job_not_fifty_per_tick(
    smtp, deliver, quiet, alice
) -> None:
    for n in range(120):
        send_email(actor=alice, to_contact=quiet, subject=f"Заказ {n}", body="Готов.")
    assert deliver() == 120
    assert sorted(int(m["Subject"].split()[-1]) for m in smtp.messages) == list(range(120))


def test_a_worker_killed_mid_send_strands_one_message_which_goes_out_later(
    smtp, deliver, quiet, alice
) -> None:
    from voronka.messaging.delivery import STALE_AFTER, _claim

    for n in range(5):
        send_email(actor=alice, to_contact=quiet, subject=f"Заказ {n}", body="Готов.")
    [stranded] = _claim(timezone.now(), 1)  # a worker claims one message, then dies
    assert deliver() == 4  # the others go at once
    assert OutgoingMessage.objects.get(pk=stranded).status == MessageStatus.SENDING
    assert deliver(now=timezone.now() + STALE_AFTER + dt.timedelta(seconds=1)) == 1
    assert sorted(int(m["Subject"].split()[-1]) for m in smtp.messages) == list(range(5))


def test_marketing_without_consent_is_suppressed_with_reason(smtp, deliver, promo, quiet,
                                                             alice) -> None:  # fmt: skip
    msg = send_email(actor=alice, to_contact=quiet, template=promo, marketing=True)
    assert (msg.status, msg.reason) == (MessageStatus.SUPPRESSED, "no_consent")
    deliver()
    assert smtp.received == []


def test_unsubscribe_link_withdraws_consent_and_stops_marketing(
    smtp, deliver, promo, fan, alice, client
) -> None:
    from voronka.core.models import AuditEntry

    queued = send_email(actor=alice, to_contact=fan, template=promo, marketing=True)
    url = f"/messaging/u/{_token(fan)}/"
    page = client.get(url)
    assert page.status_code == 200 and "Отписаться" in page.content.decode()  # site language
    client.cookies["voronka_lang"] = "en"
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    fan.refresh_from_db()
    assert fan.email_consent  # a GET (a mail scanner) changes nothing

    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200  # idempotent
    fan.refresh_from_db()
    assert not fan.email_consent and not fan.sms_consent
    entries = AuditEntry.objects.filter(object_id=fan.pk, action="update", channel="system")
    assert entries.count() == 1
    queued.refresh_from_db()
    assert (queued.status, queued.reason) == (MessageStatus.SUPPRESSED, "unsubscribed")

    again = send_email(actor=alice, to_contact=fan, template=promo, marketing=True)
    assert (again.status, again.reason) == (MessageStatus.SUPPRESSED, "unsubscribed")
    receipt = send_email(actor=alice, to_contact=fan, subject="Заказ", body="Ваш заказ готов")
    assert receipt.status == MessageStatus.QUEUED  # not marketing: still goes
    deliver()
    assert [m["Subject"] for m in smtp.messages] == ["Заказ"]


def test_unknown_unsubscribe_token_is_404(client, db) -> None:
    assert client.get("/messaging/u/nope/").status_code == 404
    assert client.post("/messaging/u/nope/").status_code == 404


def test_consent_withdrawn_after_queueing_is_checked_at_delivery(smtp, deliver, promo, fan,
                                                                alice) -> None:  # fmt: skip
    from voronka.customers.services import contact_update

    msg = send_email(actor=alice, to_contact=fan, template=promo, marketing=True)
    contact_update(actor=alice, contact=fan, changes={"email_consent": False})
    deliver()
    msg.refresh_from_db()
    assert (msg.status, msg.reason) == (MessageStatus.SUPPRESSED, "no_consent")
    assert smtp.received == []


def test_idempotency_key_queues_once(smtp, deliver, fan, alice) -> None:
    first = send_email(actor=alice, to_contact=fan, subject="Привет", body="Текст",
                       idempotency_key="rule-7:event-42")  # fmt: skip
    second = send_email(actor=alice, to_contact=fan, subject="Привет", body="Текст",
                        idempotency_key="rule-7:event-42")  # fmt: skip
    assert first.pk == second.pk
    assert OutgoingMessage.objects.count() == 1
    deliver()
    assert len(smtp.received) == 1


def test_retry_after_smtp_server_comes_up(smtp_down, deliver, fan, alice) -> None:
    msg = send_email(actor=alice, to_contact=fan, subject="Встреча", body="Завтра в 10:00")
    assert deliver() == 0
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.attempts == 1
    assert "Connection" in msg.error or "refused" in msg.error.lower()
    assert msg.next_attempt_at > timezone.now()

    smtp_down.start()
    assert deliver() == 0  # not due yet: backoff
    assert deliver(now=timezone.now() + dt.timedelta(minutes=2)) == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.error) == (MessageStatus.SENT, 2, "")
    assert [m["Subject"] for m in smtp_down.messages] == ["Встреча"]


def test_gives_up_after_the_last_attempt(smtp_down, deliver, fan, alice) -> None:
    from voronka.messaging.delivery import MAX_ATTEMPTS

    msg = send_email(actor=alice, to_contact=fan, subject="S", body="B")
    later = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        deliver(now=later)
        later += dt.timedelta(hours=3)
    msg.refresh_from_db()
    assert msg.status == MessageStatus.FAILED and msg.attempts == MAX_ATTEMPTS and msg.error


def test_html_template_escapes_contact_data(smtp, deliver, admin, alice, make_contact) -> None:
    evil = make_contact(alice, first_name="<script>x</script>",
                        emails=[{"email": "e@example.com"}])  # fmt: skip
    template_create(actor=admin, data={
        "key": "news", "name": "News", "is_html": True,
        "subject_ru": "Новости", "body_ru": "<p>Привет, {{ contact.first_name }}</p>",
    })  # fmt: skip
    msg = send_email(actor=alice, to_contact=evil, template="news")
    assert "&lt;script&gt;" in msg.body and "<script>" not in msg.body
    deliver()
    [mail] = smtp.messages
    assert "&lt;script&gt;" in mail.get_body(("html",)).get_content()


# --- SMS ------------------------------------------------------------------------------------


def test_sms_ru(gateway, settings, deliver, fan, alice) -> None:
    settings.VORONKA_SMS_URL = f"smsru://KEY123@?base={gateway.base}&from=Shop"
    gateway.answers = [{"status": "OK", "status_code": 100, "balance": 10.5,
                        "sms": {"79161234567": {"status": "OK", "status_code": 100,
                                                "sms_id": "000000-10000001"}}}]  # fmt: skip
    msg = send_sms(actor=alice, to_contact=fan, text="Привет, {{ contact.first_name }}!")
    assert deliver() == 1
    [(path, query)] = gateway.requests
    assert path == "/sms/send"
    assert query == {"api_id": "KEY123", "to": "79161234567", "msg": "Привет, Мария!",
                     "json": "1", "from": "Shop"}  # fmt: skip
    msg.refresh_from_db()
    assert (msg.status, msg.provider_message_id) == (MessageStatus.SENT, "000000-10000001")


def test_sms_ru_refusal_fails_with_the_reason(gateway, settings, deliver, fan, alice) -> None:
    settings.VORONKA_SMS_URL = f"smsru://BAD@?base={gateway.base}"
    gateway.answers = [
        {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
    ]
    msg = send_sms(actor=alice, to_contact=fan, text="x")
    deliver()
    msg.refresh_from_db()
    assert msg.status == MessageStatus.FAILED and "Неправильный api_id" in msg.error


def test_smsc(gateway, settings, deliver, fan, alice) -> None:
    settings.VORONKA_SMS_URL = f"smsc://shop:s%40cret@?base={gateway.base}"
    gateway.answers = [{"error": "too many requests", "error_code": 9}, {"id": 77, "cnt": 1}]
    msg = send_sms(actor=alice, to_contact=fan, text="Код: 1234", marketing=True)
    deliver()
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and "too many requests" in msg.error
    deliver(now=timezone.now() + dt.timedelta(minutes=2))
    msg.refresh_from_db()
    assert (msg.status, msg.provider_message_id) == (MessageStatus.SENT, "77")
    path, query = gateway.requests[-1]
    assert path == "/sys/send.php"
    assert (query["login"], query["psw"], query["phones"], query["mes"], query["fmt"]) == (
        "shop",
        "s@cret",
        "79161234567",
        "Код: 1234",
        "3",
    )


def test_sms_gateway_on_a_private_address_is_refused(settings, deliver, fan, alice, db) -> None:
    settings.VORONKA_WEBHOOK_ALLOW_HOSTS = ""
    settings.VORONKA_SMS_URL = "smsru://KEY@?base=http://127.0.0.1:9"
    msg = send_sms(actor=alice, to_contact=fan, text="x")
    deliver()
    msg.refresh_from_db()
    assert msg.status == MessageStatus.FAILED and "unsafe" in msg.error


def test_sms_marketing_needs_sms_consent(quiet, alice, db) -> None:
    msg = send_sms(actor=alice, to_contact=quiet, text="Акция!", marketing=True)
    assert (msg.status, msg.reason) == (MessageStatus.SUPPRESSED, "no_consent")


def test_one_click_unsubscribe_needs_no_csrf_token(fan, alice, promo) -> None:
    from django.test import Client

    send_email(actor=alice, to_contact=fan, template=promo, marketing=True)
    mail_client = Client(enforce_csrf_checks=True)
    r = mail_client.post(f"/messaging/u/{_token(fan)}/", "List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert r.status_code == 200
    fan.refresh_from_db()
    assert not fan.email_consent


def test_preview_makes_no_unsubscribe_token(admin, fan, promo) -> None:
    from voronka.messaging.models import Unsubscribe
    from voronka.messaging.services import template_preview

    shown = template_preview(template=promo, contact=fan)
    assert shown["subject"] == "Скидка для Мария" and "/messaging/u/" in shown["body"]
    assert not Unsubscribe.objects.exists()
