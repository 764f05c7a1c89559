"""What a web form may ask for: the lead's own fields and the lead custom fields.

A form field is keyed like the lead data it fills (``email``, ``custom.budget``), so an error
``lead_create`` reports for a field lands next to the input that holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from voronka.core.custom_fields import definitions
from voronka.core.models import CustomField, CustomFieldType
from voronka.sales.services.leads import LEAD_ENTITY

T = CustomFieldType
CUSTOM_PREFIX = "custom."

# key: (label, widget, max length)
STANDARD: dict[str, tuple[Any, str, int]] = {
    "first_name": (_("First name"), "text", 150),
    "last_name": (_("Last name"), "text", 150),
    "middle_name": (_("Middle name"), "text", 150),
    "email": (_("E-mail"), "email", 254),
    "phone": (_("Phone"), "tel", 40),
    "company_name": (_("Company"), "text", 255),
    "inn": (_("INN / tax id"), "text", 32),
    "region": (_("Region"), "text", 128),
    "message": (_("Message"), "textarea", 10_000),
}
# A lead needs one of these (lead_create says so otherwise).
IDENTITY = ("first_name", "last_name", "company_name", "email", "phone")
AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "middle_name": "additional-name",
    "email": "email",
    "phone": "tel",
    "company_name": "organization",
    "region": "address-level1",
}
CUSTOM_WIDGETS = {
    T.TEXT: "text",
    T.LONG_TEXT: "textarea",
    T.NUMBER: "number",
    T.MONEY: "number",
    T.DATE: "date",
    T.DATETIME: "datetime",
    T.SELECT: "select",
    T.MULTI_SELECT: "multiselect",
    T.BOOLEAN: "checkbox",
    T.URL: "url",
    T.EMAIL: "email",
    T.PHONE: "tel",
}
MAX_CUSTOM_INPUT = 10_000


@dataclass
class Available:
    """A field the form builder offers, with its default label and how it is drawn."""

    key: str
    label: str
    widget: str
    max_length: int = 255
    options: list[str] = field(default_factory=list)
    lead_required: bool = False
    definition: CustomField | None = None

    @property
    def is_custom(self) -> bool:
        return self.key.startswith(CUSTOM_PREFIX)


def _custom(cf: CustomField) -> Available:
    return Available(
        key=CUSTOM_PREFIX + cf.key,
        label=cf.label,
        widget=CUSTOM_WIDGETS.get(T(cf.type), "text"),
        max_length=MAX_CUSTOM_INPUT,
        options=list(cf.options or []),
        lead_required=cf.required,
        definition=cf,
    )


def available_fields(custom_fields: list[CustomField] | None = None) -> dict[str, Available]:
    """Every field a form may hold, in the builder's order: lead fields, then custom ones."""
    out = {
        key: Available(key, str(label), widget, limit)
        for key, (label, widget, limit) in STANDARD.items()
    }
    for cf in definitions(LEAD_ENTITY) if custom_fields is None else custom_fields:
        out[CUSTOM_PREFIX + cf.key] = _custom(cf)
    return out


@dataclass
class FormInput:
    """One input of a form as the public page, the preview and the embed script draw it."""

    key: str
    label: str
    widget: str
    required: bool
    options: list[str] = field(default_factory=list)
    max_length: int = 255
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    definition: CustomField | None = None

    @property
    def id(self) -> str:
        return "vkf_" + self.key.replace(".", "_")

    @property
    def autocomplete(self) -> str:
        return AUTOCOMPLETE.get(self.key, "off" if self.key.startswith(CUSTOM_PREFIX) else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "widget": self.widget,
            "required": self.required, "options": self.options, "max_length": self.max_length,
            "autocomplete": self.autocomplete,
        }  # fmt: skip


def form_inputs(
    configured: list[dict[str, Any]],
    available: dict[str, Available] | None = None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[FormInput]:
    """The form's inputs in order; a field whose custom definition is gone is skipped."""
    available = available_fields() if available is None else available
    values, errors = values or {}, errors or {}
    out = []
    for item in configured:
        spec = available.get(str(item.get("key")))
        if spec is None:
            continue
        default: Any = [] if spec.widget == "multiselect" else ""
        out.append(
            FormInput(
                key=spec.key,
                label=str(item.get("label") or spec.label),
                widget=spec.widget,
                required=bool(item.get("required")),
                options=spec.options,
                max_length=spec.max_length,
                value=values.get(spec.key, default),
                errors=errors.get(spec.key, []),
                definition=spec.definition,
            )
        )
    return out
