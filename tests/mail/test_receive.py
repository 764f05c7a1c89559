"""Incoming mail end to end: a customer sends a message to the local SMTP server, it lands in
the connected mailbox on our Dovecot, one poll of the worker fetches it into the CRM."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import pytest

from tests.mail.conftest import Dovecot, Smtp, later
from voronka.customers.models import Contact
from voronka.inbox.models import Conversation, Message
from voronka.mail.models import Mailbox
from voronka.mail.sync import poll_due
from voronka.sales.models import Lead

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a tiny price list\n" + bytes(range(256)) * 4


def customer_mail(
    to: str,
    *,
    sender: str = "Анна Смирнова <anna@client.test>",
    subject: str = "Нужен счёт на 10 стульев",
    body: str = "Здравствуйте! Пришлите, пожалуйста, счёт.\nАнна",
    date: str = "",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = date or formatdate(localtime=True)
    msg["Message-ID"] = headers.pop("message_id", make_msgid(domain="client.test"))
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def test_unknown_sender_becomes_a_lead_with_the_conversation_and_attachment(
    smtp: Smtp, mailbox: Mailbox, admin: Any
) -> None:
    msg = customer_mail(mailbox.address, date="Tue, 03 Mar 2026 10:15:00 +0300")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="прайс.pdf")
    smtp.send(msg, mailbox.address, "anna@client.test")

    assert poll_due() == 1

    conversation = Conversation.objects.get()
    lead = Lead.objects.get()
    assert conversation.kind == "email"
    assert conversation.account == f"mailbox:{mailbox.pk}"
    assert conversation.lead == lead and conversation.contact is None
    assert conversation.subject == "Нужен счёт на 10 стульев"
    assert conversation.owner == admin  # the mailbox's manager of new conversations
    assert (lead.first_name, lead.last_name, lead.email) == ("Анна", "Смирнова", "anna@client.test")
    assert lead.source == "E-mail: Sales"
    message = conversation.messages.get()
    assert message.external_id == msg["Message-ID"]
    assert message.sender == "Анна Смирнова <anna@client.test>"
    assert message.body_text == "Здравствуйте! Пришлите, пожалуйста, счёт.\nАнна"
    assert message.created_at.isoformat() == "2026-03-03T07:15:00+00:00"  # the Date header
    attachment = message.attachments.get()
    assert attachment.name == "прайс.pdf"
    assert attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as fh:
        assert fh.read() == PDF
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.last_sync_at is not None
    assert mailbox.last_uid == 1


def test_known_sender_lands_on_the_contact_timeline(
    smtp: Smtp, mailbox: Mailbox, alice: Any, make_contact: Any, client: Any
) -> None:
    contact = make_contact(alice, first_name="Пётр", last_name="Иванов",
                           emails=[{"email": "Petr@Client.test"}])  # fmt: skip
    smtp.send(customer_mail(mailbox.address, sender="Пётр <PETR@client.test>",
                            subject="Вопрос по договору"), mailbox.address)  # fmt: skip

    poll_due()

    conversation = Conversation.objects.get()
    assert conversation.contact == contact and conversation.lead is None
    assert conversation.owner == alice  # the contact's manager, not the mailbox's
    assert not Lead.objects.exists()
    client.force_login(alice)
    page = client.get(contact.get_absolute_url()).content.decode()
    assert "Вопрос по договору" in page


def _raw(charset: str, cte: str, to: str, subject_word: str, body: bytes) -> bytes:
    return (
        b"From: =?"
        + charset.encode()
        + b"?B?"
        + subject_word.encode()
        + b"?= <ivan@client.test>\r\n"
        b"To: " + to.encode() + b"\r\n"
        b"Subject: =?" + charset.encode() + b"?B?" + subject_word.encode() + b"?=\r\n"
        b"Message-ID: <" + charset.encode() + b"-1@client.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + body + b"\r\n"
    )


def test_windows_1251_and_koi8_r_are_decoded(smtp: Smtp, mailbox: Mailbox) -> None:
    import base64
    import quopri

    text = "Добрый день! Цена — 1 500 ₽?"
    plain = "Добрый день! Цена 1 500 руб.?"
    word = "Иван"
    cp = _raw("windows-1251", "base64", mailbox.address,
              base64.b64encode(word.encode("cp1251")).decode(),
              base64.encodebytes(plain.encode("cp1251")))  # fmt: skip
    koi = _raw("koi8-r", "quoted-printable", mailbox.address,
               base64.b64encode(word.encode("koi8-r")).decode(),
               quopri.encodestring(plain.encode("koi8-r")))  # fmt: skip
    smtp.send(cp, mailbox.address, "ivan@client.test")
    smtp.send(koi, mailbox.address, "ivan@client.test")

    assert poll_due() == 2

    cp_msg = Message.objects.get(external_id="<windows-1251-1@client.test>")
    koi_msg = Message.objects.get(external_id="<koi8-r-1@client.test>")
    for m in (cp_msg, koi_msg):
        assert m.body_text == plain
        assert m.subject == "Иван"
        assert m.sender == "Иван <ivan@client.test>"
    assert text  # the ₽ sign has no place in either charset: the test sends "руб."
    # One sender, one lead, two threads.
    assert Lead.objects.count() == 1
    assert Conversation.objects.count() == 2


def test_html_only_mail_is_sanitized_and_gives_a_text(smtp: Smtp, mailbox: Mailbox) -> None:
    msg = customer_mail(mailbox.address)
    msg.set_content(
        "<p>Hello <b>team</b>,<br>call me</p><script>alert(1)</script>"
        '<a href="javascript:alert(2)" onclick="x()">link</a>',
        subtype="html",
    )
    smtp.send(msg, mailbox.address)

    poll_due()

    message = Message.objects.get()
    assert "<script" not in message.body_html and "onclick" not in message.body_html
    assert "javascript:" not in message.body_html
    assert "<b>team</b>" in message.body_html
    assert message.body_text.startswith("Hello team,\ncall me")


def test_polling_twice_and_refetching_store_each_message_once(smtp: Smtp, mailbox: Mailbox) -> None:
    for n in range(3):
        smtp.send(customer_mail(mailbox.address, subject=f"Order {n}"), mailbox.address)

    assert poll_due() == 3
    assert poll_due(later()) == 0
    assert Message.objects.count() == 3

    # The server renumbered the folder (another UIDVALIDITY): everything is read again and
    # recognised by its Message-ID.
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1, last_uid=99)
    assert poll_due(later(10)) == 0
    assert Message.objects.count() == 3 and Conversation.objects.count() == 3
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.uidvalidity != 1


def test_the_poller_waits_for_the_interval(smtp: Smtp, mailbox: Mailbox, settings: Any) -> None:
    settings.VORONKA_MAIL_POLL_SECONDS = 600
    poll_due()
    smtp.send(customer_mail(mailbox.address), mailbox.address)
    assert poll_due(later(5)) == 0  # not due yet
    assert poll_due(later(11)) == 1


def test_inactive_mailbox_is_not_polled(smtp: Smtp, mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(active=False)
    smtp.send(customer_mail(mailbox.address), mailbox.address)
    assert poll_due() == 0
    assert not Message.objects.exists()


def test_import_since_leaves_older_mail_alone(
    dovecot: Dovecot, make_mailbox: Any, account: str
) -> None:
    import datetime as dt
    import time

    from django.utils import timezone

    old = customer_mail(account, subject="Old news")
    dovecot.append(account, old.as_bytes(), when=time.time() - 40 * 86400)
    dovecot.append(account, customer_mail(account, subject="Fresh").as_bytes())
    mailbox = make_mailbox(account, import_since=timezone.localdate() - dt.timedelta(days=7))

    assert poll_due() == 1
    assert list(Message.objects.values_list("subject", flat=True)) == ["Fresh"]
    assert mailbox.pk


def test_new_mailbox_imports_the_last_week_by_default(admin: Any) -> None:
    from voronka.mail.services import mailbox_create

    box = mailbox_create(actor=admin, data={
        "name": "Info", "address": "info@crm.test", "imap_host": "imap.crm.test",
        "smtp_host": "smtp.crm.test",
    })  # fmt: skip
    import datetime as dt

    from django.utils import timezone

    assert box.import_since == timezone.localdate() - dt.timedelta(days=7)
    assert (box.imap_port, box.smtp_port) == (993, 465)


def test_automatic_mail_makes_no_lead(smtp: Smtp, mailbox: Mailbox) -> None:
    smtp.send(customer_mail(mailbox.address, sender="Shop <news@shop.test>",
                            Auto_Submitted="auto-generated", List_Id="<news.shop.test>"),
              mailbox.address)  # fmt: skip
    poll_due()
    conversation = Conversation.objects.get()
    assert conversation.lead is None and conversation.contact is None
    assert not Lead.objects.exists()


def test_mail_from_the_mailbox_itself_is_not_a_customer(smtp: Smtp, mailbox: Mailbox) -> None:
    smtp.send(customer_mail(mailbox.address, sender=f"Sales <{mailbox.address}>"), mailbox.address)
    assert poll_due() == 0
    assert not Message.objects.exists()
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1


def test_too_large_message_is_kept_without_attachments(
    smtp: Smtp, mailbox: Mailbox, settings: Any
) -> None:
    settings.VORONKA_MAIL_MAX_BYTES = 20_000
    msg = customer_mail(mailbox.address, body="See the scan attached.")
    msg.add_attachment(b"x" * 1_000_000, maintype="image", subtype="png", filename="scan.png")
    smtp.send(msg, mailbox.address)

    assert poll_due() == 1

    message = Message.objects.get()
    assert message.body_text.startswith("See the scan attached.")
    assert "too large" in message.body_text
    assert not message.attachments.exists()


def test_message_without_message_id_is_stored_once(smtp: Smtp, mailbox: Mailbox) -> None:
    raw = (
        f"From: Robot <robot@client.test>\r\nTo: {mailbox.address}\r\nSubject: ping\r\n\r\nhi\r\n"
    ).encode()
    smtp.send(raw, mailbox.address)
    assert poll_due() == 1
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    assert poll_due(later()) == 0
    message = Message.objects.get()
    assert message.external_id.startswith("<no-id.")


def test_a_second_message_from_an_unknown_sender_joins_the_same_lead(
    smtp: Smtp, mailbox: Mailbox
) -> None:
    smtp.send(customer_mail(mailbox.address, subject="One"), mailbox.address)
    smtp.send(customer_mail(mailbox.address, subject="Two"), mailbox.address)
    poll_due()
    assert Lead.objects.count() == 1
    assert Conversation.objects.filter(lead=Lead.objects.get()).count() == 2
    assert not Contact.objects.exists()
