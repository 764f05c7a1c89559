"""Web pages of the customer base: lists, cards with in-place edit, create/delete, bulk actions,
export, saved views and the administrator's custom fields.

Contacts and companies share every view; a :class:`Kind` says which services, selectors and
columns to use. The views are thin: reads go through the selectors (``visible_to``), writes
through the services, and ServiceValidationError becomes a message next to the input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import linebreaks
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.accounts.selectors import teams, users_active
from voronka.core import services as core_services
from voronka.core.custom_fields import ENTITIES, definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel, CustomField, CustomFieldType, SavedView
from voronka.core.pagination import Page
from voronka.core.text import format_phone
from voronka.core.timeline import timeline
from voronka.customers import display, export, selectors, services
from voronka.customers.display import Column
from voronka.customers.forms import (
    COMPANY_SECTIONS,
    CONTACT_SECTIONS,
    INPUTS,
    ROWS,
    SECTION_TITLES,
    FieldView,
    FormState,
    build_inputs,
    data_from_post,
    initial_values,
    map_errors,
)
from voronka.customers.models import CompanySize


@dataclass(frozen=True)
class Kind:
    """Everything that differs between the contact pages and the company pages."""

    key: str
    entity: str
    spec: selectors.EntitySpec
    sections: dict[str, list[str]]
    list_url: str
    card_url: str
    title: Any
    new_title: Any
    name_sort: str
    get: Callable[..., Any]
    list: Callable[..., Page[Any]]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., None]
    columns: Callable[..., list[Column]]
    table: Callable[..., Any]
    bulk_owner: Callable[..., int]
    bulk_tag: Callable[..., int]
    bulk_delete: Callable[..., int]


KINDS = {
    "contact": Kind(
        key="contact",
        entity=services.CONTACT_ENTITY,
        spec=selectors.CONTACT_SPEC,
        sections=CONTACT_SECTIONS,
        list_url="customers:contacts",
        card_url="customers:contact",
        title=gettext_lazy("Contacts"),
        new_title=gettext_lazy("New contact"),
        name_sort="last_name",
        get=selectors.get_contact_for_user,
        list=selectors.contact_list,
        create=services.contact_create,
        update=lambda **kw: services.contact_update(
            actor=kw["actor"], contact=kw["record"], changes=kw["changes"], channel=Channel.UI
        ),
        delete=lambda **kw: services.contact_delete(
            actor=kw["actor"], contact=kw["record"], channel=Channel.UI
        ),
        columns=display.contact_columns,
        table=export.contact_table,
        bulk_owner=services.contacts_bulk_assign_owner,
        bulk_tag=services.contacts_bulk_tag,
        bulk_delete=services.contacts_bulk_delete,
    ),
    "company": Kind(
        key="company",
        entity=services.COMPANY_ENTITY,
        spec=selectors.COMPANY_SPEC,
        sections=COMPANY_SECTIONS,
        list_url="customers:companies",
        card_url="customers:company",
        title=gettext_lazy("Companies"),
        new_title=gettext_lazy("New company"),
        name_sort="name",
        get=selectors.get_company_for_user,
        list=selectors.company_list,
        create=services.company_create,
        update=lambda **kw: services.company_update(
            actor=kw["actor"], company=kw["record"], changes=kw["changes"], channel=Channel.UI
        ),
        delete=lambda **kw: services.company_delete(
            actor=kw["actor"], company=kw["record"], channel=Channel.UI
        ),
        columns=display.company_columns,
        table=export.company_table,
        bulk_owner=services.companies_bulk_assign_owner,
        bulk_tag=services.companies_bulk_tag,
        bulk_delete=services.companies_bulk_delete,
    ),
}


def _kind(kind: str) -> Kind:
    return KINDS[kind]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _load(k: Kind, request: HttpRequest, pk: int, *, write: bool = False) -> Any:
    """The record if this user may see it (404 otherwise) and, with ``write``, change it."""
    try:
        return k.get(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


def _qs(params: QueryDict, drop: tuple[str, ...] = (), **set_: str) -> str:
    """The query string of ``params`` with some names dropped or replaced."""
    q = params.copy()
    for name in drop + tuple(set_):
        q.pop(name, None)
    for name, value in set_.items():
        if value:
            q[name] = value
    return q.urlencode()


def _urls(k: Kind) -> dict[str, str]:
    return {
        "list": reverse(k.list_url),
        "new": reverse(f"customers:{k.key}_new"),
        "bulk": reverse(f"customers:{k.key}_bulk"),
        "export": reverse(f"customers:{k.key}_export"),
        "view_create": reverse(f"customers:{k.key}_view_create"),
    }


def _choices(k: Kind, user: Any, record: Any = None) -> dict[str, list[tuple[str, Any]]]:
    owners = [("", "—")] + [
        (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
    ]
    choices: dict[str, list[tuple[str, Any]]] = {"owner_id": owners}
    if k.key == "contact":
        companies = list(selectors.companies_visible_to(user).order_by("name", "id")[:500])
        current = getattr(record, "company", None)
        if current is not None and current not in companies:
            companies.insert(0, current)
        choices["company_id"] = [("", "—")] + [(str(c.pk), c.name) for c in companies]
    return choices


# --- lists -----------------------------------------------------------------------------------


def _chosen_columns(params: QueryDict, columns: list[Column]) -> list[Column]:
    raw = [part for value in params.getlist("cols") for part in value.split(",") if part]
    if not raw:
        return [c for c in columns if c.default]
    wanted = set(raw)
    return [c for c in columns if c.key in wanted]


def _filter_inputs(
    k: Kind, user: Any, params: QueryDict, errors: dict[str, list[str]], fields: list[CustomField]
) -> list[FieldView]:
    """The filter panel: one input per filter the selectors understand, custom fields too."""
    any_yes_no = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
    owners = [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
    owners += [
        (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
    ]
    spec: list[tuple[str, Any, str, list[tuple[str, Any]]]] = [
        ("owner", _("Owner"), "select", owners),
        ("team", _("Team"), "select", [("", _("Any"))] + [(str(t.pk), t.name) for t in teams()]),
        ("tag", _("Tag"), "text", []),
    ]
    if k.key == "contact":
        spec += [
            ("source", _("Source"), "text", []),
            ("has_email", _("Has an e-mail"), "select", any_yes_no),
            ("email_consent", _("Agrees to e-mail marketing"), "select", any_yes_no),
            ("sms_consent", _("Agrees to SMS marketing"), "select", any_yes_no),
        ]
        if params.get("company"):
            spec.append(("company", _("Company id"), "text", []))
    else:
        spec += [
            ("industry", _("Industry"), "text", []),
            ("region", _("Region"), "text", []),
            ("size", _("Size"), "select", [("", _("Any")), *CompanySize.choices]),
            ("inn", _("INN / tax id"), "text", []),
        ]
    spec += [
        ("created_from", _("Created from"), "date", []),
        ("created_to", _("Created to"), "date", []),
    ]
    for cf in fields:
        name = f"cf.{cf.key}"
        if cf.type in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
            spec += [
                (f"{name}.gte", _("%(f)s from") % {"f": cf.label}, "number", []),
                (f"{name}.lte", _("%(f)s to") % {"f": cf.label}, "number", []),
            ]
        elif cf.type in (CustomFieldType.DATE, CustomFieldType.DATETIME):
            spec += [
                (f"{name}.gte", _("%(f)s from") % {"f": cf.label}, "date", []),
                (f"{name}.lte", _("%(f)s to") % {"f": cf.label}, "date", []),
            ]
        elif cf.type in (CustomFieldType.SELECT, CustomFieldType.MULTI_SELECT):
            spec.append((name, cf.label, "select", [("", _("Any"))] + [(o, o) for o in cf.options]))
        elif cf.type == CustomFieldType.BOOLEAN:
            spec.append((name, cf.label, "select", any_yes_no))
        else:
            spec.append((name, cf.label, "text", []))
    return [
        FieldView(
            name=name,
            label=label,
            widget=widget,
            value=params.get(name, ""),
            options=options,
            errors=errors.get(name, []),
        )
        for name, label, widget, options in spec
    ]


def _saved_views(k: Kind, user: Any) -> list[SavedView]:
    from django.db.models import Q

    return list(
        SavedView.objects.filter(Q(owner=user) | Q(shared=True), entity=k.entity)
        .select_related("owner")
        .order_by("name", "id")
    )


@login_required
def record_list(request: HttpRequest, kind: str) -> HttpResponse:
    k = _kind(kind)
    user = request.user
    fields = definitions(k.entity)
    all_columns = k.columns(fields)
    columns = _chosen_columns(request.GET, all_columns)
    errors: dict[str, list[str]] = {}
    try:
        query = selectors.parse_list_query(k.spec, request.GET, user)
        page = k.list(user, query)
        sort = query.sort_param
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        page, sort = Page(items=[], next_cursor=None), ""
    rows = [(item, [(col, col.render(item)) for col in columns]) for item in page.items]
    next_url = ""
    if page.next_cursor:
        next_url = "?" + _qs(request.GET, cursor=page.next_cursor)
    headers = [{"label": _("Name"), "key": "name", "sort": k.name_sort, "hide_sm": False}]
    headers += [
        {"label": c.label, "key": c.key, "sort": c.sort, "hide_sm": c.hide_sm} for c in columns
    ]
    for h in headers:
        if h["sort"]:
            h["active"] = sort.lstrip("-") == h["sort"]
            h["desc"] = h["active"] and sort.startswith("-")
            new = f"-{h['sort']}" if h["active"] and not h["desc"] else h["sort"]
            h["url"] = "?" + _qs(request.GET, drop=("cursor",), sort=new)
    filters = _filter_inputs(k, user, request.GET, errors, fields)
    active_filters = sum(1 for f in filters if f.value)
    ctx = {
        "k": k,
        "rows": rows,
        "columns": columns,
        "headers": headers,
        "next_url": next_url,
        "errors": errors,
        "colspan": len(columns) + 2,
        "error_list": [f"{name}: {m}" for name, ms in errors.items() for m in ms],
        "filtered": bool(active_filters or request.GET.get("q")),
        "list_path": reverse(k.list_url),
        "here": request.get_full_path(),
        "urls": _urls(k),
        "owners": [
            (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
        ],
    }
    target = request.headers.get("HX-Target", "")
    if _is_htmx(request) and target == "more-row":
        return render(request, "customers/_rows.html", ctx)
    if _is_htmx(request) and target == "list-results":
        return render(request, "customers/_results.html", {**ctx, "fragment": True})
    chosen_keys = {c.key for c in columns}
    keep = QueryDict(mutable=True)
    keep.update(request.GET)
    ctx.update(
        {
            "headers": headers,
            "filters": filters,
            "active_filters": active_filters,
            "q": request.GET.get("q", ""),
            "sort": request.GET.get("sort", ""),
            "column_choices": [(c, c.key in chosen_keys) for c in all_columns],
            "cols_param": ",".join(c.key for c in columns),
            "hidden_for_columns": [
                (n, v) for n, vs in request.GET.lists() for v in vs if n not in ("cols", "cursor")
            ],
            "saved_views": [
                {
                    "view": v,
                    "url": saved_view_url(k, v),
                    "delete_url": reverse(f"customers:{k.key}_view_delete", args=[v.pk]),
                    "mine": v.owner_id == user.pk or user.is_admin,
                }
                for v in _saved_views(k, user)
            ],
            "current_view": request.GET.get("view", ""),
            "view_query": _qs(request.GET, drop=("cursor", "cols", "view")),
            "export_query": _qs(request.GET, drop=("cursor", "view")),
            "page_title": k.title,
        }
    )
    return render(request, "customers/list.html", ctx)


@login_required
@require_POST
def record_bulk(request: HttpRequest, kind: str) -> HttpResponse:
    """A bulk action on the selected rows; the services act only on rows the user may see."""
    k = _kind(kind)
    back = _safe_next(request, reverse(k.list_url))
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
    except ValueError:
        ids = []
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("Select at least one row first."))
        return redirect(back)
    try:
        if action == "owner":
            n = k.bulk_owner(
                actor=request.user,
                ids=ids,
                owner_id=request.POST.get("owner_id") or None,
                channel=Channel.UI,
            )
        elif action in ("tag_add", "tag_remove"):
            names = [t.strip() for t in request.POST.get("tag", "").split(",") if t.strip()]
            add, remove = (names, []) if action == "tag_add" else ([], names)
            n = k.bulk_tag(actor=request.user, ids=ids, add=add, remove=remove, channel=Channel.UI)
        elif action == "delete":
            n = k.bulk_delete(actor=request.user, ids=ids, channel=Channel.UI)
        else:
            messages.error(request, _("Choose an action."))
            return redirect(back)
    except ServiceValidationError as exc:
        messages.error(request, "; ".join(e.message for e in exc.errors))
        return redirect(back)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Done: %(n)d records changed.") % {"n": n})
    return redirect(back)


@login_required
def record_export(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Every row of the current filter as CSV or XLSX (not only the page on screen)."""
    k = _kind(kind)
    if not request.user.can_export:
        raise PermissionDenied(_("your role may not export"))
    params = request.GET.copy()
    params.pop("cursor", None)
    try:
        query = selectors.parse_list_query(k.spec, params, request.user)
    except ServiceValidationError as exc:
        return HttpResponse(exc.detail, status=400, content_type="text/plain; charset=utf-8")
    headers, rows = k.table(request.user, query)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    base = f"{k.key}s-{stamp}" if k.key == "contact" else f"companies-{stamp}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            export.write_xlsx(headers, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{base}.xlsx"'
        return response
    streaming = StreamingHttpResponse(
        export.write_csv(headers, rows), content_type="text/csv; charset=utf-8"
    )
    streaming["Content-Disposition"] = f'attachment; filename="{base}.csv"'
    return streaming


