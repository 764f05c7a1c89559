"""Mango Office VPBX API events: events/call (legs ringing, answered, hung up) and
events/summary (the whole call), signed with sha256(vpbx_api_key + json + salt)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.telephony.conftest import MANGO_KEY, mango_sign

pytestmark = pytest.mark.django_db

ENTRY = "MjU0NjYyODQ5Nzo0MTE="
LEG_IVR = "MToxMDE2Njk3Mjo0MTE6ODUwNjIzMjk0OjE="
LEG_101 = "MToxMDE2Njk3Mjo0MTE6ODUwNjIzMjk0OjI="
T0 = 1716300000


def appeared_ivr() -> dict[str, Any]:
    return {"entry_id": ENTRY, "call_id": LEG_IVR, "timestamp": T0, "seq": 1,
            "call_state": "Appeared", "location": "ivr",
            "from": {"number": "79161234567"},
            "to": {"number": "74951234567", "line_number": "74951234567"}}  # fmt: skip


def leg_101(state: str, seq: int, at: int) -> dict[str, Any]:
    return {"entry_id": ENTRY, "call_id": LEG_101, "timestamp": at, "seq": seq,
            "call_state": state, "location": "abonent",
            "from": {"number": "79161234567"},
            "to": {"extension": "101", "number": "sip:101@vpbx400123456.mangosip.ru",
                   "line_number": "74951234567"},
            **({"disconnect_reason": 1110} if state == "Disconnected" else {})}  # fmt: skip


def summary(result: int = 1, talk: int = T0 + 10, end: int = T0 + 135) -> dict[str, Any]:
    return {"entry_id": ENTRY, "call_direction": 1,
            "from": {"number": "79161234567"},
            "to": {"extension": "101", "number": "sip:101@vpbx400123456.mangosip.ru"},
            "line_number": "74951234567", "create_time": T0, "forward_time": T0 + 5,
            "talk_time": talk if result else 0, "end_time": end, "entry_result": result,
            "disconnect_reason": 1110}  # fmt: skip


@pytest.fixture
def ext_101(mango: Any, alice: Any, admin: Any) -> Any:
    from voronka.telephony.services import extension_set

    return extension_set(actor=admin, integration=mango, extension="101", user_id=alice.pk)


def test_answered_call_from_a_known_contact_is_on_the_card(
    client: Any, mango: Any, ext_101: Any, alice: Any, bob: Any, make_contact: Any,
    post_mango: Any, password: str,
) -> None:  # fmt: skip
    from voronka.sales.models import Activity
    from voronka.telephony.models import Call

    contact = make_contact(bob, phones=[{"phone": "8 916 123-45-67"}])
    assert post_mango(mango, "events/call", appeared_ivr()).status_code == 200
    call = Call.objects.get()
    assert (call.status, call.direction, call.caller, call.called) == (
        "ringing",
        "in",
        "+79161234567",
        "+74951234567",
    )
    assert call.contact == contact
    assert post_mango(mango, "events/call", leg_101("Appeared", 1, T0 + 5)).status_code == 200
    assert post_mango(mango, "events/call", leg_101("Connected", 2, T0 + 10)).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.manager) == ("answered", alice)
    assert post_mango(mango, "events/call", leg_101("Disconnected", 3, T0 + 135)).status_code == 200
    assert post_mango(mango, "events/summary", summary()).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.duration) == ("completed", 125)
    activity = Activity.objects.get(kind="call")
    assert (activity.contact, activity.call_direction, activity.call_duration, activity.owner) == (
        contact,
        "incoming",
        125,
        alice,
    )
    assert activity.done_at is not None
    # Bob owns the contact: his card shows the call in the timeline.
    client.login(username="bob", password=password)
    page = client.get(reverse("customers:contact", args=[contact.pk])).content.decode()
    assert "Incoming call, 2 min 05 s" in page


def test_summary_alone_finishes_a_missed_call(mango: Any, post_mango: Any, admin: Any) -> None:
    from voronka.sales.models import Activity, Lead
    from voronka.telephony.models import Call

    assert post_mango(mango, "events/summary", summary(result=0, end=T0 + 30)).status_code == 200
    call = Call.objects.get()
    assert (call.status, call.duration) == ("missed", 0)
    lead = Lead.objects.get()
    assert (lead.phone, lead.source) == ("+79161234567", "Phone")
    assert Activity.objects.filter(kind="task", lead=lead).exists()


def test_internal_calls_are_ignored(mango: Any, post_mango: Any, counts: Any) -> None:
    before = counts()
    data = {"entry_id": "x", "call_id": "y", "timestamp": T0, "seq": 1, "call_state": "Appeared",
            "from": {"extension": "101"}, "to": {"extension": "102"}}  # fmt: skip
    assert post_mango(mango, "events/call", data).status_code == 200
    assert counts() == before


def test_outgoing_summary_is_logged_on_the_contact(
    mango: Any, ext_101: Any, alice: Any, make_contact: Any, post_mango: Any
) -> None:
    from voronka.inbox.models import Message
    from voronka.sales.models import Activity
    from voronka.telephony.models import Call

    contact = make_contact(alice, phones=[{"phone": "+7 916 765-43-21"}])
    data = {"entry_id": "b3V0LTE=", "call_direction": 2,
            "from": {"extension": "101", "number": "sip:101@vpbx400123456.mangosip.ru"},
            "to": {"number": "79167654321"}, "line_number": "74951234567",
            "create_time": T0, "forward_time": T0 + 1, "talk_time": T0 + 8,
            "end_time": T0 + 68, "entry_result": 1, "disconnect_reason": 1110}  # fmt: skip
    assert post_mango(mango, "events/summary", data).status_code == 200
    activity = Activity.objects.get(kind="call")
    assert (activity.contact, activity.call_direction, activity.call_duration) == (
        contact,
        "outgoing",
        60,
    )
    assert activity.subject == "Outgoing call to +7 916 765-43-21"
    assert Call.objects.get().caller == "+74951234567"  # our line, not the SIP address
    [logged] = Message.objects.all()  # the call is in the thread with the customer, as ours
    assert (logged.direction, logged.status) == ("out", "sent")
    assert logged.conversation.contact_id == activity.contact_id
    assert logged.conversation.unread is False


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"sign": "0" * 64}, 403, "sign"),
        ({"key": "another-key"}, 403, "vpbx_api_key"),
    ],
)
def test_bad_signature_is_refused_and_nothing_written(
    mango: Any, post_mango: Any, counts: Any, change: dict[str, str], status: int, field: str
) -> None:
    before = counts()
    response = post_mango(mango, "events/call", appeared_ivr(), **change)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert counts() == before
    mango.refresh_from_db()
    assert field in mango.last_error and mango.last_event_at is None


def test_signed_with_the_salt_of_another_integration_is_refused(
    mango: Any, post_mango: Any, counts: Any
) -> None:
    import json

    before = counts()
    payload = json.dumps(appeared_ivr())
    response = post_mango(mango, "events/call", appeared_ivr(),
                          sign=mango_sign(payload, salt="other-salt"))  # fmt: skip
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"vpbx_api_key": MANGO_KEY, "json": "{}"}, "json"),  # no sign
        ({"vpbx_api_key": MANGO_KEY, "json": "{not json", "sign": None}, "json"),
        ({"vpbx_api_key": MANGO_KEY, "json": '{"call_state": "Appeared"}', "sign": None},
         "json.entry_id"),
        ({"vpbx_api_key": MANGO_KEY, "json": '{"entry_id": "e", "call_state": "Ringing"}',
          "sign": None}, "json.call_state"),
        ({"vpbx_api_key": MANGO_KEY, "sign": None,
          "json": '{"entry_id": "e", "call_state": "Appeared", "from": "79161234567"}'},
         "json.from"),
    ],
)  # fmt: skip
def test_malformed_events_answer_400_naming_the_field(
    mango: Any, public: Any, counts: Any, form: dict[str, Any], field: str
) -> None:
    before = counts()
    if "sign" in form and form["sign"] is None:
        form["sign"] = mango_sign(form["json"])
    response = public.post(f"/telephony/hook/{mango.token}/events/call", form)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field
    assert counts() == before


def test_redelivered_events_change_nothing(
    mango: Any, ext_101: Any, make_contact: Any, alice: Any, post_mango: Any, counts: Any
) -> None:
    make_contact(alice, phones=[{"phone": "+79161234567"}])
    for data in (appeared_ivr(), leg_101("Connected", 2, T0 + 10)):
        post_mango(mango, "events/call", data)
    post_mango(mango, "events/summary", summary())
    before = counts()
    for data in (appeared_ivr(), leg_101("Connected", 2, T0 + 10)):
        assert post_mango(mango, "events/call", data).status_code == 200
    assert post_mango(mango, "events/summary", summary()).status_code == 200
    assert counts() == before


def test_get_is_not_allowed(mango: Any, public: Any) -> None:
    response = public.get(f"/telephony/hook/{mango.token}/events/call")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unknown_token_is_404(public: Any) -> None:
    assert public.post("/telephony/hook/nope/events/call", {"json": "{}"}).status_code == 404


def test_switched_off_integration_refuses(
    mango: Any, admin: Any, post_mango: Any, counts: Any
) -> None:
    from voronka.telephony.services import integration_update

    integration_update(actor=admin, integration=mango, changes={"active": False})
    before = counts()
    assert post_mango(mango, "events/call", appeared_ivr()).status_code == 403
    assert counts() == before


def test_pop_up_follows_the_legs(
    client: Any, mango: Any, ext_101: Any, alice: Any, post_mango: Any, password: str
) -> None:
    from voronka.telephony.models import Call

    client.login(username="alice", password=password)
    post_mango(mango, "events/call", appeared_ivr())
    assert client.get("/telephony/ringing/").content == b""  # nobody's yet: in the voice menu
    post_mango(mango, "events/call", leg_101("Appeared", 1, T0 + 5))
    assert "+7 916 123-45-67" in client.get("/telephony/ringing/").content.decode()
    post_mango(mango, "events/call", leg_101("Disconnected", 2, T0 + 25))
    assert client.get("/telephony/ringing/").content == b""
    assert Call.objects.get().status == "ringing"  # the summary says how it ended
    post_mango(mango, "events/summary", summary(result=0, end=T0 + 40))
    assert Call.objects.get().status == "missed"
