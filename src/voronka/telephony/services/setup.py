"""The administrator's settings of telephony: PBX integrations, their extensions, and call
tracking numbers. Every write here is an administrator's, recorded in the audit trail.

A secret is kept as typed (a signature cannot be checked against a hash) and never shown
back: the pages and the API show ``secret_hint``, the last four characters. For the generic
format Voronka makes the secret itself and shows it once, in the answer that made it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.text import normalize_phone
from voronka.sales.services.common import clean_fk, require_admin, unknown_fields
from voronka.telephony.models import Extension, PbxIntegration, Provider, TrackingNumber

INTEGRATION_ENTITY = "telephony.pbxintegration"
TRACKING_ENTITY = "telephony.trackingnumber"
INTEGRATION_FIELDS = {"name", "provider", "api_key", "secret", "default_owner_id", "active"}
TRACKING_FIELDS = {"number", "source", "utm_source", "utm_campaign", "default_owner_id"}
SECRET_PREFIX = "vkp_"  # noqa: S105 (a prefix, not a secret)
ERROR_LIMIT = 500


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def _clean_text(
    errors: Collector, data: dict[str, Any], name: str, limit: int, *, required: bool = False
) -> None:
    if name not in data:
        if required:
            errors.add(name, _("this field is required"))
        return
    value = data[name]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(name, _("must be text"))
        return
    value = value.strip()
    if "\x00" in value:
        errors.add(name, _("must not contain the NUL character"))
    elif len(value) > limit:
        errors.add(name, _("is longer than %(n)d characters") % {"n": limit})
    elif required and not value:
        errors.add(name, _("this field is required"))
    data[name] = value


def _active_users() -> Any:
    return get_user_model().objects.filter(is_active=True)


# --- integrations -------------------------------------------------------------------------------


def _clean_integration(
    data: dict[str, Any], *, instance: PbxIntegration | None
) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    unknown_fields(errors, data, INTEGRATION_FIELDS)
    _clean_text(errors, data, "name", 128, required=instance is None or "name" in data)
    _clean_text(errors, data, "api_key", 255)
    _clean_text(errors, data, "secret", 255)
    if instance is None:
        if data.get("provider") not in Provider.values:
            errors.add("provider", _("must be one of: %(options)s")
                       % {"options": ", ".join(Provider.values)})  # fmt: skip
    elif "provider" in data and data["provider"] != instance.provider:
        errors.add("provider", _("cannot be changed: add another integration instead"))
    if "active" in data and not isinstance(data["active"], bool):
        errors.add("active", _("must be true or false"))
    clean_fk(errors, data, "default_owner_id", _active_users(), _("no such active user"))
    if "secret" in data and not data["secret"]:
        del data["secret"]  # empty keeps the stored secret
    provider = instance.provider if instance else data.get("provider")
    api_key = data.get("api_key", instance.api_key if instance else "")
    has_secret = bool(data.get("secret") or (instance and instance.secret))
    if provider == Provider.MANGO and not api_key:
        errors.add("api_key", _("Mango Office needs the API key (vpbx_api_key)"))
    if provider == Provider.MANGO and not has_secret:
        errors.add("secret", _("Mango Office needs the salt (vpbx_api_salt)"))
    if provider == Provider.ZADARMA and not has_secret:
        errors.add("secret", _("Zadarma needs the API secret (the Secret of your API keys)"))
    if data.get("secret") and len(data["secret"]) < 8:
        errors.add("secret", _("is shorter than 8 characters"))
    return data, errors


def _integration_snapshot(integration: PbxIntegration) -> dict[str, Any]:
    return {
        "name": integration.name,
        "provider": integration.provider,
        "api_key": "…" + integration.api_key[-4:] if integration.api_key else "",
        "secret": integration.secret_hint,
        "default_owner_id": integration.default_owner_id,
        "active": integration.active,
    }


def integration_create(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI
) -> tuple[PbxIntegration, str]:
    """A new integration, and the secret made for it when none was given (the generic
    format only; Mango and Zadarma give their own), to show once."""
    require_admin(actor)
    values, errors = _clean_integration(dict(data), instance=None)
    errors.raise_if_any()
    made = ""
    if not values.get("secret"):
        made = values["secret"] = new_secret()
    with transaction.atomic():
        integration = PbxIntegration.objects.create(**values, secret_hint=values["secret"][-4:])
        snapshot = _integration_snapshot(integration)
        audit.record(integration, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish("pbx_integration.created", entity=INTEGRATION_ENTITY,
                       entity_id=integration.pk, payload={"name": integration.name,
                       "provider": integration.provider}, actor=actor, channel=channel)  # fmt: skip
    return integration, made


def integration_update(
    *, actor: Any, integration: PbxIntegration, changes: Mapping[str, Any],
    channel: str = Channel.UI,
) -> PbxIntegration:  # fmt: skip
    """Change the given keys; an empty ``secret`` keeps the stored one."""
    require_admin(actor)
    values, errors = _clean_integration(dict(changes), instance=integration)
    errors.raise_if_any()
    with transaction.atomic():
        integration = PbxIntegration.objects.select_for_update().get(pk=integration.pk)
        before = _integration_snapshot(integration)
        for name, value in values.items():
            setattr(integration, name, value)
        if "secret" in values:
            integration.secret_hint = values["secret"][-4:]
        integration.save()
        changed = audit.diff(before, _integration_snapshot(integration))
        if changed:
            audit.record(integration, action="update", changes=changed, actor=actor,
                         channel=channel)  # fmt: skip
    return integration


def integration_rotate_secret(
    *, actor: Any, integration: PbxIntegration, channel: str = Channel.UI
) -> tuple[PbxIntegration, str]:
    """A new secret made by Voronka (for the generic format); the old one stops at once."""
    require_admin(actor)
    secret = new_secret()
    with transaction.atomic():
        integration.secret = secret
        integration.secret_hint = secret[-4:]
        integration.save(update_fields=["secret", "secret_hint", "updated_at"])
        audit.record(integration, action="update", changes={"secret": "rotated"}, actor=actor,
                     channel=channel)  # fmt: skip
    return integration, secret


def integration_delete(
    *, actor: Any, integration: PbxIntegration, channel: str = Channel.UI
) -> None:
    """The integration and its extensions go; its calls stay in the log."""
    require_admin(actor)
    with transaction.atomic():
        audit.record(integration, action="delete", changes={"name": integration.name},
                     actor=actor, channel=channel)  # fmt: skip
        events.publish("pbx_integration.deleted", entity=INTEGRATION_ENTITY,
                       entity_id=integration.pk, payload={"name": integration.name},
                       actor=actor, channel=channel)  # fmt: skip
        integration.delete()


def integration_record(integration: PbxIntegration, *, error: str = "") -> None:
    """What the integrations page shows: when the PBX last reached us, and what went wrong
    the last time a request was refused. One UPDATE, outside any call's transaction."""
    now = timezone.now()
    if error:
        PbxIntegration.objects.filter(pk=integration.pk).update(
            last_error=error[:ERROR_LIMIT], last_error_at=now
        )
    else:
        PbxIntegration.objects.filter(pk=integration.pk).update(last_event_at=now)


