"""Imports over the REST API: multipart upload, status, report, undo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.imports import samples
from voronka.customers.models import Contact
from voronka.imports.models import ImportJob
from voronka.imports.runner import import_check_run, import_run, import_undo_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.imports.urls"


@pytest.fixture
def post_file(client: Any, api_key_for: Callable[[Any], str]) -> Callable[..., Any]:
    def post(user: Any, name: str, content: bytes, **form: Any) -> Any:
        return client.post(
            "/api/v1/imports", {"file": SimpleUploadedFile(name, content), **form},
            HTTP_AUTHORIZATION=f"Bearer {api_key_for(user)}",
        )  # fmt: skip

    return post


def test_upload_status_report_undo(
    alice: Any, api: Callable[[Any], Any], post_file: Callable[..., Any]
) -> None:
    response = post_file(alice, "Клиенты.csv", samples.EXCEL_RU, entity="contacts")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["headers"][0] == "ФИО" and body["mapping"][0] == "fio"
    job_id = body["id"]
    assert import_run(job_id) == "done"

    status = api(alice).get(f"/api/v1/imports/{job_id}").json()
    assert (status["status"], status["created"], status["rejected"], status["percent"]) == (
        "done", 3, 2, 100,
    )  # fmt: skip
    report = api(alice).get(status["report_url"])
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("6;Phone: not a valid phone number")

    assert api(alice).post(f"/api/v1/imports/{job_id}/undo").json()["status"] == "undoing"
    import_undo_run(job_id)
    assert api(alice).get(f"/api/v1/imports/{job_id}").json()["status"] == "undone"
    assert Contact.objects.count() == 0
    listed = api(alice).get("/api/v1/imports").json()["items"]
    assert [i["id"] for i in listed] == [job_id]


def test_dry_run_and_an_explicit_mapping(
    alice: Any, api: Callable[[Any], Any], post_file: Callable[..., Any]
) -> None:
    content = "A;B;C\nИван;ivan@example.com;x\n".encode()
    response = post_file(alice, "x.csv", content, dry_run="true",
                         mapping='{"A": "first_name", "B": "email"}')  # fmt: skip
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert response.json()["mapping"] == ["first_name", "email", ""]
    import_check_run(job_id)
    body = api(alice).get(f"/api/v1/imports/{job_id}").json()
    assert (body["status"], body["check_counts"]["created"]) == ("checked", 1)
    started = api(alice).post(f"/api/v1/imports/{job_id}/start", {"dedupe": "update"})
    assert (started.json()["status"], started.json()["dedupe"]) == ("queued", "update")


def test_bad_input_writes_nothing(alice: Any, post_file: Callable[..., Any]) -> None:
    response = post_file(alice, "photo.csv", samples.PNG_AS_CSV)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "file", "message": "This is not a text file. Upload a CSV, an Excel (.xlsx) "
                                     "or a vCard (.vcf) file."}
    ]  # fmt: skip
    response = post_file(alice, "x.csv", "Колонка А;Колонка Б\nодин;два\n".encode())
    assert response.status_code == 422
    assert "None of the columns was recognised" in response.json()["detail"]
    response = post_file(alice, "x.csv", samples.GOOGLE_CSV, mapping="not json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mapping"
    assert not ImportJob.objects.exists()


def test_another_users_import_is_404(
    alice: Any, bob: Any, api: Callable[[Any], Any], post_file: Callable[..., Any],
    make_user: Callable[..., Any],
) -> None:  # fmt: skip
    job_id = post_file(alice, "x.csv", samples.GOOGLE_CSV, start="false").json()["id"]
    for path in (f"/api/v1/imports/{job_id}", f"/api/v1/imports/{job_id}/report"):
        assert api(bob).get(path).status_code == 404
    assert api(bob).post(f"/api/v1/imports/{job_id}/undo").status_code == 404
    viewer = make_user("viewer", role="read_only")
    assert post_file(viewer, "x.csv", samples.GOOGLE_CSV).status_code == 403
