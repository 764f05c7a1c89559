"""Web pages of the customer base: lists, cards with in-place edit, create/delete, bulk actions,
export, saved views and the administrator's custom fields.

Contacts and companies share every view; a :class:`Kind` says which services, selectors and
columns to use. The views are thin: reads go through the selectors (``visible_to``), writes
through the services, and ServiceValidationError becomes a message next to the input."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
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
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.accounts.models import User
from voronka.accounts.selectors import teams, users_active
from voronka.core import services as core_services
from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel, CustomField, CustomFieldType, SavedView
from voronka.core.pagination import Page
from voronka.customers import display, export, selectors, services
from voronka.customers.display import Column
from voronka.customers.forms import (
    COMPANY_SECTIONS,
    CONTACT_SECTIONS,
    FieldView,
    map_errors,
)
from voronka.customers.models import CompanySize


class AuthedRequest(HttpRequest):
    """A request behind ``login_required``: its user is a signed-in User."""

    user: User  # type: ignore[assignment]


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
    list_page: Callable[..., Page[Any]]
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
        list_page=selectors.contact_list,
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
        list_page=selectors.company_list,
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


def kind_of(kind: str) -> Kind:
    return KINDS[kind]


def is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def load_record(k: Kind, request: AuthedRequest, pk: int, *, write: bool = False) -> Any:
    """The record if this user may see it (404 otherwise) and, with ``write``, change it."""
    try:
        return k.get(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _safe_next(request: AuthedRequest, fallback: str) -> str:
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


def kind_urls(k: Kind) -> dict[str, str]:
    return {
        "list": reverse(k.list_url),
        "new": reverse(f"customers:{k.key}_new"),
        "bulk": reverse(f"customers:{k.key}_bulk"),
        "export": reverse(f"customers:{k.key}_export"),
        "view_create": reverse(f"customers:{k.key}_view_create"),
    }


def input_choices(
    k: Kind, user: Any, values: Mapping[str, Any] | None = None
) -> dict[str, list[tuple[str, Any]]]:
    """Options of the form's selects. The company is a lookup (typed, searched on the server),
    so only the chosen company is given here, for its name."""
    owners = [("", "—")] + [
        (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
    ]
    choices: dict[str, list[tuple[str, Any]]] = {"owner_id": owners}
    if k.key == "contact":
        chosen = str((values or {}).get("company_id") or "")
        company = (
            selectors.companies_visible_to(user).filter(pk=int(chosen)).only("name").first()
            if chosen.isdigit()
            else None
        )
        choices["company_id"] = [(chosen, company.name)] if company else []
    return choices


@login_required
def company_lookup(request: AuthedRequest) -> HttpResponse:
    """Up to 10 companies matching ``q`` for the company picker (visible ones only)."""
    q = request.GET.get("q", "").strip()
    params = {"q": q, "limit": "10"} if q else {"limit": "10"}
    try:
        page = selectors.company_list(
            request.user, selectors.parse_list_query(selectors.COMPANY_SPEC, params, request.user)
        )
        companies = page.items
    except ServiceValidationError:
        companies = []
    return render(request, "customers/_lookup_options.html", {"items": companies, "q": q})


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
def record_list(request: AuthedRequest, kind: str) -> HttpResponse:
    k = kind_of(kind)
    user = request.user
    fields = definitions(k.entity)
    all_columns = k.columns(fields)
    columns = _chosen_columns(request.GET, all_columns)
    errors: dict[str, list[str]] = {}
    try:
        query = selectors.parse_list_query(k.spec, request.GET, user)
        page = k.list_page(user, query)
        sort = query.sort_param
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        page, sort = Page(items=[], next_cursor=None), ""
    rows = [(item, [(col, col.render(item)) for col in columns]) for item in page.items]
    next_url = ""
    if page.next_cursor:
        next_url = "?" + _qs(request.GET, cursor=page.next_cursor)
    headers: list[dict[str, Any]] = [
        {"label": _("Name"), "key": "name", "sort": k.name_sort, "hide_sm": False}
    ]
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
        "urls": kind_urls(k),
        "owners": [
            (str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")
        ],
    }
    target = request.headers.get("HX-Target", "")
    if is_htmx(request) and target == "more-row":
        return render(request, "customers/_rows.html", ctx)
    if is_htmx(request) and target == "list-results":
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
def record_bulk(request: AuthedRequest, kind: str) -> HttpResponse:
    """A bulk action on the selected rows; the services act only on rows the user may see."""
    k = kind_of(kind)
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
def record_export(request: AuthedRequest, kind: str) -> HttpResponseBase:
    """Every row of the current filter as CSV or XLSX (not only the page on screen)."""
    k = kind_of(kind)
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
        return FileResponse(
            export.write_xlsx(headers, rows),
            as_attachment=True,
            filename=f"{base}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    streaming = StreamingHttpResponse(
        export.write_csv(headers, rows), content_type="text/csv; charset=utf-8"
    )
    streaming["Content-Disposition"] = f'attachment; filename="{base}.csv"'
    return streaming


@login_required
@require_POST
def saved_view_create(request: AuthedRequest, kind: str) -> HttpResponse:
    k = kind_of(kind)
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
def saved_view_delete(request: AuthedRequest, kind: str, pk: int) -> HttpResponse:
    k = kind_of(kind)
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
