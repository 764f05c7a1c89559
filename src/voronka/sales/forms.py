"""HTML forms of leads and deals: which inputs a page shows and how a POST becomes the ``data``
a sales service takes, plus the few display helpers both pages share (money, history).

As in the customer base, the forms do no business validation: the services do, and name the
bad field ("amount", "lines[2].quantity", "custom.budget"). Inputs carry exactly those names,
so an error lands next to its input; line rows skip empty rows and map the service's index back
to the row the person typed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from voronka.accounts.models import User
from voronka.accounts.selectors import users_active
from voronka.core.models import CustomField
from voronka.core.text import format_phone
from voronka.core.timeline import timeline
from voronka.customers import display
from voronka.customers.forms import FormState, build_inputs, data_from_post
from voronka.customers.forms import custom_initial as custom_value_initial
from voronka.customers.selectors import companies_visible_to, contacts_visible_to
from voronka.sales.models import Currency, Deal, Lead, LeadStatus, LostReason, Pipeline, Stage
from voronka.sales.money import LineTotals, document_totals

# --- inputs -------------------------------------------------------------------------------------


@dataclass
class Input:
    """One input as ``sales/deals/_field.html`` draws it. ``groups`` are option groups
    (a pipeline's stages); ``value`` is a list for a multiple select."""

    name: str
    label: Any
    widget: str = "text"
    value: Any = ""
    required: bool = False
    options: list[tuple[str, Any]] = field(default_factory=list)
    groups: list[tuple[str, Any, list[tuple[str, Any]]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    help: Any = ""

    @property
    def id(self) -> str:
        return "id_" + self.name.replace(".", "_").replace("[", "_").replace("]", "_")


# name: (label, widget, help)
LEAD_INPUTS: dict[str, tuple[Any, str, Any]] = {
    "last_name": (gettext_lazy("Last name"), "text", ""),
    "first_name": (gettext_lazy("First name"), "text", ""),
    "middle_name": (gettext_lazy("Middle name"), "text", ""),
    "phone": (gettext_lazy("Phone"), "tel", gettext_lazy("Any format: 8 916 123-45-67")),
    "email": (gettext_lazy("E-mail"), "email", ""),
    "company_name": (gettext_lazy("Company"), "text", ""),
    "inn": (gettext_lazy("INN / tax id"), "text", ""),
    "region": (gettext_lazy("Region"), "text", ""),
    "source": (gettext_lazy("Source"), "text", gettext_lazy("Website, exhibition, referral…")),
    "owner_id": (
        gettext_lazy("Owner"),
        "select",
        gettext_lazy("Leave empty to let the assignment rules choose"),
    ),
    "message": (gettext_lazy("Message"), "textarea", ""),
    "utm_source": ("utm_source", "text", ""),
    "utm_medium": ("utm_medium", "text", ""),
    "utm_campaign": ("utm_campaign", "text", ""),
    "utm_term": ("utm_term", "text", ""),
    "utm_content": ("utm_content", "text", ""),
}
LEAD_GROUPS: list[tuple[Any, list[str]]] = [
    (gettext_lazy("Person"), ["last_name", "first_name", "middle_name", "phone", "email"]),
    (gettext_lazy("Organisation"), ["company_name", "inn", "region"]),
    (gettext_lazy("Request"), ["source", "owner_id", "message", "custom"]),
    (
        gettext_lazy("Campaign (UTM)"),
        ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"],
    ),
]
LEAD_NAMES = [n for _title, names in LEAD_GROUPS for n in names if n != "custom"]

DEAL_INPUTS: dict[str, tuple[Any, str, Any]] = {
    "title": (gettext_lazy("Title"), "text", ""),
    "pipeline_id": (gettext_lazy("Pipeline"), "select", ""),
    "stage_id": (gettext_lazy("Stage"), "select", gettext_lazy("Empty: the first stage")),
    "company_id": (gettext_lazy("Company"), "select", ""),
    "contact_ids": (
        gettext_lazy("Contacts"),
        "multiselect",
        gettext_lazy("Ctrl or ⌘ + click to choose several"),
    ),
    "amount": (gettext_lazy("Amount"), "money", ""),
    "currency": (gettext_lazy("Currency"), "select", ""),
    "owner_id": (gettext_lazy("Owner"), "select", ""),
    "expected_close_date": (gettext_lazy("Expected close date"), "date", ""),
    "probability": (
        gettext_lazy("Probability, %"),
        "number",
        gettext_lazy("Empty: the stage's probability"),
    ),
    "source": (gettext_lazy("Source"), "text", ""),
    "tags": (gettext_lazy("Tags"), "text", gettext_lazy("Separate tags with commas")),
}
DEAL_GROUPS: list[tuple[Any, list[str]]] = [
    (gettext_lazy("Deal"), ["title", "pipeline_id", "stage_id", "amount", "currency"]),
    (gettext_lazy("Customer"), ["company_id", "contact_ids"]),
    (
        gettext_lazy("Details"),
        ["owner_id", "expected_close_date", "probability", "source", "tags", "custom"],
    ),
]
DEAL_NAMES = [n for _title, names in DEAL_GROUPS for n in names if n != "custom"]
REQUIRED = {"title"}
# How many companies or contacts a picker lists; the chosen ones are always added.
PICKER_LIMIT = 300


def _digits_to_int(raw: str) -> Any:
    """An id typed as digits becomes an int (what the services expect); anything else is
    passed on as typed, so the service names the field in its error."""
    raw = raw.strip()
    return int(raw) if raw.isdigit() else raw


def lead_data_from_post(
    post: Any, custom_fields: Iterable[CustomField], names: Iterable[str] = LEAD_NAMES
) -> tuple[dict[str, Any], FormState]:
    """The ``data`` for lead_create/lead_update, and the state to draw the form again."""
    data: dict[str, Any] = {}
    state = FormState()
    for name in names:
        typed = str(post.get(name) or "").strip()
        state.values[name] = typed
        data[name] = (typed or None) if name == "owner_id" else typed
    custom_fields = list(custom_fields)
    if custom_fields:
        custom, custom_state = data_from_post(["custom"], post, custom_fields)
        data.update(custom)
        state.values.update(custom_state.values)
    return data, state


def lead_initial(lead: Lead, custom_fields: Iterable[CustomField]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in LEAD_NAMES:
        raw = getattr(lead, name)
        if name == "phone" and raw:
            raw = format_phone(raw)  # as people read it; the service normalizes again
        values[name] = "" if raw is None else str(raw)
    values.update(_custom_initial(lead, custom_fields))
    return values


def _custom_initial(record: Any, custom_fields: Iterable[CustomField]) -> dict[str, Any]:
    """The custom inputs' values, formatted by the customer base's one implementation (so a
    date or a multi-select looks the same on every form)."""
    custom = record.custom or {}
    return {
        f"custom.{cf.key}": custom_value_initial(cf, custom.get(cf.key)) for cf in custom_fields
    }


def deal_data_from_post(
    post: Any,
    custom_fields: Iterable[CustomField],
    *,
    creating: bool,
    with_amount: bool = True,
) -> tuple[dict[str, Any], FormState]:
    """The ``data`` for deal_create/deal_update. An empty pipeline or stage is left out, so
    the service picks the default pipeline and its first stage."""
    data: dict[str, Any] = {}
    state = FormState()
    for name in DEAL_NAMES:
        if name == "amount" and not with_amount:
            continue
        if name == "contact_ids":
            chosen = [str(v).strip() for v in post.getlist(name) if str(v).strip()]
            state.values[name] = chosen
            data[name] = [_digits_to_int(v) for v in chosen]
            continue
        typed = str(post.get(name) or "").strip()
        state.values[name] = typed
        if name in ("pipeline_id", "stage_id"):
            if typed:
                data[name] = typed
        elif name == "company_id":
            data[name] = typed or None
        elif name == "owner_id":
            if typed or not creating:  # a new deal without an owner is the creator's
                data[name] = typed or None
        elif name == "probability":
            data[name] = _digits_to_int(typed) if typed else None
        elif name == "tags":
            data[name] = [t.strip() for t in typed.split(",") if t.strip()]
        elif name == "currency" and not typed and not creating:
            continue
        else:
            data[name] = typed
    custom_fields = list(custom_fields)
    if custom_fields:
        custom, custom_state = data_from_post(["custom"], post, custom_fields)
        data.update(custom)
        state.values.update(custom_state.values)
    return data, state


def deal_initial(deal: Deal, custom_fields: Iterable[CustomField]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": deal.title,
        "pipeline_id": str(deal.pipeline_id),
        "stage_id": str(deal.stage_id),
        "company_id": str(deal.company_id or ""),
        "contact_ids": [str(c.pk) for c in deal.contacts.all()],
        "amount": str(deal.amount),
        "currency": deal.currency_id,
        "owner_id": str(deal.owner_id or ""),
        "expected_close_date": deal.expected_close_date.isoformat()
        if deal.expected_close_date
        else "",
        "probability": "" if deal.probability is None else str(deal.probability),
        "source": deal.source,
        "tags": ", ".join(t.name for t in deal.tags.all()),
    }
    values.update(_custom_initial(deal, custom_fields))
    return values


def owner_options(blank: Any = "—") -> list[tuple[str, Any]]:
    users = users_active().order_by("last_name", "first_name", "id")
    return [("", blank)] + [(str(u.pk), str(u)) for u in users]


def _company_options(user: Any, chosen: str, current: Any) -> list[tuple[str, Any]]:
    """Companies to pick from: those the user sees, plus the deal's own company even when the
    user cannot see it (a converted lead may have matched it), never another hidden one."""
    companies = list(companies_visible_to(user).order_by("name", "id")[:PICKER_LIMIT])
    ids = {str(c.pk) for c in companies}
    if chosen and chosen not in ids and current is not None and str(current.pk) == chosen:
        companies.insert(0, current)
    return [("", "—")] + [(str(c.pk), c.name) for c in companies]


def _contact_options(
    user: Any, chosen: list[str], company: str, current: list[Any]
) -> list[tuple[str, Any]]:
    """Contacts to pick from: the chosen ones the user may see (or the deal already has), then
    the company's, then the rest by name."""
    visible = contacts_visible_to(user).order_by("last_name", "first_name", "id")
    ids = [int(c) for c in chosen if c.isdigit()]
    picked = list(visible.filter(pk__in=ids)) if ids else []
    picked += [c for c in current if str(c.pk) in chosen and c not in picked]
    first = (
        list(visible.filter(company_id=int(company))[:PICKER_LIMIT]) if company.isdigit() else []
    )
    rest = list(visible[:PICKER_LIMIT])
    seen: set[int] = set()
    out: list[tuple[str, Any]] = []
    for c in picked + first + rest:
        if c.pk not in seen:
            seen.add(c.pk)
            out.append((str(c.pk), str(c)))
    return out


def stage_groups(pipelines: Iterable[Pipeline]) -> list[tuple[str, Any, list[tuple[str, Any]]]]:
    return [(str(p.pk), p.name, [(str(s.pk), s.name) for s in p.stages.all()]) for p in pipelines]


def currency_options() -> list[tuple[str, Any]]:
    return [(c.code, f"{c.code} {c.symbol}".strip()) for c in Currency.objects.all()]


def _inputs(
    spec: Mapping[str, tuple[Any, str, Any]],
    names: Iterable[str],
    state: FormState,
    options: Mapping[str, list[tuple[str, Any]]],
    custom_fields: list[CustomField],
    groups: Mapping[str, list[tuple[str, Any, list[tuple[str, Any]]]]] | None = None,
) -> list[Any]:
    out: list[Any] = []
    for name in names:
        if name == "custom":
            out.extend(build_inputs(["custom"], state, custom_fields=custom_fields))
            continue
        label, widget, help_text = spec[name]
        default: Any = [] if widget == "multiselect" else ""
        out.append(
            Input(
                name=name,
                label=label,
                widget=widget,
                value=state.values.get(name, default),
                required=name in REQUIRED,
                options=list(options.get(name, [])),
                groups=list((groups or {}).get(name, [])),
                errors=state.errors.get(name, []),
                help=help_text,
            )
        )
    return out


def lead_form_groups(state: FormState, custom_fields: list[CustomField]) -> list[dict[str, Any]]:
    options = {"owner_id": owner_options()}
    return [
        {"title": title, "inputs": _inputs(LEAD_INPUTS, names, state, options, custom_fields)}
        for title, names in LEAD_GROUPS
    ]


def deal_form_groups(
    state: FormState, user: Any, custom_fields: list[CustomField], *, deal: Deal | None = None
) -> list[dict[str, Any]]:
    all_pipelines = list(_pipelines())
    company = str(state.values.get("company_id", ""))
    current_contacts = list(deal.contacts.all()) if deal is not None else []
    amount_locked = deal is not None and deal.lines.exists()
    options = {
        "pipeline_id": [(str(p.pk), p.name) for p in all_pipelines],
        "company_id": _company_options(user, company, deal.company if deal else None),
        "contact_ids": _contact_options(
            user, list(state.values.get("contact_ids", [])), company, current_contacts
        ),
        "currency": currency_options(),
        "owner_id": owner_options(),
    }
    groups_ = {"stage_id": stage_groups(all_pipelines)}
    out = []
    for title, names in DEAL_GROUPS:
        inputs = _inputs(DEAL_INPUTS, names, state, options, custom_fields, groups_)
        for item in inputs:
            if amount_locked and item.name == "amount":
                item.widget = "readonly"
                item.help = _("The sum of the line items; edit them on the deal")
        out.append({"title": title, "inputs": inputs})
    return out


def _pipelines() -> Any:
    from django.db.models import Prefetch

    return Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
    ).order_by("position", "id")


# --- line items ---------------------------------------------------------------------------------

LINE_KEYS = ("product_id", "name", "quantity", "unit", "unit_price", "discount_percent", "vat_rate")


LINE_CELLS: list[tuple[str, Any, str]] = [
    ("quantity", gettext_lazy("Qty"), "decimal"),
    ("unit", gettext_lazy("Unit"), "text"),
    ("unit_price", gettext_lazy("Price"), "decimal"),
    ("discount_percent", gettext_lazy("Discount, %"), "decimal"),
    ("vat_rate", gettext_lazy("VAT, %"), "decimal"),
]


@dataclass
class LineRow:
    """One row of the line items editor as typed, with its errors by key."""

    index: int
    values: dict[str, str]
    errors: dict[str, list[str]]

    @property
    def cells(self) -> list[dict[str, Any]]:
        """The small inputs after the product and the name, each with its value and errors."""
        return [
            {
                "key": key,
                "label": label,
                "mode": mode,
                "value": self.values.get(key, ""),
                "errors": self.errors.get(key, []),
            }
            for key, label, mode in LINE_CELLS
        ]


def lines_from_post(post: Any) -> tuple[list[dict[str, Any]], list[int], list[LineRow]]:
    """The ``lines`` for deal_update, the typed index of each, and the rows to draw again.
    A row with nothing typed in it is skipped; a product alone is a row."""
    import re

    pattern = re.compile(r"^lines\[(\d+)\]\.(\w+)$")
    indexes = sorted({int(m.group(1)) for key in post if (m := pattern.match(key))})
    lines: list[dict[str, Any]] = []
    index_map: list[int] = []
    rows: list[LineRow] = []
    for i in indexes:
        values = {k: str(post.get(f"lines[{i}].{k}") or "").strip() for k in LINE_KEYS}
        rows.append(LineRow(i, values, {}))
        if not any(values[k] for k in ("product_id", "name", "quantity", "unit_price")):
            continue
        line: dict[str, Any] = {
            "product_id": _digits_to_int(values["product_id"]) if values["product_id"] else None,
            "name": values["name"],
            "quantity": values["quantity"],
            "unit": values["unit"],
            "unit_price": values["unit_price"],
            "discount_percent": values["discount_percent"] or "0",
            "vat_rate": values["vat_rate"] or None,
        }
        lines.append(line)
        index_map.append(i)
    return lines, index_map, rows


def line_rows_initial(deal: Deal) -> list[LineRow]:
    rows = []
    for i, line in enumerate(deal.lines.all()):
        values = {
            "product_id": str(line.product_id or ""),
            "name": line.name,
            "quantity": _plain(line.quantity),
            "unit": line.unit,
            "unit_price": _plain(line.unit_price),
            "discount_percent": _plain(line.discount_percent),
            "vat_rate": "" if line.vat_rate is None else _plain(line.vat_rate),
        }
        rows.append(LineRow(i, values, {}))
    return rows


def _plain(value: Decimal) -> str:
    """A decimal as typed in an input: no grouping, no trailing zeros after the point."""
    text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def line_errors_to_rows(rows: list[LineRow], errors: Mapping[str, list[str]]) -> None:
    """Put ``lines[i].key`` errors (already mapped to typed indexes) on their rows."""
    by_index = {r.index: r for r in rows}
    for name, messages in errors.items():
        if name.startswith("lines[") and "]." in name:
            index, key = name[6:].split("].", 1)
            if index.isdigit() and int(index) in by_index:
                by_index[int(index)].errors.setdefault(key, []).extend(messages)


@dataclass
class LinesView:
    """The line items table: rows as stored and the totals the service computed."""

    lines: list[dict[str, Any]]
    net: str
    vat: str
    total: str


def lines_view(deal: Deal, currency: Currency) -> LinesView:
    lines = list(deal.lines.all())
    totals = document_totals(
        [LineTotals(net=x.net_total, vat=x.vat_total, total=x.total) for x in lines],
        [x.vat_rate for x in lines],
    )
    return LinesView(
        lines=[
            {
                "name": x.name,
                "unit": x.unit,
                "quantity": display.number(x.quantity.normalize()),
                "price": money_text(x.unit_price, currency),
                "discount": display.number(x.discount_percent.normalize())
                if x.discount_percent
                else "",
                "vat": None if x.vat_rate is None else display.number(x.vat_rate.normalize()),
                "total": money_text(x.total, currency),
            }
            for x in lines
        ],
        net=money_text(totals.net, currency),
        vat=money_text(totals.vat, currency),
        total=money_text(totals.total, currency),
    )


def product_choices(currency_code: str) -> list[dict[str, str]]:
    """Active products for the picker, with the price in the deal's currency (or empty)."""
    from voronka.sales.models import Product, ProductPrice

    products = list(Product.objects.filter(active=True).order_by("name", "id")[:1000])
    prices = dict(
        ProductPrice.objects.filter(
            product__in=[p.pk for p in products], currency_id=currency_code
        ).values_list("product_id", "price")
    )
    return [
        {
            "id": str(p.pk),
            "label": f"{p.name} ({p.sku})",
            "name": p.name,
            "unit": p.unit,
            "price": _plain(prices[p.pk]) if p.pk in prices else "",
            "vat": "" if p.vat_rate is None else _plain(p.vat_rate),
        }
        for p in products
    ]


# --- display ------------------------------------------------------------------------------------


def money_text(amount: Decimal | None, currency: Currency | None) -> str:
    """``1 234 567,89 ₽`` in Russian, ``₽1,234,567.89`` in English."""
    number = display.number(amount if amount is not None else Decimal(0), 2)
    if currency is None:
        return number
    symbol = currency.symbol or currency.code
    if (get_language() or "").startswith("ru"):
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}" if currency.symbol else f"{symbol}\u00a0{number}"


def currencies_by_code() -> dict[str, Currency]:
    return {c.code: c for c in Currency.objects.all()}


STATUS_BADGES: dict[str, str] = {
    LeadStatus.NEW: "text-bg-primary",
    LeadStatus.IN_PROGRESS: "text-bg-warning",
    LeadStatus.QUALIFIED: "badge-soft-success",
    LeadStatus.JUNK: "badge-soft-muted",
}


def _label(model: type[models.Model], name: str) -> Any:
    base = name.removesuffix("_ids").removesuffix("_id")
    extra = {"contact": _("Contacts"), "currency": _("Currency"), "tags": _("Tags")}
    if base in extra:
        return extra[base]
    try:
        return model._meta.get_field(base).verbose_name  # type: ignore[union-attr]
    except Exception:
        return name


def _collect_ids(items: Iterable[Any]) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = {}
    for item in items:
        for name, change in (item.extra.get("changes") or {}).items():
            if not (isinstance(change, list) and len(change) == 2):
                continue
            for value in change:
                values = value if isinstance(value, list) else [value]
                for v in values:
                    if isinstance(v, int) and not isinstance(v, bool):
                        ids.setdefault(name, set()).add(v)
    return ids


def _names(ids: dict[str, set[int]], user: Any) -> dict[str, dict[int, str]]:
    """Display names for the ids that appear in the history, one query per kind; a company or
    contact the user may not see keeps its number only."""
    names: dict[str, dict[int, str]] = {}
    if ids.get("owner_id"):
        names["owner_id"] = {u.pk: str(u) for u in User.objects.filter(pk__in=ids["owner_id"])}
    if ids.get("company_id"):
        names["company_id"] = dict(
            companies_visible_to(user).filter(pk__in=ids["company_id"]).values_list("pk", "name")
        )
    if ids.get("contact_ids"):
        names["contact_ids"] = {
            c.pk: str(c) for c in contacts_visible_to(user).filter(pk__in=ids["contact_ids"])
        }
    for key, model in (
        ("stage_id", Stage),
        ("pipeline_id", Pipeline),
        ("lost_reason_id", LostReason),
    ):
        if ids.get(key):
            names[key] = dict(model.objects.filter(pk__in=ids[key]).values_list("pk", "name"))  # type: ignore[attr-defined]
    return names


def _history_value(name: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(_history_value(name, v, names) for v in value)
    if name in names and isinstance(value, int):
        return names[name].get(value, f"#{value}")
    if isinstance(value, bool):
        return display.yes_no(value)
    if name == "amount":
        return display.number(value, 2)
    if name == "expected_close_date":
        return display.date_text(value)
    if name == "phone":
        return format_phone(str(value))
    return str(value)


def _change_rows(
    model: type[models.Model],
    changes: Mapping[str, Any],
    custom_fields: list[CustomField],
    names: dict[str, dict[int, str]],
) -> list[tuple[Any, str, str]]:
    labels = {cf.key: cf.label for cf in custom_fields}
    rows: list[tuple[Any, str, str]] = []
    for name, change in changes.items():
        if name == "converted" and isinstance(change, dict):
            rows.append((_("Converted"), "—", _("contact, company and deal linked")))
            continue
        if not (isinstance(change, list) and len(change) == 2):
            continue
        old, new = change
        if name == "custom" and isinstance(old, dict | None) and isinstance(new, dict | None):
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    rows.append(
                        (labels.get(key, key), str(old.get(key) or "—"), str(new.get(key) or "—"))
                    )
            continue
        rows.append(
            (
                capfirst(_label(model, name)),
                _history_value(name, old, names),
                _history_value(name, new, names),
            )
        )
    return rows


def timeline_entries(
    record: Any, user: Any, custom_fields: list[CustomField]
) -> list[dict[str, Any]]:
    """The record's timeline as ``customers/_timeline.html`` draws it: notes, activities and
    every change, each change as (field, was, now) rows with names instead of ids."""
    items = timeline(record, user)
    names = _names(_collect_ids(items), user)
    entries = []
    for item in items:
        rows: list[tuple[Any, str, str]] = []
        if item.kind == "change" and item.extra.get("action") == "update":
            rows = _change_rows(type(record), item.extra.get("changes") or {}, custom_fields, names)
        entries.append({"item": item, "changes": rows})
    return entries


def duration_text(start: dt.datetime, end: dt.datetime) -> str:
    """A short, rounded duration: ``3 d 4 h``, ``5 h 10 min``, ``2 min``."""
    seconds = max(0, int((end - start).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


def query_with(params: Any, drop: Iterable[str] = (), **set_: str) -> str:
    """The query string of ``params`` with some names dropped or replaced (filters and pages
    keep each other)."""
    q = params.copy()
    for name in (*drop, *set_):
        q.pop(name, None)
    for name, value in set_.items():
        if value:
            q[name] = value
    return str(q.urlencode())
