"""Contact and company cards: sections edited in place (htmx, with a plain-form fallback),
the timeline with notes and history, the create form and delete with confirmation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import linebreaks
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.models import User
from voronka.core import services as core_services
from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import Channel, CustomField, CustomFieldType
from voronka.core.panels import panels_for
from voronka.core.text import format_phone
from voronka.core.timeline import timeline
from voronka.customers import display, selectors
from voronka.customers.forms import (
    INPUTS,
    ROWS,
    SECTION_TITLES,
    FormState,
    build_inputs,
    data_from_post,
    initial_values,
)
from voronka.customers.views import (
    AuthedRequest,
    Kind,
    input_choices,
    is_htmx,
    kind_of,
    kind_urls,
    load_record,
)
from voronka.customers.views_merge import merge_history_rows


def _value(value: Any) -> Any:
    return display.EMPTY if value in (None, "", []) else value


def _section_rows(
    k: Kind, record: Any, name: str, user: Any, fields: list[CustomField]
) -> list[dict[str, Any]]:
    """What a card section shows: a label with safe HTML, or with a list of (link, kind)."""
    rows: list[dict[str, Any]] = []
    if name == "custom":
        custom = record.custom or {}
        return [
            {"label": cf.label, "html": display.custom_html(cf, custom.get(cf.key)), "links": None}
            for cf in fields
        ]
    for field in k.sections[name]:
        if field in ROWS:
            label = ROWS[field][0]
            items = list(getattr(record, field).all())
            links = []
            for it in items:
                shown = (
                    display.phone_link(it.phone)
                    if field == "phones"
                    else display.email_link(it.email)
                    if field == "emails"
                    else it.address
                )
                links.append((shown, it.get_kind_display()))
            rows.append({"label": label, "links": links})
            continue
        label = INPUTS[field][0]
        value: Any = getattr(record, field, None)
        if field == "owner_id":
            value = str(record.owner) if record.owner_id and record.owner else ""
        elif field == "company_id":
            company = record.company if record.company_id else None
            if company is not None:
                visible = selectors.companies_visible_to(user).filter(pk=company.pk).exists()
                value = (
                    display.format_html(
                        '<a href="{}">{}</a>', company.get_absolute_url(), company.name
                    )
                    if visible
                    else company.name
                )
        elif field == "tags":
            value = display.tags_html(record.tags.all())
        elif field in ("email_consent", "sms_consent"):
            value = display.yes_no(value)
        elif field == "birthday" and value:
            value = display.date_text(value)
        elif field == "size":
            value = record.get_size_display()
        elif field == "phone" and value:
            value = display.phone_link(value)
        elif field == "email" and value:
            value = display.email_link(value)
        elif field == "website" and value:
            value = display.url_link(value)
        rows.append({"label": label, "html": _value(value), "links": None})
    return rows


def _section_ctx(
    k: Kind, request: AuthedRequest, record: Any, name: str, *, state: FormState | None = None
) -> dict[str, Any]:
    fields = definitions(k.entity)
    ctx: dict[str, Any] = {
        "k": k,
        "record": record,
        "name": name,
        "title": SECTION_TITLES[name],
        "url": reverse(f"customers:{k.key}_section", args=[record.pk, name]),
        "can_write": request.user.can_write,
    }
    if state is None:
        ctx["rows"] = _section_rows(k, record, name, request.user, fields)
        ctx["editing"] = False
    else:
        names = k.sections[name]
        ctx["inputs"] = build_inputs(
            names, state, custom_fields=fields, choices=input_choices(k, request.user, state.values)
        )
        ctx["form_errors"] = state.unplaced_errors(names)
        ctx["editing"] = True
    return ctx


def _user_names(ids: set[Any]) -> dict[int, str]:

    clean = {int(i) for i in ids if isinstance(i, int) or (isinstance(i, str) and i.isdigit())}
    return {u.pk: str(u) for u in User.objects.filter(pk__in=clean)}


def _history_value(field: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if field == "owner_id":
        return names["users"].get(value, f"#{value}")
    if field == "company_id":
        return names["companies"].get(value, "#" + str(value))
    if isinstance(value, bool):
        return display.yes_no(value)
    if field == "birthday":
        return display.date_text(value)
    if field in ("phones", "phone"):
        items = value if isinstance(value, list) else [value]
        return ", ".join(format_phone(str(p)) for p in items)
    if isinstance(value, list):
        return ", ".join(" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
    return str(value)


def _custom_history(cf: CustomField | None, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if cf is None:
        return str(value)
    if cf.type == CustomFieldType.MONEY:
        return display.number(value, 2)
    if cf.type == CustomFieldType.NUMBER:
        return display.number(value)
    if cf.type == CustomFieldType.DATE:
        return display.date_text(value)
    if cf.type == CustomFieldType.DATETIME:
        return display.datetime_text(value)
    if cf.type == CustomFieldType.PHONE:
        return format_phone(str(value))
    return str(display.custom_text(cf, value))


def _change_rows(
    k: Kind, changes: dict[str, Any], fields: list[CustomField], names: dict[str, dict[int, str]]
) -> list[tuple[Any, str, str]]:
    """An audit entry's changes as (field label, from, to) rows."""
    labels: dict[str, Any] = {n: v[0] for n, v in INPUTS.items()}
    labels.update({n: v[0] for n, v in ROWS.items()})
    by_key = {cf.key: cf for cf in fields}
    out: list[tuple[Any, str, str]] = []
    for field, change in changes.items():
        if isinstance(change, dict) and ("added" in change or "removed" in change):
            added = ", ".join(change.get("added") or [])
            removed = ", ".join(change.get("removed") or [])
            out.append(
                (
                    labels.get(field, field),
                    (removed and f"−{removed}") or "—",
                    (added and f"+{added}") or "—",
                )
            )
            continue
        if not isinstance(change, list) or len(change) != 2:
            continue
        old, new = change
        if (
            field == "custom"
            and isinstance(old, dict | type(None))
            and isinstance(new, dict | type(None))
        ):
            old, new = old or {}, new or {}
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    out.append(
                        (
                            by_key[key].label if key in by_key else key,
                            _custom_history(by_key.get(key), old.get(key)),
                            _custom_history(by_key.get(key), new.get(key)),
                        )
                    )
            continue
        out.append(
            (
                labels.get(field, field),
                _history_value(field, old, names),
                _history_value(field, new, names),
            )
        )
    return out


