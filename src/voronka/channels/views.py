"""The administrator's pages of web forms: list, build (with a live preview), delete, and the
submissions of a form. Anyone else gets 403 (the sidebar shows the link to administrators
only).

The builder is one plain POST form that works without JavaScript; htmx redraws the preview
as the administrator types, and a few lines of script move fields up and down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.channels import selectors
from voronka.channels.catalog import Available, available_fields, form_inputs
from voronka.channels.links import public_links
from voronka.channels.models import WebForm
from voronka.channels.services import web_form_create, web_form_delete, web_form_update
from voronka.channels.services.submissions import HONEYPOT
from voronka.core import access
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.forms import FieldView

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]
SETTINGS_TEXT = ("name", "title", "button_text", "source", "success_message", "redirect_url",
                 "consent_text", "allowed_origins")  # fmt: skip
SETTINGS_BOOL = ("active", "consent_required")
LAST = 10_000  # the position of a field not on the form: after every field that is


admin_only = access.admin_only(gettext_lazy("only an administrator may manage web forms"))


# --- builder state --------------------------------------------------------------------------------


@dataclass
class FieldRow:
    """One line of the builder: a field that may be on the form, with its settings."""

    spec: Available
    on: bool
    label: str
    required: bool
    order: int
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def input_id(self) -> str:
        return "fr_" + self.key.replace(".", "_")


@dataclass
class Builder:
    """What the builder shows: the settings typed, the field lines, and the errors."""

    values: dict[str, Any]
    rows: list[FieldRow]
    errors: Errors = field(default_factory=dict)

    def data(self) -> dict[str, Any]:
        """The service's data: settings, and the ticked fields in their order."""
        out = {name: self.values.get(name, "") for name in SETTINGS_TEXT}
        out.update({name: bool(self.values.get(name)) for name in SETTINGS_BOOL})
        out["fields"] = [
            {"key": r.key, "label": r.label, "required": r.required} for r in self.rows if r.on
        ]
        return out

    def fail(self, exc: ServiceValidationError) -> None:
        """Errors next to their input; ``fields[i].x`` goes to the i-th ticked line."""
        ticked = [r for r in self.rows if r.on]
        for err in exc.errors:
            name = err.field
            if name.startswith("fields[") and "]" in name:
                index = int(name[len("fields[") : name.index("]")])
                if index < len(ticked):
                    ticked[index].errors.append(err.message)
                    continue
            if name.startswith("allowed_origins["):
                name = "allowed_origins"
            self.errors.setdefault(name, []).append(err.message)


def _sorted_rows(rows: list[FieldRow]) -> list[FieldRow]:
    """Ticked fields first, in the chosen order; the others after, in the catalogue's order."""
    positions = {key: i for i, key in enumerate(r.key for r in rows)}
    ordered = sorted(rows, key=lambda r: (not r.on, r.order, positions[r.key]))
    for i, row in enumerate(ordered, start=1):
        row.order = i
    return ordered


def builder_for(form: WebForm | None) -> Builder:
    available = available_fields()
    configured = {f["key"]: (i, f) for i, f in enumerate(form.fields)} if form else {}
    if form is None:
        configured = {
            key: (i, {"key": key, "required": key in ("first_name", "email")})
            for i, key in enumerate(("first_name", "email", "phone", "message"))
        }
    rows = []
    for spec in available.values():
        position, item = configured.get(spec.key, (LAST, None))
        rows.append(
            FieldRow(
                spec=spec,
                on=item is not None,
                label=str(item.get("label") or spec.label) if item else spec.label,
                required=bool(item.get("required")) if item else False,
                order=position,
            )
        )
    if form is None:
        values: dict[str, Any] = {"active": True, "button_text": _("Send")}
    else:
        values = {name: getattr(form, name) for name in (*SETTINGS_TEXT, *SETTINGS_BOOL)}
        values["allowed_origins"] = "\n".join(form.allowed_origins)
    return Builder(values=values, rows=_sorted_rows(rows))


def builder_from_post(post: Any) -> Builder:
    rows = []
    for spec in available_fields().values():
        prefix = f"f.{spec.key}."
        try:
            order = int(post.get(prefix + "order", ""))
        except ValueError:
            order = LAST
        rows.append(
            FieldRow(
                spec=spec,
                on=post.get(prefix + "on") == "on",
                label=str(post.get(prefix + "label", "")).strip(),
                required=post.get(prefix + "required") == "on",
                order=order,
            )
        )
    values: dict[str, Any] = {name: post.get(name, "") for name in SETTINGS_TEXT}
    values.update({name: post.get(name) == "on" for name in SETTINGS_BOOL})
    return Builder(values=values, rows=_sorted_rows(rows))


