"""Web forms, their submissions and lead sources over the REST API (administrators only:
these are settings, and submissions hold visitors' personal data).

The same services as the web pages do every write. A lead source's secret is in the answer
that makes it (create, rotate) and never again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.channels import selectors
from voronka.channels.links import hook_url, public_links
from voronka.channels.models import FormSubmission, LeadSource, WebForm
from voronka.channels.schemas import (
    LeadSourceIn,
    LeadSourceOut,
    LeadSourcePage,
    LeadSourceWithSecretOut,
    SubmissionPage,
    WebFormIn,
    WebFormOut,
    WebFormPage,
)
from voronka.channels.services import (
    lead_source_create,
    lead_source_rotate_secret,
    web_form_create,
    web_form_update,
)
from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    idempotent,
    page_body,
    patch_body,
    require_admin,
    simple_page,
)
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS

web_forms = Router(tags=["web forms"])
lead_sources = Router(tags=["lead sources"])


def form_out(request: HttpRequest, form: WebForm) -> dict[str, Any]:
    links = public_links(request, form)
    return {
        "id": form.pk, "name": form.name, "title": form.title, "fields": list(form.fields),
        "button_text": form.button_text, "consent_required": form.consent_required,
        "consent_text": form.consent_text, "success_message": form.success_message,
        "redirect_url": form.redirect_url, "source": form.source,
        "allowed_origins": list(form.allowed_origins), "active": form.active,
        "page_url": links["page_url"], "embed_url": links["script_url"],
        "submit_url": links["submit_url"],
        "snippet": links["snippet"], "created_at": form.created_at, "updated_at": form.updated_at,
    }  # fmt: skip


def submission_out(submission: FormSubmission) -> dict[str, Any]:
    return {
        "id": submission.pk, "form_id": submission.form_id, "lead_id": submission.lead_id,
        "data": dict(submission.data), "utm": dict(submission.utm),
        "referrer": submission.referrer, "page_url": submission.page_url,
        "ip": submission.ip, "created_at": submission.created_at,
    }  # fmt: skip


def source_out(request: HttpRequest, source: LeadSource, secret: str = "") -> dict[str, Any]:
    out = {
        "id": source.pk, "name": source.name, "source": source.source, "active": source.active,
        "url": hook_url(request, source), "secret_hint": source.secret_hint,
        "last_used_at": source.last_used_at, "created_at": source.created_at,
    }  # fmt: skip
    if secret:
        out["secret"] = secret
    return out


# --- web forms ----------------------------------------------------------------------------------


@web_forms.get("", response={200: WebFormPage, **ERRORS})
def list_web_forms(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every web form, by name."""
    require_admin(request.auth)
    result = simple_page(WebForm.objects.all(), ["name", "id"], page)
    return page_body(result, lambda form: form_out(request, form))


@web_forms.post("", response={201: WebFormOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_web_form(request: ApiRequest, payload: WebFormIn) -> Status[dict[str, Any]]:
    """A new form; the answer holds its page address, embed script and snippet."""
    require_admin(request.auth)
    form = web_form_create(actor=request.auth, data=patch_body(payload), channel=Channel.API)
    return Status(201, form_out(request, form))


@web_forms.get("/{form_id}", response={200: WebFormOut, **ERRORS})
def read_web_form(request: ApiRequest, form_id: int) -> dict[str, Any]:
    require_admin(request.auth)
    return form_out(request, selectors.get_web_form(form_id))


@web_forms.patch("/{form_id}", response={200: WebFormOut, **ERRORS})
def update_web_form(request: ApiRequest, form_id: int, payload: WebFormIn) -> dict[str, Any]:
    """Change only the keys sent; ``fields`` replaces the whole list."""
    require_admin(request.auth)
    form = web_form_update(
        actor=request.auth, form=selectors.get_web_form(form_id), changes=patch_body(payload),
        channel=Channel.API,
    )  # fmt: skip
    return form_out(request, form)


@web_forms.get("/{form_id}/submissions", response={200: SubmissionPage, **ERRORS})
def list_submissions(request: ApiRequest, form_id: int, page: Query[PageParams]) -> dict[str, Any]:
    """The form's submissions, newest first, each with the lead it made."""
    require_admin(request.auth)
    form = selectors.get_web_form(form_id)
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    result = selectors.submissions_page(form, page.cursor, page.limit)
    return page_body(result, submission_out)


# --- lead sources -------------------------------------------------------------------------------


@lead_sources.get("", response={200: LeadSourcePage, **ERRORS})
def list_lead_sources(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    require_admin(request.auth)
    result = simple_page(LeadSource.objects.all(), ["name", "id"], page)
    return page_body(result, lambda source: source_out(request, source))


@lead_sources.post(
    "", response={201: LeadSourceWithSecretOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC
)
@idempotent
def create_lead_source(request: ApiRequest, payload: LeadSourceIn) -> Status[dict[str, Any]]:
    """A new source; ``secret`` is in this answer only."""
    require_admin(request.auth)
    source, secret = lead_source_create(
        actor=request.auth, data=patch_body(payload), channel=Channel.API
    )
    return Status(201, source_out(request, source, secret))


@lead_sources.get("/{source_id}", response={200: LeadSourceOut, **ERRORS})
def read_lead_source(request: ApiRequest, source_id: int) -> dict[str, Any]:
    require_admin(request.auth)
    return source_out(request, selectors.get_lead_source(source_id))


@lead_sources.post("/{source_id}/rotate-secret", response={200: LeadSourceWithSecretOut, **ERRORS})
def rotate_lead_source_secret(request: ApiRequest, source_id: int) -> dict[str, Any]:
    """A new secret, in this answer only; the old one stops working at once."""
    require_admin(request.auth)
    source, secret = lead_source_rotate_secret(
        actor=request.auth, source=selectors.get_lead_source(source_id), channel=Channel.API
    )
    return source_out(request, source, secret)
