"""The administrator's page of custom fields for companies and contacts: list, add, edit
the label, the required flag and the options, delete. Other users get 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core import services as core_services
from voronka.core.custom_fields import ENTITIES, definitions
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel, CustomField, CustomFieldType
from voronka.customers import services
from voronka.customers.forms import (
    FieldView,
    map_errors,
)
from voronka.customers.views import AuthedRequest


def _require_admin(request: AuthedRequest) -> None:
    if not request.user.is_admin:
        raise Http404("not found")


def _field_form(
    values: dict[str, Any], errors: dict[str, list[str]], *, new: bool
) -> list[FieldView]:
    inputs = []
    if new:
        inputs += [
            FieldView(
                "entity",
                _("Record type"),
                "select",
                values.get("entity", ""),
                required=True,
                options=list(ENTITIES.items()),
                errors=errors.get("entity", []),
            ),
            FieldView(
                "type",
                _("Type"),
                "select",
                values.get("type", "text"),
                required=True,
                options=list(CustomFieldType.choices),
                errors=errors.get("type", []),
            ),
        ]
    inputs.append(
        FieldView(
            "label",
            _("Label"),
            "text",
            values.get("label", ""),
            required=True,
            errors=errors.get("label", []),
        )
    )
    if new:
        inputs.append(
            FieldView(
                "key",
                _("Key"),
                "text",
                values.get("key", ""),
                errors=errors.get("key", []),
                help=_(
                    "Latin letters, digits and underscores; made from the label "
                    "when empty. Used in the API and filters; cannot change later."
                ),
            )
        )
    inputs += [
        FieldView(
            "options",
            _("Options"),
            "textarea",
            values.get("options", ""),
            errors=errors.get("options", []),
            help=_("For select and multi-select fields: one option per line."),
        ),
        FieldView(
            "required",
            _("Required"),
            "checkbox",
            bool(values.get("required")),
            errors=errors.get("required", []),
        ),
    ]
    return inputs


@login_required
def custom_fields(request: AuthedRequest) -> HttpResponse:
    _require_admin(request)
    values: dict[str, Any] = {"entity": request.GET.get("entity", services.CONTACT_ENTITY)}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {n: request.POST.get(n, "") for n in ("entity", "type", "label", "key", "options")}
        values["required"] = request.POST.get("required") == "on"
        try:
            field = core_services.custom_field_create(
                entity=values["entity"],
                label=values["label"],
                type=values["type"],
                key=values["key"],
                required=values["required"],
                options=values["options"],
                actor=request.user,
                channel=Channel.UI,
            )
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
        else:
            messages.success(request, _("Field “%(label)s” added.") % {"label": field.label})
            return redirect("customers:custom_fields")
    groups = [
        {"entity": entity, "label": label, "fields": definitions(entity)}
        for entity, label in ENTITIES.items()
    ]
    ctx = {
        "groups": groups,
        "inputs": _field_form(values, errors, new=True),
        "page_title": _("Custom fields"),
        "types": dict(CustomFieldType.choices),
    }
    return render(request, "customers/custom_fields.html", ctx, status=status)


@login_required
def custom_field_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise Http404("no such field")
    values: dict[str, Any] = {
        "label": field.label,
        "options": "\n".join(field.options),
        "required": field.required,
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {
            "label": request.POST.get("label", ""),
            "options": request.POST.get("options", ""),
            "required": request.POST.get("required") == "on",
        }
        changes: dict[str, Any] = {"label": values["label"], "required": values["required"]}
        if field.type in (CustomFieldType.SELECT, CustomFieldType.MULTI_SELECT):
            changes["options"] = values["options"]
        try:
            core_services.custom_field_update(
                field=field, changes=changes, actor=request.user, channel=Channel.UI
            )
        except ServiceValidationError as exc:
            errors, status = map_errors(exc, {}), 400
        else:
            messages.success(request, _("Field “%(label)s” saved.") % {"label": field.label})
            return redirect("customers:custom_fields")
    inputs = _field_form(values, errors, new=False)
    if field.type not in (CustomFieldType.SELECT, CustomFieldType.MULTI_SELECT):
        inputs = [i for i in inputs if i.name != "options"]
    ctx = {
        "field": field,
        "inputs": inputs,
        "page_title": field.label,
        "entity_label": ENTITIES.get(field.entity, field.entity),
    }
    return render(request, "customers/custom_field_edit.html", ctx, status=status)


@login_required
@require_POST
def custom_field_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise Http404("no such field")
    label = field.label
    core_services.custom_field_delete(field=field, actor=request.user, channel=Channel.UI)
    messages.success(request, _("Field “%(label)s” deleted.") % {"label": label})
    return redirect("customers:custom_fields")
