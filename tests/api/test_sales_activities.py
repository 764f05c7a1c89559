"""/api/v1/activities: tasks, calls and meetings; filters, completion, visibility, bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from voronka.sales.models import Activity

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities"


@pytest.fixture
def reader(make_user: Any) -> Any:
    return make_user("reader", role="read_only")


def make_activity(owner: Any, **data: Any) -> Activity:
    from voronka.sales.services import activity_create

    data.setdefault("subject", "Позвонить")
    return activity_create(actor=owner, data=data)


def test_create_read_patch_complete_delete(
    api: Any, alice: Any, bob: Any, make_contact: Any
) -> None:
    contact = make_contact(alice)
    client = api(alice)
    created = client.post(URL, {
        "kind": "meeting", "subject": "Встреча", "contact_id": contact.pk,
        "due_at": "2030-05-01T10:00:00+03:00", "starts_at": "2030-05-01T10:00:00+03:00",
        "ends_at": "2030-05-01T11:00:00+03:00", "place": "Офис", "participant_ids": [bob.pk],
        "remind_at": "2030-05-01T09:30:00+03:00",
    })  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["owner_id"] == alice.pk and body["contact_id"] == contact.pk
    assert body["participant_ids"] == [bob.pk]
    assert dt.datetime.fromisoformat(body["due_at"]) == dt.datetime(2030, 5, 1, 7, 0, tzinfo=dt.UTC)
    assert body["done"] is False and body["done_at"] is None
    assert client.get(f"{URL}/{body['id']}").json() == body

    patched = client.patch(f"{URL}/{body['id']}", {"subject": "Встреча в офисе"}).json()
    assert patched["subject"] == "Встреча в офисе" and patched["place"] == "Офис"

    done = client.post(f"{URL}/{body['id']}/complete")
    assert done.status_code == 200, done.content
    assert done.json()["done"] is True and done.json()["done_at"] is not None
    reopened = client.post(f"{URL}/{body['id']}/complete", {"done": False}).json()
    assert reopened["done"] is False

    # The assignee may delete their own activity even without the right to delete.
    assert client.delete(f"{URL}/{body['id']}").status_code == 204
    assert not Activity.objects.exists()


def test_list_filters_and_pages(api: Any, alice: Any, make_company: Any) -> None:
    from voronka.sales.services import activity_complete, deal_create

    now = timezone.now()
    deal = deal_create(actor=alice, data={"title": "Сделка"})
    company = make_company(alice)
    for i in range(4):
        make_activity(alice, subject=f"Задача {i}", due_at=now + dt.timedelta(days=i))
    make_activity(alice, subject="Без срока")
    call = make_activity(alice, kind="call", subject="Звонок", deal_id=deal.pk,
                         due_at=now - dt.timedelta(days=3))  # fmt: skip
    met = make_activity(alice, kind="meeting", subject="Встреча", company_id=company.pk,
                        due_at=now - dt.timedelta(days=2))  # fmt: skip
    activity_complete(actor=alice, activity=met)
    client = api(alice)
    subjects: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = client.get(URL, **params).json()
        subjects += [a["subject"] for a in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert subjects == ["Звонок", "Встреча", "Задача 0", "Задача 1", "Задача 2", "Задача 3",
                        "Без срока"]  # fmt: skip

    def subjects_of(**query: Any) -> list[str]:
        response = client.get(URL, **query)
        assert response.status_code == 200, response.content
        return [a["subject"] for a in response.json()["items"]]

    assert subjects_of(kind="call") == ["Звонок"]
    assert subjects_of(deal=deal.pk) == ["Звонок"]
    assert subjects_of(company=company.pk) == ["Встреча"]
    assert subjects_of(done="true") == ["Встреча"]
    assert "Встреча" not in subjects_of(done="false")
    assert subjects_of(assignee="me", due_to=(now - dt.timedelta(days=1)).isoformat()) == [
        "Звонок", "Встреча",
    ]  # fmt: skip
    day = timezone.localdate(now + dt.timedelta(days=2))
    assert subjects_of(due_from=day.isoformat(), due_to=day.isoformat()) == ["Задача 2"]
    assert subjects_of(sort="-created_at")[0] == "Встреча"
    assert subjects_of(sort="-due_at")[:2] == ["Без срока", "Задача 3"]
    assert call.pk in [a["id"] for a in client.get(URL, lead="").json()["items"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "email"}, "kind"), ({"assignee": "boss"}, "assignee"), ({"done": "maybe"}, "done"),
     ({"due_from": "soon"}, "due_from"), ({"deal": "x"}, "deal"), ({"sort": "subject"}, "sort"),
     ({"limit": "0"}, "limit"), ({"cursor": "e30"}, "cursor")],
)  # fmt: skip
def test_bad_filters_name_the_parameter(
    api: Any, alice: Any, params: dict[str, str], field: str
) -> None:
    make_activity(alice, due_at=timezone.now())
    response = api(alice).get(URL, **params)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "X", "kind": "email"}, "kind"),
        ({"subject": "X", "due_at": "tomorrow"}, "due_at"),
        ({"subject": "X", "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T09:00"},
         "ends_at"),
        ({"subject": "X", "call_direction": "sideways"}, "call_direction"),
        ({"subject": "X", "call_duration": -1}, "call_duration"),
        ({"subject": "X", "recording_url": "not a url"}, "recording_url"),
        ({"subject": "X", "deal_id": 999999}, "deal_id"),
        ({"subject": "X", "contact_id": 999999}, "contact_id"),
        ({"subject": "X", "owner_id": 999999}, "owner_id"),
        ({"subject": "X", "participant_ids": [999999]}, "participant_ids"),
        ({"subject": "X", "priority": 1}, "priority"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(
    api: Any, alice: Any, body: dict[str, Any], field: str
) -> None:
    activity = make_activity(alice, subject="Было")
    client = api(alice)
    responses = [client.post(URL, body)]
    if body:
        responses.append(client.patch(f"{URL}/{activity.pk}", body))
    for response in responses:
        assert response.status_code == 422, response.content
        assert field in [e["field"] for e in response.json()["errors"]]
    assert Activity.objects.count() == 1
    activity.refresh_from_db()
    assert activity.subject == "Было"


def test_complete_takes_no_body(alice: Any, client: Any, api_key_for: Any) -> None:
    activity = make_activity(alice)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_key_for(alice)}"}
    response = client.generic("POST", f"{URL}/{activity.pk}/complete", b"", **headers)
    assert response.status_code == 200, response.content
    assert response.json()["done"] is True


def test_the_complete_body_is_checked(api: Any, alice: Any) -> None:
    activity = make_activity(alice)
    response = api(alice).post(f"{URL}/{activity.pk}/complete", {"done": "maybe"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "done"
    activity.refresh_from_db()
    assert activity.done_at is None


def test_a_link_to_an_invisible_deal_is_refused(api: Any, alice: Any, charlie: Any) -> None:
    from voronka.sales.services import deal_create

    deal = deal_create(actor=charlie, data={"title": "Чужая"})
    response = api(alice).post(URL, {"subject": "X", "deal_id": deal.pk})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deal_id"


@pytest.mark.parametrize("viewer", ["bob", "charlie"])
def test_a_colleagues_activity_is_404(
    api: Any, alice: Any, bob: Any, charlie: Any, viewer: str
) -> None:
    activity = make_activity(alice, subject="Секрет")
    client = api({"bob": bob, "charlie": charlie}[viewer])
    path = f"{URL}/{activity.pk}"
    for response in (
        client.get(path),
        client.patch(path, {"subject": "x"}),
        client.delete(path),
        client.post(f"{path}/complete"),
    ):
        assert response.status_code == 404
    assert client.get(URL).json()["items"] == []
    activity.refresh_from_db()
    assert activity.subject == "Секрет" and activity.done_at is None


def test_read_only_role_reads_but_may_not_write(api: Any, alice: Any, reader: Any) -> None:
    activity = make_activity(alice)
    client = api(reader)
    assert client.get(f"{URL}/{activity.pk}").status_code == 200
    for response in (
        client.post(URL, {"subject": "X"}),
        client.patch(f"{URL}/{activity.pk}", {"subject": "X"}),
        client.delete(f"{URL}/{activity.pk}"),
        client.post(f"{URL}/{activity.pk}/complete"),
    ):
        assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.subject == "Позвонить" and activity.done_at is None
    assert Activity.objects.count() == 1


def test_create_is_idempotent(api: Any, alice: Any) -> None:
    client = api(alice)
    first = client.post(URL, {"subject": "Один"}, HTTP_IDEMPOTENCY_KEY="a-1")
    again = client.post(URL, {"subject": "Один"}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert (first.status_code, again.content) == (201, first.content)
    assert Activity.objects.count() == 1
