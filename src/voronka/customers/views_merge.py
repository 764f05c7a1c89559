"""The "Duplicates" page and "Compare and merge": the finder's groups with their reasons, then
the records side by side with a radio per field to choose which value the kept record gets.

Thin like the other customer views: the finder and :func:`voronka.customers.merge.contact_merge`
/ ``company_merge`` do the work; a field error re-renders the form with the message on the
field's row (status 400), and a merge lands on the kept record's card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from voronka.core.custom_fields import definitions
from voronka.core.errors import Forbidden, NotFound, ServiceValidationError
from voronka.core.merging import describe, linked_counts, movers_for
from voronka.core.models import Channel, CustomField, CustomFieldType, Note
from voronka.core.text import format_phone
from voronka.customers import display
from voronka.customers import merge as merging
from voronka.customers.forms import INPUTS, ROWS
from voronka.customers.models import Contact
from voronka.customers.selectors import contacts_visible_to
from voronka.customers.views import AuthedRequest, is_htmx

REASONS: dict[str, dict[str, Any]] = {
    "contact": {
        "email": gettext_lazy("Same e-mail"),
        "phone": gettext_lazy("Same phone"),
        "name": gettext_lazy("Similar name, same company"),
    },
    "company": {
        "inn": gettext_lazy("Same INN"),
        "name": gettext_lazy("Same name"),
        "email": gettext_lazy("Same e-mail"),
        "phone": gettext_lazy("Same phone"),
        "website": gettext_lazy("Same website"),
    },
}
TITLES = {"contact": gettext_lazy("Contacts"), "company": gettext_lazy("Companies")}


def _kind(kind: str) -> merging.MergeKind:
    return merging.KINDS[kind]


def _ids(values: list[str]) -> list[int]:
    """Record ids from ``?ids=1&ids=2`` or ``?ids=1,2``, in order, once each."""
    found: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part.isdigit():
                raise Http404("no such record")
            found.append(int(part))
    return list(dict.fromkeys(found))


def merge_url(kind: str, ids: list[int]) -> str:
    query = QueryDict(mutable=True)
    query.setlist("ids", [str(i) for i in ids])
    return reverse(f"customers:{kind}_merge") + "?" + query.urlencode()


# --- the duplicates page ----------------------------------------------------------------------


def _reason_text(kind: str, reason: tuple[str, str]) -> str:
    name, value = reason
    if name == "phone":
        value = format_phone(value)
    return f"{REASONS[kind][name]}: {value}"


@login_required
def duplicates(request: AuthedRequest, kind: str) -> HttpResponse:
    """Groups of likely duplicates among the records this user can see, newest first."""
    k = _kind(kind)
    reason = request.GET.get("reason", "")
    if reason not in REASONS[kind]:
        reason = ""
    page_raw = request.GET.get("page", "1")
    page_no = int(page_raw) if page_raw.isdigit() and int(page_raw) > 0 else 1
    find = merging.contact_duplicates if k is merging.CONTACT else merging.company_duplicates
    result = find(request.user, reason=reason, page=page_no)
    for g in result.groups:
        for r in g.records:
            raw = [p.phone for p in r.phones.all()] if k is merging.CONTACT else [r.phone]
            r.phones_shown = [format_phone(p) for p in raw if p]
    groups = [
        {
            "records": g.records,
            "reasons": [_reason_text(kind, r) for r in g.reasons],
            "merge_url": merge_url(kind, g.ids[: merging.MAX_RECORDS]),
            "index": (result.page - 1) * merging.PER_PAGE + n,
        }
        for n, g in enumerate(result.groups, start=1)
    ]
    base = reverse(f"customers:{kind}_duplicates")

    def page_url(n: int) -> str:
        query = QueryDict(mutable=True)
        if reason:
            query["reason"] = reason
        if n > 1:
            query["page"] = str(n)
        return base + ("?" + query.urlencode() if query else "")

    ctx = {
        "kind": kind,
        "title": TITLES[kind],
        "groups": groups,
        "result": result,
        "reason": reason,
        "reasons": [("", _("All reasons")), *list(REASONS[kind].items())],
        "base": base,
        "prev_url": page_url(result.page - 1) if result.page > 1 else "",
        "next_url": page_url(result.page + 1) if result.has_next else "",
        "first_index": (result.page - 1) * merging.PER_PAGE + 1,
        "last_index": (result.page - 1) * merging.PER_PAGE + len(groups),
        "tabs": [
            (key, TITLES[key], reverse(f"customers:{key}_duplicates"), key == kind)
            for key in ("contact", "company")
        ],
        "page_title": _("Duplicates"),
        "merge_action": reverse(f"customers:{kind}_merge"),
        "max_records": merging.MAX_RECORDS,
    }
    return render(request, "customers/merge/duplicates.html", ctx)


# --- compare and merge ------------------------------------------------------------------------


def _custom_text(cf: CustomField, value: Any) -> Any:
    if cf.type == CustomFieldType.PHONE and value:
        return format_phone(str(value))
    return display.custom_text(cf, value)


def _shown(record: Any, name: str, fields: dict[str, CustomField]) -> Any:
    """A field's value as the compare table shows it (text; empty is a dash)."""
    value = merging.value_of(record, name)
    if name.startswith("custom."):
        cf = fields.get(name[7:])
        return display.EMPTY if merging.is_empty(value) or cf is None else _custom_text(cf, value)
    if name == "company_id":
        return record.company.name if record.company_id and record.company else display.EMPTY
    if name == "owner_id":
        return str(record.owner) if record.owner_id and record.owner else display.EMPTY
    if name in ("email_consent", "sms_consent"):
        return display.yes_no(value)
    if value in (None, ""):
        return display.EMPTY
    if name == "birthday":
        return display.date_text(value)
    if name == "size":
        return record.get_size_display()
    if name == "phone":
        return format_phone(value)
    return value


