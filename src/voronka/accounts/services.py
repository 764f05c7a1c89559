"""Writes on users, teams, roles and API keys."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.accounts.models import ApiKey, Role, RoleCode, Team, User
from voronka.core import audit, events
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_email
from voronka.core.visibility import Scope

API_KEY_PREFIX = "vk_"


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username, "email": user.email, "first_name": user.first_name,
        "last_name": user.last_name, "team_id": user.team_id, "role_id": user.role_id,
        "language": user.language, "is_active": user.is_active,
    }  # fmt: skip


def _clean_user_fields(errors: Collector, data: dict[str, Any], *, instance: User | None) -> None:
    if "username" in data:
        username = (data["username"] or "").strip()
        if not username:
            errors.add("username", _("this field is required"))
        elif len(username) > 150 or "@" in username or " " in username:
            errors.add("username", _("use letters, digits and . _ - only"))
        elif (
            User.objects.filter(username__iexact=username)
            .exclude(pk=instance.pk if instance else 0)
            .exists()
        ):
            errors.add("username", _("this username is taken"))
        data["username"] = username
    if data.get("email"):
        try:
            data["email"] = normalize_email(data["email"])
        except ValueError as exc:
            errors.add("email", str(exc))
        else:
            taken = User.objects.filter(email__iexact=data["email"]).exclude(
                pk=instance.pk if instance else 0
            )
            if taken.exists():
                errors.add("email", _("this e-mail belongs to another user"))
    if "language" in data and data["language"] not in {"ru", "en"}:
        errors.add("language", _("must be ru or en"))
    if data.get("team_id") and not Team.objects.filter(pk=data["team_id"]).exists():
        errors.add("team_id", _("no such team"))
    if data.get("role_id") and not Role.objects.filter(pk=data["role_id"]).exists():
        errors.add("role_id", _("no such role"))
    for name in ("first_name", "last_name", "middle_name"):
        if len(data.get(name) or "") > 150:
            errors.add(name, _("is longer than %(n)d characters") % {"n": 150})


def user_create(
    *,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    role_code: str = RoleCode.SALES_REP,
    team_id: int | None = None,
    language: str | None = None,
    is_superuser: bool = False,
    actor: Any = None,
    channel: str = Channel.SYSTEM,
) -> User:
    errors = Collector()
    data: dict[str, Any] = {
        "username": username, "email": email, "first_name": first_name.strip(),
        "last_name": last_name.strip(), "team_id": team_id,
        "language": language or settings.LANGUAGE_CODE,
    }  # fmt: skip
    _clean_user_fields(errors, data, instance=None)
    role = Role.objects.filter(code=role_code).first()
    if role is None:
        errors.add("role", _("no such role"))
    if password:
        try:
            validate_password(password, User(username=data["username"], email=data["email"] or ""))
        except DjangoValidationError as exc:
            errors.add("password", " ".join(exc.messages))
    errors.raise_if_any()
    with transaction.atomic():
        user = User(
            username=data["username"], email=data["email"] or "", first_name=data["first_name"],
            last_name=data["last_name"], team_id=team_id, role=role, language=data["language"],
            is_superuser=is_superuser, is_staff=is_superuser,
        )  # fmt: skip
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit.record(
            user, action="create", changes=_user_snapshot(user), actor=actor, channel=channel
        )
        events.publish(
            "user.created", entity="accounts.user", entity_id=user.pk,
            payload={"username": user.username}, actor=actor, channel=channel,
        )  # fmt: skip
    return user


def user_update(
    *, user: User, changes: dict[str, Any], actor: Any, channel: str = Channel.UI
) -> User:
    allowed = {"username", "email", "first_name", "last_name", "middle_name", "team_id", "role_id",
               "language", "is_active"}  # fmt: skip
    errors = Collector()
    for name in changes:
        if name not in allowed:
            errors.add(name, _("unknown field"))
    data = dict(changes)
    _clean_user_fields(errors, data, instance=user)
    if actor is not None and actor.pk == user.pk and data.get("is_active") is False:
        errors.add("is_active", _("you cannot deactivate yourself"))
    errors.raise_if_any()
    before = _user_snapshot(user)
    for name, value in data.items():
        setattr(user, name, value if value is not None or name in {"team_id", "role_id"} else "")
    with transaction.atomic():
        user.save()
        changed = audit.diff(before, _user_snapshot(user))
        if changed:
            audit.record(user, action="update", changes=changed, actor=actor, channel=channel)
            events.publish(
                "user.updated", entity="accounts.user", entity_id=user.pk,
                payload={"changed": sorted(changed)}, actor=actor, channel=channel,
            )  # fmt: skip
    user.__dict__.pop("_team_member_ids", None)
    return user


def user_set_password(*, user: User, password: str, actor: Any = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ServiceValidationError.single("password", " ".join(exc.messages)) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(user, action="update", changes={"password": ["***", "***"]}, actor=actor)


def team_create(*, name: str, actor: Any = None, channel: str = Channel.UI) -> Team:
    name = (name or "").strip()
    if not name:
        raise ServiceValidationError.single("name", _("this field is required"))
    if len(name) > 128:
        raise ServiceValidationError.single(
            "name", _("is longer than %(n)d characters") % {"n": 128}
        )
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name)
            audit.record(
                team, action="create", changes={"name": name}, actor=actor, channel=channel
            )
            events.publish("team.created", entity="accounts.team", entity_id=team.pk,
                           payload={"name": name}, actor=actor, channel=channel)  # fmt: skip
    except IntegrityError as exc:
        raise ServiceValidationError.single("name", _("a team with this name exists")) from exc
    return team


def team_update(*, team: Team, name: str, actor: Any = None, channel: str = Channel.UI) -> Team:
    name = (name or "").strip()
    if not name:
        raise ServiceValidationError.single("name", _("this field is required"))
    if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
        raise ServiceValidationError.single("name", _("a team with this name exists"))
    with transaction.atomic():
        before = team.name
        team.name = name
        team.save(update_fields=["name"])
        audit.record(
            team, action="update", changes={"name": [before, name]}, actor=actor, channel=channel
        )
    return team


def team_delete(*, team: Team, actor: Any = None, channel: str = Channel.UI) -> None:
    with transaction.atomic():
        events.publish("team.deleted", entity="accounts.team", entity_id=team.pk,
                       payload={"name": team.name}, actor=actor, channel=channel)  # fmt: skip
        team.delete()


def role_update(*, role: Role, changes: dict[str, Any], actor: Any = None) -> Role:
    errors = Collector()
    if "scope" in changes and changes["scope"] not in Scope.values:
        errors.add("scope", _("must be own, team or all"))
    for name in changes:
        if name not in {"scope", "can_write", "can_delete", "can_export"}:
            errors.add(name, _("cannot be changed"))
    if role.code == RoleCode.ADMIN and changes.get("scope", Scope.ALL) != Scope.ALL:
        errors.add("scope", _("the administrator always sees everything"))
    errors.raise_if_any()
    before = {k: getattr(role, k) for k in changes}
    with transaction.atomic():
        for name, value in changes.items():
            setattr(role, name, value)
        role.save()
        audit.record(role, action="update", changes=audit.diff(before, changes), actor=actor)
    return role


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def apikey_create(*, user: User, name: str = "", actor: Any = None) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is never stored and cannot be shown again."""
    name = (name or "").strip() or _("API key")
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            user=user, name=name[:128], prefix=raw[:11], key_hash=_hash(raw)
        )
        audit.record(key, action="create", changes={"name": key.name, "prefix": key.prefix},
                     actor=actor or user)  # fmt: skip
    return key, raw


def apikey_revoke(*, key: ApiKey, actor: Any = None) -> ApiKey:
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(key, action="update", changes={"revoked": [False, True]}, actor=actor)
    return key


def apikey_authenticate(raw_key: str) -> User | None:
    """The active user behind a bearer key, recording when the key was last used."""
    if not raw_key or not raw_key.startswith(API_KEY_PREFIX):
        return None
    key = (
        ApiKey.objects.select_related("user", "user__role", "user__team")
        .filter(key_hash=_hash(raw_key), revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user
