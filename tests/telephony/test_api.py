"""Calls (read-only, what each user may see) and tracking numbers (administrators) over the
REST API."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def calls_made(generic: Any, admin: Any, alice: Any, bob: Any, charlie: Any,
               make_contact: Any, post_generic: Any) -> dict[str, Any]:  # fmt: skip
    """A call of alice's contact, one charlie took for an unknown caller, one outgoing."""
    from voronka.telephony.models import Call
    from voronka.telephony.services import extension_set

    extension_set(actor=admin, integration=generic, extension="300", user_id=charlie.pk)
    make_contact(alice, phones=["+79161234567"])
    post_generic(generic, {"event": "completed", "call_id": "a", "from": "+79161234567",
                           "to": "+74951234567", "duration": 20})  # fmt: skip
    post_generic(generic, {"event": "missed", "call_id": "c", "from": "+79260000001",
                           "to": "+74951234567", "extension": "300"})  # fmt: skip
    post_generic(generic, {"event": "completed", "call_id": "o", "direction": "out",
                           "from": "+74951234567", "to": "+79161234567",
                           "extension": "300", "duration": 5})  # fmt: skip
    return {c.external_id: c for c in Call.objects.all()}


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["external_id"] for item in response.json()["items"]}


def test_each_user_sees_the_calls_of_their_records_and_their_own(
    api: Any, calls_made: dict[str, Any], admin: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    assert _ids(api(admin).get("/api/v1/calls")) == {"a", "c", "o"}
    assert _ids(api(alice).get("/api/v1/calls")) == {"a", "o"}  # her contact's calls
    assert _ids(api(charlie).get("/api/v1/calls")) == {"c", "o"}  # the calls he took
    assert _ids(api(bob).get("/api/v1/calls")) == set()
    assert api(bob).get(f"/api/v1/calls/{calls_made['a'].pk}").status_code == 404
    body = api(alice).get(f"/api/v1/calls/{calls_made['a'].pk}").json()
    assert (body["status"], body["duration"], body["caller"]) == ("completed", 20, "+79161234567")
    assert body["contact_id"] is not None and body["activity_id"] is not None


def test_list_costs_a_fixed_number_of_queries(
    api: Any, calls_made: dict[str, Any], generic: Any, admin: Any, post_generic: Any,
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    client = api(admin)
    for i in range(10):
        post_generic(generic, {"event": "missed", "call_id": f"x{i}", "from": "anonymous"})
    # Authentication, then one query for the page with its related rows, however many calls.
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/v1/calls").json()["items"]) == 13


def test_filters(api: Any, calls_made: dict[str, Any], admin: Any, charlie: Any) -> None:
    get = api(admin).get
    assert _ids(get("/api/v1/calls", direction="out")) == {"o"}
    assert _ids(get("/api/v1/calls", status="missed")) == {"c"}
    assert _ids(get("/api/v1/calls", manager_id=charlie.pk)) == {"c", "o"}
    assert _ids(get("/api/v1/calls", number="8 926 000-00-01")) == {"c"}
    assert _ids(get("/api/v1/calls", contact_id=calls_made["a"].contact_id)) == {"a", "o"}
    assert _ids(get("/api/v1/calls", since="2999-01-01")) == set()
    page = get("/api/v1/calls", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = get("/api/v1/calls", limit=2, cursor=page["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"direction": "up"}, "direction"), ({"status": "lost"}, "status"),
     ({"number": "abc"}, "number"), ({"since": "soon"}, "since"),
     ({"manager_id": "x"}, "manager_id"), ({"limit": 0}, "limit"),
     ({"cursor": "garbage"}, "cursor")],
)  # fmt: skip
def test_bad_filters_are_422(api: Any, admin: Any, params: dict[str, Any], field: str) -> None:
    response = api(admin).get("/api/v1/calls", **params)
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["field"] == field


def test_tracking_numbers_crud(api: Any, admin: Any, bob: Any) -> None:
    client = api(admin)
    created = client.post("/api/v1/tracking-numbers", {
        "number": "8 (495) 123-45-67", "source": "Яндекс Директ", "utm_source": "yandex",
        "default_owner_id": bob.pk})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["source"], body["default_owner_id"]) == (
        "+74951234567",
        "Яндекс Директ",
        bob.pk,
    )
    pk = body["id"]
    assert client.get("/api/v1/tracking-numbers").json()["items"][0]["id"] == pk
    patched = client.patch(f"/api/v1/tracking-numbers/{pk}", {"utm_campaign": "may"})
    assert patched.json()["utm_campaign"] == "may" and patched.json()["source"] == "Яндекс Директ"
    again = client.post("/api/v1/tracking-numbers", {"number": "+74951234567", "source": "Сайт"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "number"
    assert client.delete(f"/api/v1/tracking-numbers/{pk}").status_code == 204
    assert client.get(f"/api/v1/tracking-numbers/{pk}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({"number": "12", "source": "x"}, "number"), ({"number": "+74951234567"}, "source"),
     ({"number": "+74951234567", "source": "x", "colour": "red"}, "colour"),
     ({"number": "+74951234567", "source": "x", "default_owner_id": 99999}, "default_owner_id")],
)  # fmt: skip
def test_tracking_number_errors_name_the_field(
    api: Any, admin: Any, body: dict[str, Any], field: str
) -> None:
    from voronka.telephony.models import TrackingNumber

    response = api(admin).post("/api/v1/tracking-numbers", body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not TrackingNumber.objects.exists()


def test_tracking_numbers_are_for_administrators(api: Any, alice: Any) -> None:
    assert api(alice).get("/api/v1/tracking-numbers").status_code == 403
    assert api(alice).post("/api/v1/tracking-numbers",
                           {"number": "+74951234567", "source": "x"}).status_code == 403  # fmt: skip
