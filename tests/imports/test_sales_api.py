"""Imports of leads, deals and products over the REST API, the command line and the pages."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from tests.imports import sales_samples as samples
from voronka.imports.models import ImportJob
from voronka.imports.runner import import_check_run, import_run, import_undo_run
from voronka.sales.models import Deal, Lead, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_file(client: Any, api_key_for: Callable[[Any], str], settings: Any) -> Callable[..., Any]:
    settings.ROOT_URLCONF = "tests.imports.urls"

    def post(user: Any, name: str, content: bytes, **form: Any) -> Any:
        return client.post(
            "/api/v1/imports", {"file": SimpleUploadedFile(name, content), **form},
            HTTP_AUTHORIZATION=f"Bearer {api_key_for(user)}",
        )  # fmt: skip

    return post


def test_deals_upload_status_report_undo(
    alice: Any, bob: Any, api: Callable[[Any], Any], post_file: Callable[..., Any]
) -> None:
    content = ("Название сделки;Сумма;Этап;Ответственный\r\n"
               "Поставка;1 234,50;;bob\r\nЛицензии;12000;Отгрузка;\r\n").encode("cp1251")  # fmt: skip
    response = post_file(alice, "deals.csv", content, entity="deals")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["entity"], body["status"]) == ("deals", "queued")
    assert body["mapping"] == ["title", "amount", "stage", "owner"]
    assert import_run(body["id"]) == "done"

    status = api(alice).get(f"/api/v1/imports/{body['id']}").json()
    assert (status["status"], status["created"], status["rejected"], status["notes"]) == (
        "done", 1, 1, {},
    )  # fmt: skip
    report = api(alice).get(status["report_url"])
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("3;Stage (column “Этап”): no stage “Отгрузка”")
    assert Deal.objects.get().owner == bob

    assert api(alice).post(f"/api/v1/imports/{body['id']}/undo").json()["status"] == "undoing"
    import_undo_run(body["id"])
    assert api(alice).get(f"/api/v1/imports/{body['id']}").json()["status"] == "undone"
    assert not Deal.objects.exists()
    # Bob sees neither alice's import nor its report.
    assert api(bob).get(f"/api/v1/imports/{body['id']}").status_code == 404


def test_leads_dry_run_and_products_by_role(
    alice: Any, admin: Any, api: Callable[[Any], Any], post_file: Callable[..., Any]
) -> None:
    response = post_file(alice, "leads.csv", samples.LEADS, entity="leads", dry_run="true")
    assert response.status_code == 201, response.content
    import_check_run(response.json()["id"])
    body = api(alice).get(f"/api/v1/imports/{response.json()['id']}").json()
    assert (body["status"], body["check_counts"]["created"], body["check_counts"]["rejected"]) == (
        "checked", 3, 1,
    )  # fmt: skip
    assert not Lead.objects.exists()

    response = post_file(alice, "p.csv", samples.PRICES, entity="products")
    assert response.status_code == 403
    response = post_file(admin, "p.csv", samples.PRICES, entity="products", dedupe="update")
    assert response.status_code == 201
    assert import_run(response.json()["id"]) == "done"
    assert Product.objects.count() == 2
    response = post_file(admin, "p.csv", samples.PRICES, entity="orders")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "entity"
    assert ImportJob.objects.count() == 2


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def test_the_command_line(tmp_path: Path, admin: Any, alice: Any, bob: Any) -> None:
    path = tmp_path / "Сделки.csv"
    path.write_bytes(samples.DEALS_RU)
    output = _run("deals", str(path), "--dry-run")
    assert "Сделки.csv: CSV, cp1251, delimiter ';'" in output
    assert "  Этап → Stage (name)" in output and "  Комментарий → (not imported)" in output
    assert "Dry run, nothing written: 4 rows; would create 1, update 0, skip 0, reject 3." in output
    assert not Deal.objects.exists()

    prices = tmp_path / "prices.csv"
    prices.write_bytes(samples.PRICES)
    output = _run("products", str(prices), "--dedupe", "update")
    assert "created 2, updated 0, skipped 0, rejected 2." in output
    output = _run("products", str(prices), "--dedupe", "update", "--report",
                  str(tmp_path / "r.csv"))  # fmt: skip
    assert "created 0, updated 2, skipped 0, rejected 2." in output
    assert "SKU (column “Артикул”)" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")

    leads = tmp_path / "leads.csv"
    leads.write_bytes(samples.LEADS)
    assert "created 3" in _run("leads", str(leads), "--user", "alice")
    with pytest.raises(CommandError, match="only administrators and heads of sales"):
        _run("products", str(prices), "--user", "alice")


def test_the_mapping_page_of_deals(client: Any, alice: Any, bob: Any, admin: Any) -> None:
    from voronka.sales.services.deals import pipeline_create

    pipeline_create(actor=admin, name=samples.PIPELINE,
                    stages=[{"name": name} for name in samples.STAGES])  # fmt: skip
    client.force_login(alice)
    response = client.post("/imports/", {"entity": "deals",
                                         "file": SimpleUploadedFile("d.csv", samples.DEALS_RU)})  # fmt: skip
    job = ImportJob.objects.get()
    page = client.get(response.url).content.decode()
    assert "When a deal with the same external ID was imported before" in page
    assert "Pipelines and stages are found by name" in page
    assert '<option value="stage" selected>' in page and '<option value="amount" selected>' in page
    assert "Поставка станков" in page  # the preview
    assert "no stage “Отгрузка” in the pipeline" in page  # a row it would reject, named
    assert import_run(_start(client, job)) == "done"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Open the deals" in page and "/sales/deals/" in page
    assert "1 row named a contact that was not found" in page


def _start(client: Any, job: ImportJob) -> int:
    mapping = {f"col{i}": t for i, t in enumerate(job.mapping)}
    client.post(f"/imports/{job.pk}/start/", {**mapping, "dedupe": "skip"})
    assert ImportJob.objects.get(pk=job.pk).status == "queued"
    return job.pk


def test_the_owner_of_new_leads_may_be_left_to_the_rules(client: Any, alice: Any) -> None:
    client.force_login(alice)
    response = client.post("/imports/", {"entity": "leads",
                                         "file": SimpleUploadedFile("l.csv", samples.LEADS)})  # fmt: skip
    page = client.get(response.url).content.decode()
    assert (
        '<option value="rules" selected>Chosen by the assignment rules (else me)</option>' in page
    )
    job = ImportJob.objects.get()
    mapping = {f"col{i}": t for i, t in enumerate(job.mapping)}
    client.post(f"/imports/{job.pk}/check/", {**mapping, "default_owner": alice.pk})
    assert ImportJob.objects.get().default_owner_id == alice.pk
    assert import_check_run(job.pk) == "checked"
    client.post(f"/imports/{job.pk}/start/", {**mapping, "default_owner": "rules"})
    job.refresh_from_db()
    assert (job.status, job.default_owner_id) == ("queued", None)
