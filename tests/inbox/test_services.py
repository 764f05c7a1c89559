"""The inbox services as channel apps use them: receive, replies and their delivery, retries,
web form submissions and lead conversion."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.models import Notification, OutboxEvent
from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import (
    LEAD_CONVERTED_CONSUMER,
    Incoming,
    IncomingFile,
    deliver_due,
    receive,
    reply,
    retry,
)

pytestmark = pytest.mark.django_db


def test_an_unknown_sender_becomes_a_lead_and_a_thread_collects_replies(
    alice: Any, incoming: Any
) -> None:
    first = incoming(alice, "Do you ship to Kazan?", thread="t1", email="ann@x.ru")
    conversation = first.conversation
    assert conversation.lead.email == "ann@x.ru"
    assert conversation.owner_id == alice.pk
    again = incoming(alice, "And to Omsk?", thread="t1", email="ann@x.ru")
    assert again.conversation_id == conversation.pk
    assert (
        receive(Incoming(kind="email", account="mailbox:1", external_id=again.external_id)).pk
        == again.pk
    )
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert OutboxEvent.objects.filter(name="message.received").count() == 2
    assert Notification.objects.filter(user=alice, url=conversation.get_absolute_url()).count() == 2


def test_a_known_contact_gets_the_thread_and_its_owner_manages_it(
    alice: Any, bob: Any, make_contact: Any, incoming: Any
) -> None:
    contact = make_contact(bob, emails=["known@x.ru"])
    m = incoming(alice, "Hi again", email="known@x.ru")
    assert m.conversation.contact_id == contact.pk
    assert m.conversation.lead_id is None
    assert m.conversation.owner_id == bob.pk


def test_no_event_is_published_when_the_channel_says_so(admin: Any) -> None:
    receive(Incoming(kind="call", account="telephony", external_id="call-1", event="",
                     phone="+79161234567", sender="+7 916 123-45-67"))  # fmt: skip
    assert not OutboxEvent.objects.filter(name="message.received").exists()


def test_files_are_stored_with_the_message(alice: Any, incoming: Any) -> None:
    m = incoming(
        alice, "See the attached", files=[IncomingFile("spec.pdf", b"%PDF-1.4", "application/pdf")]
    )
    (att,) = m.attachments.all()
    assert (att.name, att.size, att.content_type) == ("spec.pdf", 8, "application/pdf")
    assert att.file.read() == b"%PDF-1.4"


def test_a_long_cyrillic_file_name_is_kept_for_people_and_fits_the_disk(
    alice: Any, incoming: Any
) -> None:
    long_name = "Коммерческое предложение " * 12 + ".pdf"  # 300+ characters, 500+ bytes
    m = incoming(alice, "КП", files=[IncomingFile(long_name, b"%PDF", "application/pdf")])
    (att,) = m.attachments.all()
    assert att.name == long_name[:255]
    stored = att.file.name.rsplit("/", 1)[-1]
    assert stored.endswith(".pdf") and len(stored.encode()) <= 255
    assert att.file.read() == b"%PDF"


def test_a_message_of_files_only_shows_their_names_in_the_list(alice: Any, incoming: Any) -> None:
    m = incoming(
        alice, "", subject="", files=[IncomingFile("photo.jpg", b"\xff\xd8", "image/jpeg")]
    )
    m.conversation.refresh_from_db()
    assert m.conversation.preview == "📎 photo.jpg"


def test_an_outgoing_message_logged_by_a_channel_is_sent_and_read(
    alice: Any, make_contact: Any
) -> None:
    contact = make_contact(alice, first_name="Ирина", phones=[{"phone": "+79161234567"}])
    m = receive(Incoming(kind="call", account="pbx:1", external_id="call:1",
                         external_key="+79161234567", phone="+79161234567",
                         body_text="Outgoing call, 1 min", direction="out", event=""))  # fmt: skip
    m.conversation.refresh_from_db()
    assert (m.direction, m.status) == ("out", "sent")
    assert m.conversation.contact_id == contact.pk and m.conversation.unread is False
    assert not Notification.objects.exists()


def test_a_permanent_failure_fails_the_reply_at_once(
    alice: Any, incoming: Any, email_sender: Any
) -> None:
    from voronka.inbox.services import PermanentSendError

    m = incoming(alice, "Price?")
    out = reply(actor=alice, conversation=m.conversation, body_text="Soon")
    email_sender.fail_with = "550 no such mailbox"
    email_sender.exception = PermanentSendError
    deliver_due()
    out.refresh_from_db()
    assert (out.status, out.attempts, out.error) == ("failed", 1, "550 no such mailbox")


def test_a_reply_is_queued_then_delivered_by_the_channels_sender(
    alice: Any, incoming: Any, email_sender: Any
) -> None:
    m = incoming(alice, "Price?")
    out = reply(actor=alice, conversation=m.conversation, body_text="  1 000 ₽  ")
    assert (out.status, out.body_text, out.in_reply_to) == ("queued", "1 000 ₽", m.external_id)
    assert deliver_due() == 1
    out.refresh_from_db()
    assert out.status == "sent" and out.external_id == f"<out-{out.pk}@test>"
    assert email_sender.sent == [(out.pk, "1 000 ₽")]
    assert deliver_due() == 0  # sent once


def test_a_failing_channel_is_retried_with_backoff_then_gives_up_and_can_be_retried(
    alice: Any, incoming: Any, email_sender: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from voronka.inbox.services import MAX_ATTEMPTS

    m = incoming(alice, "Price?")
    out = reply(actor=alice, conversation=m.conversation, body_text="Soon")
    email_sender.fail_with = "SMTP 451 try later"
    now = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        deliver_due(now=now)
        out.refresh_from_db()
        assert out.attempts == attempt
        now += dt.timedelta(hours=2)
    assert out.status == "failed" and out.error == "SMTP 451 try later"
    email_sender.fail_with = ""
    retry(actor=alice, message=out)
    assert deliver_due() == 1
    out.refresh_from_db()
    assert out.status == "sent" and out.error == ""


def test_a_reply_needs_text_and_a_channel_that_can_send(
    alice: Any, incoming: Any, no_email_sender: Any
) -> None:
    from voronka.core.errors import ServiceValidationError

    m = incoming(alice, "Hi")
    with pytest.raises(ServiceValidationError) as exc:
        reply(actor=alice, conversation=m.conversation, body_text="  ")
    assert {e.field for e in exc.value.errors} == {"body_text", "conversation"}
    assert not Message.objects.filter(direction="out").exists()


def test_a_web_form_submission_is_a_conversation_of_its_lead(admin: Any, alice: Any) -> None:
    from voronka.channels.services import web_form_create
    from voronka.channels.services.submissions import Visit, form_submit

    form = web_form_create(actor=admin, data={"name": "Contact us", "title": "Ask us", "fields": [
        {"key": "first_name", "label": "Your name", "required": True},
        {"key": "email", "label": "E-mail", "required": True},
        {"key": "message", "label": "Question", "required": False},
    ]})  # fmt: skip
    submission = form_submit(
        form=form, values={"first_name": "Olga", "email": "olga@x.ru", "message": "Call me"},
        visit=Visit(ip="203.0.113.5"),
    )  # fmt: skip
    conversation = Conversation.objects.get(account=f"form:{form.pk}")
    assert conversation.kind == "form"
    assert conversation.lead_id == submission.lead_id
    assert conversation.subject == "Ask us"
    (message,) = conversation.messages.all()
    assert message.external_id == f"submission:{submission.pk}"
    assert message.body_text == "Your name: Olga\nE-mail: olga@x.ru\nQuestion: Call me"
    # form.submitted is the event; the inbox adds none, and makes no second lead.
    assert OutboxEvent.objects.filter(name="form.submitted").count() == 1
    assert not OutboxEvent.objects.filter(name="message.received").exists()
    from voronka.sales.models import Lead

    assert Lead.objects.count() == 1


def test_a_form_conversation_is_managed_by_the_leads_manager_even_for_a_known_contact(
    admin: Any, alice: Any, bob: Any, make_contact: Any
) -> None:
    from voronka.channels.services import web_form_create
    from voronka.channels.services.submissions import Visit, form_submit
    from voronka.sales.services.setup import assignment_rule_create

    make_contact(bob, emails=["olga@x.ru"])
    assignment_rule_create(actor=admin, data={"name": "Site to Alice", "kind": "by_source",
                                              "match_value": "Site", "user_id": alice.pk})  # fmt: skip
    form = web_form_create(actor=admin, data={"name": "Form", "source": "Site", "fields": [
        {"key": "email", "label": "E-mail", "required": True}]})  # fmt: skip
    submission = form_submit(form=form, values={"email": "olga@x.ru"}, visit=Visit())
    assert submission.lead.owner_id == alice.pk
    conversation = Conversation.objects.get(account=f"form:{form.pk}")
    assert conversation.lead_id == submission.lead_id
    assert conversation.contact is not None  # the matching contact is linked too
    assert conversation.owner_id == alice.pk  # the rules chose her for this lead


def test_a_converted_leads_conversations_join_the_new_contact(alice: Any, incoming: Any) -> None:
    from voronka.core.dispatch import dispatch_pending
    from voronka.sales.services import lead_convert

    m = incoming(alice, "I want to buy", email="new@x.ru", name="Nina Orlova")
    lead = m.conversation.lead
    lead = lead_convert(actor=alice, lead=lead, create_deal=False)
    dispatch_pending(only=[LEAD_CONVERTED_CONSUMER])
    m.conversation.refresh_from_db()
    assert m.conversation.contact_id == lead.converted_contact_id is not None
    assert m.conversation.lead_id == lead.pk  # still shown on the lead as well
    # The next message from the same address lands on the contact.
    later = incoming(alice, "Paid", email="new@x.ru")
    assert later.conversation.contact_id == lead.converted_contact_id
