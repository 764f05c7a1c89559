"""Users, teams, roles and API keys. A role's scope decides which owned records a user sees."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from voronka.core.visibility import Scope


class Team(models.Model):
    """A group of users; a role with scope "team" sees the records of every member."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleCode(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    HEAD_OF_SALES = "head_of_sales", _("Head of sales")
    SALES_REP = "sales_rep", _("Sales rep")
    MARKETER = "marketer", _("Marketer")
    SUPPORT = "support", _("Support agent")
    READ_ONLY = "read_only", _("Read-only")


class Role(models.Model):
    """What a user may do. The six built-in roles are created by a migration; an administrator
    changes their scope and rights in the UI."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    scope = models.CharField(_("visibility"), max_length=8, choices=Scope.choices)
    is_admin = models.BooleanField(_("administrator"), default=False)
    can_write = models.BooleanField(_("can create and edit"), default=True)
    can_delete = models.BooleanField(_("can delete"), default=False)
    can_export = models.BooleanField(_("can export"), default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return str(RoleCode(self.code).label) if self.code in RoleCode.values else self.name


class User(AbstractUser):
    """A person who logs in. Logs in by username or e-mail."""

    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=[("ru", "Русский"), ("en", "English")], default="ru"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="members",
    )  # fmt: skip
    role = models.ForeignKey(
        Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )  # fmt: skip

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_ci_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def visibility_scope(self) -> str:
        if self.is_superuser:
            return Scope.ALL
        return self.role.scope if self.role_id and self.role else Scope.OWN

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or bool(self.role_id and self.role and self.role.is_admin)

    @property
    def can_write(self) -> bool:
        return self.is_admin or bool(self.role_id and self.role and self.role.can_write)

    @property
    def can_delete(self) -> bool:
        return self.is_admin or bool(self.role_id and self.role and self.role.can_delete)

    @property
    def can_export(self) -> bool:
        return self.is_admin or bool(self.role_id and self.role and self.role.can_export)

    @property
    def can_share_views(self) -> bool:
        return self.is_admin or self.visibility_scope != Scope.OWN

    def team_member_ids(self) -> list[int]:
        cached = getattr(self, "_team_member_ids", None)
        if cached is None:
            cached = list(
                User.objects.filter(team__pk=self.team_id or 0).values_list("id", flat=True)
            )
            if self.pk not in cached:
                cached.append(self.pk)
            self._team_member_ids = cached
        return cached


class ApiKey(models.Model):
    """A bearer key for the API. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=128)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