@login_required
@require_POST
def saved_view_create(request: HttpRequest, kind: str) -> HttpResponse:
    k = _kind(kind)
    cols = [c for c in request.POST.get("cols", "").split(",") if c]
    query = request.POST.get("query", "")
    try:
        view = core_services.saved_view_create(
            entity=k.entity,
            name=request.POST.get("name", ""),
            query=query,
            columns=cols,
            shared=request.POST.get("shared") == "on",
            actor=request.user,
        )
    except ServiceValidationError as exc:
        messages.error(
            request, _("The view was not saved: %(why)s") % {"why": exc.errors[0].message}
        )
        return redirect(_safe_next(request, reverse(k.list_url)))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(saved_view_url(k, view))


def saved_view_url(k: Kind, view: SavedView) -> str:
    params = QueryDict(view.query, mutable=True)
    if view.columns:
        params["cols"] = ",".join(view.columns)
    params["view"] = str(view.pk)
    return reverse(k.list_url) + "?" + params.urlencode()


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    view = SavedView.objects.filter(pk=pk, entity=k.entity).first()
    if view is None or (view.owner_id != request.user.pk and not view.shared):
        raise Http404("no such view")
    try:
        core_services.saved_view_delete(view=view, actor=request.user)
    except ServiceValidationError as exc:
        messages.error(request, exc.errors[0].message)
    else:
        messages.success(request, _("View deleted."))
    return redirect(reverse(k.list_url))