def _timeline_ctx(k: Kind, request: AuthedRequest, record: Any) -> dict[str, Any]:
    items = timeline(record, request.user)
    fields = definitions(k.entity)
    user_ids: set[Any] = set()
    company_ids: set[Any] = set()
    for item in items:
        for field, change in (item.extra.get("changes") or {}).items():
            if isinstance(change, list) and len(change) == 2:
                if field == "owner_id":
                    user_ids.update(v for v in change if v)
                if field == "company_id":
                    company_ids.update(v for v in change if v)
    names = {
        "users": _user_names(user_ids),
        "companies": dict(
            selectors.companies_visible_to(request.user)
            .filter(pk__in=[i for i in company_ids if isinstance(i, int)])
            .values_list("pk", "name")
        ),
    }
    entries = []
    for item in items:
        rows = []
        if item.kind == "change" and item.extra.get("action") == "update":
            rows = _change_rows(k, item.extra.get("changes") or {}, fields, names)
        elif item.kind == "change" and item.extra.get("action") == "merge":
            rows = merge_history_rows(k.entity, item.extra.get("changes") or {})
        entries.append({"item": item, "changes": rows})
    return {
        "k": k,
        "record": record,
        "entries": entries,
        "note_url": reverse(f"customers:{k.key}_note", args=[record.pk]),
        "timeline_url": reverse(f"customers:{k.key}_timeline", args=[record.pk]),
    }


