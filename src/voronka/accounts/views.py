"""Pages of the account (profile, password, API keys) and of the administration (users, teams,
roles). Thin: parse a form, call a service, render. The administration answers 404 to anyone
but an administrator, so it does not even admit that it exists."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voronka.accounts import selectors
from voronka.accounts.forms import (
    ApiKeyForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    RoleForm,
    ServicePasswordChangeForm,
    ServiceSetPasswordForm,
    SetUserPasswordForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
    add_service_errors,
)
from voronka.accounts.middleware import LANG_COOKIE
from voronka.accounts.models import RoleCode, User
from voronka.accounts.services import (
    apikey_create,
    apikey_revoke,
    role_update,
    team_create,
    team_delete,
    team_update,
    user_create,
    user_set_password,
    user_update,
)
from voronka.core.errors import ServiceValidationError
from voronka.core.models import Channel

LANG_COOKIE_AGE = 365 * 24 * 3600

View = Callable[..., HttpResponse]


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(LANG_COOKIE, language, max_age=LANG_COOKIE_AGE, samesite="Lax")


def admin_required(view: View) -> View:
    """Signed in and an administrator; anyone else gets the same 404 as a missing page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:  # type: ignore[union-attr]
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


# --- signing in and passwords ----------------------------------------------------------------


LOGIN_MAX_FAILURES = 10  # per login name and address, then a pause
LOGIN_LOCK_SECONDS = 15 * 60


def _login_key(request: HttpRequest) -> str:
    login = (request.POST.get("username") or "").strip().lower()[:254]
    digest = hashlib.sha256(f"{request.META.get('REMOTE_ADDR', '')}|{login}".encode()).hexdigest()
    return f"login-failures:{digest}"


class LoginView(auth_views.LoginView):
    """Sign in by username or e-mail. After LOGIN_MAX_FAILURES wrong passwords for one login
    from one address, that pair must wait LOGIN_LOCK_SECONDS (the cache keeps the count)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if cache.get(_login_key(request), 0) >= LOGIN_MAX_FAILURES:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed attempts. Try again in 15 minutes or "
                                   "reset your password."))  # fmt: skip
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        key = _login_key(self.request)
        cache.add(key, 0, LOGIN_LOCK_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, LOGIN_LOCK_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        cache.delete(_login_key(self.request))
        response = super().form_valid(form)
        set_language_cookie(response, form.get_user().language)
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link cannot sign anyone out."""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = ServicePasswordChangeForm
    success_url = reverse_lazy("accounts:profile")
    extra_context = {"section": "password"}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = ResetPasswordForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = ServiceSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- the user's own pages --------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                user_update(user=user, changes=dict(form.cleaned_data), actor=user,
                            channel=Channel.UI)  # fmt: skip
            except ServiceValidationError as exc:
                add_service_errors(form, exc)
            else:
                response = redirect("accounts:profile")
                set_language_cookie(response, user.language)
                with translation.override(user.language):
                    messages.success(request, _("Your profile has been saved."))
                return response
    else:
        form = ProfileForm(initial={
            "first_name": user.first_name, "last_name": user.last_name,
            "middle_name": user.middle_name, "email": user.email, "language": user.language,
        })  # fmt: skip
    return render(request, "accounts/profile.html", {"form": form, "section": "profile"})


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """The user's keys; a new key's text is shown in this one response and never again."""
    user: User = request.user  # type: ignore[assignment]
    new_key: str | None = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _key, new_key = apikey_create(user=user, name=form.cleaned_data["name"], actor=user)
        form = ApiKeyForm()
    response = render(request, "accounts/api_keys.html", {
        "form": form, "keys": selectors.api_keys_of(user), "new_key": new_key,
        "section": "api_keys",
    })  # fmt: skip
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(selectors.api_keys_of(request.user), pk=pk)  # type: ignore[arg-type]
    apikey_revoke(key=key, actor=request.user)
    messages.success(request, _("The key “%(name)s” has been revoked.") % {"name": key.name})
    return redirect("accounts:api_keys")


# --- administration: users -------------------------------------------------------------------


@admin_required
def users(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/admin/users.html", {
        "users": selectors.users_all(), "section": "users",
    })  # fmt: skip


@admin_required
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = user_create(
                username=data["username"], password=data["password1"], email=data["email"],
                first_name=data["first_name"], last_name=data["last_name"],
                role_code=data["role"], team_id=data["team"].pk if data["team"] else None,
                language=data["language"], actor=request.user, channel=Channel.UI,
            )  # fmt: skip
        except ServiceValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("User %(name)s has been created.") % {"name": created})
            return redirect("accounts:users")
    return render(request, "accounts/admin/user_form.html", {"form": form, "section": "users"})


