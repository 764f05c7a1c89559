"""Reads of import jobs: a user sees the imports they ran; an administrator sees all."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from voronka.core.errors import NotFound
from voronka.imports.models import ImportJob, ImportRejection


def imports_visible_to(user: Any) -> QuerySet[ImportJob]:
    if user is None or not user.is_authenticated or not user.is_active:
        return ImportJob.objects.none()
    qs = ImportJob.objects.select_related("created_by")
    if user.is_admin:
        return qs
    return qs.filter(created_by_id=user.pk)


def get_import_for_user(user: Any, pk: Any) -> ImportJob:
    """The job if the user may see it; NotFound otherwise (never 403)."""
    try:
        return imports_visible_to(user).get(pk=int(pk))
    except (ValueError, TypeError, ImportJob.DoesNotExist) as exc:
        raise NotFound(f"import {pk} not found") from exc


def import_list(user: Any, limit: int = 50) -> list[ImportJob]:
    return list(imports_visible_to(user).order_by("-created_at", "-id")[:limit])


def rejections(job: ImportJob, *, dry_run: bool) -> QuerySet[ImportRejection]:
    return ImportRejection.objects.filter(job=job, dry_run=dry_run).order_by("row", "id")