def _items_html(name: str, items: list[Any]) -> SafeString | Any:
    if not items:
        return display.EMPTY
    if name == "tags":
        return format_html_join(" ", '<span class="badge text-bg-light border">{}</span>',
                                ((t,) for t in items))  # fmt: skip
    key = {"emails": "email", "phones": "phone", "addresses": "address"}[name]
    return format_html_join(
        "", '<div class="text-break">{}</div>',
        ((format_phone(i[key]) if name == "phones" else i[key],) for i in items),
    )  # fmt: skip


def _label(name: str, fields: dict[str, CustomField]) -> Any:
    if name.startswith("custom."):
        cf = fields.get(name[7:])
        return cf.label if cf else name[7:]
    if name in ROWS:
        return ROWS[name][0]
    return INPUTS[name][0]


def _rows(
    k: merging.MergeKind,
    ordered: list[Any],
    chosen: dict[str, int],
    errors: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of single values (a radio per record where they differ) and rows of lists (shown
    united, no choice)."""
    fields = {cf.key: cf for cf in definitions(k.entity)}
    defaults = merging.default_sources(k, ordered)
    singles = []
    for name in defaults:
        values = [merging.value_of(r, name) for r in ordered]
        if all(merging.is_empty(v) for v in values) and name not in errors:
            continue  # nothing to see or choose
        distinct = {repr(v) for v in values}
        source = chosen.get(name, defaults[name])
        singles.append(
            {
                "name": name,
                "input": f"f.{name}",
                "dom_id": "f-" + name.replace(".", "-"),
                "label": _label(name, fields),
                "cells": [
                    {
                        "record": r,
                        "shown": _shown(r, name, fields),
                        "checked": r.pk == source,
                        "empty": merging.is_empty(merging.value_of(r, name)),
                    }
                    for r in ordered
                ],
                "differs": len(distinct) > 1,
                "errors": errors.get(name, []),
            }
        )
    lists = [
        {
            "name": name,
            "label": _label(name, fields),
            "cells": [
                {"record": r, "html": _items_html(name, merging.list_items(r, name))}
                for r in ordered
            ],
            "differs": len({repr(merging.list_items(r, name)) for r in ordered}) > 1,
            "united": _items_html(name, merging.united(name, ordered)),
            "errors": [
                m for f, ms in errors.items() if f == name or f.startswith(name + "[") for m in ms
            ],
        }
        for name in k.lists
        if any(merging.list_items(r, name) for r in ordered)
    ]
    return singles, lists


NOTES = ngettext_lazy("%(n)d note", "%(n)d notes", "n")
CONTACTS = ngettext_lazy("%(n)d contact", "%(n)d contacts", "n")


def _moving(k: merging.MergeKind, user: Any, losers: list[Any]) -> list[str]:
    """What moves to the kept record ("2 notes", "3 deals"), counting what this user can see."""
    ids = [r.pk for r in losers]
    ct = ContentType.objects.get_for_model(k.model)
    counts: list[tuple[Any, int]] = [
        (NOTES, Note.objects.filter(content_type=ct, object_id__in=ids).count())
    ]
    if k is merging.COMPANY:
        counts.append((CONTACTS, contacts_visible_to(user).filter(company_id__in=ids).count()))
    moving = [str(label % {"n": n}) for label, n in counts if n]
    return moving + [text for text, _n in linked_counts(k.entity, ids, user)]


def _load(k: merging.MergeKind, request: AuthedRequest, ids: list[int]) -> list[Any]:
    try:
        return merging.load_for_merge(k, request.user, ids)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def _error_map(exc: ServiceValidationError) -> dict[str, list[str]]:
    """Field errors by name: "first_name", "custom.region", "emails[2].email"."""
    found: dict[str, list[str]] = {}
    for e in exc.errors:
        found.setdefault(e.field, []).append(e.message)
    return found


@login_required
def merge_compare(request: AuthedRequest, kind: str) -> HttpResponse:
    """GET: the records side by side; POST: merge them into the one chosen to keep."""
    k = _kind(kind)
    source = request.POST if request.method == "POST" else request.GET
    ids = _ids(source.getlist("ids"))
    if not 2 <= len(ids) <= merging.MAX_RECORDS:
        _load(k, request, ids)  # an invisible record is still a 404, a read-only role a 403
        messages.info(
            request,
            _("Choose from %(min)d to %(max)d records to compare.")
            % {"min": 2, "max": merging.MAX_RECORDS},
        )
        return redirect(reverse(f"customers:{kind}_duplicates"))
    records = _load(k, request, ids)
    by_id = {r.pk: r for r in records}
    survivor_raw = source.get("survivor", "")
    survivor_id = int(survivor_raw) if survivor_raw.isdigit() else ids[0]
    if survivor_id not in by_id:
        survivor_id = ids[0]
    ordered = [by_id[survivor_id], *[r for r in records if r.pk != survivor_id]]
    chosen: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values: dict[str, Any] = {}
        for name in request.POST:
            raw = request.POST.get(name, "")
            if name.startswith("f.") and raw.isdigit() and int(raw) in by_id:
                values[name[2:]] = chosen[name[2:]] = int(raw)
        try:
            survivor = (merging.contact_merge if k is merging.CONTACT else merging.company_merge)(
                actor=request.user, survivor_id=survivor_id,
                other_ids=[r.pk for r in ordered[1:]], values=values, channel=Channel.UI,
            )  # fmt: skip
        except ServiceValidationError as exc:
            errors = _error_map(exc)
            status = 400
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        else:
            n = len(ordered) - 1
            text = ngettext(
                "Merged %(n)d record into “%(name)s”.", "Merged %(n)d records into “%(name)s”.", n
            )
            messages.success(request, text % {"n": n, "name": str(survivor)})
            return redirect(survivor.get_absolute_url())
    singles, lists = _rows(k, ordered, chosen, errors)
    placed = {r["name"] for r in singles} | set(k.lists)
    placed |= {f for f in errors if any(f.startswith(n + "[") for n in k.lists)}
    form_errors = [f"{f}: {m}" for f, ms in errors.items() if f not in placed for m in ms]
    ctx = {
        "kind": kind,
        "k": k,
        "title": TITLES[kind],
        "records": ordered,
        "survivor": ordered[0],
        "singles": singles,
        "lists": lists,
        "moving": _moving(k, request.user, ordered[1:]),
        "form_errors": form_errors,
        "has_errors": bool(errors),
        "action": reverse(f"customers:{kind}_merge"),
        "back_url": reverse(f"customers:{kind}_duplicates"),
        "ids": [r.pk for r in records],
        "page_title": _("Compare and merge"),
        "is_contact": isinstance(ordered[0], Contact),
    }
    template = "customers/merge/_form.html" if is_htmx(request) else "customers/merge/compare.html"
    return render(request, template, ctx, status=status)


# --- history --------------------------------------------------------------------------------


def merge_history_rows(entity: str, changes: dict[str, Any]) -> list[tuple[Any, str, str]]:
    """A "merge" history entry as (label, was, now) rows, for the card's timeline table:
    which records were merged in (with their names), where a merged record went, what moved."""
    rows: list[tuple[Any, str, str]] = []
    for merged in changes.get("merged") or []:
        values = merged.get("values") or {}
        parts = (values.get("last_name"), values.get("first_name"), values.get("middle_name"))
        name = " ".join(p for p in parts if p) or values.get("name") or "—"
        rows.append((f"#{merged.get('id')}", name, _("merged into this record")))
    if "merged_into" in changes:
        rows.append((_("Merged into"), "—", f"#{changes['merged_into']}"))
    movers = {m.key: m for m in movers_for(entity)}
    texts = []
    for key, n in (changes.get("moved") or {}).items():
        if key in movers:
            texts.append(describe(movers[key], n))
        else:
            label = {"notes": NOTES, "customers.contacts": CONTACTS}.get(key)
            texts.append(str(label % {"n": n}) if label else f"{n} {key}")
    if texts:
        rows.append((_("Moved here"), "—", ", ".join(texts)))
    return rows
