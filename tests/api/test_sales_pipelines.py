"""/api/v1/pipelines and /api/v1/stages: everyone reads, administrators change."""

from __future__ import annotations

from typing import Any

import pytest

from voronka.sales.models import Pipeline, Stage

pytestmark = pytest.mark.django_db

URL = "/api/v1/pipelines"


def default() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def test_everyone_reads_pipelines_with_their_stages(api: Any, alice: Any) -> None:
    client = api(alice)
    page = client.get(URL).json()
    assert page["next_cursor"] is None
    [pipeline] = page["items"]
    assert pipeline["id"] == default().pk and pipeline["is_default"] is True
    kinds = [s["kind"] for s in pipeline["stages"]]
    assert kinds == ["open", "open", "open", "open", "won", "lost"]
    assert [s["position"] for s in pipeline["stages"]] == sorted(
        s["position"] for s in pipeline["stages"]
    )
    assert client.get(f"{URL}/{default().pk}").json() == pipeline
    first = pipeline["stages"][0]
    assert client.get(f"/api/v1/stages/{first['id']}").json() == first
    assert client.get(f"{URL}/999999").status_code == 404
    assert client.get("/api/v1/stages/999999").status_code == 404


def test_admin_creates_a_pipeline_and_its_stages(api: Any, admin: Any) -> None:
    client = api(admin)
    created = client.post(URL, {"name": "Опт", "stages": [
        {"name": "Заявка", "probability": 20},
        {"name": "Сделано", "kind": "won", "probability": 100},
        {"name": "Отказ", "kind": "lost"},
    ]})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert [s["name"] for s in body["stages"]] == ["Заявка", "Сделано", "Отказ"]
    assert body["is_default"] is False

    starter = client.post(URL, {"name": "Сервис"}).json()
    assert [s["kind"] for s in starter["stages"]] == ["open", "won", "lost"]

    stage = client.post(f"{URL}/{body['id']}/stages", {
        "name": "Счёт", "probability": 60, "color": "#123456",
        "instructions": ["Выставить счёт"], "required_fields": ["amount"],
    })  # fmt: skip
    assert stage.status_code == 201, stage.content
    new = stage.json()
    assert new["required_fields"] == ["amount"]
    names = [s["name"] for s in client.get(f"{URL}/{body['id']}").json()["stages"]]
    assert names == ["Заявка", "Счёт", "Сделано", "Отказ"]  # open stages before closing ones

    patched = client.patch(f"/api/v1/stages/{new['id']}", {"name": "Счёт выставлен"}).json()
    assert patched["name"] == "Счёт выставлен" and patched["probability"] == 60

    ids = [s["id"] for s in client.get(f"{URL}/{body['id']}").json()["stages"]]
    reordered = client.post(f"{URL}/{body['id']}/stages/reorder", {"stage_ids": ids[::-1]})
    assert reordered.status_code == 200
    assert [s["id"] for s in reordered.json()["stages"]] == ids[::-1]

    assert client.delete(f"/api/v1/stages/{new['id']}").status_code == 204
    assert not Stage.objects.filter(pk=new["id"]).exists()


def test_admin_renames_and_makes_default(api: Any, admin: Any) -> None:
    client = api(admin)
    other = client.post(URL, {"name": "Опт"}).json()
    patched = client.patch(f"{URL}/{other['id']}", {"name": "Оптовые", "is_default": True})
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "Оптовые" and patched.json()["is_default"] is True
    assert Pipeline.objects.filter(is_default=True).count() == 1
    assert client.delete(f"{URL}/{other['id']}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", URL, {"name": ""}, "name"),
        ("post", URL, {"name": 5}, "name"),
        ("post", URL, {"name": "P", "stages": [{"name": "S", "probability": 150}]}, "probability"),
        ("post", URL, {"name": "P", "stages": [{"name": "S", "kind": "maybe"}]}, "kind"),
        ("post", URL, {"name": "P", "colour": "red"}, "colour"),
        ("post", "{pipeline}/stages", {"name": ""}, "name"),
        ("post", "{pipeline}/stages", {"name": "S", "color": "red"}, "color"),
        ("post", "{pipeline}/stages", {"name": "S", "required_fields": ["budget"]},
         "required_fields"),
        ("post", "{pipeline}/stages", {"name": "S", "required_fields": [{"x": 1}]},
         "required_fields[0]"),
        ("post", "{pipeline}/stages/reorder", {"stage_ids": [1]}, "stage_ids"),
        ("patch", "{stage}", {"name": None}, "name"),
        ("patch", "{stage}", {"probability": -1}, "probability"),
        ("patch", "{stage}", {"color": "#1234567890123456789"}, "color"),
        ("patch", "{pipeline}", {"name": " "}, "name"),
        ("patch", "{pipeline}", {"is_default": False}, "is_default"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(
    api: Any, admin: Any, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    pipeline = default()
    stage = pipeline.stages.order_by("position").first()
    assert stage is not None
    url = path.format(pipeline=f"{URL}/{pipeline.pk}", stage=f"/api/v1/stages/{stage.pk}")
    before = (Pipeline.objects.count(), list(Stage.objects.values_list("id", "name", "position")))
    response = getattr(api(admin), method)(url, body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    after = (Pipeline.objects.count(), list(Stage.objects.values_list("id", "name", "position")))
    assert after == before


def test_a_stage_holding_deals_is_not_deleted(api: Any, admin: Any, alice: Any) -> None:
    from voronka.sales.services import deal_create

    deal = deal_create(actor=alice, data={"title": "X"})
    response = api(admin).delete(f"/api/v1/stages/{deal.stage_id}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stage"
    assert Stage.objects.filter(pk=deal.stage_id).exists()
    refused = api(admin).delete(f"{URL}/{deal.pipeline_id}")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "pipeline"


def test_a_stage_holding_deals_keeps_its_kind(api: Any, admin: Any, alice: Any) -> None:
    from voronka.sales.services import deal_create

    deal = deal_create(actor=alice, data={"title": "X"})
    response = api(admin).patch(f"/api/v1/stages/{deal.stage_id}", {"kind": "won"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "kind"
    assert Stage.objects.get(pk=deal.stage_id).kind == "open"
    renamed = api(admin).patch(f"/api/v1/stages/{deal.stage_id}", {"name": "Первый звонок"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Первый звонок"


@pytest.mark.parametrize("role", ["sales_rep", "read_only"])
def test_only_administrators_change_pipelines(api: Any, make_user: Any, role: str) -> None:
    client = api(make_user("someone", role=role))
    pipeline = default()
    stage = pipeline.stages.order_by("position").first()
    assert stage is not None
    before = (Pipeline.objects.count(), list(Stage.objects.values_list("id", "name", "position")))
    for response in (
        client.post(URL, {"name": "Моя"}),
        client.patch(f"{URL}/{pipeline.pk}", {"name": "Моя"}),
        client.delete(f"{URL}/{pipeline.pk}"),
        client.post(f"{URL}/{pipeline.pk}/stages", {"name": "Моя"}),
        client.post(f"{URL}/{pipeline.pk}/stages/reorder", {"stage_ids": []}),
        client.patch(f"/api/v1/stages/{stage.pk}", {"name": "Моя"}),
        client.delete(f"/api/v1/stages/{stage.pk}"),
    ):
        assert response.status_code == 403, response.content
    after = (Pipeline.objects.count(), list(Stage.objects.values_list("id", "name", "position")))
    assert after == before
    assert client.get(URL).status_code == 200
