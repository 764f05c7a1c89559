"""The generic JSON format and what a call does in the CRM: the timeline, activities, leads
from unknown callers with their tracking source, call-back tasks, ``call.missed``, the
responsible manager, and redelivery."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

CALLER = "+79161234567"
LINE = "+74951234567"


def event(name: str, call_id: str = "c-1", **extra: Any) -> dict[str, Any]:
    return {"event": name, "call_id": call_id, "direction": "in", "from": CALLER, "to": LINE,
            **extra}  # fmt: skip


@pytest.fixture
def tracking(admin: Any, bob: Any) -> Any:
    from voronka.telephony.services import tracking_number_create

    return tracking_number_create(actor=admin, data={
        "number": "8 (495) 123-45-67", "source": "Яндекс Директ", "utm_source": "yandex",
        "utm_campaign": "spring", "default_owner_id": bob.pk,
    })  # fmt: skip


def test_signature_is_hex_hmac_sha256_of_the_body(
    generic: Any, post_generic: Any, counts: Any
) -> None:
    from tests.telephony.conftest import generic_sign

    before = counts()
    assert post_generic(generic, event("ringing"), signature="0" * 64).status_code == 403
    assert post_generic(generic, event("ringing"), signature="").status_code == 403
    assert counts() == before
    body = b'{"event": "ringing", "call_id": "c-9", "from": "+79161234567"}'
    prefixed = "sha256=" + generic_sign(body)
    assert post_generic(generic, None, raw=body, signature=prefixed).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"event": "hangup", "call_id": "c"}', "event"),
        (b'{"event": "ringing"}', "call_id"),
        (b'{"event": "ringing", "call_id": "c", "direction": "sideways"}', "direction"),
        (b'{"event": "completed", "call_id": "c", "duration": "long"}', "duration"),
        (b'{"event": "completed", "call_id": "c", "duration": -5}', "duration"),
        (b'{"event": "completed", "call_id": "c", "started_at": "yesterday"}', "started_at"),
        (b'{"event": "completed", "call_id": "c", "recording_url": "javascript:alert(1)"}',
         "recording_url"),
        (b'{"event": "ringing", "call_id": {"id": 1}}', "call_id"),
        (b'{"event": "ringing", "call_id": "c\\u0000"}', "call_id"),
    ],
)  # fmt: skip
def test_malformed_body_is_400_naming_the_field(
    generic: Any, post_generic: Any, counts: Any, body: bytes, field: str
) -> None:
    before = counts()
    response = post_generic(generic, None, raw=body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field
    assert counts() == before


def test_known_caller_lands_on_the_timeline_and_as_an_activity(
    client: Any, generic: Any, alice: Any, make_contact: Any, post_generic: Any, password: str
) -> None:
    from voronka.core.models import OutboxEvent
    from voronka.inbox.models import Conversation, Message
    from voronka.sales.models import Activity, Lead

    contact = make_contact(alice, phones=["+7 916 123-45-67"])
    post_generic(generic, event("ringing"))
    post_generic(generic, event("answered"))
    response = post_generic(generic, event(
        "completed", duration=125, recording_url="https://pbx.example/rec/c-1.mp3"))  # fmt: skip
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert (conversation.kind, conversation.account, conversation.external_key) == (
        "call",
        f"pbx:{generic.pk}",
        CALLER,
    )
    assert conversation.contact == contact and conversation.lead is None
    message = Message.objects.get()
    assert message.external_id == "call:c-1"
    assert message.body_text.startswith("Incoming call, 2 min 05 s")
    assert message.meta["recording_url"] == "https://pbx.example/rec/c-1.mp3"
    assert not Lead.objects.exists()
    activity = Activity.objects.get()
    assert (activity.kind, activity.contact, activity.call_duration, activity.owner) == (
        "call",
        contact,
        125,
        alice,
    )
    assert activity.recording_url == "https://pbx.example/rec/c-1.mp3"
    assert OutboxEvent.objects.filter(name="message.received", entity_id=contact.pk).exists()
    client.login(username="alice", password=password)
    page = client.get(reverse("customers:contact", args=[contact.pk])).content.decode()
    assert "Incoming call, 2 min 05 s" in page
    assert "Incoming call from +7 916 123-45-67" in page  # the activity


def test_missed_call_from_unknown_number_makes_lead_task_and_event(
    generic: Any, tracking: Any, bob: Any, post_generic: Any
) -> None:
    from voronka.core.models import Notification, OutboxEvent
    from voronka.sales.models import Activity, Lead
    from voronka.telephony.models import Call

    post_generic(generic, event("ringing"))
    before = timezone.now()
    assert post_generic(generic, event("missed")).status_code == 200
    lead = Lead.objects.get()
    assert (lead.phone, lead.source, lead.utm_source, lead.utm_campaign, lead.owner) == (
        CALLER,
        "Яндекс Директ",
        "yandex",
        "spring",
        bob,
    )
    task = Activity.objects.get(kind="task")
    assert (task.subject, task.lead, task.owner) == ("Call back +7 916 123-45-67", lead, bob)
    assert before + dt.timedelta(minutes=14) < task.due_at < before + dt.timedelta(minutes=16)
    assert task.remind_at == task.due_at
    missed = Activity.objects.get(kind="call")
    assert (missed.call_direction, missed.lead) == ("missed", lead)
    event_row = OutboxEvent.objects.get(name="call.missed")
    assert (event_row.entity, event_row.entity_id) == ("sales.lead", lead.pk)
    assert Notification.objects.filter(user=bob).exists()
    call = Call.objects.get()
    assert (call.lead, call.source, call.tracking_number, call.callback_task) == (
        lead,
        "Яндекс Директ",
        tracking,
        task,
    )


def test_answered_call_from_unknown_number_makes_a_lead_with_the_tracking_source(
    generic: Any, tracking: Any, post_generic: Any
) -> None:
    from voronka.sales.models import Activity, Lead

    post_generic(generic, event("answered"))
    post_generic(generic, event("completed", duration=30))
    lead = Lead.objects.get()
    assert lead.source == "Яндекс Директ"
    assert not Activity.objects.filter(kind="task").exists()
    assert Activity.objects.get(kind="call").lead == lead


def test_unknown_caller_without_tracking_is_a_phone_lead(
    generic: Any, post_generic: Any, admin: Any
) -> None:
    from voronka.sales.models import Lead

    post_generic(generic, event("missed"))
    assert Lead.objects.get().source == "Phone"


def test_second_call_joins_the_open_lead(generic: Any, post_generic: Any) -> None:
    from voronka.inbox.models import Conversation, Message
    from voronka.sales.models import Activity, Lead

    post_generic(generic, event("missed", "c-1"))
    post_generic(generic, event("missed", "c-2"))
    assert Lead.objects.count() == 1
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2
    assert Activity.objects.filter(kind="task").count() == 2


def test_redelivery_changes_nothing(
    generic: Any, tracking: Any, post_generic: Any, counts: Any
) -> None:
    for name in ("ringing", "missed"):
        post_generic(generic, event(name))
    before = counts()
    for name in ("ringing", "missed", "missed"):
        assert post_generic(generic, event(name)).status_code == 200
    assert counts() == before


def test_a_late_event_never_moves_a_call_back(generic: Any, post_generic: Any) -> None:
    from voronka.telephony.models import Call, RingingAlert

    post_generic(generic, event("completed", duration=10))
    post_generic(generic, event("ringing", extension="101"))
    post_generic(generic, event("answered"))
    call = Call.objects.get()
    assert call.status == "completed"
    assert not RingingAlert.objects.exists()


# --- who answers for a call -----------------------------------------------------------------------


def _manager_of_missed_call(post_generic: Any, pbx: Any, **extra: Any) -> Any:
    from voronka.telephony.models import Call

    post_generic(pbx, event("missed", **extra))
    return Call.objects.get().manager


def test_extension_user_first(
    make_pbx: Any, admin: Any, alice: Any, bob: Any, charlie: Any, make_contact: Any,
    tracking: Any, post_generic: Any,
) -> None:  # fmt: skip
    from voronka.telephony.services import extension_set

    pbx = make_pbx("generic", default_owner_id=admin.pk)
    extension_set(actor=admin, integration=pbx, extension="101", user_id=charlie.pk)
    make_contact(alice, phones=[CALLER])
    assert _manager_of_missed_call(post_generic, pbx, extension="101") == charlie


def test_extension_as_an_email(generic: Any, charlie: Any, post_generic: Any) -> None:
    assert (
        _manager_of_missed_call(post_generic, generic, extension="CHARLIE@example.com") == charlie
    )


def test_then_the_contact_owner(
    make_pbx: Any, admin: Any, alice: Any, make_contact: Any, tracking: Any, post_generic: Any
) -> None:
    pbx = make_pbx("generic", default_owner_id=admin.pk)
    make_contact(alice, phones=[CALLER])
    assert _manager_of_missed_call(post_generic, pbx, extension="999") == alice


def test_then_the_tracking_number_default(
    make_pbx: Any, admin: Any, bob: Any, tracking: Any, post_generic: Any
) -> None:
    pbx = make_pbx("generic", default_owner_id=admin.pk)
    assert _manager_of_missed_call(post_generic, pbx) == bob


def test_then_the_integration_default(make_pbx: Any, admin: Any, post_generic: Any) -> None:
    from voronka.sales.models import Activity

    pbx = make_pbx("generic", default_owner_id=admin.pk)
    assert _manager_of_missed_call(post_generic, pbx) == admin
    assert Activity.objects.get(kind="task").owner == admin


def test_outgoing_call_is_logged_on_the_contact(
    generic: Any, alice: Any, make_contact: Any, post_generic: Any
) -> None:
    from voronka.sales.models import Activity, Lead

    contact = make_contact(alice, phones=["+79031112233"])
    body = {"event": "completed", "call_id": "o-1", "direction": "out", "from": LINE,
            "to": "89031112233", "extension": "alice@example.com", "duration": 61}  # fmt: skip
    assert post_generic(generic, body).status_code == 200
    activity = Activity.objects.get()
    assert (activity.contact, activity.call_direction, activity.owner) == (
        contact,
        "outgoing",
        alice,
    )
    assert activity.subject == "Outgoing call to +7 903 111-22-33"
    assert not Lead.objects.exists()


def test_outgoing_call_to_an_unknown_number_makes_no_lead(
    generic: Any, post_generic: Any, counts: Any
) -> None:
    from voronka.telephony.models import Call

    before = counts()
    body = {"event": "missed", "call_id": "o-2", "direction": "out", "to": "+79035550000"}
    assert post_generic(generic, body).status_code == 200
    after = counts()
    assert after["Lead"] == before["Lead"] and after["Activity"] == before["Activity"]
    assert Call.objects.get().status == "missed"


def test_hidden_caller_is_kept_in_the_log_only(generic: Any, post_generic: Any) -> None:
    from voronka.sales.models import Lead
    from voronka.telephony.models import Call

    assert post_generic(generic, event("missed", **{"from": "anonymous"})).status_code == 200
    assert Call.objects.get().caller == "anonymous"
    assert not Lead.objects.exists()


def test_a_russian_crm_writes_its_tasks_in_russian_whatever_the_pbx_sends(
    generic: Any, tracking: Any, bob: Any, post_generic: Any, settings: Any
) -> None:
    from voronka.sales.models import Activity

    settings.LANGUAGE_CODE = "ru"
    post_generic(generic, event("missed"), HTTP_ACCEPT_LANGUAGE="en")
    task = Activity.objects.get(kind="task")
    assert task.subject == "Перезвонить на +7 916 123-45-67"
