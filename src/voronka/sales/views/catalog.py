"""The products catalog: a searchable list everyone may read, and forms for those who may
change it (administrators and heads of sales, see ``services.catalog.can_edit_catalog``).

The list is a keyset page ordered by name, so the hundredth page costs what the first does;
search, category and status filters live in the address, so a filtered list can be shared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import Page, SortKey, keyset_page
from voronka.customers.forms import FieldView, map_errors
from voronka.sales.models import Currency, Product, ProductPrice
from voronka.sales.services import product_create, product_update
from voronka.sales.services.catalog import can_edit_catalog

PAGE_SIZE = 50
STATUSES = ("active", "inactive", "all")
VAT_SUGGESTIONS = ("0", "10", "20", "22")
TEXT_FIELDS = ("sku", "name", "unit", "category", "vat_rate", "description")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _require_editor(request: HttpRequest) -> None:
    if not can_edit_catalog(request.user):
        raise PermissionDenied(_("only administrators and heads of sales may change products"))


def _product_or_404(pk: int) -> Product:
    product = _with_prices(Product.objects.filter(pk=pk)).first()
    if product is None:
        raise Http404("no such product")
    return product


# --- reads -------------------------------------------------------------------------------------


def _with_prices(qs: QuerySet[Product]) -> QuerySet[Product]:
    prices = ProductPrice.objects.select_related("currency").order_by(
        "-currency__is_base", "currency_id"
    )
    return qs.prefetch_related(Prefetch("prices", queryset=prices))


def categories() -> list[str]:
    return list(
        Product.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def _matches(q: str) -> Q:
    """Name or SKU contains ``q``, whatever its case. SQLite's LIKE folds only Latin letters,
    so the usual spellings of a Cyrillic word (as typed, lower, upper, capitalised) are tried
    too; PostgreSQL's icontains already folds every alphabet."""
    cond = Q()
    for variant in {q, q.lower(), q.upper(), q[:1].upper() + q[1:].lower()}:
        cond |= Q(name__icontains=variant) | Q(sku__icontains=variant)
    return cond


def product_page(params: Mapping[str, str]) -> Page[Product]:
    """One page of the catalog for ``q`` (name or SKU), ``category``, ``status`` and
    ``cursor``; every user sees the whole catalog."""
    qs = Product.objects.all()
    status = params.get("status") or "active"
    if status == "active":
        qs = qs.filter(active=True)
    elif status == "inactive":
        qs = qs.filter(active=False)
    if category := (params.get("category") or "").strip():
        qs = qs.filter(category=category)
    if q := (params.get("q") or "").strip():
        qs = qs.filter(_matches(q))
    keys = [SortKey("name"), SortKey("id")]
    return keyset_page(_with_prices(qs), keys, params.get("cursor") or None, PAGE_SIZE)


# --- the list ----------------------------------------------------------------------------------


def _query_without_cursor(params: QueryDict, cursor: str | None) -> str:
    q = params.copy()
    q.pop("cursor", None)
    if cursor:
        q["cursor"] = cursor
    return q.urlencode()


