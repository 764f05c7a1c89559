"""Forms of the sign-in, profile and administration pages.

Forms only parse and check the shape of the input; every write goes through
``voronka.accounts.services`` (the password forms' ``save`` too), so the UI, the API and the
CLI share one set of rules. A service's field errors are put back on the form with
``add_service_errors``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.utils.translation import gettext_lazy as _

from voronka.accounts import selectors
from voronka.accounts.models import Role, Team, User
from voronka.accounts.services import user_set_password
from voronka.core.errors import ServiceValidationError
from voronka.core.visibility import Scope

LANGUAGE_CHOICES = [("ru", "Русский"), ("en", "English")]

# Service field names that differ from the form's.
_FIELD_ALIASES = {"team_id": "team", "role_id": "role", "password": "password1"}


def add_service_errors(form: forms.Form, exc: ServiceValidationError) -> None:
    """Show a service's errors next to the fields they name (or above the form)."""
    for error in exc.errors:
        name = _FIELD_ALIASES.get(error.field, error.field)
        if name in form.fields:
            form.add_error(name, error.message)
        elif error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            form.add_error(None, f"{error.field}: {error.message}")


class BootstrapMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields that failed, so the
    templates render any form with one include (``web/_field.html``)."""

    fields: dict[str, forms.Field]
    errors: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"


class LoginForm(BootstrapMixin, AuthenticationForm):
    """Django's form, but the first field takes a username or an e-mail address."""

    username = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username, e-mail or password. Please try again."),
    }


class ServiceSetPasswordForm(BootstrapMixin, SetPasswordForm):
    """Sets the password through ``user_set_password`` (audited), e.g. after a reset link."""

    def save(self, commit: bool = True) -> Any:
        user_set_password(
            user=self.user, password=self.cleaned_data["new_password1"], actor=self.user
        )
        return self.user


class ResetPasswordForm(BootstrapMixin, PasswordResetForm):
    """Django's reset form (sends the link by e-mail through EMAIL_URL) with our widgets."""


class ServicePasswordChangeForm(BootstrapMixin, PasswordChangeForm):
    """Asks for the old password, then sets the new one through the service."""

    def save(self, commit: bool = True) -> Any:
        user_set_password(
            user=self.user, password=self.cleaned_data["new_password1"], actor=self.user
        )
        return self.user


class ProfileForm(BootstrapMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    middle_name = forms.CharField(label=_("Middle name"), max_length=150, required=False)
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )  # fmt: skip
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)


class _PasswordPairMixin(BootstrapMixin, forms.Form):
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("password1")
            and data.get("password2")
            and data["password1"] != data["password2"]
        ):
            self.add_error("password2", _("The two passwords do not match."))
        return data


def _role_choices() -> list[tuple[str, str]]:
    return [(role.code, str(role)) for role in selectors.roles()]


class UserCreateForm(_PasswordPairMixin):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        help_text=_("Letters, digits and . _ - only. The user can also sign in by e-mail."),
    )  # fmt: skip
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False,
                            widget=forms.EmailInput())  # fmt: skip
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"))
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)

    field_order = ["username", "email", "first_name", "last_name", "role", "team", "language",
                   "password1", "password2"]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field: Any = self.fields["role"]
        role_field.choices = _role_choices()
        team_field: Any = self.fields["team"]
        team_field.queryset = selectors.teams()
        self.fields["role"].initial = "sales_rep"


class UserEditForm(BootstrapMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False,
                            widget=forms.EmailInput())  # fmt: skip
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none(), empty_label=None)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    is_active = forms.BooleanField(
        label=_("Active"), required=False,
        help_text=_("An inactive user cannot sign in; their records stay."),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field: Any = self.fields["role"]
        role_field.queryset = selectors.roles()
        team_field: Any = self.fields["team"]
        team_field.queryset = selectors.teams()

    @staticmethod
    def initial_for(user: User) -> dict[str, Any]:
        return {
            "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "role": user.role_id, "team": user.team_id, "language": user.language,
            "is_active": user.is_active,
        }  # fmt: skip

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "first_name": data["first_name"], "last_name": data["last_name"],
            "email": data["email"], "role_id": data["role"].pk,
            "team_id": data["team"].pk if data["team"] else None,
            "language": data["language"], "is_active": data["is_active"],
        }  # fmt: skip


class SetUserPasswordForm(_PasswordPairMixin):
    """An administrator sets another user's password."""


class TeamForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=128)


class RoleForm(BootstrapMixin, forms.Form):
    scope = forms.ChoiceField(
        label=_("Sees"),
        choices=[
            (Scope.OWN, _("Own records")),
            (Scope.TEAM, _("Team's records")),
            (Scope.ALL, _("All records")),
        ],
    )
    can_write = forms.BooleanField(label=_("Create and edit"), required=False)
    can_delete = forms.BooleanField(label=_("Delete"), required=False)
    can_export = forms.BooleanField(label=_("Export"), required=False)

    @staticmethod
    def initial_for(role: Role) -> dict[str, Any]:
        return {"scope": role.scope, "can_write": role.can_write,
                "can_delete": role.can_delete, "can_export": role.can_export}  # fmt: skip


class ApiKeyForm(BootstrapMixin, forms.Form):
    name = forms.CharField(
        label=_("Key name"), max_length=128, required=False,
        help_text=_("Where the key is used, e.g. “1C sync” or “website form”."),
    )  # fmt: skip
