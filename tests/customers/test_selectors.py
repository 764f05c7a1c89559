"""Visibility, search, filters, sorting and keyset pages of the customer base."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.services import custom_field_create
from voronka.customers.selectors import (
    COMPANY_SPEC,
    CONTACT_SPEC,
    company_list,
    company_search,
    contact_list,
    contact_search,
    get_contact_for_user,
    parse_list_query,
)
from voronka.customers.services import company_create, contact_create

pytestmark = pytest.mark.django_db


def names(user: Any, params: dict[str, Any] | None = None) -> list[str]:
    return [
        c.last_name
        for c in contact_list(user, parse_list_query(CONTACT_SPEC, params or {}, user)).items
    ]


@pytest.fixture
def three_owners(alice: Any, bob: Any, charlie: Any) -> dict[str, Any]:
    return {
        "alice": contact_create(
            actor=alice, data={"last_name": "Алисина", "phones": ["+79161234567"]}
        ),
        "bob": contact_create(actor=bob, data={"last_name": "Бобров", "emails": ["bob@team-a.ru"]}),
        "charlie": contact_create(
            actor=charlie, data={"last_name": "Чарлин", "emails": ["c@team-b.ru"]}
        ),
    }


def test_scope_own_sees_only_own_contacts(alice: Any, three_owners: dict[str, Any]) -> None:
    assert names(alice) == ["Алисина"]
    with pytest.raises(NotFound):
        get_contact_for_user(alice, three_owners["bob"].pk)
    assert contact_search(alice, "бобров") == []


def test_scope_team_sees_teammates_but_not_outsiders(
    alice: Any, set_scope: Any, three_owners: dict[str, Any]
) -> None:
    set_scope("sales_rep", "team")
    alice.refresh_from_db()
    assert names(alice) == ["Алисина", "Бобров"]
    assert get_contact_for_user(alice, three_owners["bob"].pk).last_name == "Бобров"
    with pytest.raises(NotFound):
        get_contact_for_user(alice, three_owners["charlie"].pk)
    assert contact_search(alice, "team-b") == []


def test_scope_all_sees_everything(admin: Any, three_owners: dict[str, Any]) -> None:
    assert names(admin) == ["Алисина", "Бобров", "Чарлин"]


def test_inactive_user_sees_nothing(alice: Any, three_owners: dict[str, Any]) -> None:
    alice.is_active = False
    assert names(alice) == []


@pytest.mark.parametrize(
    "typed", ["8 (916) 123-45-67", "+7 916 123-45-67", "79161234567", "9161234", "1234567"]
)
def test_phone_search_in_any_format(alice: Any, three_owners: dict[str, Any], typed: str) -> None:
    assert [c.last_name for c in contact_search(alice, typed)] == ["Алисина"]


@pytest.mark.parametrize("typed", ["АЛИСИНА", "алис", "лиси", "Алисина 916"])
def test_name_search_is_case_insensitive_substring(
    alice: Any, three_owners: dict[str, Any], typed: str
) -> None:
    assert [c.last_name for c in contact_search(alice, typed)] == ["Алисина"]


def test_search_by_email_and_company(admin: Any, alice: Any) -> None:
    company = company_create(actor=alice, data={"name": "Северные технологии"})
    contact_create(
        actor=alice,
        data={"last_name": "Ёлкин", "company_id": company.pk, "emails": ["elkin@sever.ru"]},
    )
    assert [c.last_name for c in contact_search(admin, "северные")] == ["Ёлкин"]
    assert [c.last_name for c in contact_search(admin, "elkin@sever")] == ["Ёлкин"]
    assert [c.last_name for c in contact_search(admin, "елкин")] == ["Ёлкин"]
    assert [c.name for c in company_search(admin, "технол")] == ["Северные технологии"]


def test_search_shows_names_starting_with_the_term_first(admin: Any, alice: Any) -> None:
    """A common surname typed in the search box: the Петровы come first, alphabetically,
    then the records that only contain it (a patronymic, a company), then nothing else."""
    for last, first, middle in [
        ("Абрамова", "Анна", "Петровна"),
        ("Петрова", "Вера", ""),
        ("Петров", "Борис", ""),
        ("ПЕТРОВСКИЙ", "Глеб", ""),
        ("Сидоров", "Денис", ""),
    ]:
        contact_create(
            actor=alice, data={"last_name": last, "first_name": first, "middle_name": middle}
        )
    company_create(actor=alice, data={"name": "Петровские сады"})
    company_create(actor=alice, data={"name": "Сады Петровича"})

    def found(text: str, limit: int = 8) -> list[str]:
        return [f"{c.last_name} {c.first_name}" for c in contact_search(admin, text, limit)]

    assert found("петров") == ["Петров Борис", "Петрова Вера", "ПЕТРОВСКИЙ Глеб", "Абрамова Анна"]
    assert found("петров", limit=2) == ["Петров Борис", "Петрова Вера"]
    assert found("петров вера") == ["Петрова Вера"]
    assert found("анна петров") == ["Абрамова Анна"]
    assert [c.name for c in company_search(admin, "петров")] == [
        "Петровские сады",
        "Сады Петровича",
    ]


def test_search_with_fts_special_characters_does_not_fail(
    admin: Any, three_owners: dict[str, Any]
) -> None:
    for text in ['"', "a OR b", "NEAR(", "*", "-", "'; DROP TABLE"]:
        contact_search(admin, text)


def test_keyset_pages_walk_every_row_once(admin: Any) -> None:
    for i in range(23):
        contact_create(actor=admin, data={"last_name": f"Иванов{i % 5}", "first_name": f"N{i:02d}"})
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "5", "sort": "-last_name", **({"cursor": cursor} if cursor else {})}
        page = contact_list(admin, parse_list_query(CONTACT_SPEC, params, admin))
        seen += [c.pk for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 23 == len(set(seen))


def test_filters_and_sort(admin: Any, alice: Any) -> None:
    custom_field_create(entity="customers.contact", label="Revenue", type="number")
    custom_field_create(
        entity="customers.contact", label="Segment", type="multi_select", options=["Опт", "Розница"]
    )
    contact_create(
        actor=alice,
        data={"last_name": "A", "tags": ["VIP"], "custom": {"revenue": 10, "segment": ["Опт"]}},
    )
    contact_create(
        actor=alice,
        data={"last_name": "B", "custom": {"revenue": 200, "segment": ["Розница", "Опт"]}},
    )
    contact_create(actor=admin, data={"last_name": "C", "custom": {"revenue": 3}})
    assert names(admin, {"tag": "vip"}) == ["A"]
    assert names(admin, {"owner": str(alice.pk)}) == ["A", "B"]
    assert names(admin, {"owner": "me"}) == ["C"]
    assert names(admin, {"cf.revenue.gte": "5"}) == ["A", "B"]
    assert names(admin, {"cf.segment": "Розница"}) == ["B"]
    assert names(admin, {"sort": "cf.revenue"}) == ["C", "A", "B"]
    assert names(admin, {"sort": "-cf.revenue"}) == ["B", "A", "C"]


def test_sort_by_a_text_custom_field_puts_empty_values_first(admin: Any) -> None:
    custom_field_create(entity="customers.contact", label="City", type="text")
    contact_create(actor=admin, data={"last_name": "A", "custom": {"city": "Тверь"}})
    contact_create(actor=admin, data={"last_name": "B"})
    contact_create(actor=admin, data={"last_name": "C", "custom": {"city": "Омск"}})
    assert names(admin, {"sort": "cf.city"}) == ["B", "C", "A"]
    assert names(admin, {"sort": "-cf.city"}) == ["A", "C", "B"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "password"}, "sort"), ({"cf.nope": "1"}, "cf.nope"), ({"limit": "0"}, "limit"),
     ({"owner": "x"}, "owner"), ({"cursor": "!!!"}, "cursor"), ({"created_from": "yesterday"}, "created_from")],
)  # fmt: skip
def test_bad_list_parameters_name_the_parameter(
    admin: Any, params: dict[str, str], field: str
) -> None:
    with pytest.raises(ServiceValidationError) as exc:
        contact_list(admin, parse_list_query(CONTACT_SPEC, params, admin))
    assert field in {e.field for e in exc.value.errors}


def test_company_list_visibility(alice: Any, charlie: Any) -> None:
    company_create(actor=alice, data={"name": "Моя"})
    company_create(actor=charlie, data={"name": "Чужая"})
    page = company_list(alice, parse_list_query(COMPANY_SPEC, {}, alice))
    assert [c.name for c in page.items] == ["Моя"]


def test_list_page_costs_a_fixed_number_of_queries(
    admin: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        contact_create(actor=admin, data={"last_name": f"L{i}", "phones": ["+7916123456" + str(i % 10)],
                                          "emails": [f"e{i}@x.ru"], "tags": ["t"]})  # fmt: skip
    query = parse_list_query(CONTACT_SPEC, {"limit": "30"}, admin)
    with django_assert_max_num_queries(5):
        page = contact_list(admin, query)
        for c in page.items:
            _ = (list(c.phones.all()), list(c.emails.all()), list(c.tags.all()), c.company, c.owner)
