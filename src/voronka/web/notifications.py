"""In-app notifications: the bell in the top bar, its drop-down, and the page with all of them.

Reminders (``sales.services.reminders_deliver_due``), mentions and automations write
:class:`~voronka.core.models.Notification` rows; here a user reads only their own, so somebody
else's notification answers 404 like any record one may not see. Opening a notification marks
it read and follows its link."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from voronka.core.errors import ServiceValidationError
from voronka.core.models import Notification
from voronka.core.pagination import SortKey, keyset_page
from voronka.customers.views import AuthedRequest

MENU_LIMIT = 8
PAGE_LIMIT = 50
CHANGED = "vk-notifications-changed"  # htmx event: the bell re-reads its count


# --- reads and writes (plain functions, like the selectors and services of a domain) -------------


def notifications_of(user: Any) -> QuerySet[Notification]:
    """The user's own notifications, newest first: the only ones anybody may read."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def get_notification_for_user(user: Any, pk: Any) -> Notification:
    try:
        return notifications_of(user).get(pk=int(pk))
    except (TypeError, ValueError, Notification.DoesNotExist) as exc:
        raise Http404("no such notification") from exc


def notification_mark_read(*, user: Any, notification: Notification, read: bool = True) -> None:
    """Mark one of the user's notifications read (or unread again)."""
    with transaction.atomic():
        notifications_of(user).filter(pk=notification.pk).update(
            read_at=(notification.read_at or timezone.now()) if read else None
        )


def notifications_mark_all_read(*, user: Any) -> int:
    with transaction.atomic():
        return notifications_of(user).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- views ---------------------------------------------------------------------------------------


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = CHANGED
    return response


def notifications_count(request: HttpRequest) -> HttpResponse:
    """The bell's badge. Polled every minute, so a signed-out tab gets 204 (htmx swaps
    nothing) rather than a redirect to the sign-in page swapped into the top bar."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(
        request, "web/_notifications_count.html", {"vk_unread_count": unread_count(request.user)}
    )


@login_required
def notifications_menu(request: AuthedRequest) -> HttpResponse:
    """The drop-down under the bell: the latest few, read or not."""
    items = list(notifications_of(request.user)[:MENU_LIMIT])
    return render(
        request,
        "web/_notifications_menu.html",
        {"items": items, "unread": unread_count(request.user)},
    )


@login_required
def notifications_page(request: AuthedRequest) -> HttpResponse:
    """Every notification, newest first, a page at a time; ``?show=unread`` filters."""
    unread_only = request.GET.get("show") == "unread"
    qs = notifications_of(request.user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    keys = [SortKey("created_at", True), SortKey("id", True)]
    try:
        page = keyset_page(qs, keys, request.GET.get("cursor") or None, PAGE_LIMIT)
    except ServiceValidationError as exc:
        raise Http404("no such page") from exc
    more = ""
    if page.next_cursor:
        more = "?" + ("show=unread&" if unread_only else "") + f"cursor={page.next_cursor}"
    return render(
        request,
        "web/notifications.html",
        {
            "items": page.items,
            "more_url": more,
            "unread_only": unread_only,
            "unread": unread_count(request.user),
            "paged": bool(request.GET.get("cursor")),
        },
    )


@login_required
def notification_open(request: AuthedRequest, pk: int) -> HttpResponse:
    """Follow a notification's link and mark it read on the way."""
    notification = get_notification_for_user(request.user, pk)
    notification_mark_read(user=request.user, notification=notification)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(reverse("notifications"))


@login_required
@require_POST
def notification_read(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one read (``read=0``: unread again); htmx gets the row back."""
    notification = get_notification_for_user(request.user, pk)
    notification_mark_read(
        user=request.user, notification=notification, read=request.POST.get("read") != "0"
    )
    if not is_htmx(request):
        return redirect(_back(request))
    notification.refresh_from_db()
    return _changed(
        render(request, "web/_notification_row.html", {"n": notification, "page": True})
    )


@login_required
@require_POST
def notifications_read_all(request: AuthedRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    if is_htmx(request) and request.POST.get("from") == "menu":
        return _changed(notifications_menu(request))
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("notifications")
