"""Merging duplicate contacts and companies, and the duplicate finder, through the services.

A merge must move every linked record (notes, deals, activities, converted leads, a company's
contacts), leave a history entry naming the merged records, refuse invisible records (404) and
read-only roles (403), and write nothing at all when the input is bad."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from voronka.accounts.models import User
from voronka.core.actors import OnBehalfOf
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import AuditEntry, Note, OutboxEvent
from voronka.core.services import custom_field_create, note_create
from voronka.customers.merge import (
    company_duplicates,
    company_merge,
    contact_duplicates,
    contact_merge,
    normalize_company_name,
    similar_first_names,
    website_domain,
)
from voronka.customers.models import Company, CompanyAddress, Contact, ContactEmail
from voronka.customers.services import contact_create
from voronka.sales.models import Activity, Deal, Lead
from voronka.sales.services import activity_create, deal_create, lead_convert, lead_create

pytestmark = pytest.mark.django_db


def rows() -> dict[str, int]:
    """Row counts of every table a merge writes."""
    models = [Contact, ContactEmail, Company, CompanyAddress, Note, AuditEntry, OutboxEvent,
              Activity, Deal, Lead]  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


def history(record: Any, action: str) -> list[AuditEntry]:
    ct = ContentType.objects.get_for_model(record)
    return list(AuditEntry.objects.filter(content_type=ct, object_id=record.pk, action=action))


@pytest.fixture
def pair(alice: Any, make_contact: Callable[..., Any], make_company: Callable[..., Any]) -> Any:
    """Alice's contact and its duplicate, the duplicate with everything linked to it."""
    company = make_company(alice, name="Ромашка")
    keep = make_contact(alice, last_name="Петров", first_name="Иван", emails=["ivan@example.com"],
                        tags=["VIP"], company_id=company.pk)  # fmt: skip
    dup = make_contact(alice, last_name="Петров", first_name="Иван Ильич", position="CTO",
                       emails=["IVAN@example.com", "petrov@home.ru"], phones=["8 916 123-45-67"],
                       tags=["vip", "Lead"])  # fmt: skip
    note_create(record=dup, body="<p>Called about the offer</p>", actor=alice)
    shared_deal = deal_create(actor=alice, data={"title": "Both", "contact_ids": [keep.pk, dup.pk]})
    own_deal = deal_create(actor=alice, data={"title": "Dup's", "contact_ids": [dup.pk]})
    activity = activity_create(actor=alice, data={"subject": "Call back", "contact_id": dup.pk})
    lead = lead_create(actor=alice, data={"last_name": "Петров", "email": "petrov@home.ru"})
    lead = lead_convert(actor=alice, lead=lead, create_deal=False)
    assert lead.converted_contact_id == dup.pk  # matched by e-mail: no third contact
    return {"keep": keep, "dup": dup, "shared_deal": shared_deal, "own_deal": own_deal,
            "activity": activity, "lead": lead, "company": company}  # fmt: skip


def test_contact_merge_moves_every_linked_record_and_leaves_history(alice: Any, pair: Any) -> None:
    keep, dup = pair["keep"], pair["dup"]
    dup_created = history(dup, "create")
    survivor = contact_merge(actor=alice, survivor_id=keep.pk, other_ids=[dup.pk],
                             values={"first_name": dup.pk})  # fmt: skip

    assert survivor.pk == keep.pk
    assert not Contact.objects.filter(pk=dup.pk).exists()
    assert survivor.first_name == "Иван Ильич"  # chosen from the duplicate
    assert survivor.position == "CTO"  # empty on the survivor: taken from the duplicate
    assert survivor.company_id == pair["company"].pk  # the survivor's own value stays
    assert [e.email for e in survivor.emails.all()] == ["ivan@example.com", "petrov@home.ru"]
    assert [p.phone for p in survivor.phones.all()] == ["+79161234567"]
    assert sorted(t.name for t in survivor.tags.all()) == ["Lead", "VIP"]
    assert "ильич" in survivor.search_text and "79161234567" in survivor.search_text

    ct = ContentType.objects.get_for_model(Contact)
    assert Note.objects.get(content_type=ct).object_id == keep.pk
    assert list(pair["shared_deal"].contacts.values_list("pk", flat=True)) == [keep.pk]
    assert list(pair["own_deal"].contacts.values_list("pk", flat=True)) == [keep.pk]
    assert Activity.objects.get(pk=pair["activity"].pk).contact_id == keep.pk
    assert Lead.objects.get(pk=pair["lead"].pk).converted_contact_id == keep.pk

    merged = history(keep, "merge")
    assert len(merged) == 1
    entry = merged[0].changes
    assert entry["merged"][0]["id"] == dup.pk
    assert entry["merged"][0]["values"]["position"] == "CTO"
    assert entry["chosen"]["first_name"] == dup.pk
    assert entry["moved"] == {"notes": 1, "sales.deals": 2, "sales.activities": 1,
                              "sales.leads": 1}  # fmt: skip
    assert merged[0].actor_id == alice.pk and merged[0].channel == "ui"
    # The duplicate's own history stays under its id, with where it went.
    assert history(dup, "create") == dup_created
    assert history(dup, "merge")[0].changes == {"merged_into": keep.pk}
    # The moved deal says so in its own history.
    deal_entries = history(pair["own_deal"], "update")
    assert deal_entries[0].changes == {"contact_ids": {"added": [keep.pk], "removed": [dup.pk]}}

    event = OutboxEvent.objects.get(name="contact.merged")
    assert event.entity_id == keep.pk and event.payload["merged_ids"] == [dup.pk]
    assert OutboxEvent.objects.filter(name="contact.updated", entity_id=keep.pk).exists()


