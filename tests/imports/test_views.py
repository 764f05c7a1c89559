"""The import pages as a user goes through them: upload, mapping with suggestions and
preview, check, import, progress, result with the report and undo, past imports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from tests.imports import samples
from voronka.customers.models import Contact
from voronka.imports.models import ImportJob
from voronka.imports.runner import import_check_run, import_run, import_undo_run

pytestmark = pytest.mark.django_db


def _upload(client: Any, name: str, content: bytes, entity: str = "contacts") -> Any:
    return client.post("/imports/", {"entity": entity, "file": SimpleUploadedFile(name, content)})


def _queued(kind: str) -> list[int]:
    return [
        r.args_kwargs["args"][0]
        for r in DBTaskResult.objects.filter(task_path=f"voronka.imports.tasks.import_{kind}_task")
    ]


def test_the_whole_journey(
    client: Any, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    page = client.get("/imports/")
    assert page.status_code == 200
    assert "No imports yet" in page.content.decode()

    response = _upload(client, "Клиенты.csv", samples.EXCEL_RU)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"
    page = client.get(response.url).content.decode()
    assert "Клиенты.csv" in page
    assert "CSV (semicolons, cp1251)" in page
    assert '<option value="fio" selected>' in page  # ФИО suggested as the full name
    assert "Петров Иван Сергеевич" in page  # an example under its column
    assert "Phone: not a valid phone number: 7,91612E+10" in page  # a row it would reject
    assert "+7 916 123-45-67" in page  # the preview shows the phone normalized

    mapping = {f"col{i}": t for i, t in enumerate(job.mapping)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/check/", {**mapping, "dedupe": "skip",
                                                            "default_owner": alice.pk})  # fmt: skip
    assert response.status_code == 302
    assert _queued("check") == [job.pk]
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Checking the file" in page and 'hx-trigger="every 1s"' in page
    import_check_run(job.pk)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Check result: nothing was written" in page
    assert f"/imports/{job.pk}/report.csv?check=1" in page
    assert Contact.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/start/", {**mapping, "dedupe": "skip",
                                                 "default_owner": alice.pk})  # fmt: skip
    assert _queued("run") == [job.pk]
    fragment = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "Waiting for the background worker" in fragment.content.decode()
    assert "HX-Refresh" not in fragment
    assert import_run(job.pk) == "done"
    fragment = client.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "The import is finished: 5 rows read." in page
    assert f"/imports/{job.pk}/report.csv" in page and "Undo the whole import" in page
    report = client.get(f"/imports/{job.pk}/report.csv")
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert "7,91612E+10" in b"".join(report.streaming_content).decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/undo/")
    assert _queued("undo") == [job.pk]
    import_undo_run(job.pk)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "This import was undone: 6 records deleted" in page
    assert Contact.objects.count() == 0
    listing = client.get("/imports/").content.decode()
    assert "Клиенты.csv" in listing and "undone" in listing


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("photo.csv", samples.PNG_AS_CSV, "This is not a text file."),
        ("broken.vcf", samples.BROKEN_VCARD, "Line 5 of the vCard file is broken"),
    ],
)
def test_a_bad_file_is_refused_next_to_the_field(
    client: Any, alice: Any, name: str, content: bytes, message: str
) -> None:
    client.force_login(alice)
    response = _upload(client, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'id="file-error"' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_no_recognisable_columns(client: Any, alice: Any) -> None:
    client.force_login(alice)
    _upload(client, "x.csv", "Колонка А;Колонка Б\nодин;два\nтри;четыре\n".encode())
    job = ImportJob.objects.get()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "None of the columns was recognised" in page
    response = client.post(f"/imports/{job.pk}/start/", {"col0": "", "col1": ""})
    assert response.status_code == 200
    assert "Choose a field for at least one column" in response.content.decode()
    assert ImportJob.objects.get().status == "uploaded"
    assert not DBTaskResult.objects.exists()
    response = client.post(f"/imports/{job.pk}/cancel/")
    assert response.status_code == 302 and response.url == "/imports/"
    assert not ImportJob.objects.exists()


def test_a_field_taken_twice_is_shown_at_the_column(client: Any, alice: Any) -> None:
    client.force_login(alice)
    _upload(client, "x.csv", "Имя;Фамилия\nИван;Петров\n".encode())
    job = ImportJob.objects.get()
    response = client.post(f"/imports/{job.pk}/check/", {"col0": "last_name", "col1": "last_name"})
    body = response.content.decode()
    assert "“Last name” is already taken by the column “Имя”" in body
    assert 'id="col1-error"' in body


def test_preview_follows_the_mapping(client: Any, alice: Any) -> None:
    client.force_login(alice)
    _upload(client, "x.csv", "A;B\nИван;ivan@example.com\n".encode())
    job = ImportJob.objects.get()
    fragment = client.post(f"/imports/{job.pk}/preview/", {"col0": "first_name", "col1": "email"})
    body = fragment.content.decode()
    assert "ivan@example.com" in body and "Иван" in body
    fragment = client.post(f"/imports/{job.pk}/preview/", {"col0": "", "col1": "email"})
    assert "Choose the column with the first name" in fragment.content.decode()


def test_someone_elses_import_is_not_found(
    client: Any, alice: Any, bob: Any, admin: Any, upload: Callable[..., Any]
) -> None:
    job = upload(alice, "contacts", "x.csv", samples.GOOGLE_CSV)
    client.force_login(bob)
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/report.csv",
                f"/imports/{job.pk}/progress/"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert client.post(f"/imports/{job.pk}/start/", {}).status_code == 404
    assert "x.csv" not in client.get("/imports/").content.decode()
    client.force_login(admin)
    assert client.get(f"/imports/{job.pk}/").status_code == 200


def test_a_read_only_user_may_not_import(client: Any, make_user: Callable[..., Any]) -> None:
    viewer = make_user("viewer", role="read_only")
    client.force_login(viewer)
    assert "Your role is read-only" in client.get("/imports/").content.decode()
    assert _upload(client, "x.csv", samples.GOOGLE_CSV).status_code == 403
    assert not ImportJob.objects.exists()


def test_pages_need_a_login(client: Any) -> None:
    response = client.get("/imports/")
    assert response.status_code == 302 and "/login" in response.url