def _user_or_404(pk: int) -> User:
    return get_object_or_404(selectors.users_all(), pk=pk)


@admin_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = _user_or_404(pk)
    if request.method == "POST":
        form = UserEditForm(request.POST)
        if form.is_valid():
            changes = form.changes()
            if target.pk == request.user.pk and changes["role_id"] != target.role_id:
                role = form.cleaned_data["role"]
                if not role.is_admin:
                    form.add_error("role", _("You cannot take the administrator role from "
                                             "yourself."))  # fmt: skip
            if form.is_valid():
                try:
                    user_update(user=target, changes=changes, actor=request.user,
                                channel=Channel.UI)  # fmt: skip
                except ServiceValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, _("User %(name)s has been saved.") % {"name": target})
                    return redirect("accounts:users")
    else:
        form = UserEditForm(initial=UserEditForm.initial_for(target))
    return render(request, "accounts/admin/user_form.html", {
        "form": form, "target": target, "password_form": SetUserPasswordForm(), "section": "users",
    })  # fmt: skip


@admin_required
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    target = _user_or_404(pk)
    password_form = SetUserPasswordForm(request.POST)
    if password_form.is_valid():
        try:
            user_set_password(user=target, password=password_form.cleaned_data["password1"],
                              actor=request.user)  # fmt: skip
        except ServiceValidationError as exc:
            add_service_errors(password_form, exc)
        else:
            messages.success(
                request, _("The password of %(name)s has been set.") % {"name": target}
            )
            return redirect("accounts:user_edit", pk=target.pk)
    form = UserEditForm(initial=UserEditForm.initial_for(target))
    return render(request, "accounts/admin/user_form.html", {
        "form": form, "target": target, "password_form": password_form, "section": "users",
    }, status=400)  # fmt: skip


# --- administration: teams and roles ---------------------------------------------------------


def _teams_page(
    request: HttpRequest, form: TeamForm, status: int = 200, **extra: Any
) -> HttpResponse:
    teams = selectors.teams().annotate(member_count=Count("members"))
    return render(request, "accounts/admin/teams.html", {
        "teams": teams, "form": form, "section": "teams", **extra,
    }, status=status)  # fmt: skip


@admin_required
def teams(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = team_create(name=form.cleaned_data["name"], actor=request.user,
                               channel=Channel.UI)  # fmt: skip
        except ServiceValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Team %(name)s has been created.") % {"name": team})
            return redirect("accounts:teams")
        return _teams_page(request, form, status=400)
    return _teams_page(request, form)


@admin_required
@require_POST
def team_rename(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.teams(), pk=pk)
    rename_form = TeamForm(request.POST)
    if rename_form.is_valid():
        try:
            team_update(team=team, name=rename_form.cleaned_data["name"], actor=request.user,
                        channel=Channel.UI)  # fmt: skip
        except ServiceValidationError as exc:
            add_service_errors(rename_form, exc)
        else:
            messages.success(request, _("The team has been renamed."))
            return redirect("accounts:teams")
    return _teams_page(request, TeamForm(), status=400, rename_form=rename_form, rename_pk=team.pk)


@admin_required
@require_POST
def team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.teams(), pk=pk)
    name = team.name
    team_delete(team=team, actor=request.user, channel=Channel.UI)
    messages.success(request, _("Team %(name)s has been deleted; its members now have no team.")
                     % {"name": name})  # fmt: skip
    return redirect("accounts:teams")


@admin_required
def roles(request: HttpRequest) -> HttpResponse:
    rows = []
    status = 200
    for role in selectors.roles():
        bound = request.method == "POST" and request.POST.get("role") == str(role.pk)
        form = RoleForm(request.POST if bound else None, prefix=f"r{role.pk}",
                        initial=RoleForm.initial_for(role))  # fmt: skip
        if bound and form.is_valid():
            try:
                role_update(role=role, changes=dict(form.cleaned_data), actor=request.user)
            except ServiceValidationError as exc:
                add_service_errors(form, exc)
                status = 400
            else:
                messages.success(request, _("Role “%(name)s” has been saved.") % {"name": role})
                return redirect("accounts:roles")
        elif bound:
            status = 400
        rows.append((role, form, role.code == RoleCode.ADMIN))
    return render(request, "accounts/admin/roles.html", {"rows": rows, "section": "roles"},
                  status=status)  # fmt: skip
