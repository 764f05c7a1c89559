"""The shell's own pages: the start page, the global search, the language switch, errors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts.services import user_update
from voronka.accounts.views import set_language_cookie
from voronka.core.models import Channel
from voronka.customers.selectors import company_search, contact_search
from voronka.web.selectors import recent_companies, recent_contacts

SUGGEST_LIMIT = 6  # per kind, in the drop-down under the search box
PAGE_LIMIT = 50  # per kind, on the full results page


def _greeting() -> str:
    hour = timezone.localtime().hour
    if 5 <= hour < 12:
        return _("Good morning")
    if 12 <= hour < 18:
        return _("Good afternoon")
    return _("Good evening")


def _today() -> str:
    """ "Monday, 23 November" / "понедельник, 23 ноября": Russian writes weekdays in lower case."""
    text = date_format(timezone.localdate(), "l, j E")
    return text[:1].lower() + text[1:] if get_language() == "ru" else text


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "web/home.html", {
        "greeting": _greeting(),
        "today": _today(),
        "recent_contacts": recent_contacts(user),
        "recent_companies": recent_companies(user),
    })  # fmt: skip


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Contacts and companies by name, e-mail, phone in any format, company; visibility applied
    by the selectors. htmx asks for the drop-down; a plain GET (Enter) gets the full page."""
    q = request.GET.get("q", "").strip()[:200]
    suggest = request.headers.get("HX-Request") == "true"
    limit = SUGGEST_LIMIT if suggest else PAGE_LIMIT
    contacts = contact_search(request.user, q, limit=limit) if q else []
    companies = company_search(request.user, q, limit=limit) if q else []
    context = {"q": q, "contacts": contacts, "companies": companies, "limit": limit}
    if suggest:
        return render(request, "web/_search_results.html", context)
    return render(request, "web/search.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponseRedirect:
    """Switch the UI language: saved on the user when signed in, and in a cookie always (so the
    sign-in page follows it too)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or request.headers.get("Referer") or reverse("home")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    if language not in {"ru", "en"}:
        return response
    user = request.user
    if user.is_authenticated and user.language != language:  # type: ignore[union-attr]
        user_update(user=user, changes={"language": language}, actor=user, channel=Channel.UI)  # type: ignore[arg-type]
    set_language_cookie(response, language)
    return response
