"""Writes on cross-domain records: notes, custom field definitions, saved views."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.custom_fields import ENTITIES
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel, CustomField, CustomFieldType, Note, SavedView
from voronka.core.text import sanitize_html

MAX_NOTE = 50_000


def note_create(*, record: models.Model, body: str, actor: Any, channel: str = Channel.UI) -> Note:
    clean = sanitize_html(body).strip()
    if not clean:
        raise ServiceValidationError.single("body", _("the note is empty"))
    if len(clean) > MAX_NOTE:
        raise ServiceValidationError.single(
            "body", _("is longer than %(n)d characters") % {"n": MAX_NOTE}
        )
    with transaction.atomic():
        note = Note.objects.create(
            content_type=ContentType.objects.get_for_model(record),
            object_id=record.pk,
            body_html=clean,
            author_id=getattr(actor, "pk", None),
        )
        events.publish(
            "note.created",
            entity=record._meta.label_lower,
            entity_id=record.pk,
            payload={"note_id": note.pk},
            actor=actor,
            channel=channel,
        )
    return note


def _clean_field_input(errors: Collector, data: dict[str, Any]) -> None:
    label = (data.get("label") or "").strip()
    if not label:
        errors.add("label", _("this field is required"))
    elif len(label) > 128:
        errors.add("label", _("is longer than %(n)d characters") % {"n": 128})
    data["label"] = label
    if data.get("type") not in CustomFieldType.values:
        errors.add(
            "type",
            _("must be one of: %(options)s") % {"options": ", ".join(CustomFieldType.values)},
        )
    options = data.get("options") or []
    if isinstance(options, str):
        options = [o.strip() for o in options.replace("\n", ",").split(",") if o.strip()]
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        errors.add("options", _("must be a list of strings"))
        options = []
    if data.get("type") in (CustomFieldType.SELECT, CustomFieldType.MULTI_SELECT) and not options:
        errors.add("options", _("a select field needs at least one option"))
    data["options"] = list(dict.fromkeys(options))


def custom_field_create(
    *,
    entity: str,
    label: str,
    type: str,
    key: str = "",
    required: bool = False,
    options: list[str] | str | None = None,
    actor: Any = None,
    channel: str = Channel.UI,
) -> CustomField:
    errors = Collector()
    if entity not in ENTITIES:
        errors.add("entity", _("must be one of: %(options)s") % {"options": ", ".join(ENTITIES)})
    data: dict[str, Any] = {"label": label, "type": type, "options": options}
    _clean_field_input(errors, data)
    key = slugify(key or data["label"]).replace("-", "_")[:64]
    if not key or not key[0].isalpha():
        key = f"f_{key}".strip("_") if key else ""
    if not key:
        errors.add("key", _("use Latin letters, digits and underscores"))
    errors.raise_if_any()
    position = CustomField.objects.filter(entity=entity).count()
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                entity=entity,
                key=key,
                label=data["label"],
                type=type,
                required=bool(required),
                options=data["options"],
                position=position,
            )
            audit.record(field, action="create", changes={"key": key}, actor=actor, channel=channel)
            events.publish(
                "custom_field.created",
                entity="core.customfield",
                entity_id=field.pk,
                payload={"entity": entity, "key": key, "type": type},
                actor=actor,
                channel=channel,
            )
    except IntegrityError as exc:
        raise ServiceValidationError.single("key", _("a field with this key exists")) from exc
    return field


def custom_field_update(
    *, field: CustomField, changes: dict[str, Any], actor: Any = None, channel: str = Channel.UI
) -> CustomField:
    """Label, required flag and options may change; key and type stay (stored values use them)."""
    errors = Collector()
    for name in changes:
        if name not in {"label", "required", "options"}:
            errors.add(name, _("cannot be changed"))
    data = {
        "label": changes.get("label", field.label),
        "type": field.type,
        "options": changes.get("options", field.options),
    }
    _clean_field_input(errors, data)
    errors.raise_if_any()
    before = {"label": field.label, "required": field.required, "options": field.options}
    field.label = data["label"]
    field.required = bool(changes.get("required", field.required))
    field.options = data["options"]
    with transaction.atomic():
        field.save(update_fields=["label", "required", "options"])
        after = {"label": field.label, "required": field.required, "options": field.options}
        audit.record(
            field, action="update", changes=audit.diff(before, after), actor=actor, channel=channel
        )
        events.publish(
            "custom_field.updated", entity="core.customfield", entity_id=field.pk,
            payload={"key": field.key}, actor=actor, channel=channel,
        )  # fmt: skip
    return field


def custom_field_delete(
    *, field: CustomField, actor: Any = None, channel: str = Channel.UI
) -> None:
    with transaction.atomic():
        events.publish(
            "custom_field.deleted", entity="core.customfield", entity_id=field.pk,
            payload={"entity": field.entity, "key": field.key}, actor=actor, channel=channel,
        )  # fmt: skip
        field.delete()


def saved_view_create(
    *, entity: str, name: str, query: str, columns: list[str], shared: bool, actor: Any
) -> SavedView:
    name = (name or "").strip()
    if not name:
        raise ServiceValidationError.single("name", _("this field is required"))
    if len(name) > 128:
        raise ServiceValidationError.single(
            "name", _("is longer than %(n)d characters") % {"n": 128}
        )
    with transaction.atomic():
        return SavedView.objects.create(
            entity=entity, name=name, query=(query or "")[:2000], columns=columns,
            shared=bool(shared) and actor.can_share_views, owner=actor,
        )  # fmt: skip


def saved_view_delete(*, view: SavedView, actor: Any) -> None:
    if view.owner_id != actor.pk and not actor.is_admin:
        raise ServiceValidationError.single("view", _("only its author can delete this view"))
    view.delete()
