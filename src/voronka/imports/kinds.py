"""The kinds of records a file may hold, and what differs between them.

Everything else (upload, mapping, preview, dry run, chunks with checkpoints, the report, undo)
is one machinery; a kind only brings its fields, the headers that name them, what must be
mapped, its importer class, and how the pages speak of it. Adding a kind is adding an entry
here, its tables in imports.fields and an importer (see imports.records for per-record ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_lazy, ngettext

from voronka.imports import fields as f
from voronka.imports.fields import Target

CONTACTS = "contacts"
COMPANIES = "companies"
LEADS = "leads"
DEALS = "deals"
PRODUCTS = "products"


def _writer(actor: Any) -> bool:
    return bool(getattr(actor, "can_write", False))


def _catalog_editor(actor: Any) -> bool:
    from voronka.sales.services.catalog import can_edit_catalog

    return can_edit_catalog(actor)


def _price_targets() -> list[Target]:
    """A price column per currency ("Price, USD"), besides the one the currency column sets."""
    from voronka.sales.models import Currency

    return [
        Target(f"price:{code}", gettext("Price, %(code)s") % {"code": code})
        for code in Currency.objects.values_list("code", flat=True)
    ]


def _contact_phone_kind(norm: str, target: str) -> str:
    """A phone header that says whose phone it is ("Рабочий телефон 2", "Home Phone 3")."""
    if target.startswith("phone"):
        if any(w in norm for w in ("work", "business", "рабоч", "служеб")):
            return "phone_work"
        if any(w in norm for w in ("home", "домаш")):
            return "phone_home"
    return target


def _price_currency(norm: str, target: str) -> str:
    """ "Цена, руб." → the RUB price, "Price (USD)" → the USD price."""
    if target != "price":
        return target
    from voronka.sales.models import Currency

    codes = set(Currency.objects.values_list("code", flat=True))
    for word in norm.split():
        for stem, code in f.CURRENCY_WORDS.items():
            if word.startswith(stem) and code in codes:
                return f"price:{code}"
        if word.upper() in codes:
            return f"price:{word.upper()}"
    return target


@dataclass(frozen=True)
class Kind:
    """One kind of record an import creates."""

    key: str
    entity: str  # as audit, events and custom fields name it: "sales.deal"
    importer: str  # dotted path of the importer class
    targets: list[Target]
    headers: dict[str, str]
    keywords: list[tuple[str, str]]
    # Each group needs one of its fields mapped, else the message is shown.
    required: list[tuple[frozenset[str], Any]]
    dedupe_legend: Any  # "When a … with the same … exists"
    list_url: str
    open_label: Any
    hint: Any = ""
    has_custom_fields: bool = True
    extra_targets: Callable[[], list[Target]] | None = None
    # (normalized header, target found by keyword) → a more precise target.
    refine: Callable[[str, str], str] | None = None
    may_import: Callable[[Any], bool] = _writer
    # The service chooses the owner when none is given (leads: assignment rules), so "no
    # owner of new records" is a choice the import offers.
    assigns_owner: bool = False
    not_allowed: Any = ""  # why may_import refused; "" for the read-only role


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            key=CONTACTS, entity="customers.contact",
            importer="voronka.imports.contacts.ContactImporter",
            targets=f.CONTACT_TARGETS, headers=f.CONTACT_HEADERS, keywords=f.CONTACT_KEYWORDS,
            required=[(frozenset(f.NAME_TARGETS), gettext_lazy(
                "Choose the column with the first name, the last name or the full name."))],
            dedupe_legend=gettext_lazy("When a contact with the same e-mail or phone exists"),
            list_url="customers:contacts", open_label=gettext_lazy("Open the contacts"),
            refine=_contact_phone_kind,
        ),
        Kind(
            key=COMPANIES, entity="customers.company",
            importer="voronka.imports.companies.CompanyImporter",
            targets=f.COMPANY_TARGETS, headers=f.COMPANY_HEADERS, keywords=f.COMPANY_KEYWORDS,
            required=[(frozenset({"name"}),
                       gettext_lazy("Choose the column with the company name."))],
            dedupe_legend=gettext_lazy("When a company with the same INN, e-mail or phone exists"),
            list_url="customers:companies", open_label=gettext_lazy("Open the companies"),
        ),
        Kind(
            key=LEADS, entity="sales.lead", importer="voronka.imports.leads.LeadImporter",
            targets=f.LEAD_TARGETS, headers=f.LEAD_HEADERS, keywords=f.LEAD_KEYWORDS,
            required=[(frozenset(f.LEAD_NAME_TARGETS), gettext_lazy(
                "Choose a column with a name, a company, an e-mail or a phone."))],
            dedupe_legend=gettext_lazy(
                "When a lead not yet converted has the same e-mail or phone"),
            list_url="sales:leads", open_label=gettext_lazy("Open the leads"),
            assigns_owner=True,
        ),
        Kind(
            key=DEALS, entity="sales.deal", importer="voronka.imports.deals.DealImporter",
            targets=f.DEAL_TARGETS, headers=f.DEAL_HEADERS, keywords=f.DEAL_KEYWORDS,
            required=[(frozenset({"title"}),
                       gettext_lazy("Choose the column with the deal name."))],
            dedupe_legend=gettext_lazy(
                "When a deal with the same external ID was imported before"),
            list_url="sales:deals", open_label=gettext_lazy("Open the deals"),
            hint=gettext_lazy(
                "Pipelines and stages are found by name; without a pipeline a deal goes to "
                "the default one, without a stage to its first stage. Contacts and companies "
                "are linked when they exist (by e-mail or phone, by INN or name); none is "
                "created."),
        ),
        Kind(
            key=PRODUCTS, entity="sales.product",
            importer="voronka.imports.products.ProductImporter",
            targets=f.PRODUCT_TARGETS, headers=f.PRODUCT_HEADERS, keywords=f.PRODUCT_KEYWORDS,
            required=[
                (frozenset({"sku"}), gettext_lazy("Choose the column with the SKU (article).")),
                (frozenset({"name"}),
                 gettext_lazy("Choose the column with the product name.")),
            ],
            dedupe_legend=gettext_lazy("When a product with the same SKU exists"),
            list_url="sales:products", open_label=gettext_lazy("Open the products"),
            hint=gettext_lazy(
                "A price without a currency is in the base currency. Prices of other "
                "currencies that a product already has are kept."),
            has_custom_fields=False, extra_targets=_price_targets, refine=_price_currency,
            may_import=_catalog_editor,
            not_allowed=gettext_lazy("only administrators and heads of sales may change products"),
        ),
    )
}  # fmt: skip


def kind(key: str) -> Kind:
    return KINDS[key]


def importer_class(key: str) -> Any:
    return import_string(KINDS[key].importer)


def kinds_for(actor: Any) -> list[Kind]:
    """The kinds this user may import, in the order the upload form offers them."""
    return [k for k in KINDS.values() if k.may_import(actor)]


def describe_notes(notes: dict[str, int] | None) -> list[str]:
    """What an import left out, in words ("3 deals were imported without their contact…")."""
    result = []
    for key, count in sorted((notes or {}).items()):
        if not count:
            continue
        if key == "contact_not_found":
            text = ngettext(
                "%(n)d row named a contact that was not found (by e-mail or phone): "
                "imported without it.",
                "%(n)d rows named a contact that was not found (by e-mail or phone): "
                "imported without it.", count)  # fmt: skip
        elif key == "company_not_found":
            text = ngettext(
                "%(n)d row named a company that was not found (by INN or name): "
                "imported without it.",
                "%(n)d rows named a company that was not found (by INN or name): "
                "imported without it.", count)  # fmt: skip
        else:
            text = f"{key}: %(n)d"
        result.append(text % {"n": count})
    return result


__all__ = ["KINDS", "Kind", "describe_notes", "importer_class", "kind", "kinds_for"]
