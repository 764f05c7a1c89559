"""``Idempotency-Key`` on POST: a retry returns the first answer and creates nothing more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voronka.core.models import IdempotencyKey
from voronka.customers.models import Company, Contact, Tag

pytestmark = pytest.mark.django_db


def test_a_retry_returns_the_first_answer(api: Any, alice: Any) -> None:
    client = api(alice)
    first = client.post("/api/v1/contacts", {"last_name": "Один"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/contacts", {"last_name": "Один"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1


def test_the_first_answer_wins_even_if_the_retry_differs(api: Any, alice: Any) -> None:
    client = api(alice)
    first = client.post("/api/v1/companies", {"name": "Первая"}, HTTP_IDEMPOTENCY_KEY="k")
    again = client.post("/api/v1/companies", {"name": "Вторая"}, HTTP_IDEMPOTENCY_KEY="k")
    assert again.json() == first.json()
    assert list(Company.objects.values_list("name", flat=True)) == ["Первая"]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/contacts", {"last_name": "X"}), ("/api/v1/companies", {"name": "X"}),
     ("/api/v1/tags", {"name": "X"})],
)  # fmt: skip
def test_every_create_endpoint_is_idempotent(
    api: Any, alice: Any, path: str, body: dict[str, Any], db_rows: Callable[[], dict[str, int]]
) -> None:
    client = api(alice)
    first = client.post(path, body, HTTP_IDEMPOTENCY_KEY="same")
    after_first = db_rows()
    again = client.post(path, body, HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == 201
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert db_rows() == after_first


def test_admin_create_endpoints_are_idempotent(api: Any, admin: Any) -> None:
    client = api(admin)
    for path, body in [("/api/v1/teams", {"name": "Новая"}),
                       ("/api/v1/custom-fields",
                        {"entity": "customers.contact", "label": "Size", "type": "number"})]:  # fmt: skip
        first = client.post(path, body, HTTP_IDEMPOTENCY_KEY="adm")
        again = client.post(path, body, HTTP_IDEMPOTENCY_KEY="adm")
        assert first.status_code == again.status_code == 201
        assert first.content == again.content


def test_without_a_key_each_post_creates(api: Any, alice: Any) -> None:
    client = api(alice)
    client.post("/api/v1/contacts", {"last_name": "X"})
    client.post("/api/v1/contacts", {"last_name": "X"})
    assert Contact.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_keys_are_per_user_and_per_path(api: Any, alice: Any, bob: Any) -> None:
    api(alice).post("/api/v1/contacts", {"last_name": "A"}, HTTP_IDEMPOTENCY_KEY="k")
    api(bob).post("/api/v1/contacts", {"last_name": "B"}, HTTP_IDEMPOTENCY_KEY="k")
    api(alice).post("/api/v1/companies", {"name": "C"}, HTTP_IDEMPOTENCY_KEY="k")
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["A", "B"]
    assert Company.objects.count() == 1
    # Bob's replay is his own contact, never alice's.
    replay = api(bob).post("/api/v1/contacts", {"last_name": "B"}, HTTP_IDEMPOTENCY_KEY="k")
    assert replay.json()["last_name"] == "B"


def test_a_failed_request_is_not_kept_so_the_fixed_retry_creates(api: Any, alice: Any) -> None:
    client = api(alice)
    bad = client.post("/api/v1/contacts", {"last_name": "X", "emails": ["bad"]},
                      HTTP_IDEMPOTENCY_KEY="retry-me")  # fmt: skip
    assert bad.status_code == 422
    assert IdempotencyKey.objects.count() == 0
    good = client.post("/api/v1/contacts", {"last_name": "X", "emails": ["ok@example.com"]},
                       HTTP_IDEMPOTENCY_KEY="retry-me")  # fmt: skip
    assert good.status_code == 201
    assert Contact.objects.count() == 1


def test_an_over_long_key_is_refused(api: Any, alice: Any) -> None:
    response = api(alice).post("/api/v1/tags", {"name": "t"}, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Tag.objects.count() == 0
