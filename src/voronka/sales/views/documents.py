"""Quotes and invoices: create from a deal, view, PDF, send, payments, the public quote page,
and the administrators' template editor and company details.

A document is visible exactly when its deal is: every read starts from ``deals_visible_to``.
The public quote page (``q/<token>/``) needs no login; the token is 32 random bytes."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.customers.forms import FieldView
from voronka.customers.views import AuthedRequest, is_htmx
from voronka.sales.models import (
    CompanyProfile,
    Deal,
    DocumentKind,
    DocumentStatus,
    DocumentTemplate,
    SalesDocument,
)
from voronka.sales.selectors import (
    documents_visible_to,
    get_deal_for_user,
    get_document_for_user,
)
from voronka.sales.services.documents import (
    PROFILE_FIELDS,
    TEMPLATE_VARIABLES,
    PdfUnavailable,
    company_profile_update,
    document_context,
    document_create,
    document_pdf,
    document_render_html,
    document_sample_context,
    document_send,
    document_template_create,
    document_template_update,
    email_configured,
    payment_record,
    quote_respond,
    template_render,
)

Errors = dict[str, list[str]]
BADGES: dict[str, str] = {
    DocumentStatus.DRAFT: "text-bg-light",
    DocumentStatus.SENT: "text-bg-info",
    DocumentStatus.ACCEPTED: "text-bg-success",
    DocumentStatus.REJECTED: "text-bg-danger",
    DocumentStatus.ISSUED: "text-bg-primary",
    DocumentStatus.PARTLY_PAID: "text-bg-warning",
    DocumentStatus.PAID: "text-bg-success",
    DocumentStatus.CANCELLED: "text-bg-secondary",
}
OPEN_QUOTE = (DocumentStatus.DRAFT, DocumentStatus.SENT)
PAYMENT_METHODS = [
    gettext_lazy("Bank transfer"),
    gettext_lazy("Card"),
    gettext_lazy("Cash"),
    gettext_lazy("Other"),
]


# --- reads: visibility follows the deal ----------------------------------------------------------


def _load_deal(request: AuthedRequest, pk: int, *, write: bool = False) -> Deal:
    try:
        return get_deal_for_user(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _filter_documents(user: Any, params: QueryDict) -> tuple[QuerySet[SalesDocument], Errors]:
    """The list's filters: kind, status (or "overdue"), q (number, customer, deal)."""
    qs = documents_visible_to(user).select_related("deal", "currency")
    errors: Errors = {}
    kind = params.get("kind", "")
    if kind in DocumentKind.values:
        qs = qs.filter(kind=kind)
    elif kind:
        errors["kind"] = [_("must be quote or invoice")]
    status = params.get("status", "")
    if status == "overdue":
        qs = qs.filter(
            kind=DocumentKind.INVOICE,
            due_date__lt=timezone.localdate(),
            status__in=[DocumentStatus.ISSUED, DocumentStatus.PARTLY_PAID, DocumentStatus.SENT],
        )
    elif status in DocumentStatus.values:
        qs = qs.filter(status=status)
    elif status:
        errors["status"] = [_("no such status")]
    if q := params.get("q", "").strip():
        qs = qs.filter(
            Q(number__icontains=q) | Q(customer_name__icontains=q) | Q(deal__title__icontains=q)
        )
    return qs, errors


def _decorate(docs: list[SalesDocument]) -> list[SalesDocument]:
    """Badge colour and label for each document; an overdue invoice says so."""
    for doc in docs:
        if doc.is_overdue:
            doc.badge_class, doc.badge_label = "text-bg-danger", _("overdue")  # type: ignore[attr-defined]
        else:
            doc.badge_class = BADGES.get(doc.status, "text-bg-light")  # type: ignore[attr-defined]
            doc.badge_label = doc.get_status_display()  # type: ignore[attr-defined]
    return docs


def _deal_url(deal: Deal) -> str:
    """The deal card, or this area's page of the deal's documents while there is no card."""
    try:
        return deal.get_absolute_url()
    except NoReverseMatch:
        return reverse("sales:deal_documents", args=[deal.pk])


