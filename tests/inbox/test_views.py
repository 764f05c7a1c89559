"""The inbox pages as a manager uses them: who sees which conversation, filters, the thread,
replies and retries, assigning, closing, attachments, the contact card's panel and the badge.

Alice and Bob are sales reps of one team with scope "own"; the administrator sees all."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import IncomingFile, deliver_due

pytestmark = pytest.mark.django_db


def signed_in(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


def rows(response: Any) -> str:
    """The table's body only, so a filter's option labels do not count as rows."""
    text = html(response)
    if "<tbody>" not in text:
        return ""
    return text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


# --- who sees what ------------------------------------------------------------------------------


def test_a_rep_sees_only_their_conversations_and_others_are_404(
    client: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    mine = incoming(alice, "Alice customer asks", sender="Anna <anna@x.ru>")
    theirs = incoming(bob, "Bob customer asks", sender="Boris <boris@x.ru>")
    signed_in(client, alice)
    page = client.get(reverse("inbox:list"))
    assert page.status_code == 200
    assert "Alice customer asks" in rows(page)
    assert "Bob customer asks" not in rows(page)
    assert client.get(mine.conversation.get_absolute_url()).status_code == 200
    for name in ("inbox:conversation",):
        assert client.get(reverse(name, args=[theirs.conversation_id])).status_code == 404
    for name in ("inbox:reply", "inbox:assign", "inbox:mark_unread", "inbox:set_closed"):
        response = client.post(reverse(name, args=[theirs.conversation_id]), {"body_text": "x"})
        assert response.status_code == 404, name
    assert client.get(reverse("inbox:message", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("inbox:message_retry", args=[theirs.pk])).status_code == 404


def test_unassigned_conversations_are_seen_by_administrators_only(
    client: Any, admin: Any, alice: Any, incoming: Any
) -> None:
    nobodys = incoming(None, "Whose is this?")
    assert nobodys.conversation.owner_id is None
    signed_in(client, alice)
    assert "Whose is this?" not in rows(client.get(reverse("inbox:list")))
    assert client.get(nobodys.conversation.get_absolute_url()).status_code == 404
    signed_in(client, admin)
    page = client.get(reverse("inbox:list"), {"owner": "unassigned"})
    assert "Whose is this?" in rows(page)
    assert "Unassigned" in rows(page)


def test_the_list_needs_a_login(client: Any) -> None:
    response = client.get(reverse("inbox:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_newest_first_with_unread_in_bold_and_the_customer(
    client: Any, alice: Any, incoming: Any, make_contact: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    make_contact(alice, first_name="Vera", last_name="Sokolova", emails=["vera@x.ru"])
    old = incoming(alice, "Older question", email="vera@x.ru",
                   when=timezone.now() - dt.timedelta(days=3))  # fmt: skip
    new = incoming(alice, "Newer question", name="Pavel Orlov")
    Conversation.objects.filter(pk=old.conversation_id).update(unread=False)
    body = rows(signed_in(client, alice).get(reverse("inbox:list")))
    assert body.index("Newer question") < body.index("Older question")
    assert "Sokolova Vera" in body or "Vera Sokolova" in body  # the contact's name
    assert "Orlov Pavel" in body  # the new lead's name
    new_row = body[: body.index("Older question")]
    assert 'class="vk-unread' in new_row and "Unread:" in new_row
    old_row = body[body.index("Newer question") :]
    assert "Unread:" not in old_row.split("</tr>", 1)[1]
    assert new.conversation.get_absolute_url() in new_row


def test_filters_by_channel_manager_unread_and_status(
    client: Any, admin: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    from voronka.inbox.services import Incoming, receive, set_closed

    by_mail = incoming(alice, "Mail from a customer")
    receive(Incoming(kind="telegram", account="telegram:1", external_id="1", external_key="chat-9",
                     sender="@masha", body_text="Telegram hello", default_owner_id=bob.pk))  # fmt: skip
    closed = incoming(bob, "Already answered")
    set_closed(actor=admin, conversation=closed.conversation, closed=True)
    Conversation.objects.filter(pk=by_mail.conversation_id).update(unread=False)
    signed_in(client, admin)
    url = reverse("inbox:list")

    def shown(**params: str) -> set[str]:
        body = rows(client.get(url, params))
        texts = ("Mail from a customer", "Telegram hello", "Already answered")
        return {t for t in texts if t in body}

    assert shown() == {"Mail from a customer", "Telegram hello"}  # open ones by default
    assert shown(kind="telegram") == {"Telegram hello"}
    assert shown(owner=str(alice.pk)) == {"Mail from a customer"}
    assert shown(owner="me") == set()
    assert shown(unread="1") == {"Telegram hello"}
    assert shown(status="closed") == {"Already answered"}
    assert shown(status="all") == {"Mail from a customer", "Telegram hello", "Already answered"}
    bad = client.get(url, {"kind": "pigeon", "owner": "someone"})
    assert bad.status_code == 200
    assert "kind: must be one of" in html(bad) and "owner:" in html(bad)


def test_htmx_filters_answer_the_results_and_pages_follow_the_cursor(
    client: Any, alice: Any, incoming: Any
) -> None:
    for i in range(55):
        incoming(alice, f"Question number {i:02d}.")
    signed_in(client, alice)
    url = reverse("inbox:list")
    fragment = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    assert "<html" not in html(fragment)
    assert "Question number 54." in html(fragment) and "Question number 04." not in html(fragment)
    next_url = html(fragment).split('id="more-row"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    more = client.get(
        next_url.replace("&amp;", "&"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more-row"
    )
    assert "Question number 04." in html(more) and "Question number 54." not in html(more)
    assert 'id="more-row"' not in html(more)


def test_the_list_costs_the_same_queries_for_few_and_many(
    client: Any, admin: Any, alice: Any, incoming: Any, make_contact: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("inbox:list")).status_code == 200
        return len(ctx.captured_queries)

    incoming(alice, "one")
    few = count()
    for i in range(8):
        make_contact(alice, first_name=f"C{i}", emails=[f"c{i}@x.ru"])
        incoming(alice, f"more {i}", email=f"c{i}@x.ru")
        incoming(None, f"lead {i}")
    assert count() == few


# --- a conversation -----------------------------------------------------------------------------


def test_opening_a_conversation_shows_the_thread_and_marks_it_read(
    client: Any, alice: Any, incoming: Any
) -> None:
    m = incoming(alice, "First line\nSecond line", sender="Anna <anna@x.ru>", thread="t")
    incoming(
        alice,
        "A follow-up",
        thread="t",
        body_html="<p>A <b>follow-up</b><img src='https://track.example/p.gif'><script>alert(1)</script></p>",
    )
    assert m.conversation.unread
    page = signed_in(client, alice).get(m.conversation.get_absolute_url())
    text = html(page)
    assert "First line<br>Second line" in text
    assert "Anna &lt;anna@x.ru&gt;" in text
    assert "A <b>follow-up</b>" in text
    assert "track.example" not in text and "alert(1)" not in text
    m.conversation.refresh_from_db()
    assert not m.conversation.unread
    assert m.conversation.lead.get_absolute_url() in text  # the lead's card


def test_a_reply_posted_with_htmx_appears_in_place_queued_then_sent(
    client: Any, alice: Any, incoming: Any, email_sender: Any
) -> None:
    m = incoming(alice, "How much?")
    signed_in(client, alice)
    page = html(client.get(m.conversation.get_absolute_url()))
    assert 'name="body_text"' in page
    response = client.post(reverse("inbox:reply", args=[m.conversation_id]),
                           {"body_text": "It is 100 ₽"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    fragment = html(response)
    assert "<html" not in fragment and 'id="vk-thread-wrap"' in fragment
    assert "It is 100 ₽" in fragment and "Queued" in fragment
    out = Message.objects.get(direction="out")
    assert f'hx-get="{reverse("inbox:message", args=[out.pk])}"' in fragment  # polls its status
    assert deliver_due() == 1
    polled = html(client.get(reverse("inbox:message", args=[out.pk])))
    assert "Sent" in polled and "hx-get" not in polled
    assert email_sender.sent == [(out.pk, "It is 100 ₽")]


def test_an_empty_reply_says_what_to_fix_in_place_and_without_htmx(
    client: Any, alice: Any, incoming: Any, email_sender: Any
) -> None:
    m = incoming(alice, "Hello?")
    signed_in(client, alice)
    url = reverse("inbox:reply", args=[m.conversation_id])
    in_place = client.post(url, {"body_text": "   "}, HTTP_HX_REQUEST="true")
    assert in_place.status_code == 200 and "write the reply" in html(in_place)
    plain = client.post(url, {"body_text": ""})
    assert plain.status_code == 400 and "write the reply" in html(plain)
    assert not Message.objects.filter(direction="out").exists()


def test_a_reply_without_htmx_redirects_back_to_the_thread(
    client: Any, alice: Any, incoming: Any, email_sender: Any
) -> None:
    m = incoming(alice, "Hello?")
    signed_in(client, alice)
    response = client.post(reverse("inbox:reply", args=[m.conversation_id]), {"body_text": "Hi"})
    out = Message.objects.get(direction="out")
    assert response.status_code == 302
    assert response["Location"] == m.conversation.get_absolute_url() + f"#message-{out.pk}"
    assert "Reply queued" in html(client.get(response["Location"]))


def test_a_failed_reply_shows_the_error_and_retry_queues_it_again(
    client: Any, alice: Any, incoming: Any, email_sender: Any
) -> None:
    from voronka.inbox.services import reply

    m = incoming(alice, "Hello?")
    out = reply(actor=alice, conversation=m.conversation, body_text="Answer")
    Message.objects.filter(pk=out.pk).update(status="failed", error="550 mailbox unavailable",
                                             attempts=8, next_attempt_at=None)  # fmt: skip
    signed_in(client, alice)
    page = html(client.get(m.conversation.get_absolute_url()))
    assert "Not sent:" in page and "550 mailbox unavailable" in page
    retry_url = reverse("inbox:message_retry", args=[out.pk])
    assert f'action="{retry_url}"' in page
    fragment = html(client.post(retry_url, HTTP_HX_REQUEST="true"))
    assert "Queued" in fragment and "Retry" not in fragment
    assert deliver_due() == 1
    out.refresh_from_db()
    assert out.status == "sent"
    again = client.post(retry_url)  # only a failed reply can be retried
    assert again.status_code == 302
    assert "only a failed reply can be retried" in html(client.get(again["Location"]))


def test_forms_and_calls_say_replies_go_through_other_channels(
    client: Any, admin: Any, no_email_sender: Any
) -> None:
    from voronka.inbox.services import Incoming, receive

    call = receive(Incoming(kind="call", account="telephony", external_id="c1",
                            external_key="+79161234567", sender="+7 916 123-45-67",
                            phone="+79161234567", body_text="Missed call"))  # fmt: skip
    form = receive(Incoming(kind="form", account="form:1", external_id="submission:1",
                            sender="Olga", name="Olga", body_text="Your name: Olga"))  # fmt: skip
    signed_in(client, admin)
    call_page = html(client.get(call.conversation.get_absolute_url()))
    assert "This is a call" in call_page and 'name="body_text"' not in call_page
    form_page = html(client.get(form.conversation.get_absolute_url()))
    assert "came from a web form" in form_page and 'name="body_text"' not in form_page
    response = client.post(reverse("inbox:reply", args=[form.conversation_id]), {"body_text": "Hi"})
    assert response.status_code == 400
    assert "replies cannot be sent in this channel" in html(response)


def test_a_read_only_user_reads_but_cannot_reply_assign_or_close(
    client: Any, make_user: Any, incoming: Any, email_sender: Any
) -> None:
    reader = make_user("reader", role="read_only")
    from voronka.accounts.models import Role

    Role.objects.filter(code="read_only").update(scope="all")
    m = incoming(reader, "Please answer")
    signed_in(client, reader)
    page = html(client.get(m.conversation.get_absolute_url()))
    assert "read-only" in page and 'name="body_text"' not in page and "Assign" not in page
    url = reverse("inbox:reply", args=[m.conversation_id])
    assert client.post(url, {"body_text": "x"}).status_code == 403
    assert (
        client.post(
            reverse("inbox:set_closed", args=[m.conversation_id]), {"closed": "1"}
        ).status_code
        == 403
    )
    assert not Message.objects.filter(direction="out").exists()


def test_assigning_hands_the_conversation_over_and_tells_the_new_manager(
    client: Any, admin: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    from voronka.core.models import Notification

    m = incoming(alice, "Hello")
    signed_in(client, alice)
    response = client.post(reverse("inbox:assign", args=[m.conversation_id]), {"owner_id": bob.pk})
    assert response.status_code == 302 and response["Location"] == reverse("inbox:list")
    m.conversation.refresh_from_db()
    assert m.conversation.owner_id == bob.pk
    assert Notification.objects.filter(user=bob, url=m.conversation.get_absolute_url()).exists()
    assert client.get(m.conversation.get_absolute_url()).status_code == 404  # now Bob's
    signed_in(client, admin)
    bad = client.post(reverse("inbox:assign", args=[m.conversation_id]), {"owner_id": "999999"})
    assert "no such active user" in html(client.get(bad["Location"]))
    client.post(reverse("inbox:assign", args=[m.conversation_id]), {"owner_id": ""})
    m.conversation.refresh_from_db()
    assert m.conversation.owner_id is None


def test_mark_unread_close_and_reopen(client: Any, alice: Any, incoming: Any) -> None:
    m = incoming(alice, "Thanks, all clear")
    conv = m.conversation
    signed_in(client, alice)
    client.get(conv.get_absolute_url())
    assert client.post(reverse("inbox:mark_unread", args=[conv.pk]))["Location"] == reverse(
        "inbox:list"
    )
    conv.refresh_from_db()
    assert conv.unread
    client.post(reverse("inbox:set_closed", args=[conv.pk]), {"closed": "1"})
    conv.refresh_from_db()
    assert conv.closed
    assert "Thanks, all clear" not in rows(client.get(reverse("inbox:list")))
    assert "Reopen" in html(client.get(conv.get_absolute_url()))
    client.post(reverse("inbox:set_closed", args=[conv.pk]), {"closed": "0"})
    conv.refresh_from_db()
    assert not conv.closed
    # A closed conversation opens again when the customer writes.
    client.post(reverse("inbox:set_closed", args=[conv.pk]), {"closed": "1"})
    incoming(alice, "One more thing", thread=conv.external_key)
    conv.refresh_from_db()
    assert not conv.closed and conv.unread


def test_attachments_download_only_for_who_sees_the_conversation(
    client: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    m = incoming(alice, "Invoice attached",
                 files=[IncomingFile("invoice.html", b"<script>alert(1)</script>", "text/html")])  # fmt: skip
    att = m.attachments.get()
    url = reverse("inbox:attachment", args=[att.pk])
    signed_in(client, alice)
    page = html(client.get(m.conversation.get_absolute_url()))
    assert url in page and "invoice.html" in page
    assert "/media/" not in page
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    assert response["Content-Type"] == "application/octet-stream"  # never rendered as HTML
    assert 'attachment; filename="invoice.html"' in response["Content-Disposition"]
    signed_in(client, bob)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


# --- the card's panel, the timeline and the badge -------------------------------------------------


def test_the_contact_card_lists_its_conversations(
    client: Any, alice: Any, bob: Any, make_contact: Any, incoming: Any
) -> None:
    contact = make_contact(alice, first_name="Irina", emails=["irina@x.ru"])
    m = incoming(alice, "About my order", email="irina@x.ru", subject="Order 42")
    signed_in(client, alice)
    card = html(client.get(contact.get_absolute_url()))
    panel_url = reverse("inbox:contact_panel", args=[contact.pk])
    assert panel_url in card
    panel = html(client.get(panel_url))
    assert "Conversations" in panel and "Order 42" in panel
    assert m.conversation.get_absolute_url() in panel
    signed_in(client, bob)
    assert client.get(panel_url).status_code == 404


def test_the_unread_badge_counts_open_unread_conversations_the_user_sees(
    client: Any, rf: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    from django.template.loader import render_to_string

    from voronka.inbox.context_processors import inbox

    incoming(alice, "one")
    incoming(alice, "two")
    read = incoming(alice, "three")
    Conversation.objects.filter(pk=read.conversation_id).update(unread=False)
    incoming(bob, "Bob's")
    signed_in(client, alice)
    badge = html(client.get(reverse("inbox:unread_badge")))
    assert ">2<" in badge and "unread" in badge
    request = rf.get("/")
    request.user = alice
    context = inbox(request)
    assert context["vk_inbox_unread"]() == 2
    nav = render_to_string("inbox/_nav_item.html", context, request=request)
    assert reverse("inbox:list") in nav and ">2<" in nav
    Conversation.objects.update(unread=False)
    assert ">" + "2<" not in html(client.get(reverse("inbox:unread_badge")))
