"""Web pages of imports: upload, mapping with suggestions and preview, dry run, progress,
result with the rejected-rows report and undo, and the list of past imports.

Thin views: jobs come through ``get_import_for_user`` (someone else's import is 404), every
change through imports.services; ServiceValidationError is shown next to the field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from voronka.accounts.selectors import users_active
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.imports import report, selectors, services
from voronka.imports.kinds import describe_notes, kind, kinds_for
from voronka.imports.mapping import targets
from voronka.imports.models import DedupeMode, ImportEntity, ImportJob, ImportStatus
from voronka.imports.readers import Source, read_sample
from voronka.imports.services import job_file

PREVIEW_ROWS = 5


def _job(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return selectors.get_import_for_user(request.user, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _errors(exc: ServiceValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        errors.setdefault(err.field, []).append(err.message)
    return errors


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """Past imports and the upload form; POST uploads a file and opens its mapping."""
    errors: dict[str, list[str]] = {}
    entity = request.POST.get("entity") or request.GET.get("entity") or ImportEntity.CONTACTS
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ServiceValidationError.single("file", _("Choose a file to upload."))
            job = services.import_upload(
                actor=request.user, entity=entity, file_name=upload.name or "", content=upload
            )
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except ServiceValidationError as exc:
            errors = _errors(exc)
            status = 400 if request.headers.get("HX-Request") else 200
        else:
            return redirect("imports:detail", pk=job.pk)
    labels = dict(ImportEntity.choices)
    return render(request, "imports/list.html", {
        "jobs": selectors.import_list(request.user), "errors": errors, "entity": entity,
        "entities": [(k.key, labels[k.key]) for k in kinds_for(request.user)],
        "page_title": _("Import"),
    }, status=status)  # fmt: skip


def _mapping_from_post(request: HttpRequest, job: ImportJob) -> list[str]:
    count = len(job.source.get("headers", []))
    return [request.POST.get(f"col{i}", "") for i in range(count)]


def _config(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    return {
        "mapping": _mapping_from_post(request, job),
        "dedupe": request.POST.get("dedupe") or job.dedupe,
        "default_owner_id": request.POST.get("default_owner") or job.default_owner_id,
    }


def _mapping_context(request: HttpRequest, job: ImportJob, mapping: list[str] | None = None,
                     errors: dict[str, list[str]] | None = None) -> dict[str, Any]:  # fmt: skip
    source = Source.from_dict(job.source)
    mapping = list(job.mapping if mapping is None else mapping)
    try:
        sample = read_sample(job_file(job), source, 3)
    except Exception:  # the file is gone (a finished import): show no examples
        sample = []
    columns = []
    for i, header in enumerate(source.headers):
        examples = [row[i] for row in sample if i < len(row) and row[i].strip()]
        columns.append({
            "index": i, "header": header, "examples": examples[:3],
            "target": mapping[i] if i < len(mapping) else "",
            "errors": (errors or {}).get(f"mapping[{i}]", []),
        })  # fmt: skip
    return {
        "columns": columns,
        "kind": kind(job.entity),
        "targets": targets(job.entity),
        "dedupe_modes": DedupeMode.choices,
        "owners": users_active(),
        "mapping_errors": (errors or {}).get("mapping", []),
        "field_errors": errors or {},
        "recognised": sum(1 for m in mapping if m),
    }


def _preview_context(request: HttpRequest, job: ImportJob,
                     mapping: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    try:
        rows = services.import_preview(actor=request.user, job=job, mapping=mapping,
                                       limit=PREVIEW_ROWS)  # fmt: skip
    except ServiceValidationError as exc:
        return {"preview": [], "preview_error": exc.errors[0].message}
    except Exception:
        return {"preview": [], "preview_error": ""}
    return {"preview": rows, "preview_error": "",
            "preview_labels": report.preview_labels(job.entity)}  # fmt: skip


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    context: dict[str, Any] = {"job": job, "page_title": job.file_name, "kind": kind(job.entity),
                               "notes": describe_notes(job.notes)}  # fmt: skip
    if job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        context.update(_mapping_context(request, job))
        context.update(_preview_context(request, job))
    context["can_undo"] = job.status in (ImportStatus.DONE, ImportStatus.FAILED) and (
        request.user.is_admin or job.created_by_id == request.user.pk  # type: ignore[union-attr]
    )
    return render(request, "imports/detail.html", context)


@login_required
@require_POST
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview table for the mapping being edited (htmx, on every change)."""
    job = _job(request, pk)
    context = {"job": job, **_preview_context(request, job, _mapping_from_post(request, job))}
    return render(request, "imports/_preview.html", context)


def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    job = _job(request, pk)
    try:
        if action == "check":
            services.import_check(actor=request.user, job=job, **_config(request, job))
        elif action == "start":
            services.import_start(actor=request.user, job=job, **_config(request, job))
        elif action == "undo":
            services.import_undo(actor=request.user, job=job)
        else:
            services.import_resume(actor=request.user, job=job)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ServiceValidationError as exc:
        errors = _errors(exc)
        if action in ("check", "start") and "status" not in errors:
            job.refresh_from_db()
            mapping = _mapping_from_post(request, job)
            context = {"job": job, "page_title": job.file_name,
                       "notes": describe_notes(job.notes),
                       **_mapping_context(request, job, mapping, errors),
                       **_preview_context(request, job, mapping)}  # fmt: skip
            return render(request, "imports/detail.html", context, status=200)
        from django.contrib import messages

        messages.error(request, "; ".join(m for ms in errors.values() for m in ms))
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "check")


@login_required
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "start")


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "undo")


@login_required
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "resume")


@login_required
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget an upload that was not imported; back to the list."""
    job = _job(request, pk)
    try:
        services.import_cancel(actor=request.user, job=job)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except ServiceValidationError as exc:
        from django.contrib import messages

        messages.error(request, exc.errors[0].message)
        return redirect("imports:detail", pk=job.pk)
    return redirect("imports:list")


@login_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar (polled by htmx); once the job settles the page reloads."""
    job = _job(request, pk)
    response = render(request, "imports/_progress.html", {"job": job, "oob": True})
    if not job.is_active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Every rejected row with its reason, as CSV (``?check=1`` for the dry run's)."""
    job = _job(request, pk)
    dry_run = request.GET.get("check") == "1"
    response = StreamingHttpResponse(
        report.csv_lines(job, dry_run=dry_run), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{report.file_name(job, dry_run)}"'
    return response


def detail_url(job: ImportJob) -> str:
    return reverse("imports:detail", args=[job.pk])
