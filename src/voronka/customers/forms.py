"""HTML forms of the customer base: what inputs a section shows and how a POST becomes the
``data`` a service takes.

The forms do no business validation: the services do, and report bad fields by name
("emails[0].email", "custom.region"). Inputs are named exactly like those fields, so an error
lands next to its input. Repeatable rows (e-mails, phones, addresses) skip empty rows; the
index map turns the service's index back into the row the person typed in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from voronka.core.errors import ServiceValidationError
from voronka.core.models import CustomField, CustomFieldType
from voronka.core.text import format_phone
from voronka.customers.models import AddressKind, CompanySize, EmailKind, PhoneKind

T = CustomFieldType
ROW_RE = re.compile(r"^(\w+)\[(\d+)\]\.(\w+)$")

CONTACT_SECTIONS: dict[str, list[str]] = {
    "main": ["last_name", "first_name", "middle_name", "company_id", "position"],
    "channels": ["phones", "emails"],
    "details": ["owner_id", "birthday", "source", "tags", "email_consent", "sms_consent"],
    "custom": ["custom"],
}
COMPANY_SECTIONS: dict[str, list[str]] = {
    "main": ["name", "legal_name", "inn", "industry", "size", "website"],
    "channels": ["phone", "email", "region", "addresses"],
    "details": ["owner_id", "tags"],
    "custom": ["custom"],
}
SECTION_TITLES = {
    "main": _("Main"),
    "channels": _("Phones and e-mails"),
    "details": _("Details"),
    "custom": _("More fields"),
}

# name: (label, widget, help)
INPUTS: dict[str, tuple[Any, str, Any]] = {
    "last_name": (_("Last name"), "text", ""),
    "first_name": (_("First name"), "text", ""),
    "middle_name": (_("Middle name"), "text", ""),
    "company_id": (_("Company"), "lookup", _("Type a few letters of the name")),
    "position": (_("Position"), "text", ""),
    "birthday": (_("Birthday"), "date", ""),
    "owner_id": (_("Owner"), "select", ""),
    "source": (
        _("Source"),
        "text",
        _("Where the contact came from: website, exhibition, referral…"),
    ),
    "tags": (_("Tags"), "text", _("Separate tags with commas")),
    "email_consent": (_("Agrees to e-mail marketing"), "checkbox", ""),
    "sms_consent": (_("Agrees to SMS marketing"), "checkbox", ""),
    "name": (_("Name"), "text", ""),
    "legal_name": (_("Legal name"), "text", ""),
    "inn": (_("INN / tax id"), "text", _("10 or 12 digits for a Russian company")),
    "industry": (_("Industry"), "text", ""),
    "size": (_("Size"), "select", ""),
    "website": (_("Website"), "url", ""),
    "phone": (_("Phone"), "tel", ""),
    "email": (_("E-mail"), "email", ""),
    "region": (_("Region"), "text", ""),
}
# name: (label, key of the value, input type, kinds)
ROWS: dict[str, tuple[Any, str, str, Any]] = {
    "emails": (_("E-mails"), "email", "email", EmailKind),
    "phones": (_("Phones"), "phone", "tel", PhoneKind),
    "addresses": (_("Addresses"), "address", "text", AddressKind),
}
REQUIRED = {"name"}
CUSTOM_WIDGETS = {
    T.TEXT: "text",
    T.LONG_TEXT: "textarea",
    T.NUMBER: "number",
    T.MONEY: "money",
    T.DATE: "date",
    T.DATETIME: "datetime",
    T.SELECT: "select",
    T.MULTI_SELECT: "multiselect",
    T.BOOLEAN: "yesno",
    T.URL: "url",
    T.EMAIL: "email",
    T.PHONE: "tel",
}


def input_id(name: str) -> str:
    return "id_" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


@dataclass
class FieldView:
    """One input as the template draws it."""

    name: str
    label: Any
    widget: str
    value: Any = ""
    required: bool = False
    options: list[tuple[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    help: Any = ""
    is_rows = False

    @property
    def id(self) -> str:
        return input_id(self.name)


@dataclass
class RowItem:
    index: int
    value: str
    kind: str
    errors: list[str]


@dataclass
class RowsView:
    """Repeatable rows (several e-mails, phones, addresses) with a kind each."""

    name: str
    label: Any
    value_key: str
    input_type: str
    kinds: list[tuple[str, Any]]
    rows: list[RowItem]
    errors: list[str] = field(default_factory=list)
    is_rows = True

    @property
    def next_index(self) -> int:
        return max((r.index for r in self.rows), default=-1) + 1


@dataclass
class FormState:
    """What a form shows: the raw values typed and the errors by input name."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    index_maps: dict[str, list[int]] = field(default_factory=dict)

    def fail(self, exc: ServiceValidationError) -> None:
        self.errors = map_errors(exc, self.index_maps)

    def unplaced_errors(self, names: Iterable[str]) -> list[str]:
        """Errors whose field has no input on this form (shown above the form)."""
        shown = set(names)
        out: list[str] = []
        for name, messages in self.errors.items():
            base = name.split("[")[0].split(".")[0]
            if name in shown or base in shown or name.startswith("custom."):
                continue
            out.extend(f"{name}: {m}" for m in messages)
        return out