# --- cards -----------------------------------------------------------------------------------


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
    k: Kind, request: HttpRequest, record: Any, name: str, *, state: FormState | None = None
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
            names, state, custom_fields=fields, choices=_choices(k, request.user, record)
        )
        ctx["form_errors"] = state.unplaced_errors(names)
        ctx["editing"] = True
    return ctx


def _user_names(ids: set[Any]) -> dict[int, str]:
    from voronka.accounts.models import User

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


def _timeline_ctx(k: Kind, request: HttpRequest, record: Any) -> dict[str, Any]:
    items = timeline(record)
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
        entries.append({"item": item, "changes": rows})
    return {
        "k": k,
        "record": record,
        "entries": entries,
        "note_url": reverse(f"customers:{k.key}_note", args=[record.pk]),
        "timeline_url": reverse(f"customers:{k.key}_timeline", args=[record.pk]),
    }


@login_required
def record_card(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    record = _load(k, request, pk)
    sections = [_section_ctx(k, request, record, name) for name in k.sections]
    if not definitions(k.entity):
        sections = [s for s in sections if s["name"] != "custom"]
    ctx: dict[str, Any] = {
        "k": k,
        "record": record,
        "sections": sections,
        "urls": _urls(k),
        "page_title": str(record),
    }
    ctx["delete_url"] = reverse(f"customers:{k.key}_delete", args=[record.pk])
    ctx.update(_timeline_ctx(k, request, record))
    if k.key == "company":
        ctx["related"] = selectors.company_contacts(request.user, record)
    return render(request, "customers/card.html", ctx)


@login_required
def record_section(request: HttpRequest, kind: str, pk: int, section: str) -> HttpResponse:
    """One card section: its view (``?view=1``), its form (GET) and its save (POST)."""
    k = _kind(kind)
    if section not in k.sections:
        raise Http404("no such section")
    record = _load(k, request, pk, write=request.method == "POST" or "view" not in request.GET)
    htmx = _is_htmx(request)
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
    record = _load(k, request, pk)
    response = render(
        request, "customers/_section.html", {"s": _section_ctx(k, request, record, section)}
    )
    response["HX-Trigger"] = "timeline-changed"
    return response


@login_required
def record_timeline(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    record = _load(k, request, pk)
    return render(request, "customers/_timeline.html", _timeline_ctx(k, request, record))


@login_required
@require_POST
def record_note(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    record = _load(k, request, pk, write=True)
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
    if _is_htmx(request):
        ctx = _timeline_ctx(k, request, record)
        ctx.update({"note_error": note_error, "note_text": text if note_error else ""})
        return render(request, "customers/_timeline.html", ctx)
    if note_error:
        messages.error(request, _("The note was not added: %(why)s") % {"why": note_error})
    return redirect(record.get_absolute_url() + "#timeline")


@login_required
def record_new(request: HttpRequest, kind: str) -> HttpResponse:
    k = _kind(kind)
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
                section, state, custom_fields=fields, choices=_choices(k, request.user)
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
def record_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    record = _load(k, request, pk)
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


# --- custom fields (administrators) ----------------------------------------------------------


def _require_admin(request: HttpRequest) -> None:
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
def custom_fields(request: HttpRequest) -> HttpResponse:
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
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
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
def custom_field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = CustomField.objects.filter(pk=pk).first()
    if field is None:
        raise Http404("no such field")
    label = field.label
    core_services.custom_field_delete(field=field, actor=request.user, channel=Channel.UI)
    messages.success(request, _("Field “%(label)s” deleted.") % {"label": label})
    return redirect("customers:custom_fields")
