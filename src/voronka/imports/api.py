"""Imports over the REST API: upload a file (multipart), follow its status, fetch the report
of rejected rows, undo. The same services as the web pages; a job of another user is 404."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status, UploadedFile

from voronka.core.api import ApiRequest
from voronka.core.errors import ServiceValidationError
from voronka.core.schemas import ERRORS
from voronka.imports import report, selectors, services
from voronka.imports.models import ImportJob

imports = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    entity: str
    status: str
    file_name: str
    headers: list[str]
    mapping: list[str]
    dedupe: str
    default_owner_id: int | None
    rows_total: int | None
    rows_done: int
    percent: int
    created: int
    updated: int
    skipped: int
    rejected: int
    companies_created: int
    notes: dict[str, int]
    check_counts: dict[str, int]
    undo_counts: dict[str, Any]
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    report_url: str


class ImportList(Schema):
    items: list[ImportOut]


class ConfigIn(Schema):
    mapping: list[str] | dict[str, str] | None = None
    dedupe: str | None = None
    default_owner_id: int | None = None


def import_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk, "entity": job.entity, "status": job.status, "file_name": job.file_name,
        "headers": job.source.get("headers", []), "mapping": job.mapping, "dedupe": job.dedupe,
        "default_owner_id": job.default_owner_id, "rows_total": job.rows_total,
        "rows_done": job.rows_done, "percent": job.percent, "created": job.created,
        "updated": job.updated, "skipped": job.skipped, "rejected": job.rejected,
        "companies_created": job.companies_created, "notes": job.notes or {},
        "check_counts": job.check_counts or {},
        "undo_counts": job.undo_counts or {}, "error": job.error, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "report_url": reverse("api:import_report", args=[job.pk]),
    }  # fmt: skip


def _mapping(raw: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ServiceValidationError.single(
            "mapping", "must be JSON: a list of fields, one per column, or {column: field}"
        ) from exc


@imports.get("", response={200: ImportList, **ERRORS})
def list_imports(request: ApiRequest) -> dict[str, Any]:
    """The caller's imports, newest first (an administrator sees everyone's)."""
    return {"items": [import_out(j) for j in selectors.import_list(request.auth, limit=100)]}


@imports.post("", response={201: ImportOut, **ERRORS})
def upload_import(
    request: ApiRequest,
    file: File[UploadedFile],
    entity: Form[str] = "contacts",
    mapping: Form[str] = "",
    dedupe: Form[str] = "skip",
    default_owner_id: Form[int | None] = None,
    dry_run: Form[bool] = False,
    start: Form[bool] = True,
) -> Status[dict[str, Any]]:
    """Upload a CSV, XLSX or vCard file and (unless ``start`` is false) queue its import, or
    with ``dry_run`` its check. ``entity``: contacts, companies, leads, deals or products
    (products: administrators and heads of sales). ``mapping`` is JSON: one field per column
    (``""`` skips it) or ``{"column header": "field"}``; without it the suggested mapping is
    used. Fields: see ``GET /imports/{id}`` after an upload with ``start=false``. ``dedupe``:
    skip, update or create when the record exists (contacts and leads: same e-mail or phone;
    companies: INN, e-mail or phone; deals: same external ID; products: same SKU)."""
    config = {"mapping": _mapping(mapping), "dedupe": dedupe, "default_owner_id": default_owner_id}
    job = services.import_upload(
        actor=request.auth, entity=entity, file_name=file.name or "upload", content=file
    )
    try:
        if dry_run:
            job = services.import_check(actor=request.auth, job=job, **config)
        elif start:
            job = services.import_start(actor=request.auth, job=job, **config)
        else:
            job = services.import_configure(actor=request.auth, job=job, **config)
    except ServiceValidationError:
        job.delete()
        services.import_discard_file(job)
        raise
    return Status(201, import_out(job))


@imports.get("/{import_id}", response={200: ImportOut, **ERRORS})
def get_import(request: ApiRequest, import_id: int) -> dict[str, Any]:
    """Status, progress and counts of one import (poll it while ``status`` is active)."""
    return import_out(selectors.get_import_for_user(request.auth, import_id))


@imports.post("/{import_id}/start", response={200: ImportOut, **ERRORS})
def start_import(request: ApiRequest, import_id: int, payload: ConfigIn) -> dict[str, Any]:
    """Queue the import of an uploaded (or checked) file, optionally with a new mapping."""
    job = selectors.get_import_for_user(request.auth, import_id)
    return import_out(services.import_start(actor=request.auth, job=job, **payload.model_dump()))


@imports.post("/{import_id}/check", response={200: ImportOut, **ERRORS})
def check_import(request: ApiRequest, import_id: int, payload: ConfigIn) -> dict[str, Any]:
    """Queue a dry run: ``check_counts`` tells what the import would do; nothing is written."""
    job = selectors.get_import_for_user(request.auth, import_id)
    return import_out(services.import_check(actor=request.auth, job=job, **payload.model_dump()))


@imports.post("/{import_id}/undo", response={200: ImportOut, **ERRORS})
def undo_import(request: ApiRequest, import_id: int) -> dict[str, Any]:
    """Queue the undo of a finished import: created records deleted, updated ones restored."""
    job = selectors.get_import_for_user(request.auth, import_id)
    return import_out(services.import_undo(actor=request.auth, job=job))


@imports.get("/{import_id}/report", url_name="import_report", response={200: None, **ERRORS})
def import_report(request: ApiRequest, import_id: int, check: bool = False) -> Any:
    """Every rejected row with its reason, as CSV (``?check=true``: the dry run's)."""
    job = selectors.get_import_for_user(request.auth, import_id)
    response = StreamingHttpResponse(
        report.csv_lines(job, dry_run=check), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{report.file_name(job, check)}"'
    return response
