"""The administrator's mail pages: the list of mailboxes with their sync status and a
"Sync now" button, and the form to add, change, check and delete a mailbox.

Every action is a plain form post that works without JavaScript; htmx only keeps the page in
place (the row redraws after "Sync now", the check results appear under the form). A stored
password is never put back into the page: its input stays empty, and empty keeps it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from voronka.core import access
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.forms import FieldView, map_errors
from voronka.mail import selectors
from voronka.mail.models import Mailbox, Security
from voronka.mail.services import (
    IMPORT_DAYS,
    ConnectionReport,
    mailbox_create,
    mailbox_delete,
    mailbox_test_connection,
    mailbox_update,
)
from voronka.mail.sync import SyncResult, sync_now

View = Callable[..., HttpResponse]
Errors = dict[str, list[str]]
TEXT = ("name", "address", "imap_host", "imap_port", "imap_security", "imap_username",
        "imap_password", "folder", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
        "smtp_password", "default_owner_id", "import_since")  # fmt: skip


admin_only = access.admin_only(gettext_lazy("only an administrator may manage mailboxes"))


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- the form -----------------------------------------------------------------------------------


@dataclass
class Section:
    key: str
    title: str
    inputs: list[FieldView]


def _owner_options() -> list[tuple[str, Any]]:
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
    return [("", _("nobody"))] + [(str(u.pk), u.get_full_name() or u.username) for u in users]


def _security_options() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Security.choices]


def _password(name: str, label: str, hint: str, errors: Errors, empty_help: str) -> FieldView:
    """A password input: always empty; the help says whether one is stored."""
    if hint:
        help_text = _("Stored (%(hint)s). Leave empty to keep it.") % {"hint": hint}
    else:
        help_text = empty_help
    return FieldView(name, label, "password", "", errors=errors.get(name, []), help=help_text)


def _sections(values: dict[str, Any], errors: Errors, box: Mailbox | None) -> list[Section]:
    def err(name: str) -> list[str]:
        return errors.get(name, [])

    def text(name: str, label: str, widget: str = "text", **kw: Any) -> FieldView:
        return FieldView(name, label, widget, values.get(name, ""), errors=err(name), **kw)

    security = _security_options()
    general = [
        text("name", _("Name"), required=True, help=_("E.g. Sales, Support; shown as the sender's name of replies.")),
        text("address", _("E-mail address"), "email", required=True),
        FieldView("default_owner_id", _("Manager of new conversations"), "select",
                  str(values.get("default_owner_id") or ""), options=_owner_options(),
                  errors=err("default_owner_id"),
                  help=_("Gets the leads this mailbox makes. Empty: the lead assignment rules choose.")),
        text("import_since", _("Import mail since"), "date",
             help=_("Older messages in the folder are left alone. Empty: the whole folder.")),
        FieldView("active", _("Active: check for new mail"), "checkbox", bool(values.get("active"))),
    ]  # fmt: skip
    imap = [
        text("imap_host", _("Server"), required=True, help=_("E.g. imap.yandex.ru")),
        FieldView("imap_security", _("Security"), "select", values.get("imap_security", ""),
                  options=security, errors=err("imap_security")),
        text("imap_port", _("Port"), "number", help=_("Empty: 993 with SSL/TLS, else 143.")),
        text("imap_username", _("Login"), help=_("Empty: the e-mail address.")),
        _password("imap_password", _("Password"), box.imap_password_hint if box else "", errors,
                  _("Gmail, Yandex, Mail.ru: an app password, not the account's own.")),
        text("folder", _("Folder"), help=_("Where new mail arrives; INBOX almost always.")),
    ]  # fmt: skip
    smtp = [
        text("smtp_host", _("Server"), required=True, help=_("E.g. smtp.yandex.ru")),
        FieldView("smtp_security", _("Security"), "select", values.get("smtp_security", ""),
                  options=security, errors=err("smtp_security")),
        text("smtp_port", _("Port"), "number",
             help=_("Empty: 465 with SSL/TLS, 587 with STARTTLS, 25 without.")),
        text("smtp_username", _("Login"), help=_("Empty: the IMAP login.")),
        _password("smtp_password", _("Password"), box.smtp_password_hint if box else "", errors,
                  _("Empty: the IMAP password.")),
    ]  # fmt: skip
    return [
        Section("general", _("Mailbox"), general),
        Section("imap", _("Incoming mail (IMAP)"), imap),
        Section("smtp", _("Outgoing mail (SMTP)"), smtp),
    ]


def _initial(box: Mailbox | None) -> dict[str, Any]:
    if box is None:
        since = timezone.localdate() - dt.timedelta(days=IMPORT_DAYS)
        return {"imap_security": Security.SSL, "smtp_security": Security.SSL, "folder": "INBOX",
                "active": True, "import_since": since.isoformat()}  # fmt: skip
    values: dict[str, Any] = {name: getattr(box, name) for name in TEXT if "password" not in name}
    values["import_since"] = box.import_since.isoformat() if box.import_since else ""
    values["active"] = box.active
    return values


def _posted(request: HttpRequest) -> dict[str, Any]:
    values: dict[str, Any] = {name: request.POST.get(name, "") for name in TEXT}
    values["active"] = request.POST.get("active") == "on"
    return values


def _form_page(
    request: HttpRequest,
    box: Mailbox | None,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    report: ConnectionReport | None = None,
    status: int = 200,
) -> HttpResponse:
    values = _initial(box) if values is None else values
    ctx = {
        "box": box,
        "sections": _sections(values, errors or {}, box),
        "report": report,
        "page_title": box.name if box else _("Add a mailbox"),
    }
    return render(request, "mail/mailbox_form.html", ctx, status=status)


# --- pages --------------------------------------------------------------------------------------


@admin_only
def mailboxes(request: HttpRequest) -> HttpResponse:
    ctx = {"mailboxes": list(selectors.mailboxes()), "page_title": _("Mailboxes")}
    return render(request, "mail/mailboxes.html", ctx)


@admin_only
def mailbox_add(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, None)
    values = _posted(request)
    try:
        box = mailbox_create(actor=request.user, data=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _form_page(request, None, values=values, errors=map_errors(exc, {}), status=400)
    messages.success(
        request,
        _(
            "Mailbox “%(name)s” added. Its mail is fetched within a minute; “Sync now” fetches it at once."
        )
        % {"name": box.name},
    )
    return redirect("mail:mailboxes")


@admin_only
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    box = selectors.get_mailbox(pk)
    if request.method != "POST":
        return _form_page(request, box)
    values = _posted(request)
    try:
        mailbox_update(actor=request.user, mailbox=box, changes=values, channel=Channel.UI)
    except ServiceValidationError as exc:
        return _form_page(request, box, values=values, errors=map_errors(exc, {}), status=400)
    messages.success(request, _("Mailbox “%(name)s” saved.") % {"name": values["name"]})
    return redirect("mail:mailbox_edit", pk=box.pk)


def _test(request: HttpRequest, box: Mailbox | None) -> HttpResponse:
    values = _posted(request)
    try:
        report = mailbox_test_connection(actor=request.user, data=values, mailbox=box)
    except ServiceValidationError as exc:
        errors = map_errors(exc, {})
        if _htmx(request):
            return render(request, "mail/_report.html", {"errors": errors})
        return _form_page(request, box, values=values, errors=errors, status=400)
    if _htmx(request):
        return render(request, "mail/_report.html", {"report": report})
    return _form_page(request, box, values=values, report=report)


@admin_only
@require_POST
def mailbox_test_new(request: HttpRequest) -> HttpResponse:
    """ "Test connection" on the form of a new mailbox: the settings as typed."""
    return _test(request, None)


@admin_only
@require_POST
def mailbox_test(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Test connection" on a mailbox's form: the settings as typed, empty passwords being
    the stored ones."""
    return _test(request, selectors.get_mailbox(pk))