@login_required
def products(request: HttpRequest) -> HttpResponse:
    params = request.GET
    status = params.get("status") or "active"
    if status not in STATUSES:
        status = "active"
    error = ""
    try:
        page = product_page({**params.dict(), "status": status})
    except ServiceValidationError:  # a tampered cursor: start again from the top
        page, error = Page(items=[], next_cursor=None), _("That page link is no longer valid.")
    ctx = {
        "page": page,
        "next_query": _query_without_cursor(params, page.next_cursor) if page.next_cursor else "",
        "q": params.get("q", ""),
        "category": params.get("category", ""),
        "status": status,
        "categories": categories(),
        "statuses": [("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))],
        "filtered": bool(params.get("q") or params.get("category") or status != "active"),
        "can_edit": can_edit_catalog(request.user),
        "error": error,
        "page_title": _("Products"),
    }
    target = request.headers.get("HX-Target", "")
    if _is_htmx(request) and target == "product-more":
        return render(request, "sales/catalog/_rows.html", ctx)
    if _is_htmx(request) and target == "product-results":
        return render(request, "sales/catalog/_results.html", ctx)
    return render(request, "sales/catalog/list.html", ctx)


# --- the form ----------------------------------------------------------------------------------


def _values_of(product: Product) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "category": product.category,
        "vat_rate": "" if product.vat_rate is None else f"{product.vat_rate.normalize():f}",
        "description": product.description,
        "active": product.active,
    }
    for price in product.prices.all():
        values[f"prices.{price.currency_id}"] = f"{price.price:f}"
    return values


def _data_from_post(
    post: QueryDict, currencies: list[Currency]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the service's data, the values to show again)."""
    values: dict[str, Any] = {n: post.get(n, "").strip() for n in TEXT_FIELDS}
    values["active"] = post.get("active") in ("on", "true", "1")
    data: dict[str, Any] = dict(values)
    data["prices"] = {}
    for c in currencies:
        raw = post.get(f"prices.{c.code}", "").strip()
        values[f"prices.{c.code}"] = raw
        if raw:
            data["prices"][c.code] = raw
    return data, values


def _inputs(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, FieldView]:
    def f(name: str, label: Any, widget: str = "text", **extra: Any) -> FieldView:
        return FieldView(
            name=name,
            label=label,
            widget=widget,
            value=values.get(name, ""),
            errors=errors.get(name, []),
            **extra,
        )

    return {
        "sku": f("sku", _("SKU"), required=True, help=_("Your article number; unique.")),
        "name": f("name", _("Name"), required=True),
        "unit": f("unit", _("Unit"), help=_("pcs, kg, hour, licence…")),
        "category": f("category", _("Category")),
        "vat_rate": f("vat_rate", _("VAT, %"), "number", help=_("Leave empty if no VAT applies.")),
        "description": f("description", _("Description"), "textarea"),
        "active": f("active", _("Active"), "checkbox"),
    }


def _price_rows(
    currencies: list[Currency], values: dict[str, Any], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    return [
        {
            "currency": c,
            "name": f"prices.{c.code}",
            "id": f"id_price_{c.code}",
            "value": values.get(f"prices.{c.code}", ""),
            "errors": errors.get(f"prices.{c.code}", []),
        }
        for c in currencies
    ]


def _form_page(
    request: HttpRequest,
    product: Product | None,
    values: dict[str, Any],
    errors: dict[str, list[str]],
    currencies: list[Currency],
    status: int = 200,
) -> HttpResponse:
    placed = {*TEXT_FIELDS, "active", *(f"prices.{c.code}" for c in currencies)}
    ctx = {
        "product": product,
        "inputs": _inputs(values, errors),
        "prices": _price_rows(currencies, values, errors),
        "price_errors": errors.get("prices", []),
        "other_errors": [
            m for name, ms in errors.items() if name not in placed | {"prices"} for m in ms
        ],
        "categories": categories(),
        "vat_suggestions": VAT_SUGGESTIONS,
        "page_title": product.name if product else _("New product"),
    }
    return render(request, "sales/catalog/form.html", ctx, status=status)


@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    currencies = list(Currency.objects.order_by("-is_base", "code"))
    values: dict[str, Any] = {"unit": _("pcs"), "active": True}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, values = _data_from_post(request.POST, currencies)
        try:
            product = product_create(actor=request.user, data=data, channel=Channel.UI)
        except ServiceValidationError as exc:
            errors = map_errors(exc, {})
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("Product “%(name)s” created.") % {"name": product.name})
            return redirect("sales:products")
    return _form_page(request, None, values, errors, currencies, status=400 if errors else 200)


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The product's form for editors; everyone else reads its details."""
    product = _product_or_404(pk)
    if not can_edit_catalog(request.user):
        if request.method == "POST":
            raise PermissionDenied(_("only administrators and heads of sales may change products"))
        return render(
            request, "sales/catalog/detail.html", {"product": product, "page_title": product.name}
        )
    currencies = list(Currency.objects.order_by("-is_base", "code"))
    values, errors = _values_of(product), {}
    if request.method == "POST":
        data, values = _data_from_post(request.POST, currencies)
        try:
            product_update(actor=request.user, product=product, changes=data, channel=Channel.UI)
        except ServiceValidationError as exc:
            errors = map_errors(exc, {})
            product.refresh_from_db()
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
            return redirect("sales:products")
    return _form_page(request, product, values, errors, currencies, status=400 if errors else 200)


@login_required
@require_POST
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=false``) or bring back a product. Deals that have it keep it."""
    _require_editor(request)
    product = _product_or_404(pk)
    active = request.POST.get("active") == "true"
    try:
        product_update(
            actor=request.user, product=product, changes={"active": active}, channel=Channel.UI
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": product.name})
    else:
        messages.success(
            request,
            _("“%(name)s” deactivated; deals that have it keep it.") % {"name": product.name},
        )
    return redirect("sales:products")


urlpatterns: list = [
    path("products/", products, name="products"),
    path("products/new/", product_new, name="product_new"),
    path("products/<int:pk>/", product_edit, name="product_edit"),
    path("products/<int:pk>/active/", product_active, name="product_active"),
]
