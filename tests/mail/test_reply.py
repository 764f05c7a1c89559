"""Replies from the CRM go out through the mailbox's SMTP server, threaded so the customer's
mail program shows one conversation, and the customer's answer comes back into it."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import pytest

from tests.mail.conftest import Dovecot, Smtp, header_ids, later
from tests.mail.test_receive import customer_mail
from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import IncomingFile, can_reply, deliver_due, reply
from voronka.mail.models import Mailbox
from voronka.mail.sync import poll_due

pytestmark = pytest.mark.django_db


def _first_thread(smtp: Smtp, mailbox: Mailbox) -> tuple[Conversation, EmailMessage]:
    original = customer_mail(
        mailbox.address, subject="Доставка в Казань", message_id="<q1@client.test>"
    )
    smtp.send(original, mailbox.address)
    poll_due()
    return Conversation.objects.get(), original


def test_reply_is_threaded_and_the_answer_to_it_joins_the_conversation(
    smtp: Smtp, dovecot: Dovecot, mailbox: Mailbox, admin: Any
) -> None:
    conversation, _original = _first_thread(smtp, mailbox)
    assert can_reply(conversation)

    queued = reply(
        actor=admin, conversation=conversation, body_text="Добрый день! Доставим за 3 дня.",
        files=[IncomingFile(name="условия.txt", content="Оплата по счёту".encode(),
                            content_type="text/plain")],
    )  # fmt: skip
    assert deliver_due() == 1

    sent = smtp.to("anna@client.test")
    assert len(sent) == 1
    mail = sent[0]
    assert mail["From"] == f"Sales <{mailbox.address}>"
    assert mail["To"] == "anna@client.test"
    assert mail["Subject"] == "Re: Доставка в Казань"
    assert mail["In-Reply-To"] == "<q1@client.test>"
    assert header_ids(mail["References"]) == ["<q1@client.test>"]
    our_id = mail["Message-ID"]
    assert our_id.endswith("@crm.test>")
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Добрый день! Доставим за 3 дня.")
    assert "> Здравствуйте! Пришлите, пожалуйста, счёт." in text  # the quoted question
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "условия.txt"
    assert attachment.get_content() == "Оплата по счёту"

    queued.refresh_from_db()
    assert queued.status == "sent" and queued.external_id == our_id
    # A copy sits in the mailbox's Sent folder, as any mail program would leave it.
    copies = dovecot.messages(mailbox.address, "Sent")
    assert [m["Message-ID"] for m in copies] == [our_id]

    # The customer answers our reply.
    answer = customer_mail(
        mailbox.address, subject="Re: Re: Доставка в Казань", body="Спасибо, оплатим сегодня.",
        message_id="<q2@client.test>", In_Reply_To=our_id,
        date=formatdate(time.time() + 60),  # later than our reply even within one second
        References=f"<q1@client.test> {our_id}",
    )  # fmt: skip
    smtp.send(answer, mailbox.address)
    assert poll_due(later()) == 1

    assert Conversation.objects.count() == 1
    texts = list(conversation.messages.values_list("direction", "body_text"))
    assert texts == [
        ("in", "Здравствуйте! Пришлите, пожалуйста, счёт.\nАнна"),
        ("out", "Добрый день! Доставим за 3 дня."),
        ("in", "Спасибо, оплатим сегодня."),
    ]

    # The second reply answers the customer's last message and carries the whole thread.
    reply(actor=admin, conversation=conversation, body_text="Ждём!")
    deliver_due()
    second = smtp.to("anna@client.test")[-1]
    assert second["In-Reply-To"] == "<q2@client.test>"
    assert header_ids(second["References"]) == ["<q1@client.test>", our_id, "<q2@client.test>"]
    assert second["Subject"] == "Re: Доставка в Казань"


def test_answer_naming_only_the_thread_root_joins_it(smtp: Smtp, mailbox: Mailbox) -> None:
    """Some programs send References without In-Reply-To; the thread's root still matches."""
    conversation, _original = _first_thread(smtp, mailbox)
    later_mail = customer_mail(mailbox.address, subject="И ещё", message_id="<q3@client.test>",
                               References="<q1@client.test> <unknown@elsewhere>")  # fmt: skip
    smtp.send(later_mail, mailbox.address)
    poll_due(later())
    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 2


def test_reply_goes_to_reply_to_when_the_customer_set_it(
    smtp: Smtp, mailbox: Mailbox, admin: Any
) -> None:
    smtp.send(customer_mail(mailbox.address, Reply_To="Anna Office <office@client.test>"),
              mailbox.address)  # fmt: skip
    poll_due()
    reply(actor=admin, conversation=Conversation.objects.get(), body_text="Hello")
    deliver_due()
    assert len(smtp.to("office@client.test")) == 1


def test_failed_smtp_login_keeps_the_reply_queued_with_the_reason(
    smtp: Smtp, mailbox: Mailbox, admin: Any
) -> None:
    conversation, _original = _first_thread(smtp, mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(smtp_password="wrong")
    queued = reply(actor=admin, conversation=conversation, body_text="Hello")

    assert deliver_due() == 0

    queued.refresh_from_db()
    assert queued.status == "queued" and queued.attempts == 1
    assert queued.error.startswith("login failed: 535")
    assert smtp.to("anna@client.test") == []


def test_reply_through_a_server_that_is_down_is_retried(
    smtp: Smtp, mailbox: Mailbox, admin: Any
) -> None:
    from tests.mail.conftest import free_port

    conversation, _original = _first_thread(smtp, mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(smtp_port=free_port())
    queued = reply(actor=admin, conversation=conversation, body_text="Hello")
    deliver_due()
    queued.refresh_from_db()
    assert queued.status == "queued"
    assert "connection refused" in queued.error

    # The server is back: the retry sends it, with the same Message-ID it would have had.
    Mailbox.objects.filter(pk=mailbox.pk).update(smtp_port=smtp.port)
    assert deliver_due(now=later(10)) == 1
    queued.refresh_from_db()
    assert queued.status == "sent"
    assert smtp.to("anna@client.test")[0]["Message-ID"] == queued.external_id


def test_reply_in_a_deleted_mailbox_fails_clearly(smtp: Smtp, mailbox: Mailbox, admin: Any) -> None:
    from voronka.mail.services import mailbox_delete

    conversation, _original = _first_thread(smtp, mailbox)
    queued = reply(actor=admin, conversation=conversation, body_text="Hello")
    mailbox_delete(actor=admin, mailbox=mailbox)
    deliver_due()
    queued.refresh_from_db()
    assert queued.error == "the mailbox of this conversation no longer exists"
    assert Message.objects.filter(direction="in").count() == 1  # the thread stays


def test_reply_after_an_automatic_answer_goes_to_the_customer(
    smtp: Smtp, mailbox: Mailbox, admin: Any
) -> None:
    conversation, _original = _first_thread(smtp, mailbox)
    robot = customer_mail(mailbox.address, sender="Robot <robot@client.test>",
                          subject="Auto: Доставка в Казань", Auto_Submitted="auto-replied",
                          In_Reply_To="<q1@client.test>", References="<q1@client.test>",
                          date=formatdate(time.time() + 60))  # fmt: skip
    smtp.send(robot, mailbox.address)
    poll_due(later())
    assert conversation.messages.count() == 2

    reply(actor=admin, conversation=conversation, body_text="Отвечаем")
    deliver_due()
    assert len(smtp.to("anna@client.test")) == 1 and smtp.to("robot@client.test") == []
