"""Zadarma PBX notifications: NOTIFY_START … NOTIFY_END, outgoing calls and recordings, each
signed (header ``Signature``) over the fields Zadarma names for that event; the
``?zd_echo=`` check of the address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

CALL = "in_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
START = "2024-05-21 14:03:11"


def start() -> dict[str, str]:
    return {"event": "NOTIFY_START", "call_start": START, "pbx_call_id": CALL,
            "caller_id": "79161234567", "called_did": "74951234567"}  # fmt: skip


def internal(ext: str = "100") -> dict[str, str]:
    return {**start(), "event": "NOTIFY_INTERNAL", "internal": ext}


def answer(ext: str = "100") -> dict[str, str]:
    return {"event": "NOTIFY_ANSWER", "caller_id": "79161234567", "destination": ext,
            "call_start": START, "pbx_call_id": CALL, "internal": ext}  # fmt: skip


def end(disposition: str = "answered", duration: str = "125", **extra: str) -> dict[str, str]:
    return {**start(), "event": "NOTIFY_END", "internal": "100", "duration": duration,
            "disposition": disposition, "status_code": "16", "is_recorded": "0",
            "call_id_with_rec": "", **extra}  # fmt: skip


@pytest.fixture
def ext_100(zadarma: Any, alice: Any, admin: Any) -> Any:
    from voronka.telephony.services import extension_set

    return extension_set(actor=admin, integration=zadarma, extension="100", user_id=alice.pk)


def test_echo_check_of_the_address(zadarma: Any, public: Any, counts: Any) -> None:
    before = counts()
    response = public.get(f"/telephony/hook/{zadarma.token}/", {"zd_echo": "a1b2c3"})
    assert (response.status_code, response.content) == (200, b"a1b2c3")
    assert counts() == before


def test_a_whole_incoming_call(
    zadarma: Any, ext_100: Any, alice: Any, make_contact: Any, post_zadarma: Any
) -> None:
    from voronka.sales.models import Activity
    from voronka.telephony.models import Call, RingingAlert

    contact = make_contact(alice, phones=["+79161234567"])
    assert post_zadarma(zadarma, start()).status_code == 200
    assert post_zadarma(zadarma, internal()).status_code == 200
    call = Call.objects.get()
    assert (call.status, call.contact, call.called) == ("ringing", contact, "+74951234567")
    # call_start is the PBX's local time (Moscow here): 11:03:11 UTC.
    assert call.started_at == dt.datetime(2024, 5, 21, 11, 3, 11, tzinfo=dt.UTC)
    assert RingingAlert.objects.filter(call=call, user=alice).exists()
    assert post_zadarma(zadarma, answer()).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.manager) == ("answered", alice)
    assert not RingingAlert.objects.exists()
    rec = {"is_recorded": "1", "call_id_with_rec": "1716300123.4567"}
    assert post_zadarma(zadarma, end(**rec)).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.duration, call.recording_ref) == ("completed", 125, "1716300123.4567")
    activity = Activity.objects.get(kind="call")
    assert (activity.contact, activity.call_duration, activity.owner) == (contact, 125, alice)
    assert post_zadarma(zadarma, {"event": "NOTIFY_RECORD", "pbx_call_id": CALL,
                                  "call_id_with_rec": "1716300123.4567"}).status_code == 200  # fmt: skip


def test_missed_call(zadarma: Any, ext_100: Any, alice: Any, post_zadarma: Any) -> None:
    from voronka.sales.models import Activity, Lead
    from voronka.telephony.models import Call

    post_zadarma(zadarma, start())
    post_zadarma(zadarma, internal())
    assert post_zadarma(zadarma, end("no answer", "0")).status_code == 200
    call = Call.objects.get()
    assert (call.status, call.manager) == ("missed", alice)
    lead = Lead.objects.get()
    assert (lead.phone, lead.owner) == ("+79161234567", alice)
    task = Activity.objects.get(kind="task")
    assert (task.lead, task.owner, task.subject) == (lead, alice, "Call back +7 916 123-45-67")


def test_outgoing_call(
    zadarma: Any, ext_100: Any, alice: Any, make_contact: Any, post_zadarma: Any
) -> None:
    from voronka.sales.models import Activity
    from voronka.telephony.models import Call, RingingAlert

    contact = make_contact(alice, phones=["+79031112233"])
    out = {"event": "NOTIFY_OUT_START", "call_start": START, "pbx_call_id": "out_1",
           "destination": "79031112233", "caller_id": "74951234567", "internal": "100"}  # fmt: skip
    assert post_zadarma(zadarma, out).status_code == 200
    assert not RingingAlert.objects.exists()  # we are the ones calling
    done = {**out, "event": "NOTIFY_OUT_END", "duration": "42", "disposition": "answered",
            "status_code": "16", "is_recorded": "0", "call_id_with_rec": ""}  # fmt: skip
    assert post_zadarma(zadarma, done).status_code == 200
    call = Call.objects.get()
    assert (call.direction, call.status, call.called, call.contact) == (
        "out",
        "completed",
        "+79031112233",
        contact,
    )
    activity = Activity.objects.get()
    assert (activity.call_direction, activity.call_duration, activity.contact) == (
        "outgoing",
        42,
        contact,
    )


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", "raw-garbage"])
def test_bad_signature_is_refused(
    zadarma: Any, post_zadarma: Any, counts: Any, signature: str
) -> None:
    before = counts()
    response = post_zadarma(zadarma, start(), signature=signature)
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "Signature"
    assert counts() == before


def test_signature_covers_the_documented_fields(
    zadarma: Any, post_zadarma: Any, counts: Any
) -> None:
    """NOTIFY_ANSWER signs caller_id + destination + call_start: a changed destination fails."""
    from tests.telephony.conftest import zadarma_sign

    before = counts()
    data = answer()
    signature = zadarma_sign(data["caller_id"] + "999" + data["call_start"])
    assert post_zadarma(zadarma, data, signature=signature).status_code == 403
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**start(), "call_start": "21.05.2024 14:03"}, "call_start"),
        ({**end(), "duration": "two minutes"}, "duration"),
        ({**start(), "pbx_call_id": ""}, "pbx_call_id"),
    ],
)
def test_malformed_fields_answer_400(
    zadarma: Any, post_zadarma: Any, counts: Any, data: dict[str, str], field: str
) -> None:
    before = counts()
    response = post_zadarma(zadarma, data)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert counts() == before


def test_other_events_are_acknowledged_and_ignored(zadarma: Any, public: Any, counts: Any) -> None:
    before = counts()
    response = public.post(f"/telephony/hook/{zadarma.token}/", {"event": "NOTIFY_IVR"})
    assert response.status_code == 200
    assert counts() == before


def test_redelivered_end_changes_nothing(
    zadarma: Any, ext_100: Any, post_zadarma: Any, counts: Any
) -> None:
    for data in (start(), internal(), end("busy", "0")):
        post_zadarma(zadarma, data)
    before = counts()
    for data in (start(), internal(), end("busy", "0")):
        assert post_zadarma(zadarma, data).status_code == 200
    assert counts() == before