def _field(
    name: str, label: Any, widget: str, values: dict[str, Any], errors: Errors, **extra: Any
) -> FieldView:
    return FieldView(
        name=name,
        label=label,
        widget=widget,
        value=values.get(name, ""),
        errors=errors.get(name, []),
        **extra,
    )


def _errors_by_field(exc: ServiceValidationError, placed: set[str]) -> tuple[Errors, list[str]]:
    """Field errors keyed by input name ("to[1]" belongs to "to"); the rest for the form."""
    by_field: Errors = {}
    other: list[str] = []
    for err in exc.errors:
        name = err.field.split("[")[0]
        if name in placed:
            by_field.setdefault(name, []).append(err.message)
        else:
            other.append(err.message)
    return by_field, other


# --- the list ------------------------------------------------------------------------------------


@login_required
def document_list(request: AuthedRequest) -> HttpResponse:
    qs, errors = _filter_documents(request.user, request.GET)
    keys = [SortKey("created_at", True), SortKey("id", True)]
    try:
        page = keyset_page(qs, keys, request.GET.get("cursor") or None, 50)
    except ServiceValidationError:
        page = keyset_page(qs, keys, None, 50)
    more = request.GET.copy()
    more["cursor"] = page.next_cursor or ""
    statuses = [("", _("Any status")), ("overdue", _("overdue")), *DocumentStatus.choices]
    ctx = {
        "page_title": _("Quotes and invoices"),
        "docs": _decorate(page.items),
        "next_url": f"?{more.urlencode()}" if page.next_cursor else "",
        "q": request.GET.get("q", ""),
        "kind": request.GET.get("kind", ""),
        "status": request.GET.get("status", ""),
        "kinds": [("", _("Quotes and invoices")), *DocumentKind.choices],
        "statuses": statuses,
        "errors": [m for ms in errors.values() for m in ms],
        "filtered": any(request.GET.get(n) for n in ("q", "kind", "status")),
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "doc-results":
        return render(request, "sales/docs/_list_results.html", ctx)
    return render(request, "sales/docs/list.html", ctx)


# --- the deal's panel and creating from a deal ---------------------------------------------------


def _panel_ctx(
    request: AuthedRequest, deal: Deal, error: list[str] | None = None
) -> dict[str, Any]:
    docs = list(deal.documents.select_related("currency").order_by("-created_at", "-id"))
    templates: dict[str, list[DocumentTemplate]] = {k: [] for k in DocumentKind.values}
    for template in DocumentTemplate.objects.order_by("-is_default", "name", "id"):
        templates[template.kind].append(template)
    return {
        "deal": deal,
        "deal_url": _deal_url(deal),
        "docs": _decorate(docs),
        "create_forms": [
            (
                DocumentKind.QUOTE.value,
                _("Create quote"),
                "bi-file-earmark-plus",
                templates[DocumentKind.QUOTE],
            ),
            (
                DocumentKind.INVOICE.value,
                _("Create invoice"),
                "bi-receipt",
                templates[DocumentKind.INVOICE],
            ),
        ],
        "can_create": request.user.can_write,
        "panel_errors": error or [],
        "create_url": reverse("sales:deal_document_create", args=[deal.pk]),
    }


@login_required
def deal_documents(request: AuthedRequest, pk: int) -> HttpResponse:
    """The deal card's panel (htmx) or, opened directly, a page of its own."""
    deal = _load_deal(request, pk)
    ctx = _panel_ctx(request, deal)
    if is_htmx(request):
        return render(request, "sales/docs/_deal_panel.html", ctx)
    return render(request, "sales/docs/deal_page.html", ctx)


@login_required
@require_POST
def deal_document_create(request: AuthedRequest, pk: int) -> HttpResponse:
    deal = _load_deal(request, pk, write=True)
    raw_template = request.POST.get("template_id", "")
    try:
        doc = document_create(
            actor=request.user,
            deal=deal,
            kind=request.POST.get("kind", ""),
            template_id=int(raw_template) if raw_template.isdigit() else None,
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        ctx = _panel_ctx(request, deal, [e.message for e in exc.errors])
        if is_htmx(request):
            return render(request, "sales/docs/_deal_panel.html", ctx)
        return render(request, "sales/docs/deal_page.html", ctx, status=400)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("%(doc)s created.") % {"doc": _doc_title(doc)})
    url = reverse("sales:document", args=[doc.pk])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- the document page ---------------------------------------------------------------------------


def _doc_title(doc: SalesDocument) -> str:
    if doc.kind == DocumentKind.QUOTE:
        return _("Quote %(number)s") % {"number": doc.number}
    return _("Invoice %(number)s") % {"number": doc.number}


def _default_recipient(deal: Deal) -> str:
    for contact in deal.contacts.prefetch_related("emails").order_by("id"):
        for email in contact.emails.all():
            return email.email
    return deal.company.email if deal.company_id and deal.company else ""


def _send_initial(request: AuthedRequest, doc: SalesDocument) -> dict[str, Any]:
    profile = CompanyProfile.get()
    signature = "\n".join(p for p in (str(request.user), profile.name) if p)
    what = _doc_title(doc)
    return {
        "to": _default_recipient(doc.deal),
        "subject": f"{what} — {profile.name}" if profile.name else what,
        "message": _("Hello!\n\nPlease find attached: %(what)s.\n\nBest regards,\n%(signature)s")
        % {"what": what, "signature": signature},
    }


def _send_inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    return [
        _field(
            "to",
            _("To"),
            "text",
            values,
            errors,
            required=True,
            help=_("Several addresses: separate them with commas"),
        ),
        _field("subject", _("Subject"), "text", values, errors),
        _field("message", _("Message"), "textarea", values, errors),
    ]


def _payment_inputs(values: dict[str, Any], errors: Errors) -> list[FieldView]:
    methods = [("", "—")] + [(str(m), m) for m in PAYMENT_METHODS]
    return [
        _field("amount", _("Amount"), "money", values, errors, required=True),
        _field("paid_on", _("Paid on"), "date", values, errors),
        _field("method", _("Method"), "select", values, errors, options=methods),
        _field("reference", _("Comment or payment reference"), "text", values, errors),
    ]


def _document_page(
    request: AuthedRequest,
    doc: SalesDocument,
    *,
    send: tuple[dict[str, Any], Errors, list[str]] | None = None,
    payment: tuple[dict[str, Any], Errors, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    preview_error = ""
    try:
        preview = document_render_html(doc)
    except ServiceValidationError as exc:
        preview, preview_error = "", exc.errors[0].message
    send_values, send_errors, send_form_errors = send or (_send_initial(request, doc), {}, [])
    pay_values, pay_errors, pay_form_errors = payment or (
        {"amount": f"{doc.balance:.2f}", "paid_on": timezone.localdate().isoformat()},
        {},
        [],
    )
    public_url = ""
    if doc.kind == DocumentKind.QUOTE:
        public_url = request.build_absolute_uri(
            reverse("sales:public_quote", args=[doc.public_token])
        )
    ctx = {
        "page_title": _doc_title(doc),
        "doc": _decorate([doc])[0],
        "deal_url": _deal_url(doc.deal),
        "preview": preview,
        "preview_error": preview_error,
        "payments": list(doc.payments.select_related("created_by").order_by("paid_on", "id")),
        "send_inputs": _send_inputs(send_values, send_errors),
        "send_form_errors": send_form_errors,
        "send_open": send is not None,
        "payment_inputs": _payment_inputs(pay_values, pay_errors),
        "payment_form_errors": pay_form_errors,
        "payment_open": payment is not None,
        "public_url": public_url,
        "email_ok": email_configured(),
        "can_write": request.user.can_write,
        "answerable": doc.kind == DocumentKind.QUOTE and doc.status in OPEN_QUOTE,
        "payable": doc.kind == DocumentKind.INVOICE
        and doc.status in (DocumentStatus.ISSUED, DocumentStatus.PARTLY_PAID, DocumentStatus.SENT),
    }
    return render(request, "sales/docs/document.html", ctx, status=status)


@login_required
def document_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _document_page(request, get_document_for_user(request.user, pk))


@login_required
def document_pdf_view(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_document_for_user(request.user, pk)
    return _pdf_response(request, doc, fallback=reverse("sales:document", args=[doc.pk]))


def _pdf_response(request: HttpRequest, doc: SalesDocument, *, fallback: str) -> HttpResponse:
    """The PDF, or back to ``fallback`` with the reason when it cannot be made."""
    try:
        pdf = document_pdf(doc)
    except PdfUnavailable as exc:
        messages.error(request, _("The PDF cannot be made here: %(why)s") % {"why": exc})
        return redirect(fallback)
    except ServiceValidationError as exc:
        messages.error(
            request, _("The PDF cannot be made: %(why)s") % {"why": exc.errors[0].message}
        )
        return redirect(fallback)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(
            as_attachment="inline" not in request.GET, filename=f"{doc.number}.pdf"
        )
        or f'attachment; filename="{doc.pk}.pdf"'
    )
    return response


@login_required
@require_POST
def document_send_view(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_document_for_user(request.user, pk, write=True)
    values = {n: request.POST.get(n, "") for n in ("to", "subject", "message")}
    to = [a for a in re.split(r"[,;\s]+", values["to"]) if a]
    try:
        doc = document_send(
            actor=request.user,
            doc=doc,
            to=to,
            subject=values["subject"],
            message=values["message"],
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        errors, other = _errors_by_field(exc, {"to", "subject", "message"})
        return _document_page(request, doc, send=(values, errors, other), status=400)
    except PdfUnavailable as exc:
        return _document_page(request, doc, send=(values, {}, [str(exc)]), status=400)
    messages.success(request, _("Sent to %(to)s.") % {"to": ", ".join(to)})
    return redirect(reverse("sales:document", args=[doc.pk]))


@login_required
@require_POST
def document_payment(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_document_for_user(request.user, pk, write=True)
    values = {
        n: request.POST.get(n, "").strip() for n in ("amount", "paid_on", "method", "reference")
    }
    try:
        payment_record(actor=request.user, doc=doc, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        errors, other = _errors_by_field(exc, set(values))
        return _document_page(request, doc, payment=(values, errors, other), status=400)
    doc.refresh_from_db()
    if doc.status == DocumentStatus.PAID:
        messages.success(request, _("Payment recorded: the invoice is paid."))
    else:
        messages.success(request, _("Payment recorded."))
    return redirect(reverse("sales:document", args=[doc.pk]))


@login_required
@require_POST
def document_respond(request: AuthedRequest, pk: int) -> HttpResponse:
    """A manager marks a quote accepted or rejected (the customer answered by phone, say)."""
    doc = get_document_for_user(request.user, pk, write=True)
    accept = request.POST.get("answer") == "accept"
    try:
        quote_respond(
            doc=doc,
            accept=accept,
            name=str(request.user),
            actor=request.user,
            comment=request.POST.get("comment", ""),
            channel=Channel.UI,
        )
    except ServiceValidationError as exc:
        messages.error(request, "; ".join(e.message for e in exc.errors))
    else:
        messages.success(request, _("Marked as accepted.") if accept else _("Marked as rejected."))
    return redirect(reverse("sales:document", args=[doc.pk]))


# --- the public quote page (no login) -------------------------------------------------------------


def _public_quote(token: str) -> SalesDocument:
    doc = (
        SalesDocument.objects.select_related("deal", "currency", "template")
        .filter(kind=DocumentKind.QUOTE, public_token=token)
        .exclude(status=DocumentStatus.CANCELLED)
        .first()
    )
    if doc is None or not token:
        raise Http404("no such quote")
    return doc


def _private(response: HttpResponse) -> HttpResponse:
    """The token is the only key: keep the page out of caches, other sites' referrers and
    search engines ("same-origin", not "no-referrer": our own form posts need their Origin)."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def public_quote(request: HttpRequest, token: str) -> HttpResponse:
    doc = _public_quote(token)
    values = {"name": "", "comment": ""}
    errors: Errors = {}
    form_errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {n: request.POST.get(n, "").strip() for n in ("name", "comment")}
        try:
            quote_respond(
                doc=doc,
                accept=request.POST.get("answer") == "accept",
                name=values["name"],
                comment=values["comment"],
                actor=None,
            )
        except ServiceValidationError as exc:
            errors, form_errors = _errors_by_field(exc, {"name", "comment"})
            status = 400
            doc.refresh_from_db()
        else:
            return _private(redirect(reverse("sales:public_quote", args=[token])))
    try:
        preview = document_render_html(doc)
    except ServiceValidationError:
        preview = ""
    today = timezone.localdate()
    ctx = {
        "doc": doc,
        "company": CompanyProfile.get(),
        "preview": preview,
        "lines": document_context(doc)["lines"],
        "expired": bool(doc.valid_until and doc.valid_until < today),
        "answerable": doc.status in OPEN_QUOTE
        and not (doc.valid_until and doc.valid_until < today),
        "inputs": [
            _field("name", _("Your name"), "text", values, errors, required=True),
            _field("comment", _("Comment (optional)"), "textarea", values, errors),
        ],
        "form_errors": form_errors,
        "pdf_url": reverse("sales:public_quote_pdf", args=[token]),
    }
    return _private(render(request, "sales/docs/public_quote.html", ctx, status=status))


def public_quote_pdf(request: HttpRequest, token: str) -> HttpResponse:
    doc = _public_quote(token)
    url = reverse("sales:public_quote", args=[token])
    return _private(_pdf_response(request, doc, fallback=url))


# --- administrators: templates and our company's details -----------------------------------------


def _require_admin(request: AuthedRequest) -> None:
    if not request.user.is_admin:
        raise PermissionDenied(_("only an administrator may change this"))


@login_required
def document_templates(request: AuthedRequest) -> HttpResponse:
    """Templates per kind, and a new one made from a copy of the default."""
    _require_admin(request)
    values = {"kind": DocumentKind.QUOTE.value, "name": ""}
    errors: Errors = {}
    status = 200
    if request.method == "POST":
        values = {n: request.POST.get(n, "").strip() for n in ("kind", "name")}
        try:
            template = document_template_create(
                actor=request.user, kind=values["kind"], name=values["name"]
            )
        except ServiceValidationError as exc:
            errors, _other = _errors_by_field(exc, {"kind", "name", "copy_from"})
            status = 400
        else:
            messages.success(request, _("Template created: edit it below."))
            return redirect(reverse("sales:document_template", args=[template.pk]))
    groups = [
        (label, list(DocumentTemplate.objects.filter(kind=kind).order_by("-is_default", "name")))
        for kind, label in (
            (DocumentKind.QUOTE, _("Quotes")),
            (DocumentKind.INVOICE, _("Invoices")),
        )
    ]
    ctx = {
        "page_title": _("Document templates"),
        "groups": groups,
        "inputs": [
            _field("kind", _("Kind"), "select", values, errors, options=DocumentKind.choices),
            _field("name", _("Name"), "text", values, errors, required=True),
        ],
    }
    return render(request, "sales/docs/templates.html", ctx, status=status)


def _preview_sources(user: Any, kind: str) -> list[tuple[str, str]]:
    docs = documents_visible_to(user).filter(kind=kind).order_by("-created_at", "-id")[:20]
    return [("sample", _("Sample data"))] + [
        (str(d.pk), f"{d.number} · {d.customer_name}") for d in docs
    ]


def _preview_context(user: Any, kind: str, source: str) -> dict[str, Any]:
    if source.isdigit():
        doc = documents_visible_to(user).filter(kind=kind, pk=int(source)).first()
        if doc is not None:
            return document_context(doc)
    return document_sample_context(kind)


@login_required
def document_template_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Edit a template's HTML with the variables at hand; preview without saving."""
    _require_admin(request)
    template = DocumentTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404("no such template")
    sources = _preview_sources(request.user, template.kind)
    values: dict[str, Any] = {
        "name": template.name,
        "html": template.html,
        "is_default": template.is_default,
        "source": sources[min(1, len(sources) - 1)][0],
    }
    errors: Errors = {}
    form_errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "html": request.POST.get("html", ""),
            "is_default": request.POST.get("is_default") == "on",
            "source": request.POST.get("source", "sample"),
        }
        if request.POST.get("action") == "save":
            try:
                document_template_update(
                    actor=request.user,
                    template=template,
                    html=values["html"],
                    name=values["name"],
                    is_default=values["is_default"],
                )
            except ServiceValidationError as exc:
                errors, form_errors = _errors_by_field(exc, {"name", "html", "is_default"})
                status = 400
            else:
                messages.success(request, _("Template saved."))
                return redirect(reverse("sales:document_template", args=[template.pk]))
    preview = ""
    if not errors.get("html"):
        try:
            ctx = _preview_context(request.user, template.kind, str(values["source"]))
            preview = template_render(values["html"], ctx)
        except ServiceValidationError as exc:
            errors["html"] = [exc.errors[0].message]
            status = 400
    ctx = {
        "page_title": template.name,
        "template": template,
        "inputs": [
            _field("name", _("Name"), "text", values, errors, required=True),
            _field(
                "is_default",
                _("Default for new documents of this kind"),
                "checkbox",
                values,
                errors,
            ),
        ],
        "html_value": values["html"],
        "html_errors": errors.get("html", []),
        "form_errors": form_errors,
        "source": values["source"],
        "sources": sources,
        "variables": TEMPLATE_VARIABLES,
        "html_help": _(
            "Django template language: {{ variable }}, {% for … %}…{% endfor %}, "
            '{% if … %}…{% endif %}. floatformat:"2g" formats money, date:"d.m.Y" dates.'
        ),
        "preview": preview,
    }
    return render(request, "sales/docs/template_edit.html", ctx, status=status)


PROFILE_LABELS: dict[str, Any] = {
    "name": gettext_lazy("Name"),
    "legal_name": gettext_lazy("Legal name"),
    "inn": gettext_lazy("INN / VAT number"),
    "kpp": gettext_lazy("KPP"),
    "ogrn": gettext_lazy("OGRN"),
    "address": gettext_lazy("Address"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("E-mail"),
    "bank_name": gettext_lazy("Bank"),
    "bic": gettext_lazy("BIC"),
    "account": gettext_lazy("Account"),
    "corr_account": gettext_lazy("Correspondent account"),
    "director": gettext_lazy("Director"),
}
PROFILE_GROUPS = [
    (gettext_lazy("Company"), ["name", "legal_name", "inn", "kpp", "ogrn", "director"]),
    (gettext_lazy("Contacts"), ["address", "phone", "email"]),
    (gettext_lazy("Bank details"), ["bank_name", "bic", "account", "corr_account"]),
]


@login_required
def company_profile(request: AuthedRequest) -> HttpResponse:
    """Our company's details, printed on every quote and invoice."""
    _require_admin(request)
    profile = CompanyProfile.get()
    values = {f: getattr(profile, f) for f in PROFILE_FIELDS}
    errors: Errors = {}
    status = 200
    if request.method == "POST":
        values = {f: request.POST.get(f, "") for f in PROFILE_FIELDS}
        try:
            company_profile_update(actor=request.user, data=values, channel=Channel.UI)
        except ServiceValidationError as exc:
            errors, _other = _errors_by_field(exc, set(PROFILE_FIELDS))
            status = 400
        else:
            messages.success(request, _("Company details saved."))
            return redirect(reverse("sales:company_profile"))
    widgets = {"email": "email", "phone": "tel"}
    groups = [
        (
            title,
            [
                _field(
                    f,
                    PROFILE_LABELS[f],
                    widgets.get(f, "text"),
                    values,
                    errors,
                    required=f == "name",
                )
                for f in names
            ],
        )
        for title, names in PROFILE_GROUPS
    ]
    ctx = {"page_title": _("Company details"), "groups": groups, "has_errors": bool(errors)}
    return render(request, "sales/docs/company.html", ctx, status=status)


urlpatterns: list = [
    path("documents/", document_list, name="documents"),
    path("documents/<int:pk>/", document_detail, name="document"),
    path("documents/<int:pk>/pdf/", document_pdf_view, name="document_pdf"),
    path("documents/<int:pk>/send/", document_send_view, name="document_send"),
    path("documents/<int:pk>/payment/", document_payment, name="document_payment"),
    path("documents/<int:pk>/respond/", document_respond, name="document_respond"),
    path("documents/deal/<int:pk>/", deal_documents, name="deal_documents"),
    path("documents/deal/<int:pk>/create/", deal_document_create, name="deal_document_create"),
    path("documents/templates/", document_templates, name="document_templates"),
    path("documents/templates/<int:pk>/", document_template_edit, name="document_template"),
    path("documents/company/", company_profile, name="company_profile"),
    path("q/<str:token>/", public_quote, name="public_quote"),
    path("q/<str:token>/pdf/", public_quote_pdf, name="public_quote_pdf"),
]
