"""/api/v1/conversations: the same visibility as the inbox page (another rep's conversation
is 404), cursor pages, the thread, replies, read, assign, close and reopen."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import IncomingFile, deliver_due

pytestmark = pytest.mark.django_db

BASE = "/api/v1/conversations"


def test_a_rep_lists_only_their_conversations_and_others_are_404(
    api: Any, admin: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    mine = incoming(alice, "Alice's").conversation
    theirs = incoming(bob, "Bob's").conversation
    nobodys = incoming(None, "Nobody's").conversation
    client = api(alice)
    body = client.get(BASE).json()
    assert [c["id"] for c in body["items"]] == [mine.pk]
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert item["kind"] == "email" and item["owner_id"] == alice.pk and item["unread"] is True
    assert item["lead_id"] == mine.lead_id and item["preview"] == "Alice's"
    for other in (theirs, nobodys):
        assert client.get(f"{BASE}/{other.pk}").status_code == 404
        assert client.get(f"{BASE}/{other.pk}/messages").status_code == 404
        for action in ("read", "unread", "close", "reopen"):
            assert client.post(f"{BASE}/{other.pk}/{action}").status_code == 404, action
        assert client.post(f"{BASE}/{other.pk}/reply", {"body_text": "x"}).status_code == 404
        assert client.post(f"{BASE}/{other.pk}/assign", {"owner_id": alice.pk}).status_code == 404
    assert client.get(f"{BASE}/abc").status_code == 404
    everything = api(admin).get(BASE).json()
    assert {c["id"] for c in everything["items"]} == {mine.pk, theirs.pk, nobodys.pk}


def test_filters_and_cursor_pages(api: Any, admin: Any, alice: Any, incoming: Any) -> None:
    from voronka.inbox.services import Incoming, receive

    for i in range(5):
        incoming(alice, f"mail {i}")
    tg = receive(Incoming(kind="telegram", account="telegram:1", external_id="9",
                          external_key="chat", sender="@kate", body_text="hi"))  # fmt: skip
    Conversation.objects.filter(pk=tg.conversation_id).update(closed=True, unread=False)
    client = api(admin)
    first = client.get(BASE, limit=2).json()
    second = client.get(BASE, limit=2, cursor=first["next_cursor"]).json()
    third = client.get(BASE, limit=2, cursor=second["next_cursor"]).json()
    ids = [c["id"] for page in (first, second, third) for c in page["items"]]
    expected = list(
        Conversation.objects.order_by("-last_message_at", "-id").values_list("id", flat=True)
    )
    assert ids == expected and third["next_cursor"] is None
    assert [c["kind"] for c in client.get(BASE, kind="telegram").json()["items"]] == ["telegram"]
    assert len(client.get(BASE, closed="false").json()["items"]) == 5
    assert len(client.get(BASE, unread="false").json()["items"]) == 1
    assert [c["id"] for c in client.get(BASE, owner="unassigned").json()["items"]] == [
        tg.conversation_id
    ]
    assert len(client.get(BASE, owner=str(alice.pk)).json()["items"]) == 5
    assert client.get(BASE, owner="me").json()["items"] == []
    bad = client.get(BASE, kind="fax", unread="maybe", limit="0")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "unread", "limit"}
    assert client.get(BASE, cursor="!!!").status_code == 422


def test_the_conversation_with_its_messages_and_files(
    api: Any, alice: Any, incoming: Any, bob: Any
) -> None:
    m = incoming(alice, "Contract attached", thread="t",
                 files=[IncomingFile("contract.pdf", b"%PDF", "application/pdf")])  # fmt: skip
    incoming(alice, "Any news?", thread="t")
    client = api(alice)
    body = client.get(f"{BASE}/{m.conversation_id}").json()
    assert [x["body_text"] for x in body["messages"]] == ["Contract attached", "Any news?"]
    assert body["messages_truncated"] is False
    assert body["unread"] is True  # reading through the API does not mark it read
    (att,) = body["messages"][0]["attachments"]
    assert att["name"] == "contract.pdf" and att["size"] == 4
    download = client.get(att["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF"
    assert api(bob).get(att["url"]).status_code == 404
    page = client.get(f"{BASE}/{m.conversation_id}/messages", limit=1).json()
    assert [x["body_text"] for x in page["items"]] == ["Contract attached"]
    rest = client.get(f"{BASE}/{m.conversation_id}/messages", limit=1, cursor=page["next_cursor"])
    assert [x["body_text"] for x in rest.json()["items"]] == ["Any news?"]


def test_a_reply_is_queued_201_and_then_sent(
    api: Any, alice: Any, incoming: Any, email_sender: Any
) -> None:
    m = incoming(alice, "Price?")
    client = api(alice)
    response = client.post(f"{BASE}/{m.conversation_id}/reply", {"body_text": "100 ₽"})
    assert response.status_code == 201
    out = response.json()
    assert (out["direction"], out["status"], out["body_text"], out["author_id"]) == (
        "out", "queued", "100 ₽", alice.pk)  # fmt: skip
    assert deliver_due() == 1
    messages = client.get(f"{BASE}/{m.conversation_id}/messages").json()["items"]
    assert messages[-1]["id"] == out["id"] and messages[-1]["status"] == "sent"
    assert email_sender.sent == [(out["id"], "100 ₽")]


def test_bad_replies_name_the_field_and_write_nothing(
    api: Any, alice: Any, make_user: Any, incoming: Any, no_email_sender: Any
) -> None:
    m = incoming(alice, "Hi")
    client = api(alice)
    empty = client.post(f"{BASE}/{m.conversation_id}/reply", {"body_text": ""})
    assert empty.status_code == 422
    assert {e["field"] for e in empty.json()["errors"]} == {"body_text", "conversation"}
    wrong = client.post(f"{BASE}/{m.conversation_id}/reply", {"body_text": 5, "cc": "x"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "cc"
    assert client.post(f"{BASE}/{m.conversation_id}/reply", {"body_text": 5}).status_code == 422
    assert not Message.objects.filter(direction="out").exists()


def test_read_assign_close_and_reopen(
    api: Any, admin: Any, alice: Any, bob: Any, incoming: Any
) -> None:
    m = incoming(alice, "Hello")
    client = api(alice)
    url = f"{BASE}/{m.conversation_id}"
    assert client.post(f"{url}/read").json()["unread"] is False
    assert client.post(f"{url}/unread").json()["unread"] is True
    assert client.post(f"{url}/close").json()["closed"] is True
    assert client.post(f"{url}/reopen").json()["closed"] is False
    bad = client.post(f"{url}/assign", {"owner_id": "bob"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "owner_id"
    missing = client.post(f"{url}/assign", {"owner_id": 999_999})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "owner_id"
    assert client.post(f"{url}/assign", {"owner_id": bob.pk}).json()["owner_id"] == bob.pk
    assert client.get(url).status_code == 404  # Bob's now
    assert api(admin).post(f"{url}/assign", {"owner_id": None}).json()["owner_id"] is None


def test_a_read_only_key_reads_but_cannot_change(
    api: Any, make_user: Any, incoming: Any, email_sender: Any
) -> None:
    from voronka.accounts.models import Role

    reader = make_user("reader", role="read_only")
    Role.objects.filter(code="read_only").update(scope="all")
    m = incoming(reader, "Hello")
    client = api(reader)
    url = f"{BASE}/{m.conversation_id}"
    assert client.get(url).status_code == 200
    assert client.post(f"{url}/read").status_code == 200
    assert client.post(f"{url}/reply", {"body_text": "x"}).status_code == 403
    assert client.post(f"{url}/close").status_code == 403
    assert client.post(f"{url}/assign", {"owner_id": None}).status_code == 403


def test_the_list_costs_the_same_queries_for_few_and_many(
    api: Any, admin: Any, alice: Any, incoming: Any, make_contact: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(admin)

    def count() -> int:
        client.get(BASE)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BASE).status_code == 200
        return len(ctx.captured_queries)

    incoming(alice, "one")
    few = count()
    for i in range(6):
        make_contact(alice, first_name=f"C{i}", emails=[f"c{i}@x.ru"])
        incoming(alice, f"more {i}", email=f"c{i}@x.ru")
    assert count() == few <= 6
