"""Reads of the channels pages and API. Forms and sources are settings, seen by
administrators only; the public endpoints find them by token."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet

from voronka.channels.models import FormSubmission, LeadSource, WebForm
from voronka.core.errors import NotFound
from voronka.core.pagination import Page, SortKey, keyset_page


def web_forms() -> QuerySet[WebForm]:
    """Every form with how many submissions it had and when the last came."""
    return WebForm.objects.annotate(
        submission_count=Count("submissions"), last_submission_at=Max("submissions__created_at")
    ).order_by("name", "id")


def get_web_form(pk: Any) -> WebForm:
    try:
        return WebForm.objects.get(pk=int(pk))
    except (ValueError, TypeError, WebForm.DoesNotExist) as exc:
        raise NotFound(f"web form {pk} not found") from exc


def public_form(token: str) -> WebForm | None:
    """The active form behind a public address; None when there is none or it is switched off."""
    return WebForm.objects.filter(token=token, active=True).first()


def submissions_page(form: WebForm, cursor: str | None, limit: int = 50) -> Page[FormSubmission]:
    """Newest first, with the lead each made."""
    qs = FormSubmission.objects.filter(form=form).select_related("lead")
    return keyset_page(
        qs, [SortKey("created_at", descending=True), SortKey("id", descending=True)], cursor, limit
    )


def lead_sources() -> QuerySet[LeadSource]:
    return LeadSource.objects.annotate(received_count=Count("received")).order_by("name", "id")


def get_lead_source(pk: Any) -> LeadSource:
    try:
        return LeadSource.objects.get(pk=int(pk))
    except (ValueError, TypeError, LeadSource.DoesNotExist) as exc:
        raise NotFound(f"lead source {pk} not found") from exc


def source_by_token(token: str) -> LeadSource | None:
    return LeadSource.objects.filter(token=token).first()