def test_merging_three_contacts_at_once(alice: Any, make_contact: Any) -> None:
    a = make_contact(alice, emails=["a@example.com"])
    b = make_contact(alice, emails=["b@example.com"], source="site")
    c = make_contact(alice, emails=["a@example.com", "c@example.com"], source="fair")
    survivor = contact_merge(
        actor=alice, survivor_id=a.pk, other_ids=[b.pk, str(c.pk)], values={"source": c.pk}
    )
    assert Contact.objects.count() == 1
    assert survivor.source == "fair"
    assert [e.email for e in survivor.emails.all()] == [
        "a@example.com", "b@example.com", "c@example.com",
    ]  # fmt: skip


def test_explicit_values_and_custom_fields_per_key(alice: Any, make_contact: Any) -> None:
    custom_field_create(entity="customers.contact", label="Region", key="region", type="text")
    custom_field_create(entity="customers.contact", label="Budget", key="budget", type="number")
    a = make_contact(alice, custom={"region": "Moscow"})
    b = make_contact(alice, custom={"region": "SPb", "budget": 100})
    survivor = contact_merge(
        actor=alice, survivor_id=a.pk, other_ids=[b.pk],
        values={"custom.region": b.pk, "position": {"value": "Head of IT"}, "tags": ["x"],
                "phones": [" +7 (916) 000-00-01 "]},
    )  # fmt: skip
    assert survivor.custom == {"region": "SPb", "budget": 100}
    assert survivor.position == "Head of IT"
    assert [t.name for t in survivor.tags.all()] == ["x"]
    assert [p.phone for p in survivor.phones.all()] == ["+79160000001"]


def test_company_merge_moves_contacts_deals_activities_leads(
    alice: Any, bob: Any, make_company: Any, make_contact: Any
) -> None:
    keep = make_company(alice, name="Ромашка", addresses=["Москва, Тверская 1"], tags=["A"])
    dup = make_company(alice, name="ООО «Ромашка»", inn="7707083893", website="romashka.ru",
                       addresses=[{"kind": "legal", "address": "Москва, ул. Ленина 5"},
                                  "москва, тверская 1"], tags=["B"])  # fmt: skip
    mine = make_contact(alice, last_name="Сидоров", company_id=dup.pk)
    # Bob's contact works there too; alice cannot see it, but it must not lose its company.
    hidden = contact_create(actor=OnBehalfOf(bob), data={
        "last_name": "Скрытый", "owner_id": bob.pk, "company_id": dup.pk})  # fmt: skip
    deal = deal_create(actor=alice, data={"title": "Поставка", "company_id": dup.pk})
    activity = activity_create(actor=alice, data={"subject": "Meet", "company_id": dup.pk})
    lead = lead_create(actor=alice, data={"company_name": "x", "inn": "7707083893"})
    lead = lead_convert(actor=alice, lead=lead, create_deal=False)
    assert lead.converted_company_id == dup.pk

    survivor = company_merge(actor=alice, survivor_id=keep.pk, other_ids=[dup.pk],
                             values={"name": "survivor"})  # fmt: skip

    assert not Company.objects.filter(pk=dup.pk).exists()
    assert survivor.name == "Ромашка" and survivor.inn == "7707083893"
    assert survivor.website == "https://romashka.ru"
    assert [a.address for a in survivor.addresses.all()] == [
        "Москва, Тверская 1", "Москва, ул. Ленина 5",
    ]  # fmt: skip
    assert sorted(t.name for t in survivor.tags.all()) == ["A", "B"]
    for contact in (mine, hidden):
        contact.refresh_from_db()
        assert contact.company_id == keep.pk
    assert "ооо «ромашка»" not in Contact.objects.get(pk=mine.pk).search_text
    assert history(mine, "update")[0].changes == {"company_id": [dup.pk, keep.pk]}
    assert Deal.objects.get(pk=deal.pk).company_id == keep.pk
    assert Activity.objects.get(pk=activity.pk).company_id == keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_company_id == keep.pk
    moved = history(keep, "merge")[0].changes["moved"]
    assert moved == {"customers.contacts": 2, "sales.deals": 1, "sales.activities": 1,
                     "sales.leads": 1}  # fmt: skip
    assert OutboxEvent.objects.filter(name="company.merged", entity_id=keep.pk).exists()


