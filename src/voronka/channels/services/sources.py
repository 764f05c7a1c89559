"""Inbound lead webhooks: sources an administrator makes, and what their URL receives.

A source's URL holds its token; the sender proves itself with the secret (header
``X-Voronka-Secret`` or ``?secret=``). Only the secret's hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.channels.models import InboundLead, LeadSource
from voronka.channels.services.submissions import UTM_KEYS, has_nul
from voronka.core import audit, events
from voronka.core.actors import System
from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.customers.validation import clean_bool, clean_str
from voronka.sales.models import Lead
from voronka.sales.services.common import require_admin, unknown_fields
from voronka.sales.services.leads import LEAD_ENTITY, lead_create

SOURCE_ENTITY = "channels.leadsource"
SECRET_PREFIX = "vks_"  # noqa: S105 (a prefix, not a secret)
SOURCE_FIELDS = {"name", "source", "active"}
# Lead fields a sender may post as they are; "name" and "company" are common aliases.
TEXT_FIELDS = ("first_name", "middle_name", "last_name", "company_name", "inn", "email", "phone",
               "region", "message", *UTM_KEYS)  # fmt: skip
ALIASES = {"company": "company_name", "name": "first_name"}
MESSAGE_LIMIT = 10_000
EXTERNAL_ID_LIMIT = 255


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def secret_matches(source: LeadSource, secret: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a character at a time."""
    return bool(secret) and hmac.compare_digest(_hash(secret), source.secret_hash)


def _clean_source(data: dict[str, Any], *, instance: LeadSource | None) -> Collector:
    errors = Collector()
    unknown_fields(errors, data, SOURCE_FIELDS)
    clean_str(errors, data, "name", 128)
    clean_str(errors, data, "source", 100)
    clean_bool(errors, data, "active")
    if (instance is None or "name" in data) and not data.get("name"):
        errors.add("name", _("this field is required"))
    return errors


def lead_source_create(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI
) -> tuple[LeadSource, str]:
    """A new source and its secret, which is never stored and cannot be shown again."""
    require_admin(actor)
    values = dict(data)
    _clean_source(values, instance=None).raise_if_any()
    secret = _new_secret()
    with transaction.atomic():
        source = LeadSource.objects.create(
            **values, secret_hash=_hash(secret), secret_hint=secret[-4:]
        )
        audit.record(source, action="create", changes={"name": source.name}, actor=actor,
                     channel=channel)  # fmt: skip
        events.publish("lead_source.created", entity=SOURCE_ENTITY, entity_id=source.pk,
                       payload={"name": source.name}, actor=actor, channel=channel)  # fmt: skip
    return source, secret


def lead_source_update(
    *, actor: Any, source: LeadSource, changes: Mapping[str, Any], channel: str = Channel.UI
) -> LeadSource:
    require_admin(actor)
    values = dict(changes)
    _clean_source(values, instance=source).raise_if_any()
    with transaction.atomic():
        source = LeadSource.objects.select_for_update().get(pk=source.pk)
        before = {n: getattr(source, n) for n in sorted(SOURCE_FIELDS)}
        for name, value in values.items():
            setattr(source, name, value)
        source.save()
        changed = audit.diff(before, {n: getattr(source, n) for n in sorted(SOURCE_FIELDS)})
        if changed:
            audit.record(source, action="update", changes=changed, actor=actor, channel=channel)
    return source


def lead_source_rotate_secret(
    *, actor: Any, source: LeadSource, channel: str = Channel.UI
) -> tuple[LeadSource, str]:
    """A new secret; the old one stops working at once."""
    require_admin(actor)
    secret = _new_secret()
    with transaction.atomic():
        source.secret_hash = _hash(secret)
        source.secret_hint = secret[-4:]
        source.save(update_fields=["secret_hash", "secret_hint", "updated_at"])
        audit.record(source, action="update", changes={"secret": "rotated"}, actor=actor,
                     channel=channel)  # fmt: skip
        events.publish("lead_source.secret_rotated", entity=SOURCE_ENTITY, entity_id=source.pk,
                       payload={}, actor=actor, channel=channel)  # fmt: skip
    return source, secret


