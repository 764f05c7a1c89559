"""Tags, custom field definitions, users, teams and search over the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voronka.accounts.models import Team
from voronka.core.models import CustomField
from voronka.customers.models import Tag

pytestmark = pytest.mark.django_db


# --- tags -----------------------------------------------------------------------------------


def test_tags_list_create_patch(api: Any, alice: Any, bob: Any, make_contact: Any) -> None:
    make_contact(bob, tags=["Старый"])
    client = api(alice)
    created = client.post("/api/v1/tags", {"name": "VIP", "color": "danger"})
    assert created.status_code == 201
    tag = created.json()
    assert tag == {"id": tag["id"], "name": "VIP", "color": "danger"}
    assert [t["name"] for t in client.get("/api/v1/tags").json()["items"]] == ["VIP", "Старый"]
    patched = client.patch(f"/api/v1/tags/{tag['id']}", {"color": "success"}).json()
    assert patched == {"id": tag["id"], "name": "VIP", "color": "success"}
    assert client.get(f"/api/v1/tags/{tag['id']}").json() == patched


def test_tag_names_are_unique_regardless_of_case(api: Any, alice: Any) -> None:
    client = api(alice)
    client.post("/api/v1/tags", {"name": "VIP"})
    duplicate = client.post("/api/v1/tags", {"name": "vip"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "name"
    over_long = client.post("/api/v1/tags", {"name": "t" * 65})
    assert over_long.status_code == 422
    assert Tag.objects.count() == 1


def test_only_an_admin_deletes_tags(api: Any, alice: Any, admin: Any) -> None:
    tag = api(alice).post("/api/v1/tags", {"name": "temp"}).json()
    assert api(alice).delete(f"/api/v1/tags/{tag['id']}").status_code == 403
    assert Tag.objects.filter(pk=tag["id"]).exists()
    assert api(admin).delete(f"/api/v1/tags/{tag['id']}").status_code == 204
    assert not Tag.objects.filter(pk=tag["id"]).exists()
    assert api(admin).get(f"/api/v1/tags/{tag['id']}").status_code == 404


def test_tags_page_by_cursor(api: Any, alice: Any) -> None:
    client = api(alice)
    for i in range(5):
        client.post("/api/v1/tags", {"name": f"tag{i}"})
    first = client.get("/api/v1/tags", limit=3).json()
    second = client.get("/api/v1/tags", limit=3, cursor=first["next_cursor"]).json()
    names = [t["name"] for t in first["items"] + second["items"]]
    assert names == [f"tag{i}" for i in range(5)]
    assert second["next_cursor"] is None
    assert client.get("/api/v1/tags", limit=0).json()["errors"][0]["field"] == "limit"


# --- custom field definitions ---------------------------------------------------------------

FIELD = {"entity": "customers.contact", "label": "Region", "key": "region", "type": "select",
         "options": ["Moscow", "SPb"]}  # fmt: skip


def test_anyone_lists_custom_fields_only_an_admin_changes_them(
    api: Any, alice: Any, admin: Any, db_rows: Callable[[], dict[str, int]]
) -> None:
    rep = api(alice)
    before = db_rows()
    assert rep.post("/api/v1/custom-fields", FIELD).status_code == 403
    assert db_rows() == before
    boss = api(admin)
    created = boss.post("/api/v1/custom-fields", FIELD)
    assert created.status_code == 201, created.content
    field = created.json()
    assert {k: field[k] for k in FIELD} == FIELD
    listed = rep.get("/api/v1/custom-fields", entity="customers.contact").json()
    assert [f["key"] for f in listed["items"]] == ["region"]
    assert rep.get("/api/v1/custom-fields", entity="customers.company").json()["items"] == []

    path = f"/api/v1/custom-fields/{field['id']}"
    assert rep.patch(path, {"label": "Регион"}).status_code == 403
    assert boss.patch(path, {"label": "Регион", "options": ["Moscow", "SPb", "Kazan"]}).json()[
        "options"
    ] == ["Moscow", "SPb", "Kazan"]
    assert rep.delete(path).status_code == 403
    assert boss.delete(path).status_code == 204
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [({**FIELD, "type": "colour"}, "type"), ({**FIELD, "entity": "sales.unicorn"}, "entity"),
     ({**FIELD, "options": []}, "options"), ({**FIELD, "label": ""}, "label"),
     ({**FIELD, "label": 5}, "label"), ({**FIELD, "colour": "red"}, "colour"),
     ({"entity": "customers.contact", "type": "text"}, "label")],
)  # fmt: skip
def test_bad_custom_field_definitions(
    api: Any, admin: Any, db_rows: Callable[[], dict[str, int]], body: dict[str, Any], field: str
) -> None:
    client = api(admin)
    before = db_rows()
    response = client.post("/api/v1/custom-fields", body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert db_rows() == before


def test_key_and_type_of_a_custom_field_cannot_change(api: Any, admin: Any) -> None:
    client = api(admin)
    field = client.post("/api/v1/custom-fields", FIELD).json()
    response = client.patch(f"/api/v1/custom-fields/{field['id']}", {"type": "text"})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "type", "message": "cannot be changed"}]


def test_a_new_custom_field_is_usable_on_contacts_at_once(api: Any, admin: Any, alice: Any) -> None:
    api(admin).post("/api/v1/custom-fields", {**FIELD, "required": True})
    client = api(alice)
    missing = client.post("/api/v1/contacts", {"last_name": "X"})
    assert missing.json()["errors"] == [
        {"field": "custom.region", "message": "this field is required"}
    ]
    ok = client.post("/api/v1/contacts", {"last_name": "X", "custom": {"region": "SPb"}})
    assert ok.json()["custom"] == {"region": "SPb"}


# --- users and teams --------------------------------------------------------------------------


def test_users_are_read_only(api: Any, alice: Any, bob: Any, charlie: Any) -> None:
    client = api(alice)
    users = client.get("/api/v1/users").json()
    assert {u["username"] for u in users["items"]} == {"alice", "bob", "charlie"}
    me = client.get(f"/api/v1/users/{alice.pk}").json()
    assert me["role"] == "sales_rep" and me["team_id"] == alice.team_id
    assert "password" not in me
    assert client.get("/api/v1/users/999999").status_code == 404
    team = client.get("/api/v1/users", team=alice.team_id).json()
    assert {u["username"] for u in team["items"]} == {"alice", "bob"}
    assert client.post("/api/v1/users", {"username": "eve"}).status_code == 405
    assert client.patch(f"/api/v1/users/{bob.pk}", {"first_name": "x"}).status_code == 405


def test_teams_are_read_by_anyone_and_changed_by_an_admin(
    api: Any, alice: Any, admin: Any, team_a: Any, team_b: Any
) -> None:
    rep, boss = api(alice), api(admin)
    assert [t["name"] for t in rep.get("/api/v1/teams").json()["items"]] == ["Team A", "Team B"]
    assert rep.get(f"/api/v1/teams/{team_a.pk}").json()["name"] == "Team A"
    assert rep.post("/api/v1/teams", {"name": "Team C"}).status_code == 403
    assert rep.patch(f"/api/v1/teams/{team_a.pk}", {"name": "Hacked"}).status_code == 403
    assert rep.delete(f"/api/v1/teams/{team_b.pk}").status_code == 403
    assert Team.objects.count() == 2

    created = boss.post("/api/v1/teams", {"name": "Team C"})
    assert created.status_code == 201
    team_id = created.json()["id"]
    assert boss.patch(f"/api/v1/teams/{team_id}", {"name": "Team D"}).json()["name"] == "Team D"
    assert boss.post("/api/v1/teams", {"name": "Team A"}).json()["errors"][0]["field"] == "name"
    assert boss.patch(f"/api/v1/teams/{team_id}", {"name": "x" * 129}).status_code == 422
    assert boss.delete(f"/api/v1/teams/{team_id}").status_code == 204
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Team A", "Team B"]


# --- search -----------------------------------------------------------------------------------


def test_search_finds_a_phone_typed_any_way(
    api: Any, alice: Any, bob: Any, make_contact: Any, make_company: Any
) -> None:
    mine = make_contact(alice, last_name="Звонков", phones=["+79161234567"])
    make_contact(bob, last_name="Звонкова", phones=["+79161234567"])
    company = make_company(alice, name="Телефонная", phone="+79161234567")
    client = api(alice)
    for typed in ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567"]:
        found = client.get("/api/v1/search", q=typed).json()
        assert [c["id"] for c in found["contacts"]] == [mine.pk], typed
        assert found["contacts"][0]["phones"] == [{"phone": "+79161234567", "kind": "mobile"}]
        assert [c["id"] for c in found["companies"]] == [company.pk], typed


def test_search_by_name_and_limits(api: Any, alice: Any, make_contact: Any) -> None:
    for i in range(4):
        make_contact(alice, last_name=f"Кузнецов{i}")
    client = api(alice)
    assert len(client.get("/api/v1/search", q="кузнецов").json()["contacts"]) == 4
    assert len(client.get("/api/v1/search", q="кузнецов", limit=2).json()["contacts"]) == 2
    assert client.get("/api/v1/search", q="").json() == {"contacts": [], "companies": []}
    bad = client.get("/api/v1/search", q="x", limit=1000)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"
    nul = client.get("/api/v1/search", q="a\x00")
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "q"