# --- extensions ---------------------------------------------------------------------------------


def extension_set(
    *, actor: Any, integration: PbxIntegration, extension: Any, user_id: Any,
    channel: str = Channel.UI,
) -> Extension:  # fmt: skip
    """Map an internal number of the PBX to a user (replacing an earlier mapping of it)."""
    require_admin(actor)
    data: dict[str, Any] = {"extension": extension, "user_id": user_id}
    errors = Collector()
    _clean_text(errors, data, "extension", 64, required=True)
    if not data.get("user_id"):
        errors.add("user_id", _("this field is required"))
    else:
        clean_fk(errors, data, "user_id", _active_users(), _("no such active user"))
    errors.raise_if_any()
    with transaction.atomic():
        row, _created = Extension.objects.update_or_create(
            integration=integration, extension=data["extension"],
            defaults={"user_id": data["user_id"]},
        )  # fmt: skip
        audit.record(integration, action="update", actor=actor, channel=channel,
                     changes={"extension": [data["extension"], data["user_id"]]})  # fmt: skip
    return row


def extension_delete(*, actor: Any, extension: Extension, channel: str = Channel.UI) -> None:
    require_admin(actor)
    with transaction.atomic():
        audit.record(extension.integration, action="update", actor=actor, channel=channel,
                     changes={"extension": [extension.extension, None]})  # fmt: skip
        extension.delete()


# --- tracking numbers ---------------------------------------------------------------------------


def _clean_tracking(
    data: dict[str, Any], *, instance: TrackingNumber | None
) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    unknown_fields(errors, data, TRACKING_FIELDS)
    new = instance is None
    _clean_text(errors, data, "number", 64, required=new or "number" in data)
    _clean_text(errors, data, "source", 100, required=new or "source" in data)
    _clean_text(errors, data, "utm_source", 255)
    _clean_text(errors, data, "utm_campaign", 255)
    clean_fk(errors, data, "default_owner_id", _active_users(), _("no such active user"))
    if data.get("number"):
        try:
            data["number"] = normalize_phone(data["number"])
        except ValueError:
            errors.add("number", _("not a valid phone number"))
        else:
            taken = TrackingNumber.objects.filter(number=data["number"])
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                errors.add("number", _("this number is already a tracking number"))
    return data, errors


def _tracking_snapshot(t: TrackingNumber) -> dict[str, Any]:
    return {name: getattr(t, name) for name in sorted(TRACKING_FIELDS)}


def _duplicate() -> ServiceValidationError:
    return ServiceValidationError.single("number", _("this number is already a tracking number"))


def tracking_number_create(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI
) -> TrackingNumber:
    require_admin(actor)
    values, errors = _clean_tracking(dict(data), instance=None)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            number = TrackingNumber.objects.create(**values)
            audit.record(number, action="create", changes=_tracking_snapshot(number),
                         actor=actor, channel=channel)  # fmt: skip
    except IntegrityError:
        raise _duplicate() from None  # the same number saved a moment ago by someone else
    return number


def tracking_number_update(
    *, actor: Any, number: TrackingNumber, changes: Mapping[str, Any], channel: str = Channel.UI
) -> TrackingNumber:
    require_admin(actor)
    values, errors = _clean_tracking(dict(changes), instance=number)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            number = TrackingNumber.objects.select_for_update().get(pk=number.pk)
            before = _tracking_snapshot(number)
            for name, value in values.items():
                setattr(number, name, value)
            number.save()
            changed = audit.diff(before, _tracking_snapshot(number))
            if changed:
                audit.record(number, action="update", changes=changed, actor=actor,
                             channel=channel)  # fmt: skip
    except IntegrityError:
        raise _duplicate() from None
    return number


def tracking_number_delete(
    *, actor: Any, number: TrackingNumber, channel: str = Channel.UI
) -> None:
    """The number goes; calls that came through it keep its source name."""
    require_admin(actor)
    with transaction.atomic():
        audit.record(number, action="delete", changes=_tracking_snapshot(number), actor=actor,
                     channel=channel)  # fmt: skip
        number.delete()