@admin_only
@require_POST
def mailbox_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    box = selectors.get_mailbox(pk)
    name = box.name
    mailbox_delete(actor=request.user, mailbox=box, channel=Channel.UI)
    messages.success(request, _("Mailbox “%(name)s” deleted.") % {"name": name})
    return redirect("mail:mailboxes")


def sync_message(result: SyncResult) -> str:
    if result.busy:
        return _("A sync of this mailbox is running already; look again in a minute.")
    if result.error:
        return _("Sync failed: %(error)s") % {"error": result.error}
    n = result.stored
    text = ngettext("%(n)d new message.", "%(n)d new messages.", n) % {"n": n}
    if result.already:
        n = result.already
        text += " " + ngettext("%(n)d was here already.", "%(n)d were here already.", n) % {"n": n}
    if result.skipped:
        n = result.skipped
        text += " " + ngettext("%(n)d could not be read.", "%(n)d could not be read.", n) % {"n": n}
    if result.more:
        text += " " + _("More is coming with the next sync.")
    return text


@admin_only
@require_POST
def mailbox_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Fetch new mail now; htmx gets the mailbox's row redrawn with the outcome."""
    box = selectors.get_mailbox(pk)
    result = sync_now(box.pk)
    text = sync_message(result)
    if _htmx(request):
        ctx = {"m": selectors.get_mailbox(pk), "result": result, "result_text": text}
        return render(request, "mail/_row.html", ctx)
    level = messages.success if result.ok and not result.skipped else messages.error
    level(request, f"{box.name}: {text}")
    return redirect("mail:mailboxes")


urlpatterns = [
    path("", mailboxes, name="mailboxes"),
    path("add/", mailbox_add, name="mailbox_add"),
    path("add/test/", mailbox_test_new, name="mailbox_test_new"),
    path("<int:pk>/", mailbox_edit, name="mailbox_edit"),
    path("<int:pk>/test/", mailbox_test, name="mailbox_test"),
    path("<int:pk>/sync/", mailbox_sync, name="mailbox_sync"),
    path("<int:pk>/delete/", mailbox_delete_view, name="mailbox_delete"),
]
