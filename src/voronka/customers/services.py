"""Every write on the customer base. The UI, the API, imports and automation call these.

Each function runs in one transaction: it validates (reporting every bad field at once),
writes, records the audit entry and publishes the domain event; a failure writes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.custom_fields import clean_custom
from voronka.core.errors import Collector, Forbidden, ServiceValidationError
from voronka.core.models import Channel, OutboxEvent
from voronka.core.text import digits, fold, normalize_email, normalize_phone, validate_url
from voronka.customers.models import (
    AddressKind,
    Company,
    CompanyAddress,
    CompanySize,
    Contact,
    ContactEmail,
    ContactPhone,
    EmailKind,
    PhoneKind,
    Tag,
)
from voronka.customers.validation import (
    clean_bool,
    clean_date,
    clean_emails,
    clean_inn,
    clean_phones,
    clean_str,
)

COMPANY_ENTITY = "customers.company"
CONTACT_ENTITY = "customers.contact"

CONTACT_FIELDS = {
    "first_name", "middle_name", "last_name", "emails", "phones", "company_id", "position",
    "birthday", "owner_id", "source", "tags", "custom", "email_consent", "sms_consent",
}  # fmt: skip
COMPANY_FIELDS = {
    "name", "legal_name", "inn", "industry", "size", "website", "phone", "email", "region",
    "owner_id", "tags", "custom", "addresses",
}  # fmt: skip


def _require_writer(actor: Any) -> None:
    if actor is not None and not actor.can_write:
        raise Forbidden(_("your role is read-only"))


def _unknown_fields(errors: Collector, data: Mapping[str, Any], allowed: set[str]) -> None:
    for name in data:
        if name not in allowed:
            errors.add(name, _("unknown field"))


def _clean_owner(errors: Collector, data: dict[str, Any], actor: Any = None) -> None:
    from django.contrib.auth import get_user_model

    if "owner_id" not in data or data["owner_id"] in (None, ""):
        if "owner_id" in data:
            data["owner_id"] = None
        return
    try:
        owner_id = int(data["owner_id"])
    except (TypeError, ValueError):
        errors.add("owner_id", _("must be a user id"))
        return
    user_model = get_user_model()
    # The usual case is "the owner is me": the actor is an active user loaded for this request
    # (a session or an API key), so asking the database again would only cost a query.
    # Stand-ins such as OnBehalfOf are not users and are checked like any other owner.
    is_actor = type(actor) is user_model and actor.pk == owner_id and actor.is_active
    if not is_actor and not user_model.objects.filter(pk=owner_id, is_active=True).exists():
        errors.add("owner_id", _("no such active user"))
    data["owner_id"] = owner_id


def _clean_tags(errors: Collector, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple) or not all(isinstance(t, str) for t in raw):
        errors.add("tags", _("must be a list of tag names"))
        return []
    names = [t.strip() for t in raw if t.strip()]
    for name in names:
        if len(name) > 64:
            errors.add("tags", _("a tag is at most 64 characters"))
            return []
    return list(dict.fromkeys(names))


def tags_get_or_create(names: Iterable[str]) -> list[Tag]:
    """Existing tags matched regardless of case, new ones created; in the given order."""
    wanted = {fold(n): n for n in names}
    found = {t.name_folded: t for t in Tag.objects.filter(name_folded__in=list(wanted))}
    for folded, name in wanted.items():
        if folded not in found:
            try:
                with transaction.atomic():
                    found[folded] = Tag.objects.create(name=name, name_folded=folded)
            except IntegrityError:
                found[folded] = Tag.objects.get(name_folded=folded)
    return [found[f] for f in wanted]


# --- contacts --------------------------------------------------------------------------------


def contact_search_text(contact: Contact, emails: Iterable[str], phones: Iterable[str]) -> str:
    company = contact.company.name if contact.company_id and contact.company else ""
    parts = [contact.last_name, contact.first_name, contact.middle_name, company, contact.position]
    parts += list(emails)
    parts += [digits(p) for p in phones]
    return fold(" ".join(p for p in parts if p))


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    """The contact as the audit log and events see it."""
    return {
        "first_name": contact.first_name, "middle_name": contact.middle_name,
        "last_name": contact.last_name, "company_id": contact.company_id,
        "position": contact.position, "birthday": contact.birthday,
        "owner_id": contact.owner_id, "source": contact.source,
        "email_consent": contact.email_consent, "sms_consent": contact.sms_consent,
        "emails": [e.email for e in contact.emails.all()],
        "phones": [p.phone for p in contact.phones.all()],
        "tags": sorted(t.name for t in contact.tags.all()),
        "custom": dict(contact.custom or {}),
    }  # fmt: skip


def _clean_contact(
    data: dict[str, Any], *, actor: Any, instance: Contact | None
) -> tuple[dict[str, Any], Collector]:
    from voronka.customers.selectors import companies_visible_to

    errors = Collector()
    _unknown_fields(errors, data, CONTACT_FIELDS)
    for name, limit in (("first_name", 150), ("middle_name", 150), ("last_name", 150),
                        ("position", 255), ("source", 100)):  # fmt: skip
        clean_str(errors, data, name, limit)
    clean_bool(errors, data, "email_consent")
    clean_bool(errors, data, "sms_consent")
    clean_date(errors, data, "birthday")
    _clean_owner(errors, data, actor)
    if "emails" in data:
        data["emails"] = clean_emails(errors, data["emails"], set(EmailKind.values))
    if "phones" in data:
        data["phones"] = clean_phones(errors, data["phones"], set(PhoneKind.values))
    if "tags" in data:
        data["tags"] = _clean_tags(errors, data["tags"])
    if data.get("company_id") not in (None, ""):
        try:
            company_id = int(data["company_id"])
        except (TypeError, ValueError):
            errors.add("company_id", _("must be a company id"))
        else:
            if not companies_visible_to(actor).filter(pk=company_id).exists():
                errors.add("company_id", _("no such company"))
            data["company_id"] = company_id
    elif "company_id" in data:
        data["company_id"] = None
    if "custom" in data or instance is None:
        data["custom"] = clean_custom(
            CONTACT_ENTITY, data.get("custom"), existing=instance.custom if instance else None,
            errors=errors,
        )  # fmt: skip
    first = data.get("first_name", instance.first_name if instance else "")
    last = data.get("last_name", instance.last_name if instance else "")
    if not first and not last:
        errors.add("last_name", _("give a first or a last name"))
    return data, errors


def _write_contact_children(contact: Contact, data: dict[str, Any], *, replace: bool) -> None:
    if "emails" in data:
        if replace:
            contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            [ContactEmail(contact=contact, email=e, kind=k) for e, k in data["emails"]]
        )
    if "phones" in data:
        if replace:
            contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=contact, phone=p, kind=k) for p, k in data["phones"]]
        )
    if "tags" in data:
        contact.tags.set(tags_get_or_create(data["tags"]))


def _refresh_contact_search(contact: Contact) -> None:
    contact.search_text = contact_search_text(
        contact,
        contact.emails.values_list("email", flat=True),
        contact.phones.values_list("phone", flat=True),
    )
    Contact.objects.filter(pk=contact.pk).update(search_text=contact.search_text)


def _remember_children(contact: Contact, name: str, rows: list[Any]) -> None:
    """Fill ``contact.<name>.all()`` with the rows just written, as ``prefetch_related`` would
    (the related manager's own filtered queryset with its result cache set), so the snapshot
    for the audit entry and the event is built without querying them back."""
    qs = getattr(contact, name).all()
    qs._result_cache = rows
    qs._prefetch_done = True  # type: ignore[attr-defined]
    contact.__dict__.setdefault("_prefetched_objects_cache", {})[name] = qs


def _create_contact_children(contact: Contact, data: dict[str, Any]) -> None:
    """E-mails, phones and tags of a new contact: one INSERT each, nothing read back."""
    emails = ContactEmail.objects.bulk_create(
        [ContactEmail(contact=contact, email=e, kind=k) for e, k in data.get("emails") or []]
    )
    phones = ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, phone=p, kind=k) for p, k in data.get("phones") or []]
    )
    tags = tags_get_or_create(data["tags"]) if data.get("tags") else []
    if tags:
        # A new contact has no tags yet: add() without set()'s read of the current ones.
        contact.tags.add(*tags)
    # bulk_create returns primary keys on SQLite and PostgreSQL; ordered like Meta.ordering.
    if all(row.pk is not None for row in (*emails, *phones)):
        _remember_children(contact, "emails", emails)
        _remember_children(contact, "phones", phones)
        _remember_children(contact, "tags", sorted(tags, key=lambda t: t.name_folded))


def contact_create(
    *, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI, keep_children: bool = False
) -> Contact:
    """A new contact with its e-mails, phones and tags, its audit entry and event.

    ``keep_children`` leaves the rows just written in the contact's prefetch cache, for a
    caller that renders the contact at once (the API's answer) without reading them back.
    Others get a plain instance, whose ``emails.all()`` reads the database as usual."""
    _require_writer(actor)
    values = dict(data)
    values.setdefault("owner_id", getattr(actor, "pk", None))
    values, errors = _clean_contact(values, actor=actor, instance=None)
    errors.raise_if_any()
    scalar = {k: v for k, v in values.items() if k not in {"emails", "phones", "tags"}}
    with transaction.atomic():
        contact = Contact(**scalar)
        # The search text is known before the INSERT (the cleaned e-mails and phones, in the
        # order they are written), so the row is written once rather than updated after.
        contact.search_text = contact_search_text(
            contact,
            [e for e, _kind in values.get("emails") or []],
            [p for p, _kind in values.get("phones") or []],
        )
        contact.save(force_insert=True)
        _create_contact_children(contact, values)
        snapshot = contact_snapshot(contact)
        audit.record(contact, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish("contact.created", entity=CONTACT_ENTITY, entity_id=contact.pk,
                       payload=snapshot, actor=actor, channel=channel)  # fmt: skip
    if not keep_children:
        # A cache would go stale when the caller changes the children some other way.
        for name in ("emails", "phones", "tags"):
            contact.__dict__.get("_prefetched_objects_cache", {}).pop(name, None)
    return contact


def contact_update(
    *, actor: Any, contact: Contact, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Contact:
    _require_writer(actor)
    values, errors = _clean_contact(dict(changes), actor=actor, instance=contact)
    errors.raise_if_any()
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        before = contact_snapshot(contact)
        for name, value in values.items():
            if name not in {"emails", "phones", "tags"}:
                setattr(contact, name, value)
        contact.save()
        _write_contact_children(contact, values, replace=True)
        contact = Contact.objects.select_related("company").get(pk=contact.pk)
        _refresh_contact_search(contact)
        changed = audit.diff(before, contact_snapshot(contact))
        if changed:
            audit.record(contact, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("contact.updated", entity=CONTACT_ENTITY, entity_id=contact.pk,
                           payload={"changed": sorted(changed), "changes": changed},
                           actor=actor, channel=channel)  # fmt: skip
    return contact


def contact_delete(*, actor: Any, contact: Contact, channel: str = Channel.UI) -> None:
    if actor is not None and not actor.can_delete:
        raise Forbidden(_("your role may not delete records"))
    with transaction.atomic():
        snapshot = contact_snapshot(contact)
        audit.record(contact, action="delete", changes=snapshot, actor=actor, channel=channel)
        events.publish("contact.deleted", entity=CONTACT_ENTITY, entity_id=contact.pk,
                       payload=snapshot, actor=actor, channel=channel)  # fmt: skip
        contact.delete()


# --- companies -------------------------------------------------------------------------------


def company_search_text(company: Company) -> str:
    parts = [company.name, company.legal_name, company.inn, company.email, digits(company.phone),
             company.region, company.industry]  # fmt: skip
    return fold(" ".join(p for p in parts if p))


def company_snapshot(company: Company) -> dict[str, Any]:
    return {
        "name": company.name, "legal_name": company.legal_name, "inn": company.inn,
        "industry": company.industry, "size": company.size, "website": company.website,
        "phone": company.phone, "email": company.email, "region": company.region,
        "owner_id": company.owner_id, "tags": sorted(t.name for t in company.tags.all()),
        "addresses": [[a.kind, a.address] for a in company.addresses.all()],
        "custom": dict(company.custom or {}),
    }  # fmt: skip


def _clean_addresses(errors: Collector, raw: Any) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add("addresses", _("must be a list"))
        return []
    result = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            item = {"address": item}
        if not isinstance(item, dict) or not isinstance(item.get("address"), str):
            errors.add(f"addresses[{i}].address", _("must be text"))
            continue
        address = item["address"].strip()
        kind = item.get("kind") or AddressKind.ACTUAL
        if kind not in AddressKind.values:
            errors.add(
                f"addresses[{i}].kind",
                _("must be one of: %(options)s") % {"options": ", ".join(AddressKind.values)},
            )
        elif not address or len(address) > 500:
            errors.add(f"addresses[{i}].address", _("must be 1 to 500 characters"))
        else:
            result.append((kind, address))
    return result


def _clean_company(
    data: dict[str, Any], *, instance: Company | None
) -> tuple[dict[str, Any], Collector]:
    errors = Collector()
    _unknown_fields(errors, data, COMPANY_FIELDS)
    for name, limit in (("name", 255), ("legal_name", 255), ("industry", 128), ("region", 128),
                        ("website", 255), ("inn", 32)):  # fmt: skip
        clean_str(errors, data, name, limit)
    if (instance is None or "name" in data) and not data.get("name"):
        errors.add("name", _("this field is required"))
    clean_inn(errors, data)
    if data.get("size") and data["size"] not in CompanySize.values:
        errors.add(
            "size", _("must be one of: %(options)s") % {"options": ", ".join(CompanySize.values)}
        )
    for name, normalize in (("phone", normalize_phone), ("email", normalize_email),
                            ("website", validate_url)):  # fmt: skip
        if data.get(name):
            if not isinstance(data[name], str):
                errors.add(name, _("must be text"))
                continue
            try:
                data[name] = normalize(data[name])
            except ValueError:
                errors.add(name, _("not a valid value"))
        elif name in data:
            data[name] = ""
    _clean_owner(errors, data)
    if "tags" in data:
        data["tags"] = _clean_tags(errors, data["tags"])
    if "addresses" in data:
        data["addresses"] = _clean_addresses(errors, data["addresses"])
    if "custom" in data or instance is None:
        data["custom"] = clean_custom(
            COMPANY_ENTITY, data.get("custom"), existing=instance.custom if instance else None,
            errors=errors,
        )  # fmt: skip
    return data, errors


def _write_company_children(company: Company, data: dict[str, Any]) -> None:
    if "tags" in data:
        company.tags.set(tags_get_or_create(data["tags"]))
    if "addresses" in data:
        company.addresses.all().delete()
        CompanyAddress.objects.bulk_create(
            [CompanyAddress(company=company, kind=k, address=a) for k, a in data["addresses"]]
        )


def company_create(*, actor: Any, data: Mapping[str, Any], channel: str = Channel.UI) -> Company:
    _require_writer(actor)
    values = dict(data)
    values.setdefault("owner_id", getattr(actor, "pk", None))
    values, errors = _clean_company(values, instance=None)
    errors.raise_if_any()
    scalar = {k: v for k, v in values.items() if k not in {"tags", "addresses"}}
    with transaction.atomic():
        company = Company(**scalar)
        company.search_text = company_search_text(company)
        company.save()
        _write_company_children(company, values)
        snapshot = company_snapshot(company)
        audit.record(company, action="create", changes=snapshot, actor=actor, channel=channel)
        events.publish("company.created", entity=COMPANY_ENTITY, entity_id=company.pk,
                       payload=snapshot, actor=actor, channel=channel)  # fmt: skip
    return company


def company_update(
    *, actor: Any, company: Company, changes: Mapping[str, Any], channel: str = Channel.UI
) -> Company:
    _require_writer(actor)
    values, errors = _clean_company(dict(changes), instance=company)
    errors.raise_if_any()
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        before = company_snapshot(company)
        for name, value in values.items():
            if name not in {"tags", "addresses"}:
                setattr(company, name, value)
        company.search_text = company_search_text(company)
        company.save()
        _write_company_children(company, values)
        changed = audit.diff(before, company_snapshot(company))
        if changed:
            audit.record(company, action="update", changes=changed, actor=actor, channel=channel)
            events.publish("company.updated", entity=COMPANY_ENTITY, entity_id=company.pk,
                           payload={"changed": sorted(changed), "changes": changed},
                           actor=actor, channel=channel)  # fmt: skip
        if "name" in changed:
            # The company's name is part of every employee's search text.
            for contact in company.contacts.select_related("company").prefetch_related(
                "emails", "phones"
            ):
                Contact.objects.filter(pk=contact.pk).update(
                    search_text=contact_search_text(
                        contact,
                        [e.email for e in contact.emails.all()],
                        [p.phone for p in contact.phones.all()],
                    )
                )
    return company


def company_delete(*, actor: Any, company: Company, channel: str = Channel.UI) -> None:
    if actor is not None and not actor.can_delete:
        raise Forbidden(_("your role may not delete records"))
    with transaction.atomic():
        snapshot = company_snapshot(company)
        audit.record(company, action="delete", changes=snapshot, actor=actor, channel=channel)
        events.publish("company.deleted", entity=COMPANY_ENTITY, entity_id=company.pk,
                       payload=snapshot, actor=actor, channel=channel)  # fmt: skip
        company.delete()


# --- tags ------------------------------------------------------------------------------------


def tag_create(*, actor: Any, name: str, color: str = "secondary") -> Tag:
    _require_writer(actor)
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ServiceValidationError.single("name", _("must be 1 to 64 characters"))
    if Tag.objects.filter(name_folded=fold(name)).exists():
        raise ServiceValidationError.single("name", _("a tag with this name exists"))
    with transaction.atomic():
        tag = Tag.objects.create(
            name=name, name_folded=fold(name), color=(color or "secondary")[:16]
        )
        audit.record(tag, action="create", changes={"name": name}, actor=actor)
    return tag


def tag_update(*, actor: Any, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    _require_writer(actor)
    if name is not None:
        name = name.strip()
        if not name or len(name) > 64:
            raise ServiceValidationError.single("name", _("must be 1 to 64 characters"))
        if Tag.objects.filter(name_folded=fold(name)).exclude(pk=tag.pk).exists():
            raise ServiceValidationError.single("name", _("a tag with this name exists"))
    with transaction.atomic():
        before = {"name": tag.name, "color": tag.color}
        if name is not None:
            tag.name, tag.name_folded = name, fold(name)
        if color is not None:
            tag.color = color[:16]
        tag.save()
        audit.record(
            tag,
            action="update",
            changes=audit.diff(before, {"name": tag.name, "color": tag.color}),
            actor=actor,
        )
    return tag


def tag_delete(*, actor: Any, tag: Tag) -> None:
    if actor is not None and not actor.is_admin:
        raise Forbidden(_("only an administrator deletes tags"))
    tag.delete()


# --- bulk actions ----------------------------------------------------------------------------


def _bulk_events(name: str, entity: str, ids: list[int], payload: dict[str, Any], actor: Any,
                 channel: str) -> None:  # fmt: skip
    events.publish_many([
        OutboxEvent(name=name, entity=entity, entity_id=i, payload=payload,
                    actor_id=getattr(actor, "pk", None), channel=channel)
        for i in ids
    ])  # fmt: skip


def _bulk_audit(model: type[Contact] | type[Company], rows: list[tuple[int, dict[str, Any]]],
                action: str, actor: Any, channel: str) -> None:  # fmt: skip
    """One INSERT for the history of every record a bulk action touched."""
    from django.contrib.contenttypes.models import ContentType

    from voronka.core.models import AuditEntry

    ct = ContentType.objects.get_for_model(model)
    AuditEntry.objects.bulk_create(
        [AuditEntry(content_type=ct, object_id=pk, action=action, changes=events.json_safe(changes),
                    actor_id=getattr(actor, "pk", None), channel=channel) for pk, changes in rows],
        batch_size=1000,
    )  # fmt: skip


def _visible(model: type[Contact] | type[Company], actor: Any) -> Any:
    from voronka.customers.selectors import companies_visible_to, contacts_visible_to

    return contacts_visible_to(actor) if model is Contact else companies_visible_to(actor)


def _bulk_assign_owner(model: type[Contact] | type[Company], entity: str, *, actor: Any,
                       ids: list[int], owner_id: int, channel: str) -> int:  # fmt: skip
    _require_writer(actor)
    data: dict[str, Any] = {"owner_id": owner_id}
    errors = Collector()
    _clean_owner(errors, data)
    if data["owner_id"] is None:
        errors.add("owner_id", _("this field is required"))
    errors.raise_if_any()
    new_owner = data["owner_id"]
    with transaction.atomic():
        rows = list(_visible(model, actor).filter(pk__in=ids).values_list("pk", "owner_id"))
        changed = [(pk, old) for pk, old in rows if old != new_owner]
        model.objects.filter(pk__in=[pk for pk, _old in changed]).update(owner_id=new_owner)
        _bulk_audit(
            model,
            [(pk, {"owner_id": [old, new_owner]}) for pk, old in changed],
            "update",
            actor,
            channel,
        )
        _bulk_events(f"{entity.split('.')[1]}.updated", entity, [pk for pk, _old in changed],
                     {"changed": ["owner_id"], "changes": {"owner_id": [None, new_owner]}}, actor, channel)  # fmt: skip
    return len(changed)


def _bulk_tag(model: type[Contact] | type[Company], entity: str, *, actor: Any, ids: list[int],
              add: list[str] | None, remove: list[str] | None, channel: str) -> int:  # fmt: skip
    _require_writer(actor)
    errors = Collector()
    add_names = _clean_tags(errors, add or [])
    remove_names = _clean_tags(errors, remove or [])
    if not add_names and not remove_names:
        errors.add("tags", _("name a tag to add or remove"))
    errors.raise_if_any()
    column = "contact_id" if model is Contact else "company_id"
    with transaction.atomic():
        visible = list(_visible(model, actor).filter(pk__in=ids).values_list("pk", flat=True))
        through: Any = model.tags.through
        if add_names:
            tags = tags_get_or_create(add_names)
            through.objects.bulk_create(
                [through(**{column: c, "tag_id": t.pk}) for c in visible for t in tags],
                ignore_conflicts=True,
            )
        if remove_names:
            folded = [fold(n) for n in remove_names]
            through.objects.filter(
                **{f"{column}__in": visible, "tag__name_folded__in": folded}
            ).delete()
        change = {"tags": {"added": add_names, "removed": remove_names}}
        _bulk_audit(model, [(pk, change) for pk in visible], "update", actor, channel)
        _bulk_events(f"{entity.split('.')[1]}.updated", entity, visible,
                     {"changed": ["tags"], "added": add_names, "removed": remove_names}, actor, channel)  # fmt: skip
    return len(visible)


def _bulk_delete(model: type[Contact] | type[Company], entity: str, *, actor: Any, ids: list[int],
                 channel: str) -> int:  # fmt: skip
    if actor is not None and not actor.can_delete:
        raise Forbidden(_("your role may not delete records"))
    with transaction.atomic():
        visible = list(_visible(model, actor).filter(pk__in=ids).values_list("pk", flat=True))
        _bulk_audit(model, [(pk, {}) for pk in visible], "delete", actor, channel)
        _bulk_events(f"{entity.split('.')[1]}.deleted", entity, visible, {}, actor, channel)
        model.objects.filter(pk__in=visible).delete()
    return len(visible)


def contacts_bulk_assign_owner(
    *, actor: Any, ids: list[int], owner_id: int, channel: str = Channel.UI
) -> int:
    """Assign the visible contacts among ``ids`` to another owner; returns how many changed."""
    return _bulk_assign_owner(
        Contact, CONTACT_ENTITY, actor=actor, ids=ids, owner_id=owner_id, channel=channel
    )


def contacts_bulk_tag(*, actor: Any, ids: list[int], add: list[str] | None = None,
                      remove: list[str] | None = None, channel: str = Channel.UI) -> int:  # fmt: skip
    return _bulk_tag(
        Contact, CONTACT_ENTITY, actor=actor, ids=ids, add=add, remove=remove, channel=channel
    )


def contacts_bulk_delete(*, actor: Any, ids: list[int], channel: str = Channel.UI) -> int:
    return _bulk_delete(Contact, CONTACT_ENTITY, actor=actor, ids=ids, channel=channel)


def companies_bulk_assign_owner(
    *, actor: Any, ids: list[int], owner_id: int, channel: str = Channel.UI
) -> int:
    """Assign the visible companies among ``ids`` to another owner; returns how many changed."""
    return _bulk_assign_owner(
        Company, COMPANY_ENTITY, actor=actor, ids=ids, owner_id=owner_id, channel=channel
    )


def companies_bulk_tag(*, actor: Any, ids: list[int], add: list[str] | None = None,
                       remove: list[str] | None = None, channel: str = Channel.UI) -> int:  # fmt: skip
    return _bulk_tag(
        Company, COMPANY_ENTITY, actor=actor, ids=ids, add=add, remove=remove, channel=channel
    )


def companies_bulk_delete(*, actor: Any, ids: list[int], channel: str = Channel.UI) -> int:
    return _bulk_delete(Company, COMPANY_ENTITY, actor=actor, ids=ids, channel=channel)
