"""The pop-up: a ringing call shows on its manager's screen (the fragment the browser polls
every 3 s) and on nobody else's, and goes when the call is answered or over."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

URL = "/telephony/ringing/"


def ring(name: str, **extra: Any) -> dict[str, Any]:
    return {"event": name, "call_id": "r-1", "direction": "in", "from": "+79161234567",
            "to": "+74951234567", **extra}  # fmt: skip


@pytest.fixture
def ext(generic: Any, admin: Any, alice: Any) -> Any:
    from voronka.telephony.services import extension_set

    return extension_set(actor=admin, integration=generic, extension="101", user_id=alice.pk)


def browser(username: str, password: str) -> Client:
    c = Client()
    assert c.login(username=username, password=password)
    return c


def test_shows_the_ringing_call_to_its_manager_only(
    generic: Any, ext: Any, alice: Any, bob: Any, make_contact: Any, make_company: Any,
    post_generic: Any, password: str,
) -> None:  # fmt: skip
    company = make_company(bob, name="ООО Ромашка")
    contact = make_contact(bob, first_name="Мария", last_name="Иванова",
                           phones=["+79161234567"], company_id=company.pk)  # fmt: skip
    as_alice, as_bob = browser("alice", password), browser("bob", password)
    assert as_alice.get(URL).content == b""
    post_generic(generic, ring("ringing", extension="101"))
    page = as_alice.get(URL).content.decode()
    assert "+7 916 123-45-67" in page
    assert "Иванова Мария" in page or "Мария Иванова" in page
    assert "ООО Ромашка" in page
    assert f'href="/customers/contacts/{contact.pk}/"' in page
    assert as_bob.get(URL).content == b""  # bob owns the contact, but 101 rings, not bob
    post_generic(generic, ring("answered", extension="101"))
    assert as_alice.get(URL).content == b""


def test_without_an_extension_the_contact_owner_is_rung(
    generic: Any, alice: Any, bob: Any, make_contact: Any, post_generic: Any, password: str
) -> None:
    make_contact(bob, phones=["+79161234567"])
    post_generic(generic, ring("ringing"))
    assert "+7 916 123-45-67" in browser("bob", password).get(URL).content.decode()
    assert browser("alice", password).get(URL).content == b""
    post_generic(generic, ring("missed"))
    assert browser("bob", password).get(URL).content == b""


def test_unknown_number_shows_the_tracking_source(
    generic: Any, ext: Any, admin: Any, post_generic: Any, password: str
) -> None:
    from voronka.telephony.services import tracking_number_create

    tracking_number_create(actor=admin, data={"number": "+74951234567", "source": "Сайт"})
    post_generic(generic, ring("ringing", extension="101"))
    page = browser("alice", password).get(URL).content.decode()
    assert "Unknown number" in page and "Сайт" in page


def test_gone_after_the_end_and_after_a_while(
    generic: Any, ext: Any, post_generic: Any, password: str
) -> None:
    from voronka.telephony.models import RingingAlert
    from voronka.telephony.services import alerts_expire

    as_alice = browser("alice", password)
    post_generic(generic, ring("ringing", extension="101"))
    assert as_alice.get(URL).content
    # A PBX that never reports the end: the card goes after ten minutes all the same.
    RingingAlert.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert as_alice.get(URL).content == b""
    assert alerts_expire() == 1
    post_generic(generic, ring("ringing", call_id="r-2", extension="101"))
    post_generic(generic, ring("completed", call_id="r-2", duration=3))
    assert as_alice.get(URL).content == b""


def test_hiding_a_card(generic: Any, ext: Any, bob: Any, post_generic: Any, password: str) -> None:
    from voronka.telephony.models import RingingAlert

    as_alice = browser("alice", password)
    post_generic(generic, ring("ringing", extension="101"))
    alert = RingingAlert.objects.get()
    assert browser("bob", password).post(f"/telephony/ringing/{alert.pk}/dismiss/").content == b""
    assert RingingAlert.objects.exists()  # not bob's to hide
    assert as_alice.post(f"/telephony/ringing/{alert.pk}/dismiss/").content == b""
    assert not RingingAlert.objects.exists()


def test_signed_out_browser_is_told_to_stop_polling(client: Any) -> None:
    assert client.get(URL).status_code == 286


def test_one_query_of_our_own(
    generic: Any, ext: Any, post_generic: Any, password: str,
    django_assert_num_queries: Any,
) -> None:  # fmt: skip
    as_alice = browser("alice", password)
    post_generic(generic, ring("ringing", extension="101"))
    post_generic(generic, ring("ringing", call_id="r-2", extension="101"))
    # The session and the user (every signed-in request), then the alerts with their calls.
    with django_assert_num_queries(3):
        page = as_alice.get(URL).content.decode()
    assert page.count("vk-ring-card") == 2


def test_the_container_is_on_every_page_for_signed_in_users(
    client: Any, alice: Any, password: str
) -> None:
    assert 'hx-get="/telephony/ringing/"' not in client.get("/accounts/login/").content.decode()
    client.login(username="alice", password=password)
    page = client.get("/").content.decode()
    assert 'hx-get="/telephony/ringing/"' in page and 'hx-trigger="every 3s"' in page