def test_a_record_the_user_cannot_see_is_not_found_and_nothing_changes(
    alice: Any, charlie: Any, make_contact: Any, make_company: Any
) -> None:
    mine = make_contact(alice)
    theirs = make_contact(charlie)
    before = rows()
    with pytest.raises(NotFound):
        contact_merge(actor=alice, survivor_id=mine.pk, other_ids=[theirs.pk])
    with pytest.raises(NotFound):
        contact_merge(actor=alice, survivor_id=theirs.pk, other_ids=[mine.pk])
    with pytest.raises(NotFound):
        contact_merge(actor=alice, survivor_id=mine.pk, other_ids=[999_999])
    with pytest.raises(NotFound):
        company_merge(actor=alice, survivor_id=make_company(alice).pk,
                      other_ids=[make_company(charlie).pk])  # fmt: skip
    assert rows()["Contact"] == before["Contact"] and rows()["AuditEntry"] > 0


def test_teammate_records_merge_with_team_scope(
    alice: Any, bob: Any, make_contact: Any, set_scope: Any
) -> None:
    set_scope("sales_rep", "team")
    mine, bobs = make_contact(alice), make_contact(bob)
    alice = User.objects.get(pk=alice.pk)  # the role's new scope
    contact_merge(actor=alice, survivor_id=mine.pk, other_ids=[bobs.pk])
    assert not Contact.objects.filter(pk=bobs.pk).exists()


def test_read_only_role_may_not_merge(make_user: Any, alice: Any, make_contact: Any) -> None:
    reader = make_user("rita", role="read_only")  # sees everything, changes nothing
    a, b = make_contact(alice), make_contact(alice)
    before = rows()
    with pytest.raises(Forbidden):
        contact_merge(actor=reader, survivor_id=a.pk, other_ids=[b.pk])
    assert rows() == before


