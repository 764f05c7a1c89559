"""A visitor sends a web form: spam checks, validation, then one lead and one submission row.

The hosted page and the JSON endpoint (used by the embed script) both come here, so the
rules are the same whichever way a form is shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voronka.channels.catalog import CUSTOM_PREFIX, IDENTITY, FormInput, form_inputs
from voronka.channels.models import FormSubmission, WebForm
from voronka.channels.throttle import throttle
from voronka.core import events
from voronka.core.actors import System
from voronka.core.custom_fields import clean_value
from voronka.core.errors import Collector
from voronka.core.models import Channel
from voronka.core.text import normalize_email, normalize_phone
from voronka.customers.validation import clean_inn
from voronka.inbox.models import Kind
from voronka.inbox.services import Incoming, receive
from voronka.sales.services.leads import lead_create

HONEYPOT = "website"
CONSENT = "consent"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
TRUE_WORDS = {"1", "true", "on", "yes"}
FORM_ENTITY = "channels.webform"


class SpamDetected(Exception):
    """The honeypot was filled: a robot. The caller answers as if all went well."""


@dataclass(frozen=True)
class Visit:
    """Where a submission came from, as the public endpoint saw it."""

    ip: str | None = None
    referrer: str = ""
    page_url: str = ""
    user_agent: str = ""
    utm: Mapping[str, Any] = field(default_factory=dict)


def has_nul(value: Any) -> bool:
    """PostgreSQL cannot store the NUL character; input holding one is refused by name."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def _text(value: Any) -> str | None:
    """Text from a JSON or form value; None for a type that is not text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str | int) and str(value).strip().lower() in TRUE_WORDS


def _clean_input(errors: Collector, spec: FormInput, raw: Any) -> Any:
    """The value of one input for lead_create, or None when empty; errors are by key."""
    if has_nul(raw):
        errors.add(spec.key, _("must not contain the NUL character"))
        return None
    if spec.widget == "checkbox":
        value: Any = _truthy(raw)
        if spec.required and not value:
            errors.add(spec.key, _("this field is required"))
        return value
    if spec.widget == "multiselect":
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        texts = [_text(v) for v in items]
        if any(t is None for t in texts):
            errors.add(spec.key, _("must be a list of options"))
            return None
        chosen = [t for t in texts if t]
        if spec.required and not chosen:
            errors.add(spec.key, _("this field is required"))
        if chosen:
            _check_format(errors, spec, chosen)
        return chosen or None
    text = _text(raw)
    if text is None:
        errors.add(spec.key, _("must be text"))
        return None
    if not text:
        if spec.required:
            errors.add(spec.key, _("this field is required"))
        return None
    if len(text) > spec.max_length:
        errors.add(spec.key, _("is longer than %(n)d characters") % {"n": spec.max_length})
        return None
    if spec.widget == "datetime":
        text = _local_moment(text)
    _check_format(errors, spec, text)
    return text


def _local_moment(text: str) -> str:
    """A browser sends wall-clock time without a zone; the visitor means the CRM's time zone."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        return text
    if moment is None or not timezone.is_naive(moment):
        return text
    return timezone.make_aware(moment).isoformat()


def _check_format(errors: Collector, spec: FormInput, value: Any) -> None:
    """What lead_create would refuse, found now, so every error is reported at once."""
    if spec.key == "inn":
        clean_inn(errors, {"inn": value})
        return
    try:
        if spec.key == "email":
            normalize_email(value)
        elif spec.key == "phone":
            normalize_phone(value)
        elif spec.definition is not None:
            clean_value(spec.definition, value)
    except ValueError as exc:
        messages = {
            "email": _("not a valid e-mail address"),
            "phone": _("not a valid phone number"),
        }
        errors.add(spec.key, messages.get(spec.key, str(exc)))


