"""Activities: my day, the task/call/meeting pages, the panels on record cards and the box
that hands out the personal calendar feed.

Views stay thin: the form module turns a POST into service ``data``, the rows module draws
activities with the linked records the viewer may see; reads go through the selectors and
writes through the activity services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.selectors import users_active
from voronka.core.errors import Forbidden, NotFound
from voronka.core.models import Channel
from voronka.core.visibility import owner_ids_visible_to
from voronka.customers.views import AuthedRequest
from voronka.sales import selectors
from voronka.sales.feeds import calendar_feed_token
from voronka.sales.models import Activity, ActivityKind, CalendarFeed
from voronka.sales.services import (
    activity_complete,
    activity_create,
    activity_delete,
    activity_update,
)
from voronka.sales.views.activity_forms import (
    ActivityForm,
    duration_text,
    form_from_post,
    form_inputs,
    initial_values,
    kinds,
    save,
    service_data,
)
from voronka.sales.views.activity_rows import (
    RECORD_KINDS,
    RecordKind,
    RecordLink,
    Row,
    make_rows,
    record_links,
    record_url,
    when_text,
)

PANEL_OPEN_LIMIT = 50
PANEL_DONE_LIMIT = 5


def is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _safe_next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return fallback


def _load(get: Callable[..., Any], request: AuthedRequest, pk: Any, *, write: bool = False) -> Any:
    """A record through its ``get_<entity>_for_user``: 404 if unseen, 403 if read-only."""
    try:
        return get(request.user, pk, write=write)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


# --- my day -------------------------------------------------------------------------------------


def _day_choices(user: Any) -> list[tuple[str, str]]:
    """Whose day this user may look at: the people whose records they see."""
    owners = owner_ids_visible_to(user)
    if owners is not None and len(owners) <= 1:
        return []
    people = users_active().order_by("last_name", "first_name", "id")
    if owners is not None:
        people = people.filter(pk__in=owners)
    return [(str(u.pk), str(u)) for u in people]


def _day_owner(request: AuthedRequest) -> Any:
    raw = request.GET.get("user") or ""
    if not raw or raw == str(request.user.pk):
        return request.user
    owners = owner_ids_visible_to(request.user)
    try:
        pk = int(raw)
    except ValueError as exc:
        raise Http404("no such user") from exc
    if owners is not None and pk not in owners:
        raise Http404("no such user")
    target = users_active().filter(pk=pk).first()
    if target is None:
        raise Http404("no such user")
    return target


def calendar_context(request: AuthedRequest) -> dict[str, Any]:
    token = CalendarFeed.objects.filter(user=request.user).values_list("token", flat=True).first()
    url = request.build_absolute_uri(reverse("sales:calendar_feed", args=[token])) if token else ""
    return {
        "feed_url": url,
        "feed_webcal": "webcal://" + url.split("://", 1)[1] if url else "",
        "feed_manage_url": reverse("sales:calendar_feed_manage"),
    }


@dataclass
class DaySection:
    key: str
    title: str
    rows: list[Row]
    empty: str

    @property
    def count(self) -> int:
        return len(self.rows)


@login_required
def my_day(request: AuthedRequest) -> HttpResponse:
    """Overdue, today and the next seven days of one person; POST adds a task to it."""
    owner = _day_owner(request)
    mine = owner.pk == request.user.pk
    form = ActivityForm(values=initial_values(None, owner_id=owner.pk))
    status = 200
    if request.method == "POST":
        if not request.user.can_write:
            raise PermissionDenied(_("your role is read-only"))
        form = form_from_post(request.POST)
        form.values["owner_id"] = str(owner.pk)
        data = service_data(form, instance=None)
        activity = save(
            form, lambda: activity_create(actor=request.user, data=data, channel=Channel.UI)
        )
        if activity is not None:
            if activity.due_at is None:
                messages.success(
                    request,
                    _("“%(subject)s” added. It has no due time, so it is not listed here.")
                    % {"subject": activity.subject},
                )
            else:
                messages.success(request, _("“%(subject)s” added.") % {"subject": activity.subject})
            here = reverse("sales:my_day") + ("" if mine else f"?user={owner.pk}")
            return redirect(here)
        status = 400
    day = selectors.my_day(owner)
    all_items = [*day.overdue, *day.today, *day.upcoming]
    rows = {
        r.activity.pk: r for r in make_rows(request.user, all_items, with_links=True, owner=owner)
    }
    sections = [
        DaySection("overdue", _("Overdue"), [rows[a.pk] for a in day.overdue],
                   _("Nothing overdue.")),
        DaySection("today", _("Today"), [rows[a.pk] for a in day.today],
                   _("Nothing else due today.")),
        DaySection("upcoming", _("Next 7 days"), [rows[a.pk] for a in day.upcoming],
                   _("Nothing planned for the next seven days.")),
    ]  # fmt: skip
    ctx: dict[str, Any] = {
        "page_title": _("My day") if mine else _("Day of %(name)s") % {"name": owner},
        "owner": owner,
        "mine": mine,
        "sections": sections,
        "empty": not all_items,
        "choices": _day_choices(request.user),
        "form": form,
        "inputs": form_inputs(form, quick=True),
        "kinds": kinds(),
        "here": request.get_full_path(),
        "more_url": reverse("sales:activity_new")
        + "?"
        + urlencode({"next": request.get_full_path()}),
        "today": formats.date_format(timezone.localdate(), "DATE_FORMAT"),
    }
    if mine:
        ctx.update(calendar_context(request))
    return render(request, "sales/activities/my_day.html", ctx, status=status)


@login_required
@require_POST
def calendar_feed_manage(request: AuthedRequest) -> HttpResponse:
    """Create the secret feed URL, or replace it so the old one stops working."""
    calendar_feed_token(user=request.user, rotate=request.POST.get("action") == "rotate")
    if is_htmx(request):
        return render(request, "sales/activities/_calendar.html", calendar_context(request))
    if request.POST.get("action") == "rotate":
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
    return redirect(reverse("sales:my_day") + "#calendar")


# --- one activity --------------------------------------------------------------------------------


def _links_from_query(request: AuthedRequest) -> dict[str, Any]:
    """The records named by ``?deal=5`` etc., each checked against what the user may see."""
    found = {}
    for key, kind in RECORD_KINDS.items():
        raw = request.GET.get(key) or request.POST.get(f"{key}_id") or ""
        if raw:
            found[key] = _load(kind.get, request, raw)
    return found


def _form_page(
    request: AuthedRequest,
    form: ActivityForm,
    *,
    activity: Activity | None,
    links: list[RecordLink],
    hidden_links: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    if activity is None:
        title = _("New activity")
        action = reverse("sales:activity_new")
    else:
        title = _("Edit: %(subject)s") % {"subject": activity.subject}
        action = reverse("sales:activity_edit", args=[activity.pk])
    cancel = _safe_next(
        request,
        reverse("sales:activity", args=[activity.pk])
        if activity
        else (links[0].url if links and links[0].url else reverse("sales:my_day")),
    )
    ctx = {
        "page_title": title,
        "activity": activity,
        "form": form,
        "inputs": form_inputs(form),
        "kinds": kinds(),
        "links": links,
        "hidden_links": hidden_links,
        "action": action,
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "cancel_url": cancel,
    }
    return render(request, "sales/activities/form.html", ctx, status=status)


@login_required
def activity_new(request: AuthedRequest) -> HttpResponse:
    """The full form; ``?deal=5`` (or lead, contact, company) links the new activity."""
    if not request.user.can_write:
        raise PermissionDenied(_("your role is read-only"))
    records = _links_from_query(request)
    hidden = {f"{key}_id": r.pk for key, r in records.items()}
    links = [RecordLink(RECORD_KINDS[k], str(r), record_url(r)) for k, r in records.items()]
    if request.method != "POST":
        kind = request.GET.get("kind", "")
        form = ActivityForm(
            values=initial_values(
                None,
                owner_id=request.user.pk,
                kind=kind if kind in ActivityKind.values else ActivityKind.TASK,
            )
        )
        return _form_page(request, form, activity=None, links=links, hidden_links=hidden)
    form = form_from_post(request.POST)
    data = service_data(form, instance=None)
    data.update(hidden)
    activity = save(
        form, lambda: activity_create(actor=request.user, data=data, channel=Channel.UI)
    )
    if activity is not None:
        messages.success(request, _("“%(subject)s” added.") % {"subject": activity.subject})
        return redirect(_safe_next(request, reverse("sales:activity", args=[activity.pk])))
    return _form_page(request, form, activity=None, links=links, hidden_links=hidden, status=400)


def _activity(request: AuthedRequest, pk: int, *, write: bool = False) -> Activity:
    activity = _load(selectors.get_activity_for_user, request, pk, write=write)
    assert isinstance(activity, Activity)
    return activity


@login_required
def activity_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """What a reminder opens: the activity, what it is about, and done / edit / delete."""
    activity = _activity(request, pk)
    full = (
        Activity.objects.select_related("owner", "contact", "company", "deal", "lead")
        .prefetch_related("participants")
        .get(pk=activity.pk)
    )
    row = make_rows(request.user, [full], with_links=True)[0]
    ctx = {
        "page_title": full.subject,
        "a": full,
        "row": row,
        "remind_text": when_text(full.remind_at),
        "due_text": when_text(full.due_at),
        "starts_text": when_text(full.starts_at),
        "ends_text": when_text(full.ends_at),
        "duration": duration_text(full.call_duration),
        "can_delete": request.user.can_delete or full.owner_id == request.user.pk,
        "here": request.get_full_path(),
    }
    return render(request, "sales/activities/detail.html", ctx)


@login_required
def activity_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk, write=True)
    links = record_links(request.user, [activity]).get(activity.pk, [])
    if request.method != "POST":
        form = ActivityForm(values=initial_values(activity))
        return _form_page(request, form, activity=activity, links=links, hidden_links={})
    form = form_from_post(request.POST)
    data = service_data(form, instance=activity)
    saved = save(
        form,
        lambda: activity_update(
            actor=request.user, activity=activity, changes=data, channel=Channel.UI
        ),
    )
    if saved is not None:
        messages.success(request, _("Saved."))
        return redirect(_safe_next(request, reverse("sales:activity", args=[saved.pk])))
    return _form_page(request, form, activity=activity, links=links, hidden_links={}, status=400)


@login_required
@require_POST
def activity_complete_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark done (``done=1``) or open again (``done=0``); htmx gets the row back."""
    activity = _activity(request, pk, write=True)
    done = request.POST.get("done", "1") != "0"
    try:
        activity = activity_complete(
            actor=request.user, activity=activity, done=done, channel=Channel.UI
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if not is_htmx(request):
        if done:
            messages.success(request, _("“%(subject)s” done.") % {"subject": activity.subject})
        return redirect(_safe_next(request, reverse("sales:activity", args=[activity.pk])))
    with_links = request.POST.get("show_links") == "1"
    activity = Activity.objects.select_related("owner", "contact", "company", "deal", "lead").get(
        pk=activity.pk
    )
    row = make_rows(request.user, [activity], with_links=with_links, owner=request.user)[0]
    row.show_owner = request.POST.get("show_owner") == "1"
    response = render(
        request,
        "sales/activities/_row.html",
        {"row": row, "show_links": with_links, "here": _safe_next(request, "")},
    )
    response["HX-Trigger"] = "timeline-changed"
    return response


@login_required
def activity_delete_view(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = _activity(request, pk)
    if not (request.user.can_delete or activity.owner_id == request.user.pk):
        raise PermissionDenied(_("your role may not delete records"))
    if request.method == "POST":
        subject = activity.subject
        try:
            activity_delete(actor=request.user, activity=activity, channel=Channel.UI)
        except Forbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        messages.success(request, _("“%(subject)s” deleted.") % {"subject": subject})
        return redirect(_safe_next(request, reverse("sales:my_day")))
    ctx = {"page_title": activity.subject, "a": activity, "next": _safe_next(request, "")}
    return render(request, "sales/activities/delete.html", ctx)


# --- the panel on a record card -------------------------------------------------------------------


def record_activities(user: Any, key: str, record: Any) -> tuple[list[Activity], list[Activity]]:
    """The open activities of a record (soonest first, undated last) and the last few done,
    of those the user may see."""
    base = selectors.activities_visible_to(user).filter(**{key: record}).select_related("owner")
    open_ = base.filter(done_at__isnull=True).order_by(F("due_at").asc(nulls_last=True), "id")[
        :PANEL_OPEN_LIMIT
    ]
    done = base.filter(done_at__isnull=False).order_by("-done_at", "-id")[:PANEL_DONE_LIMIT]
    return list(open_), list(done)


def _panel(
    request: AuthedRequest, kind: RecordKind, record: Any, form: ActivityForm | None = None
) -> HttpResponse:
    open_, done = record_activities(request.user, kind.key, record)
    form = form or ActivityForm(values=initial_values(None, owner_id=request.user.pk))
    url = reverse(f"sales:{kind.key}_activities", args=[record.pk])
    ctx = {
        "kind": kind,
        "record": record,
        "panel_id": f"activities-{kind.key}-{record.pk}",
        "panel_url": url,
        "open_rows": make_rows(request.user, open_, with_links=False, owner=request.user),
        "done_rows": make_rows(request.user, done, with_links=False, owner=request.user),
        "form": form,
        "inputs": form_inputs(form, quick=True),
        "kinds": kinds(),
        "new_url": reverse("sales:activity_new")
        + "?"
        + urlencode({kind.key: record.pk, "next": record_url(record)}),
        "here": record_url(record),
        "suffix": f"_{kind.key}{record.pk}",
    }
    return render(request, "sales/activities/_panel.html", ctx)


def record_panel(request: AuthedRequest, key: str, pk: int) -> HttpResponse:
    """GET: the panel; POST: add a task, call or meeting to the record from its quick form."""
    kind = RECORD_KINDS[key]
    record = _load(kind.get, request, pk, write=request.method == "POST")
    if request.method != "POST":
        return _panel(request, kind, record)
    form = form_from_post(request.POST)
    form.values["owner_id"] = form.values["owner_id"] or str(request.user.pk)
    data = service_data(form, instance=None)
    data[f"{key}_id"] = record.pk
    if save(form, lambda: activity_create(actor=request.user, data=data, channel=Channel.UI)):
        if not is_htmx(request):
            return redirect(_safe_next(request, record_url(record) or reverse("sales:my_day")))
        response = _panel(request, kind, record)
        response["HX-Trigger"] = "timeline-changed"
        return response
    response = _panel(request, kind, record, form)
    if not is_htmx(request):
        response.status_code = 400
    return response


def _panel_view(key: str) -> Callable[..., HttpResponse]:
    @login_required
    def view(request: AuthedRequest, pk: int) -> HttpResponse:
        return record_panel(request, key, pk)

    view.__name__ = f"{key}_activities"
    view.__doc__ = f"The activities panel of a {key} card."
    return view


urlpatterns: list = [
    path("my-day/", my_day, name="my_day"),
    path("my-day/calendar/", calendar_feed_manage, name="calendar_feed_manage"),
    path("activities/new/", activity_new, name="activity_new"),
    path("activities/<int:pk>/", activity_detail, name="activity"),
    path("activities/<int:pk>/edit/", activity_edit, name="activity_edit"),
    path("activities/<int:pk>/complete/", activity_complete_view, name="activity_complete"),
    path("activities/<int:pk>/delete/", activity_delete_view, name="activity_delete"),
    *[
        path(f"activities/{key}/<int:pk>/", _panel_view(key), name=f"{key}_activities")
        for key in RECORD_KINDS
    ],
]