@login_required
def record_card(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    k = kind_of(kind)
    record = load_record(k, request, pk)
    sections = [_section_ctx(k, request, record, name) for name in k.sections]
    if not definitions(k.entity):
        sections = [s for s in sections if s["name"] != "custom"]
    ctx: dict[str, Any] = {
        "k": k,
        "record": record,
        "sections": sections,
        "urls": kind_urls(k),
        "page_title": str(record),
        "panels": panels_for(k.key, record.pk, request.user),
    }
    ctx["delete_url"] = reverse(f"customers:{k.key}_delete", args=[record.pk])
    ctx.update(_timeline_ctx(k, request, record))
    if k.key == "company":
        ctx["related"] = selectors.company_contacts(request.user, record)
    return render(request, "customers/card.html", ctx)


@login_required
def record_section(request: AuthedRequest, kind: str, pk: int, section: str) -> HttpResponse:
    """One card section: its view (``?view=1``), its form (GET) and its save (POST)."""
    k = kind_of(kind)
    if section not in k.sections:
        raise Http404("no such section")
    record = load_record(
        k, request, pk, write=request.method == "POST" or "view" not in request.GET
    )
    htmx = is_htmx(request)
    if request.method == "GET":
        if "view" in request.GET:
            return render(
                request, "customers/_section.html", {"s": _section_ctx(k, request, record, section)}
            )
        state = FormState(values=initial_values(record, definitions(k.entity)))
        s = _section_ctx(k, request, record, section, state=state)
        template = "customers/_section.html" if htmx else "customers/section_page.html"
        return render(request, template, {"s": s, "k": k, "record": record})
    data, state = data_from_post(k.sections[section], request.POST, definitions(k.entity))
    try:
        record = k.update(actor=request.user, record=record, changes=data)
    except ServiceValidationError as exc:
        state.fail(exc)
        s = _section_ctx(k, request, record, section, state=state)
        if htmx:
            return render(request, "customers/_section.html", {"s": s})
        return render(
            request, "customers/section_page.html", {"s": s, "k": k, "record": record}, status=400
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if not htmx:
        messages.success(request, _("Saved."))
        return redirect(record.get_absolute_url())
    record = load_record(k, request, pk)
    response = render(
        request, "customers/_section.html", {"s": _section_ctx(k, request, record, section)}
    )
    response["HX-Trigger"] = "timeline-changed"
    return response


@login_required
def record_timeline(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    k = kind_of(kind)
    record = load_record(k, request, pk)
    return render(request, "customers/_timeline.html", _timeline_ctx(k, request, record))


@login_required
@require_POST
def record_note(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    k = kind_of(kind)
    record = load_record(k, request, pk, write=True)
    text = request.POST.get("body", "")
    note_error = ""
    try:
        # The form is plain text: escape it and keep its line breaks; the service sanitizes.
        core_services.note_create(
            record=record,
            body=linebreaks(text, autoescape=True) if text.strip() else "",
            actor=request.user,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        note_error = exc.errors[0].message
    if is_htmx(request):
        ctx = _timeline_ctx(k, request, record)
        ctx.update({"note_error": note_error, "note_text": text if note_error else ""})
        return render(request, "customers/_timeline.html", ctx)
    if note_error:
        messages.error(request, _("The note was not added: %(why)s") % {"why": note_error})
    return redirect(record.get_absolute_url() + "#timeline")


@login_required
def record_new(request: AuthedRequest, kind: str) -> HttpResponse:
    k = kind_of(kind)
    if not request.user.can_write:
        raise PermissionDenied(_("your role is read-only"))
    fields = definitions(k.entity)
    names = [n for section in k.sections.values() for n in section]
    if request.method == "POST":
        data, state = data_from_post(names, request.POST, fields)
        try:
            record = k.create(actor=request.user, data=data, channel=Channel.UI)
        except ServiceValidationError as exc:
            state.fail(exc)
            status = 400
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("“%(name)s” created.") % {"name": str(record)})
            return redirect(record.get_absolute_url())
    else:
        status = 200
        state = FormState(values={"owner_id": str(request.user.pk)})
        if k.key == "contact" and (company := request.GET.get("company", "")).isdigit():
            state.values["company_id"] = company
    groups = [
        {
            "title": SECTION_TITLES[name],
            "inputs": build_inputs(
                section,
                state,
                custom_fields=fields,
                choices=input_choices(k, request.user, state.values),
            ),
        }
        for name, section in k.sections.items()
        if name != "custom" or fields
    ]
    ctx = {
        "k": k,
        "groups": groups,
        "form_errors": state.unplaced_errors(names),
        "page_title": k.new_title,
        "has_errors": bool(state.errors),
    }
    return render(request, "customers/new.html", ctx, status=status)


@login_required
def record_delete(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    k = kind_of(kind)
    record = load_record(k, request, pk)
    if not request.user.can_delete:
        raise PermissionDenied(_("your role may not delete records"))
    if request.method == "POST":
        name = str(record)
        try:
            k.delete(actor=request.user, record=record)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        messages.success(request, _("“%(name)s” deleted.") % {"name": name})
        return redirect(k.list_url)
    return render(
        request, "customers/delete.html", {"k": k, "record": record, "page_title": str(record)}
    )