def _lead_data(
    form: WebForm, inputs: list[FormInput], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], Collector]:
    """(data for lead_create, what to keep on the submission row, errors by input key)."""
    errors = Collector()
    lead: dict[str, Any] = {"custom": {}}
    kept: dict[str, Any] = {}
    for spec in inputs:
        value = _clean_input(errors, spec, values.get(spec.key))
        if value is None:
            continue
        kept[spec.key] = value
        if spec.key.startswith(CUSTOM_PREFIX):
            lead["custom"][spec.key[len(CUSTOM_PREFIX) :]] = value
        else:
            lead[spec.key] = value
    if form.consent_required:
        if not _truthy(values.get(CONSENT)):
            errors.add(CONSENT, _("tick the box to agree"))
        kept[CONSENT] = {"given": True, "text": form.consent_text}
    if not errors.errors and not any(lead.get(k) for k in IDENTITY):
        on_form = [s.key for s in inputs if s.key in IDENTITY]
        errors.add(
            on_form[0] if on_form else "fields",
            _("give a name, a company, an e-mail or a phone"),
        )
    return lead, kept, errors


def _clip(value: Any, limit: int) -> str:
    """Visit details are kept as far as they are usable: cut, and without NUL characters."""
    return (_text(value) or "").replace("\x00", "")[:limit]


def _utm(visit: Visit) -> dict[str, str]:
    return {key: text for key in UTM_KEYS if (text := _clip(visit.utm.get(key), 255))}


def rate_limit() -> int:
    """Submissions one address may make to one form per minute."""
    return int(getattr(settings, "VORONKA_FORM_RATE_LIMIT", 10))


def form_submit(*, form: WebForm, values: Mapping[str, Any], visit: Visit) -> FormSubmission:
    """Check and record one submission; the lead is made by lead_create (normalization,
    assignment rules, ``lead.created``) and ``form.submitted`` is published with it.

    Raises RateLimited (too many from this address), SpamDetected (honeypot filled) or
    ServiceValidationError naming the inputs at fault. Nothing is written on any of them
    except the attempt counted for the rate limit."""
    throttle(f"form:{form.pk}:{visit.ip or '-'}", limit=rate_limit())
    if _text(values.get(HONEYPOT)):
        raise SpamDetected
    inputs = form_inputs(form.fields)
    lead_data, kept, errors = _lead_data(form, inputs, values)
    errors.raise_if_any()
    utm = _utm(visit)
    lead_data.update(utm, source=form.lead_source)
    actor = System()
    with transaction.atomic():
        lead = lead_create(actor=actor, data=lead_data, channel=Channel.SYSTEM)
        submission = FormSubmission.objects.create(
            form=form, lead=lead, data=kept, utm=utm,
            referrer=_clip(visit.referrer, 2000), page_url=_clip(visit.page_url, 2000),
            ip=visit.ip, user_agent=_clip(visit.user_agent, 500),
        )  # fmt: skip
        events.publish(
            "form.submitted",
            entity=FORM_ENTITY,
            entity_id=form.pk,
            payload={"submission_id": submission.pk, "lead_id": lead.pk, "form": form.name,
                     "utm": utm, "referrer": submission.referrer, "page_url": submission.page_url},
            actor=actor,
            channel=Channel.SYSTEM,
        )  # fmt: skip
        # The submission is also a conversation of the unified inbox, on the lead just made;
        # form.submitted above is its event, so the inbox publishes none of its own.
        receive(
            Incoming(
                kind=Kind.FORM, account=f"form:{form.pk}",
                external_id=f"submission:{submission.pk}",
                sender=str(lead), name=str(lead), email=lead.email, phone=lead.phone,
                subject=(form.title or form.name)[:255], body_text=_submission_text(inputs, kept),
                meta={"form_id": form.pk, "submission_id": submission.pk},
                source=form.lead_source, create_lead=False, lead_id=lead.pk, event="",
            )
        )  # fmt: skip
    return submission


def _submission_text(inputs: list[FormInput], kept: Mapping[str, Any]) -> str:
    """What the visitor sent, one "Label: value" line per filled input, as the thread shows."""
    lines = []
    for spec in inputs:
        value = kept.get(spec.key)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            shown = _("yes") if value else _("no")
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        lines.append(f"{spec.label}: {shown}" if "\n" not in shown else f"{spec.label}:\n{shown}")
    return "\n".join(lines)