def lead_source_delete(*, actor: Any, source: LeadSource, channel: str = Channel.UI) -> None:
    """The source and its log of received leads go; the leads stay."""
    require_admin(actor)
    with transaction.atomic():
        audit.record(source, action="delete", changes={"name": source.name}, actor=actor,
                     channel=channel)  # fmt: skip
        events.publish("lead_source.deleted", entity=SOURCE_ENTITY, entity_id=source.pk,
                       payload={"name": source.name}, actor=actor, channel=channel)  # fmt: skip
        source.delete()


# --- receiving --------------------------------------------------------------------------------


def _external_id(errors: Collector, payload: Mapping[str, Any]) -> str:
    raw = payload.get("external_id")
    if raw is None or raw == "":
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        errors.add("external_id", _("must be text or a number"))
        return ""
    text = str(raw).strip()
    if len(text) > EXTERNAL_ID_LIMIT:
        errors.add("external_id", _("is longer than %(n)d characters") % {"n": EXTERNAL_ID_LIMIT})
    return text


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def lead_data_from_payload(
    payload: Mapping[str, Any], *, source_name: str
) -> tuple[dict[str, Any], Collector]:
    """Lead data from a webhook's JSON: known fields as they are, top-level keys that name a
    lead custom field into ``custom``, anything else appended to the message as
    ``key: value`` lines, so nothing the sender said is lost."""
    errors = Collector()
    custom_keys = {cf.key for cf in definitions(LEAD_ENTITY)}
    data: dict[str, Any] = {"source": source_name}
    custom: dict[str, Any] = {}
    extras: list[str] = []
    # Exact names first, so "first_name" wins over the alias "name" wherever it stands.
    for key, value in sorted(payload.items(), key=lambda item: item[0] in ALIASES):
        if key == "external_id" or value is None:
            continue
        target = ALIASES.get(key, key)
        if target in TEXT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                errors.add(key, _("must be text"))
            elif data.get(target):
                extras.append(f"{key}: {_shown(value)}")
            else:
                data[target] = str(value)
        elif key == "custom":
            if not isinstance(value, Mapping):
                errors.add("custom", _("must be an object keyed by custom field"))
            else:
                custom.update(value)
        elif key in custom_keys:
            custom.setdefault(key, value)
        else:
            extras.append(f"{key}: {_shown(value)}")
    if custom:
        data["custom"] = custom
    if extras:
        message = str(data.get("message") or "")
        block = "\n".join(extras)
        joined = f"{message}\n\n{block}" if message else block
        if len(message) <= MESSAGE_LIMIT:
            # The sender's own message is kept whole; the extra lines are cut to fit.
            joined = joined[:MESSAGE_LIMIT]
        data["message"] = joined
    return data, errors


def _previous(source: LeadSource, external_id: str) -> InboundLead | None:
    if not external_id:
        return None
    return InboundLead.objects.filter(source=source, external_id=external_id).first()


def inbound_lead_receive(*, source: LeadSource, payload: Any) -> tuple[Lead | None, bool]:
    """(the lead, whether it was made now). An ``external_id`` already received from this
    source answers with the lead made then, even when two copies arrive at once.

    ServiceValidationError names the field at fault (the lead needs a name, a company, an
    e-mail or a phone); nothing is written then."""
    if not isinstance(payload, Mapping):
        raise ServiceValidationError.single("body", _("must be a JSON object"))
    if has_nul(payload):
        raise ServiceValidationError.single("body", _("must not contain the NUL character"))
    errors = Collector()
    external_id = _external_id(errors, payload)
    errors.raise_if_any()
    if (earlier := _previous(source, external_id)) is not None:
        return earlier.lead, False
    data, errors = lead_data_from_payload(payload, source_name=source.lead_source)
    errors.raise_if_any()
    actor = System()
    try:
        with transaction.atomic():
            lead = lead_create(actor=actor, data=data, channel=Channel.API)
            InboundLead.objects.create(
                source=source, external_id=external_id, lead=lead, payload=dict(payload)
            )
            LeadSource.objects.filter(pk=source.pk).update(last_used_at=timezone.now())
    except IntegrityError:
        # The same external id committed by a concurrent call: answer with its lead.
        if (earlier := _previous(source, external_id)) is None:
            raise
        return earlier.lead, False
    return lead, True