def map_errors(
    exc: ServiceValidationError, index_maps: Mapping[str, list[int]]
) -> dict[str, list[str]]:
    """The service's error field names mapped to input names (row indexes as typed)."""
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        name = err.field
        if (m := ROW_RE.match(name)) and m.group(1) in index_maps:
            indexes = index_maps[m.group(1)]
            i = int(m.group(2))
            if i < len(indexes):
                name = f"{m.group(1)}[{indexes[i]}].{m.group(3)}"
        errors.setdefault(name, []).append(err.message)
    return errors


# --- from a record and from a POST -----------------------------------------------------------


def custom_initial(cf: CustomField, value: Any) -> Any:
    if value is None:
        return [] if cf.type == T.MULTI_SELECT else ""
    if cf.type == T.BOOLEAN:
        return "true" if value else "false"
    if cf.type == T.DATETIME:
        moment = parse_datetime(str(value))
        if moment is None:
            return str(value)
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")
    if cf.type == T.MULTI_SELECT:
        return list(value) if isinstance(value, list) else [value]
    if cf.type == T.PHONE:
        return format_phone(str(value))
    return str(value)


def initial_values(record: Any, custom_fields: Iterable[CustomField]) -> dict[str, Any]:
    """The inputs' values for an existing record (a contact or a company)."""
    values: dict[str, Any] = {}
    for name in INPUTS:
        if name in ("tags",):
            values[name] = ", ".join(t.name for t in record.tags.all())
        elif hasattr(record, name):
            raw = getattr(record, name)
            if INPUTS[name][1] == "checkbox":
                values[name] = bool(raw)
            elif isinstance(raw, dt.date):
                values[name] = raw.isoformat()
            elif name == "phone" and raw:
                values[name] = format_phone(raw)  # as people read it; the service normalizes
            else:
                values[name] = "" if raw is None else str(raw)
    for rows_name, (_label, key, _type, _kinds) in ROWS.items():
        if hasattr(record, rows_name):
            items = list(getattr(record, rows_name).all())
            shown = format_phone if key == "phone" else str
            values[rows_name] = [
                (i, shown(getattr(it, key)), it.kind) for i, it in enumerate(items)
            ]
    custom = record.custom or {}
    for cf in custom_fields:
        values[f"custom.{cf.key}"] = custom_initial(cf, custom.get(cf.key))
    return values


def _rows_from_post(
    post: Any, name: str, value_key: str
) -> tuple[list[dict[str, str]], list[int], list[tuple[int, str, str]]]:
    indexes = sorted(
        {int(m.group(2)) for key in post if (m := ROW_RE.match(key)) and m.group(1) == name}
    )
    items, index_map, raw = [], [], []
    for i in indexes:
        value = (post.get(f"{name}[{i}].{value_key}") or "").strip()
        kind = (post.get(f"{name}[{i}].kind") or "").strip()
        raw.append((i, value, kind))
        if value:
            items.append({value_key: value, "kind": kind})
            index_map.append(i)
    return items, index_map, raw


