"""Reads shared by the telephony pages and the API: integrations and tracking numbers (for
administrators) and the call log (every user sees the calls of records they may see, and
the calls they took)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voronka.core.errors import Collector, NotFound
from voronka.core.text import normalize_phone
from voronka.telephony.models import (
    Call,
    CallDirection,
    CallStatus,
    PbxIntegration,
    TrackingNumber,
)


def integrations() -> QuerySet[PbxIntegration]:
    return PbxIntegration.objects.select_related("default_owner").annotate(
        extension_count=Count("extensions")
    )


def get_integration(pk: Any) -> PbxIntegration:
    try:
        return PbxIntegration.objects.select_related("default_owner").get(pk=int(pk))
    except (ValueError, TypeError, PbxIntegration.DoesNotExist) as exc:
        raise NotFound(f"integration {pk} not found") from exc


def integration_by_token(token: str) -> PbxIntegration | None:
    return PbxIntegration.objects.filter(token=token).first() if token else None


def tracking_numbers() -> QuerySet[TrackingNumber]:
    return TrackingNumber.objects.select_related("default_owner")


def get_tracking_number(pk: Any) -> TrackingNumber:
    try:
        return tracking_numbers().get(pk=int(pk))
    except (ValueError, TypeError, TrackingNumber.DoesNotExist) as exc:
        raise NotFound(f"tracking number {pk} not found") from exc


# --- calls --------------------------------------------------------------------------------------

CALL_RELATED = ("manager", "contact", "contact__company", "lead", "tracking_number", "integration")


def calls_visible_to(user: Any) -> QuerySet[Call]:
    return Call.objects.visible_to(user).select_related(*CALL_RELATED)


def get_call_for_user(user: Any, pk: Any) -> Call:
    try:
        return calls_visible_to(user).get(pk=int(pk))
    except (ValueError, TypeError, Call.DoesNotExist) as exc:
        raise NotFound(f"call {pk} not found") from exc


@dataclass
class CallFilters:
    """The call log's filters, from a query string (page or API), checked."""

    direction: str = ""
    status: str = ""
    manager_id: int | None = None
    contact_id: int | None = None
    lead_id: int | None = None
    tracking_number_id: int | None = None
    number: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def any(self) -> bool:
        return any(v not in (None, "") for v in vars(self).values())


def _id(errors: Collector, params: Any, name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        errors.add(name, _("must be a whole number"))
        return None
    return int(raw)


def _when(errors: Collector, params: Any, name: str) -> dt.datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw) or (
            parse_datetime(raw + "T00:00:00") if len(raw) == 10 else None
        )
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add(name, _("must be a date or a date and time (ISO 8601)"))
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def call_filters(params: Any) -> CallFilters:
    """Filters from a query string; ServiceValidationError names the parameter at fault."""
    errors = Collector()
    direction = (params.get("direction") or "").strip()
    status = (params.get("status") or "").strip()
    if direction and direction not in CallDirection.values:
        errors.add("direction", _("must be one of: %(options)s")
                   % {"options": ", ".join(CallDirection.values)})  # fmt: skip
    if status and status not in CallStatus.values:
        errors.add("status", _("must be one of: %(options)s")
                   % {"options": ", ".join(CallStatus.values)})  # fmt: skip
    number = (params.get("number") or "").strip()
    if number:
        try:
            number = normalize_phone(number)
        except ValueError:
            errors.add("number", _("not a valid phone number"))
    filters = CallFilters(
        direction=direction, status=status, number=number,
        manager_id=_id(errors, params, "manager_id"), contact_id=_id(errors, params, "contact_id"),
        lead_id=_id(errors, params, "lead_id"),
        tracking_number_id=_id(errors, params, "tracking_number_id"),
        since=_when(errors, params, "since"), until=_when(errors, params, "until"),
    )  # fmt: skip
    errors.raise_if_any()
    return filters


def call_list(user: Any, filters: CallFilters) -> QuerySet[Call]:
    qs = calls_visible_to(user)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if filters.status:
        qs = qs.filter(status=filters.status)
    for name in ("manager_id", "contact_id", "lead_id", "tracking_number_id"):
        if getattr(filters, name) is not None:
            qs = qs.filter(**{name: getattr(filters, name)})
    if filters.number:
        qs = qs.filter(Q(caller=filters.number) | Q(called=filters.number))
    if filters.since:
        qs = qs.filter(started_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(started_at__lt=filters.until)
    return qs
