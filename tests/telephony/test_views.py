"""The administrator's telephony pages and the call log, as a browser without JavaScript
uses them."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_admin(client: Any, admin: Any, password: str) -> Any:
    client.login(username="admin", password=password)
    return client


def test_only_administrators_manage_telephony(client: Any, alice: Any, password: str) -> None:
    client.login(username="alice", password=password)
    for url in ("/telephony/", "/telephony/numbers/"):
        assert client.get(url).status_code == 403
    assert client.get("/telephony/calls/").status_code == 200


def test_generic_integration_shows_its_secret_once(as_admin: Any) -> None:
    from voronka.telephony.models import PbxIntegration

    response = as_admin.post("/telephony/", {"name": "Office PBX", "provider": "generic"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    integration = PbxIntegration.objects.get()
    page = response.content.decode()
    assert integration.secret in page and "shown only once" in page
    assert f"/telephony/hook/{integration.token}/" in page
    again = as_admin.get(f"/telephony/integrations/{integration.pk}/").content.decode()
    assert integration.secret not in again
    assert f"…{integration.secret[-4:]}" in again


def test_mango_needs_key_and_salt(as_admin: Any) -> None:
    from voronka.telephony.models import PbxIntegration

    response = as_admin.post("/telephony/", {"name": "Mango", "provider": "mango"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Mango Office needs the API key" in page and "Mango Office needs the salt" in page
    assert not PbxIntegration.objects.exists()
    response = as_admin.post("/telephony/", {
        "name": "Mango", "provider": "mango", "api_key": "key-1234567890", "secret": "salt-0987654321",
    })  # fmt: skip
    integration = PbxIntegration.objects.get()
    assert response.status_code == 302
    list_page = as_admin.get("/telephony/").content.decode()
    # Mango appends /events/call itself: its address has no trailing slash.
    assert f'/telephony/hook/{integration.token}"' in list_page
    assert "salt-0987654321" not in list_page and "key-1234567890" not in list_page


def test_last_error_is_on_the_list(as_admin: Any, zadarma: Any, public: Any) -> None:
    public.post(f"/telephony/hook/{zadarma.token}/", {"event": "NOTIFY_START", "pbx_call_id": "1"},
                HTTP_SIGNATURE="nope")  # fmt: skip
    page = as_admin.get("/telephony/").content.decode()
    assert "wrong or missing Signature header" in page


def test_edit_keeps_the_secret_unless_one_is_typed(as_admin: Any, zadarma: Any, bob: Any) -> None:
    url = f"/telephony/integrations/{zadarma.pk}/"
    response = as_admin.post(url, {"name": "Zadarma main", "secret": "", "active": "on",
                                   "default_owner_id": bob.pk})  # fmt: skip
    assert response.status_code == 302
    zadarma.refresh_from_db()
    assert (zadarma.name, zadarma.secret, zadarma.default_owner, zadarma.active) == (
        "Zadarma main",
        "zdSecret9f8e7d6c5b4a",
        bob,
        True,
    )
    as_admin.post(url, {"name": "Zadarma main", "secret": "a-new-secret-value"})
    zadarma.refresh_from_db()
    assert (zadarma.secret, zadarma.secret_hint, zadarma.active) == (
        "a-new-secret-value",
        "alue",
        False,
    )
    short = as_admin.post(url, {"name": "Zadarma main", "secret": "short"})
    assert short.status_code == 400 and "shorter than 8" in short.content.decode()


def test_rotating_the_generic_secret(as_admin: Any, generic: Any) -> None:
    old = generic.secret
    response = as_admin.post(f"/telephony/integrations/{generic.pk}/rotate/")
    generic.refresh_from_db()
    assert generic.secret != old and generic.secret in response.content.decode()


def test_extensions(as_admin: Any, generic: Any, alice: Any) -> None:
    from voronka.telephony.models import Extension

    url = f"/telephony/integrations/{generic.pk}/extensions/"
    bad = as_admin.post(url, {"extension": "101", "user_id": "99999"})
    assert bad.status_code == 400 and "no such active user" in bad.content.decode()
    assert as_admin.post(url, {"extension": "101", "user_id": alice.pk}).status_code == 302
    row = Extension.objects.get()
    assert (row.extension, row.user) == ("101", alice)
    page = as_admin.get(f"/telephony/integrations/{generic.pk}/").content.decode()
    assert "<code>101</code>" in page
    assert as_admin.post(f"/telephony/extensions/{row.pk}/delete/").status_code == 302
    assert not Extension.objects.exists()


def test_tracking_numbers_pages(as_admin: Any) -> None:
    from voronka.telephony.models import TrackingNumber

    add = {"number": "8 495 123 45 67", "source": "Сайт", "utm_source": "", "utm_campaign": ""}
    assert as_admin.post("/telephony/numbers/", add).status_code == 302
    number = TrackingNumber.objects.get()
    assert number.number == "+74951234567"
    page = as_admin.get("/telephony/numbers/").content.decode()
    assert "+7 495 123-45-67" in page and "Сайт" in page
    dup = as_admin.post("/telephony/numbers/", {**add, "source": "Другой"})
    assert dup.status_code == 400 and "already a tracking number" in dup.content.decode()
    bad = as_admin.post("/telephony/numbers/", {**add, "number": "12"})
    assert bad.status_code == 400 and "not a valid phone number" in bad.content.decode()
    edit = as_admin.post(f"/telephony/numbers/{number.pk}/", {**add, "source": "Яндекс Директ"})
    assert edit.status_code == 302
    number.refresh_from_db()
    assert number.source == "Яндекс Директ"
    assert as_admin.post(f"/telephony/numbers/{number.pk}/delete/").status_code == 302
    assert not TrackingNumber.objects.exists()


def test_call_log_shows_what_each_user_may_see(
    client: Any, generic: Any, alice: Any, bob: Any, make_contact: Any, post_generic: Any,
    password: str,
) -> None:  # fmt: skip
    from voronka.telephony.models import Call

    make_contact(alice, first_name="Мария", last_name="Иванова", phones=["+79161234567"])
    post_generic(generic, {"event": "completed", "call_id": "x", "from": "+79161234567",
                           "to": "+74951234567", "duration": 65})  # fmt: skip
    call = Call.objects.get()
    client.login(username="alice", password=password)
    page = client.get("/telephony/calls/").content.decode()
    assert "Иванова" in page and "1 min 05 s" in page
    assert client.get(f"/telephony/calls/{call.pk}/").status_code == 200
    filtered = client.get("/telephony/calls/", {"direction": "out"}).content.decode()
    assert "No calls match these filters." in filtered
    wrong = client.get("/telephony/calls/", {"number": "abc"}).content.decode()
    assert "not a valid phone number" in wrong
    client.logout()
    client.login(username="bob", password=password)
    assert "Иванова" not in client.get("/telephony/calls/").content.decode()
    assert client.get(f"/telephony/calls/{call.pk}/").status_code == 404


def test_call_log_pages_by_cursor(
    as_admin: Any, generic: Any, post_generic: Any, django_assert_max_num_queries: Any
) -> None:
    from voronka.telephony import views

    for i in range(views.PAGE_SIZE + 3):
        post_generic(generic, {"event": "missed", "call_id": f"m{i}", "from": "anonymous"})
    with django_assert_max_num_queries(6):
        first = as_admin.get("/telephony/calls/")
    assert first.content.decode().count('class="vk-call-dir"') == views.PAGE_SIZE + 1
    cursor = first.context["page"].next_cursor
    second = as_admin.get("/telephony/calls/", {"cursor": cursor})
    assert len(second.context["page"].items) == 3
    assert as_admin.get("/telephony/calls/", {"cursor": "garbage"}).status_code == 404