def test_merge_needs_no_delete_right(alice: Any, make_contact: Any) -> None:
    assert not alice.can_delete
    a, b = make_contact(alice), make_contact(alice)
    contact_merge(actor=alice, survivor_id=a.pk, other_ids=[b.pk])
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    "others, values, field",
    [
        ("self", {}, "others"),
        ([], {}, "others"),
        ("abc", {}, "others"),
        ("b", {"nickname": "x"}, "nickname"),
        ("b", {"custom.nope": "x"}, "custom.nope"),
        ("b", {"emails": ["not an e-mail"]}, "emails[0].email"),
        ("b", {"first_name": "", "last_name": {"value": ""}}, "last_name"),
        ("b", {"birthday": "2999-01-01"}, "birthday"),
        ("b", {"owner_id": {"value": 999_999}}, "owner_id"),
        ("b", "not a mapping", "values"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    alice: Any, pair: Any, others: Any, values: Any, field: str
) -> None:
    keep, dup = pair["keep"], pair["dup"]
    named = {"self": [keep.pk], "b": [dup.pk], "abc": ["abc"]}
    other_ids = named[others] if isinstance(others, str) else others
    before = rows()
    with pytest.raises(ServiceValidationError) as exc:
        contact_merge(actor=alice, survivor_id=keep.pk, other_ids=other_ids, values=values)
    assert field in {e.field for e in exc.value.errors}
    assert rows() == before
    assert Activity.objects.get(pk=pair["activity"].pk).contact_id == dup.pk


def test_a_company_the_user_cannot_see_cannot_be_chosen(
    alice: Any, charlie: Any, make_contact: Any, make_company: Any
) -> None:
    hidden = make_company(charlie, name="Чужая")
    a = make_contact(alice)
    b = make_contact(alice)
    Contact.objects.filter(pk=b.pk).update(company_id=hidden.pk)
    before = rows()
    with pytest.raises(ServiceValidationError) as exc:
        contact_merge(actor=alice, survivor_id=a.pk, other_ids=[b.pk], values={"company_id": b.pk})
    assert [e.field for e in exc.value.errors] == ["company_id"]
    assert rows() == before


# --- the finder ------------------------------------------------------------------------------


def ids_of(page: Any) -> list[set[int]]:
    return [set(g.ids) for g in page.groups]


def test_finder_finds_contacts_by_email_phone_and_similar_name(
    alice: Any, make_contact: Any, make_company: Any
) -> None:
    firm, other_firm = make_company(alice, name="Альфа"), make_company(alice, name="Бета")
    e1 = make_contact(alice, last_name="Один", emails=["Same@Example.com"])
    e2 = make_contact(alice, last_name="Два", emails=["same@example.com"])
    p1 = make_contact(alice, last_name="Три", phones=["8 (916) 555-44-33"])
    p2 = make_contact(alice, last_name="Четыре", phones=["+7 916 555 44 33"])
    n1 = make_contact(alice, last_name="Фёдоров", first_name="Иван", company_id=firm.pk)
    n2 = make_contact(alice, last_name="федоров", first_name="И.", company_id=firm.pk)
    n3 = make_contact(alice, last_name="Федоров", first_name="Иваан", company_id=firm.pk)
    # Not duplicates: same name at another company, another first name, another patronymic.
    make_contact(alice, last_name="Фёдоров", first_name="Иван", company_id=other_firm.pk)
    make_contact(alice, last_name="Фёдоров", first_name="Пётр", company_id=firm.pk)
    make_contact(alice, last_name="Орлов", first_name="Иван", middle_name="Сергеевич",
                 company_id=firm.pk)  # fmt: skip
    make_contact(alice, last_name="Орлов", first_name="Иван", middle_name="Иванович",
                 company_id=firm.pk)  # fmt: skip
    make_contact(alice, last_name="Пять", emails=["other@example.com"], phones=["+79160000000"])

    found = contact_duplicates(alice)
    assert sorted(map(sorted, ids_of(found))) == sorted(
        [sorted([e1.pk, e2.pk]), sorted([p1.pk, p2.pk]), sorted([n1.pk, n2.pk, n3.pk])]
    )
    reasons = {r for g in found.groups for r in g.reasons}
    assert ("email", "same@example.com") in reasons and ("phone", "+79165554433") in reasons
    assert ids_of(contact_duplicates(alice, reason="phone")) == [{p1.pk, p2.pk}]
    assert all(len(g.records) == len(g.ids) for g in found.groups)


def test_one_pair_found_twice_is_one_group_with_both_reasons(alice: Any, make_contact: Any) -> None:
    a = make_contact(alice, emails=["x@example.com"], phones=["+79161112233"])
    b = make_contact(alice, emails=["x@example.com"], phones=["+79161112233"])
    found = contact_duplicates(alice)
    assert ids_of(found) == [{a.pk, b.pk}]
    assert [r[0] for r in found.groups[0].reasons] == ["email", "phone"]


def test_finder_only_groups_records_the_user_can_see(
    alice: Any, bob: Any, charlie: Any, make_contact: Any, set_scope: Any
) -> None:
    mine = make_contact(alice, emails=["shared@example.com"])
    bobs = make_contact(bob, emails=["shared@example.com"])
    make_contact(charlie, emails=["shared@example.com"])
    assert contact_duplicates(alice).groups == []  # alice sees one of them only
    set_scope("sales_rep", "team")
    alice = User.objects.get(pk=alice.pk)
    assert ids_of(contact_duplicates(alice)) == [{mine.pk, bobs.pk}]


def test_finder_finds_companies_by_inn_name_email_phone_and_website(
    alice: Any, make_company: Any
) -> None:
    i1 = make_company(alice, name="Первая", inn="7707083893")
    i2 = make_company(alice, name="Вторая", inn="7707083893")
    n1 = make_company(alice, name="ООО «Ромашка»")
    n2 = make_company(alice, name="Ромашка, LLC")
    w1 = make_company(alice, name="Сайт-1", website="https://www.example.org/about")
    w2 = make_company(alice, name="Сайт-2", website="example.org")
    m1 = make_company(alice, name="Почта-1", email="Office@Firm.ru", phone="8 495 123-45-67")
    m2 = make_company(alice, name="Почта-2", email="office@firm.ru")
    t1 = make_company(alice, name="Тел-1", phone="+7 (495) 765-43-21")
    t2 = make_company(alice, name="Тел-2", phone="84957654321")
    # A page on a shared site and unrelated names are not duplicates.
    make_company(alice, name="Группа А", website="https://vk.com/a")
    make_company(alice, name="Группа Б", website="https://vk.com/b")
    make_company(alice, name="Ромашка Плюс")

    found = company_duplicates(alice)
    assert sorted(map(sorted, ids_of(found))) == sorted(
        sorted(p) for p in [[i1.pk, i2.pk], [n1.pk, n2.pk], [w1.pk, w2.pk], [m1.pk, m2.pk],
                            [t1.pk, t2.pk]]
    )  # fmt: skip
    by_ids = {frozenset(g.ids): g.reasons for g in found.groups}
    assert by_ids[frozenset([w1.pk, w2.pk])] == [("website", "example.org")]
    assert ids_of(company_duplicates(alice, reason="inn")) == [{i1.pk, i2.pk}]


def test_finder_pages_newest_groups_first(alice: Any, make_contact: Any) -> None:
    made = []
    for n in range(3):
        made.append({make_contact(alice, emails=[f"{n}@example.com"]).pk for _ in range(2)})
    first = contact_duplicates(alice, per_page=2)
    assert ids_of(first) == [made[2], made[1]] and first.has_next and first.total == 3
    second = contact_duplicates(alice, per_page=2, page=2)
    assert ids_of(second) == [made[0]] and not second.has_next


def test_finder_costs_a_fixed_number_of_queries(
    alice: Any, make_contact: Any, make_company: Any, django_assert_max_num_queries: Any
) -> None:
    firm = make_company(alice)
    for n in range(8):
        make_contact(alice, emails=[f"{n % 4}@example.com"], phones=[f"+7916000000{n % 3}"],
                     last_name="Петров", first_name="Иван", company_id=firm.pk)  # fmt: skip
        make_company(alice, name=f"Фирма {n % 2}", inn="7707083893")
    with django_assert_max_num_queries(10):
        assert contact_duplicates(alice).groups
    with django_assert_max_num_queries(8):
        assert company_duplicates(alice).groups


def test_unknown_reason_is_refused(alice: Any) -> None:
    with pytest.raises(ServiceValidationError):
        contact_duplicates(alice, reason="zodiac")


@pytest.mark.parametrize(
    "name, key",
    [
        ("ООО «Ромашка»", "ромашка"),
        ('Общество с ограниченной ответственностью "Ромашка"', "ромашка"),
        ("Romashka, LLC", "romashka"),
        ("ИП Иванов И.И.", "иванов и и"),
        ("ООО", ""),
    ],
)
def test_company_names_normalize(name: str, key: str) -> None:
    assert normalize_company_name(name) == key


def test_helpers_compare_names_and_domains() -> None:
    assert similar_first_names("Наталья", "Наталия")
    assert similar_first_names("И.", "Иван")
    assert not similar_first_names("Иван", "Пётр")
    assert not similar_first_names("Ян", "Яна")  # short names must match exactly
    assert not similar_first_names("", "Иван")
    assert website_domain("HTTPS://WWW.Example.org/x") == "example.org"
    assert website_domain("https://vk.com/club1") == ""


def test_rows_of_a_domain_without_a_mover_are_repointed_not_lost(
    alice: Any, pair: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voronka.core import merging

    monkeypatch.setattr(merging, "_movers", {})  # as if sales had registered nothing
    keep, dup = pair["keep"], pair["dup"]
    contact_merge(actor=alice, survivor_id=keep.pk, other_ids=[dup.pk], values={"tags": "survivor"})
    assert Activity.objects.get(pk=pair["activity"].pk).contact_id == keep.pk  # not CASCADEd
    assert Lead.objects.get(pk=pair["lead"].pk).converted_contact_id == keep.pk
    assert list(pair["shared_deal"].contacts.values_list("pk", flat=True)) == [keep.pk]
    assert list(pair["own_deal"].contacts.values_list("pk", flat=True)) == [keep.pk]
    assert [t.name for t in Contact.objects.get(pk=keep.pk).tags.all()] == ["VIP"]  # as chosen
    moved = history(keep, "merge")[0].changes["moved"]
    assert moved == {"notes": 1, "sales.activity": 1, "sales.lead": 1, "sales.deal_contacts": 1}