def _inputs(builder: Builder) -> dict[str, list[FieldView]]:
    v, e = builder.values, builder.errors

    def one(name: str, label: Any, widget: str, **extra: Any) -> FieldView:
        return FieldView(name, label, widget, v.get(name, ""), errors=e.get(name, []), **extra)

    return {
        "main": [
            one("name", _("Name"), "text", required=True,
                help=_("For you: the list of forms and the lead's history show it.")),
            one("title", _("Heading"), "text", help=_("Shown above the form; may be empty.")),
            one("button_text", _("Button text"), "text"),
            one("source", _("Lead source"), "text",
                help=_("Written on every lead from this form; the form's name when empty. "
                       "Assignment rules by source use it.")),
            one("active", _("Active: accepts submissions"), "checkbox"),
        ],
        "after": [
            one("success_message", _("Thank-you text"), "textarea"),
            one("redirect_url", _("Or send the visitor to this address"), "url",
                help=_("A page of your website, e.g. https://example.com/thanks")),
        ],
        "consent": [
            one("consent_required", _("Ask for consent (a checkbox the visitor must tick)"), "checkbox"),
            one("consent_text", _("Consent text"), "textarea",
                help=_("E.g.: I agree to the processing of my personal data.")),
        ],
        "origins": [
            one("allowed_origins", _("Websites allowed to embed the form"), "textarea",
                help=_("One address per line, like https://example.com. Empty: any website.")),
        ],
    }  # fmt: skip


# --- pages ----------------------------------------------------------------------------------------


def _builder_page(
    request: HttpRequest, builder: Builder, form: WebForm | None, *, status: int = 200
) -> HttpResponse:
    preview = _preview_context(builder)
    ctx = {
        "form": form,
        "builder": builder,
        "groups": _inputs(builder),
        "field_errors": builder.errors.get("fields", []),
        "has_errors": bool(builder.errors) or any(r.errors for r in builder.rows),
        "other_errors": [
            f"{k}: {m}" for k, msgs in builder.errors.items()
            if k not in (*SETTINGS_TEXT, *SETTINGS_BOOL, "fields") for m in msgs
        ],
        "links": public_links(request, form) if form else None,
        "page_title": form.name if form else _("New web form"),
        "section": "forms",
        **preview,
    }  # fmt: skip
    return render(request, "channels/form_edit.html", ctx, status=status)


@admin_only
def forms_list(request: HttpRequest) -> HttpResponse:
    ctx = {"forms": list(selectors.web_forms()), "section": "forms", "page_title": _("Web forms")}
    return render(request, "channels/forms_list.html", ctx)


@admin_only
def form_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _builder_page(request, builder_for(None), None)
    builder = builder_from_post(request.POST)
    try:
        form = web_form_create(actor=request.user, data=builder.data(), channel=Channel.UI)
    except ServiceValidationError as exc:
        builder.fail(exc)
        return _builder_page(request, builder, None, status=400)
    messages.success(
        request,
        _("Form “%(name)s” created. Copy the snippet into your website or share the link.")
        % {"name": form.name},
    )
    return redirect("channels:form_edit", pk=form.pk)


@admin_only
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors.get_web_form(pk)
    if request.method != "POST":
        return _builder_page(request, builder_for(form), form)
    builder = builder_from_post(request.POST)
    try:
        web_form_update(actor=request.user, form=form, changes=builder.data(), channel=Channel.UI)
    except ServiceValidationError as exc:
        builder.fail(exc)
        return _builder_page(request, builder, form, status=400)
    messages.success(request, _("Form “%(name)s” saved.") % {"name": builder.values["name"]})
    return redirect("channels:form_edit", pk=form.pk)


def _preview_context(builder: Builder) -> dict[str, Any]:
    """The form as a visitor would see it, from the builder's unsaved settings."""
    data = builder.data()
    draft = WebForm(
        name=data["name"], title=data["title"], button_text=data["button_text"],
        consent_required=data["consent_required"], consent_text=data["consent_text"],
        success_message=data["success_message"], redirect_url=data["redirect_url"],
        fields=data["fields"],
    )  # fmt: skip
    return {
        "draft": draft,
        "preview_inputs": form_inputs(draft.fields),
        "honeypot": HONEYPOT,
    }


@admin_only
@require_POST
def form_preview(request: HttpRequest) -> HttpResponse:
    """The preview fragment, redrawn by htmx as the builder changes."""
    ctx = _preview_context(builder_from_post(request.POST))
    return render(request, "channels/_preview.html", ctx)


@admin_only
def form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors.get_web_form(pk)
    if request.method == "POST":
        name = form.name
        web_form_delete(actor=request.user, form=form, channel=Channel.UI)
        messages.success(request, _("Form “%(name)s” deleted.") % {"name": name})
        return redirect("channels:forms")
    ctx = {"form": form, "count": form.submissions.count(), "page_title": form.name}
    return render(request, "channels/form_delete.html", ctx)


@admin_only
def form_submissions(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors.get_web_form(pk)
    try:
        page = selectors.submissions_page(form, request.GET.get("cursor") or None)
    except ServiceValidationError as exc:
        raise Http404("malformed cursor") from exc
    ctx = {"form": form, "page": page, "section": "forms", "page_title": form.name,
           "first_page": not request.GET.get("cursor")}  # fmt: skip
    return render(request, "channels/submissions.html", ctx)


urlpatterns = [
    path("forms/", forms_list, name="forms"),
    path("forms/new/", form_new, name="form_new"),
    path("forms/preview/", form_preview, name="form_preview"),
    path("forms/<int:pk>/", form_edit, name="form_edit"),
    path("forms/<int:pk>/delete/", form_delete, name="form_delete"),
    path("forms/<int:pk>/submissions/", form_submissions, name="form_submissions"),
]
