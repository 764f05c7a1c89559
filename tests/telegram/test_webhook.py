"""The webhook: Telegram posts Updates, the secret header proves it, and a worker takes the
kept updates into the inbox (conversation per chat, lead for an unknown customer, files as
attachments, a shared phone linking the contact)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.telegram.fake_bot_api import message, photo_sizes, update, user
from voronka.inbox.models import Attachment, Conversation, Message
from voronka.sales.models import Lead
from voronka.telegram.models import PendingUpdate
from voronka.telegram.services import process_pending

pytestmark = pytest.mark.django_db


def _nothing_written() -> None:
    assert PendingUpdate.objects.count() == 0
    assert Message.objects.count() == 0
    assert Conversation.objects.count() == 0
    assert Lead.objects.count() == 0


def test_text_from_unknown_user_makes_a_lead_and_a_conversation(
    bot: Any, post_update: Any, manager: Any
) -> None:
    upd = update(message(text="Hello! How much is the blue sofa?"))
    response = post_update(bot, upd)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "kept": True}
    assert process_pending() == 1

    conversation = Conversation.objects.get()
    assert conversation.kind == "telegram"
    assert conversation.account == f"telegram:{bot.pk}"
    assert conversation.external_key == "4242"
    assert conversation.peer == "Anna Ivanova (@anna_iv)"
    assert conversation.owner_id == manager.pk
    assert conversation.preview == "Hello! How much is the blue sofa?"

    lead = Lead.objects.get()
    assert conversation.lead_id == lead.pk
    assert (lead.first_name, lead.last_name) == ("Anna", "Ivanova")
    assert lead.source == "Telegram: @shop_bot"
    assert lead.owner_id == manager.pk

    msg = Message.objects.get()
    assert msg.direction == "in"
    assert msg.body_text == "Hello! How much is the blue sofa?"
    assert msg.external_id == f"4242:{upd['message']['message_id']}"
    assert msg.sender == "Anna Ivanova (@anna_iv)"
    assert msg.meta["chat_id"] == 4242
    assert msg.meta["username"] == "anna_iv"
    assert msg.meta["telegram_user_id"] == 4242
    assert msg.created_at.timestamp() == upd["message"]["date"]
    assert PendingUpdate.objects.count() == 0
    bot.refresh_from_db()
    assert bot.last_update_id == upd["update_id"]
    assert bot.last_update_at is not None


def test_second_message_of_the_chat_joins_the_conversation(bot: Any, post_update: Any) -> None:
    post_update(bot, update(message(text="first")))
    post_update(bot, update(message(text="second")))
    process_pending()
    conversation = Conversation.objects.get()
    assert list(conversation.messages.values_list("body_text", flat=True)) == ["first", "second"]
    assert Lead.objects.count() == 1
    assert conversation.preview == "second"


def test_another_chat_is_another_conversation(bot: Any, post_update: Any) -> None:
    post_update(bot, update(message(text="from Anna")))
    post_update(bot, update(message(text="from Boris", sender=user(777, "Boris", "", None))))
    process_pending()
    assert Conversation.objects.count() == 2
    boris = Conversation.objects.get(external_key="777")
    assert boris.peer == "Boris"
    assert boris.lead.first_name == "Boris"


def test_the_same_update_twice_is_one_message(bot: Any, post_update: Any) -> None:
    upd = update(message(text="once"))
    assert post_update(bot, upd).status_code == 200
    assert post_update(bot, upd).status_code == 200
    assert PendingUpdate.objects.count() == 1
    process_pending()
    # Delivered again after it was taken in: receive() is idempotent on the message id.
    post_update(bot, upd)
    process_pending()
    assert Message.objects.count() == 1


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_missing_or_wrong_secret_is_403_and_nothing_is_kept(
    bot: Any, post_update: Any, secret: str | None
) -> None:
    response = post_update(bot, update(message(text="hi")), secret=secret)
    assert response.status_code == 403
    assert "X-Telegram-Bot-Api-Secret-Token" in response.json()["detail"]
    _nothing_written()


def test_unknown_address_is_404(client: Any, bot: Any) -> None:
    response = client.post("/telegram/hook/nope/", "{}", content_type="application/json")
    assert response.status_code == 404


def test_only_post(client: Any, bot: Any) -> None:
    assert client.get(f"/telegram/hook/{bot.path_token}/").status_code == 405


@pytest.mark.parametrize(
    ("raw", "field", "detail"),
    [
        ("{not json", "body", "malformed JSON body"),
        ("[1, 2]", "body", "the body is not a Telegram Update"),
        ('"text"', "body", "the body is not a Telegram Update"),
        ('{"message": {"text": "hi"}}', "update_id", "update_id: must be an integer"),
        ('{"update_id": 5, "message": "hi"}', "message", "message: must be a Telegram Message"),
        ('{"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": {}}}',
         "message.chat.id", "message.chat.id: must be an integer"),
        ('{"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": {"id": 1}, '
         '"text": "a\\u0000b"}}', "body", "NUL"),
    ],
)  # fmt: skip
def test_malformed_body_is_400_with_a_message_and_nothing_written(
    bot: Any, post_update: Any, raw: str, field: str, detail: str
) -> None:
    response = post_update(bot, None, raw=raw)
    assert response.status_code == 400
    body = response.json()
    assert detail in body["detail"]
    assert [e["field"] for e in body["errors"]] == [field]
    process_pending()
    _nothing_written()


def test_unknown_update_kinds_are_acknowledged_and_ignored(bot: Any, post_update: Any) -> None:
    callback = {"update_id": 77, "callback_query": {"id": "1", "from": user(), "data": "x"}}
    response = post_update(bot, callback)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "kept": False}
    _nothing_written()


def test_photo_and_document_are_kept_as_attachments(
    bot: Any, bot_api: Any, post_update: Any
) -> None:
    small = bot_api.add_file(b"small-jpeg", "photos/file_1.jpg")
    large = bot_api.add_file(b"LARGE-JPEG-BYTES", "photos/file_2.jpg")
    pdf = bot_api.add_file(b"%PDF-1.4 price list", "documents/file_3.pdf")
    post_update(bot, update(message(photo=photo_sizes([small, large]), caption="This one?")))
    post_update(bot, update(message(document={
        "file_id": pdf, "file_unique_id": "ud", "file_name": "price list.pdf",
        "mime_type": "application/pdf", "file_size": 19})))  # fmt: skip
    assert process_pending() == 2

    photo_msg, doc_msg = Message.objects.order_by("id")
    assert photo_msg.body_text == "This one?"
    (photo,) = photo_msg.attachments.all()
    assert photo.content_type == "image/jpeg"
    assert photo.name.startswith("photo_") and photo.name.endswith(".jpg")
    with photo.file.open("rb") as fh:
        assert fh.read() == b"LARGE-JPEG-BYTES"  # the largest size, not the thumbnail
    (doc,) = doc_msg.attachments.all()
    assert (doc.name, doc.content_type, doc.size) == ("price list.pdf", "application/pdf", 19)
    with doc.file.open("rb") as fh:
        assert fh.read() == b"%PDF-1.4 price list"
    fetched = [c.params["file_id"] for c in bot_api.calls_to("getFile")]
    assert fetched == [large, pdf]


def test_voice_message_is_an_ogg_attachment(bot: Any, bot_api: Any, post_update: Any) -> None:
    voice = bot_api.add_file(b"OggS-voice", "voice/file_9.oga")
    post_update(bot, update(message(voice={"file_id": voice, "file_unique_id": "uv",
                                           "duration": 3, "mime_type": "audio/ogg",
                                           "file_size": 10})))  # fmt: skip
    process_pending()
    (att,) = Attachment.objects.all()
    assert att.content_type == "audio/ogg"
    assert att.name.endswith(".ogg")


def test_file_too_big_for_the_bot_api_is_noted_in_the_text(bot: Any, post_update: Any) -> None:
    post_update(bot, update(message(document={
        "file_id": "BIG", "file_unique_id": "ub", "file_name": "video.mov",
        "file_size": 50 * 1024 * 1024})))  # fmt: skip
    process_pending()
    msg = Message.objects.get()
    assert "video.mov could not be fetched from Telegram" in msg.body_text
    assert "20 MB" in msg.body_text
    assert msg.attachments.count() == 0


def test_file_download_failing_for_now_is_retried_then_kept(
    bot: Any, bot_api: Any, post_update: Any
) -> None:
    doc = bot_api.add_file(b"contract", "documents/file_5.pdf")
    post_update(bot, update(message(document={"file_id": doc, "file_unique_id": "u",
                                              "file_name": "contract.pdf"})))  # fmt: skip
    bot_api.fail("getFile", 502, "Bad Gateway")
    assert process_pending() == 0
    pending = PendingUpdate.objects.get()
    assert pending.attempts == 1
    assert pending.error == "Bad Gateway"
    assert Message.objects.count() == 0
    PendingUpdate.objects.update(next_attempt_at=pending.received_at)  # due again
    assert process_pending() == 1
    msg = Message.objects.get()
    assert msg.attachments.get().name == "contract.pdf"
    assert PendingUpdate.objects.count() == 0


def test_last_attempt_keeps_the_message_without_the_file(
    bot: Any, bot_api: Any, post_update: Any
) -> None:
    doc = bot_api.add_file(b"contract", "documents/file_6.pdf")
    post_update(bot, update(message(caption="signed", document={
        "file_id": doc, "file_unique_id": "u", "file_name": "contract.pdf"})))  # fmt: skip
    PendingUpdate.objects.update(attempts=7)
    bot_api.fail("getFile", 500, "Internal Server Error")
    assert process_pending() == 1
    msg = Message.objects.get()
    assert msg.body_text.startswith("signed\n")
    assert "contract.pdf could not be fetched from Telegram: Internal Server Error" in msg.body_text


def test_shared_own_contact_links_the_known_contact(
    bot: Any, post_update: Any, make_contact: Any, alice: Any
) -> None:
    contact = make_contact(alice, phones=[{"phone": "+7 916 123-45-67", "kind": "mobile"}])
    anna = user()
    post_update(bot, update(message(sender=anna, contact={
        "phone_number": "79161234567", "first_name": "Anna", "user_id": anna["id"]})))  # fmt: skip
    process_pending()
    conversation = Conversation.objects.get()
    assert conversation.contact_id == contact.pk
    assert conversation.owner_id == alice.pk
    assert Lead.objects.count() == 0
    assert "Shared a contact: Anna, 79161234567" in Message.objects.get().body_text


def test_shared_contact_later_links_the_conversation(
    bot: Any, post_update: Any, make_contact: Any, alice: Any
) -> None:
    post_update(bot, update(message(text="hi")))
    process_pending()
    conversation = Conversation.objects.get()
    assert conversation.contact_id is None and conversation.lead_id is not None
    contact = make_contact(alice, phones=[{"phone": "+79161234567", "kind": "mobile"}])
    anna = user()
    post_update(bot, update(message(sender=anna, contact={
        "phone_number": "+79161234567", "first_name": "Anna", "user_id": anna["id"]})))  # fmt: skip
    process_pending()
    conversation.refresh_from_db()
    assert conversation.contact_id == contact.pk


def test_shared_contact_of_an_unknown_phone_goes_on_the_lead(bot: Any, post_update: Any) -> None:
    anna = user()
    post_update(bot, update(message(text="hi")))
    post_update(bot, update(message(sender=anna, contact={
        "phone_number": "79035550101", "first_name": "Anna", "user_id": anna["id"]})))  # fmt: skip
    process_pending()
    assert Lead.objects.get().phone == "+79035550101"


def test_someone_elses_contact_is_only_text(
    bot: Any, post_update: Any, make_contact: Any, alice: Any
) -> None:
    make_contact(alice, phones=[{"phone": "+79161234567", "kind": "mobile"}])
    post_update(bot, update(message(contact={
        "phone_number": "79161234567", "first_name": "Pavel", "user_id": 999})))  # fmt: skip
    process_pending()
    conversation = Conversation.objects.get()
    assert conversation.contact_id is None
    assert conversation.lead.phone == ""


def test_edited_message_is_shown_as_an_edit(bot: Any, post_update: Any) -> None:
    original = message(text="I want 2 chairs")
    post_update(bot, update(original))
    edited = {**original, "text": "I want 3 chairs", "edit_date": original["date"] + 60}
    post_update(bot, update(edited, edited=True))
    process_pending()
    first, second = Message.objects.order_by("id")
    assert first.body_text == "I want 2 chairs"
    assert second.body_text == "(edited) I want 3 chairs"
    assert second.meta["edited"] is True
    assert Conversation.objects.count() == 1


def test_disconnected_bot_webhook_is_404(admin: Any, bot: Any, post_update: Any) -> None:
    from voronka.telegram.services import bot_disconnect

    bot_disconnect(actor=admin, bot=bot)
    assert post_update(bot, update(message(text="hi"))).status_code == 404
    _nothing_written()
