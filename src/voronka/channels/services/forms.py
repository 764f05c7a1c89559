"""Building web forms: create, change and delete them (administrators only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from voronka.channels.catalog import IDENTITY, STANDARD, Available, available_fields
from voronka.channels.models import WebForm
from voronka.core import audit, events
from voronka.core.errors import Collector
from voronka.core.models import Channel
from voronka.core.text import validate_url
from voronka.customers.validation import clean_bool, clean_str
from voronka.sales.services.common import require_admin, unknown_fields

FORM_ENTITY = "channels.webform"
FORM_FIELDS = {
    "name", "title", "fields", "button_text", "consent_required", "consent_text",
    "success_message", "redirect_url", "source", "allowed_origins", "active",
}  # fmt: skip
MAX_FIELDS = 40
MAX_ORIGINS = 50


def form_snapshot(form: WebForm) -> dict[str, Any]:
    return {name: getattr(form, name) for name in sorted(FORM_FIELDS)}


def normalize_origin(raw: str) -> str:
    """``https://Example.com/page`` → ``https://example.com``; ValueError when it is not a
    website address. Browsers send the origin without a path, so only that is compared."""
    text = raw.strip().rstrip("/")
    if text and "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("",):
        raise ValueError(text)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(text)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(text) from exc
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _clean_origins(errors: Collector, data: dict[str, Any]) -> None:
    if "allowed_origins" not in data:
        return
    raw = data["allowed_origins"]
    if raw is None:
        raw = []
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", "\n").split("\n") if part.strip()]
    if not isinstance(raw, list) or not all(isinstance(o, str) for o in raw):
        errors.add("allowed_origins", _("must be a list of website addresses"))
        return
    if len(raw) > MAX_ORIGINS:
        errors.add("allowed_origins", _("at most %(n)d websites") % {"n": MAX_ORIGINS})
        return
    cleaned: list[str] = []
    for i, origin in enumerate(raw):
        try:
            cleaned.append(normalize_origin(origin))
        except ValueError:
            errors.add(
                f"allowed_origins[{i}]",
                _("“%(value)s” is not a website address like https://example.com")
                % {"value": origin.strip()[:100]},
            )
    data["allowed_origins"] = list(dict.fromkeys(cleaned))


def _clean_field_item(
    errors: Collector, i: int, item: Any, available: dict[str, Available]
) -> dict[str, Any] | None:
    name = f"fields[{i}]"
    if not isinstance(item, Mapping):
        errors.add(name, _("must be an object with key, label and required"))
        return None
    for extra in set(item) - {"key", "label", "required"}:
        errors.add(f"{name}.{extra}", _("unknown field"))
    key = item.get("key")
    spec = available.get(key) if isinstance(key, str) else None
    if spec is None:
        errors.add(
            f"{name}.key",
            _(
                "unknown field; use a lead field (%(standard)s) or custom.<key> of a lead custom field"
            )
            % {"standard": ", ".join(STANDARD)},
        )
        return None
    label = item.get("label")
    if label is None:
        label = ""
    if not isinstance(label, str):
        errors.add(f"{name}.label", _("must be text"))
        return None
    label = label.strip()
    if len(label) > 128:
        errors.add(f"{name}.label", _("is longer than %(n)d characters") % {"n": 128})
    required = item.get("required", False)
    if not isinstance(required, bool):
        errors.add(f"{name}.required", _("must be true or false"))
        return None
    return {"key": spec.key, "label": label or spec.label, "required": required}


def _clean_fields(errors: Collector, data: dict[str, Any]) -> None:
    """The ordered inputs: known keys, once each, enough to make a lead, and every custom
    field a lead must have (a form without it could never create one)."""
    if "fields" not in data:
        return
    raw = data["fields"]
    if not isinstance(raw, list):
        errors.add("fields", _("must be a list of fields"))
        return
    if len(raw) > MAX_FIELDS:
        errors.add("fields", _("at most %(n)d fields") % {"n": MAX_FIELDS})
        return
    available = available_fields()
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        field = _clean_field_item(errors, i, item, available)
        if field is None:
            continue
        if field["key"] in seen:
            errors.add(f"fields[{i}].key", _("this field is already on the form"))
            continue
        seen.add(field["key"])
        cleaned.append(field)
    if not cleaned and not errors.errors:
        errors.add("fields", _("add at least one field"))
    elif cleaned and not seen & set(IDENTITY):
        errors.add("fields", _("add a name, a company, an e-mail or a phone: a lead needs one"))
    by_key = {f["key"]: f for f in cleaned}
    for spec in available.values():
        if not spec.lead_required:
            continue
        if spec.key not in by_key or not by_key[spec.key]["required"]:
            errors.add(
                "fields",
                _("“%(label)s” is required on every lead: add it to the form as required")
                % {"label": spec.label},
            )
    data["fields"] = cleaned


def _clean_form(data: dict[str, Any], *, instance: WebForm | None) -> Collector:
    errors = Collector()
    unknown_fields(errors, data, FORM_FIELDS)
    for name, limit in (("name", 128), ("title", 255), ("button_text", 64), ("source", 100),
                        ("consent_text", 5000), ("success_message", 5000), ("redirect_url", 500)):  # fmt: skip
        clean_str(errors, data, name, limit)
    for name in ("consent_required", "active"):
        clean_bool(errors, data, name)
    if (instance is None or "name" in data) and not data.get("name"):
        errors.add("name", _("this field is required"))
    if data.get("redirect_url"):
        try:
            data["redirect_url"] = validate_url(data["redirect_url"])
        except ValueError:
            errors.add("redirect_url", _("not a valid URL"))
        else:
            if len(data["redirect_url"]) > 500:
                errors.add("redirect_url", _("is longer than %(n)d characters") % {"n": 500})
    _clean_origins(errors, data)
    _clean_fields(errors, data)
    if instance is None and "fields" not in data:
        errors.add("fields", _("add at least one field"))

    def merged(name: str) -> Any:
        return data.get(name, getattr(instance, name) if instance else None)

    if merged("consent_required") is True and not (merged("consent_text") or "").strip():
        errors.add("consent_text", _("write what the visitor agrees to"))
    return errors


def web_form_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> WebForm:
    """A new form, active unless told otherwise; its public address is made here."""
    require_admin(actor)
    values = dict(data)
    _clean_form(values, instance=None).raise_if_any()
    with transaction.atomic():
        form = WebForm.objects.create(**values)
        snapshot = form_snapshot(form)
        audit.record(form, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish("web_form.created", entity=FORM_ENTITY, entity_id=form.pk,
                       payload=snapshot, actor=actor, channel=channel)  # fmt: skip
    return form


def web_form_update(
    *, actor: Any, form: WebForm, changes: Mapping[str, Any], channel: str = Channel.UI
) -> WebForm:
    require_admin(actor)
    values = dict(changes)
    _clean_form(values, instance=form).raise_if_any()
    with transaction.atomic():
        form = WebForm.objects.select_for_update().get(pk=form.pk)
        before = form_snapshot(form)
        for name, value in values.items():
            setattr(form, name, value)
        form.save()
        changed = audit.diff(before, form_snapshot(form))
        if changed:
            audit.record(form, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("web_form.updated", entity=FORM_ENTITY, entity_id=form.pk,
                           payload={"changed": sorted(changed)}, actor=actor, channel=channel)  # fmt: skip
    return form


def web_form_delete(*, actor: Any, form: WebForm, channel: str = Channel.UI) -> None:
    """The form and its submission log go; the leads it created stay."""
    require_admin(actor)
    with transaction.atomic():
        audit.record(form, action="delete", changes={"name": form.name}, actor=actor,
                     channel=channel)  # fmt: skip
        events.publish("web_form.deleted", entity=FORM_ENTITY, entity_id=form.pk,
                       payload={"name": form.name}, actor=actor, channel=channel)  # fmt: skip
        form.delete()