def _custom_from_post(cf: CustomField, post: Any) -> tuple[Any, Any]:
    """(value for the service, raw value to show again)."""
    name = f"custom.{cf.key}"
    if cf.type == T.MULTI_SELECT:
        chosen = [v for v in post.getlist(name) if v]
        return (chosen or None), chosen
    raw = (post.get(name) or "").strip()
    if not raw:
        return None, ""
    if cf.type == T.DATETIME:
        moment = parse_datetime(raw)
        if moment is not None and timezone.is_naive(moment):
            # The browser sends wall-clock time; the person means their own time zone.
            return timezone.make_aware(moment).isoformat(), raw
    return raw, raw


def data_from_post(
    names: Iterable[str], post: Any, custom_fields: Iterable[CustomField]
) -> tuple[dict[str, Any], FormState]:
    """The service ``data`` for the inputs ``names`` of a POST, and the state to redraw it."""
    data: dict[str, Any] = {}
    state = FormState()
    for name in names:
        if name == "custom":
            custom: dict[str, Any] = {}
            for cf in custom_fields:
                custom[cf.key], state.values[f"custom.{cf.key}"] = _custom_from_post(cf, post)
            data["custom"] = custom
        elif name in ROWS:
            items, index_map, raw = _rows_from_post(post, name, ROWS[name][1])
            data[name] = items
            state.index_maps[name] = index_map
            state.values[name] = raw
        elif INPUTS[name][1] == "checkbox":
            data[name] = state.values[name] = post.get(name) in ("on", "true", "1")
        elif name == "tags":
            typed = str(post.get(name) or "")
            data[name] = [t.strip() for t in typed.split(",") if t.strip()]
            state.values[name] = typed
        else:
            typed = str(post.get(name) or "").strip()
            state.values[name] = typed
            data[name] = None if typed == "" and name.endswith("_id") else typed
    return data, state


# --- building the inputs ---------------------------------------------------------------------


def _custom_view(cf: CustomField, state: FormState) -> FieldView:
    name = f"custom.{cf.key}"
    widget = CUSTOM_WIDGETS.get(T(cf.type), "text")
    options: list[tuple[str, Any]] = [(o, o) for o in cf.options]
    if widget == "yesno":
        options = [("true", _("Yes")), ("false", _("No"))]
    default: Any = [] if widget == "multiselect" else ""
    help_text: Any = ""
    if widget == "datetime":
        help_text = _("In your time zone")
    return FieldView(
        name=name,
        label=cf.label,
        widget=widget,
        value=state.values.get(name, default),
        required=cf.required,
        options=options,
        errors=state.errors.get(name, []),
        help=help_text,
    )


def build_inputs(
    names: Iterable[str],
    state: FormState,
    *,
    custom_fields: Iterable[CustomField] = (),
    choices: Mapping[str, list[tuple[str, Any]]] | None = None,
    blank_row: bool = True,
) -> list[FieldView | RowsView]:
    """The inputs of a form section, with values and errors in place."""
    choices = choices or {}
    out: list[FieldView | RowsView] = []
    for name in names:
        if name == "custom":
            out.extend(_custom_view(cf, state) for cf in custom_fields)
            continue
        if name in ROWS:
            label, key, input_type, kinds = ROWS[name]
            rows = []
            for i, value, kind in state.values.get(name, []):
                errs = state.errors.get(f"{name}[{i}].{key}", []) + state.errors.get(
                    f"{name}[{i}].kind", []
                )
                rows.append(RowItem(i, value, kind, errs))
            if blank_row and not rows:
                rows.append(RowItem(0, "", "", []))
            out.append(
                RowsView(
                    name,
                    label,
                    key,
                    input_type,
                    list(kinds.choices),
                    rows,
                    state.errors.get(name, []),
                )
            )
            continue
        label, widget, help_text = INPUTS[name]
        options = list(choices.get(name, []))
        if name == "size":
            options = [("", "—"), *CompanySize.choices]
        out.append(
            FieldView(
                name=name,
                label=label,
                widget=widget,
                value=state.values.get(name, ""),
                required=name in REQUIRED,
                options=options,
                errors=state.errors.get(name, []),
                help=help_text,
            )
        )
    return out
