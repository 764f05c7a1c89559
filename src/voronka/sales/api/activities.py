"""Sales API: activities."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, Q, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    page_body,
    patch_body,
)
from voronka.core.errors import Collector, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import SortKey, keyset_page
from voronka.core.schemas import ERRORS
from voronka.sales import selectors, services
from voronka.sales.api.common import (
    ACTIVITY_LIST_DOC,
)
from voronka.sales.models import (
    Activity,
    ActivityKind,
)
from voronka.sales.schemas import (
    ActivityCompleteIn,
    ActivityIn,
    ActivityOut,
    ActivityPage,
)

# --- activities -----------------------------------------------------------------------------

activities = Router(tags=["activities"])

# Activities without a due time sort after every dated one, and the cursor stays a plain value.
NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
ACTIVITY_SORTS = {
    "due_at": [SortKey("due_key"), SortKey("id")],
    "-due_at": [SortKey("due_key", True), SortKey("id", True)],
    "created_at": [SortKey("created_at"), SortKey("id")],
    "-created_at": [SortKey("created_at", True), SortKey("id", True)],
}


def activity_out(activity: Activity) -> dict[str, Any]:
    """Expects the participants prefetched."""
    names = (
        "kind", "subject", "description", "owner_id", "due_at", "done_at", "contact_id",
        "company_id", "deal_id", "lead_id", "call_direction", "call_duration", "call_result",
        "recording_url", "starts_at", "ends_at", "place", "remind_at", "created_at", "updated_at",
    )  # fmt: skip
    return {
        "id": activity.pk,
        **{name: getattr(activity, name) for name in names},
        "done": activity.done_at is not None,
        "participant_ids": sorted(u.pk for u in activity.participants.all()),
    }


def _written_activity(activity: Activity) -> dict[str, Any]:
    # Read back, so times come out as stored (UTC) whatever offset the client sent; not through
    # visibility, as a new assignee may be someone the caller cannot see.
    fresh = Activity.objects.prefetch_related("participants").get(pk=activity.pk)
    return activity_out(fresh)


def _due_bound(errors: Collector, name: str, raw: str, *, upper: bool) -> Q | None:
    """A day (whole day, in the active time zone) or an exact ISO 8601 moment."""
    day = parse_date(raw)
    if day is not None:
        return Q(**{f"due_at__date__{'lte' if upper else 'gte'}": day})
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        errors.add(name, _("must be a date (YYYY-MM-DD) or a date and time (ISO 8601)"))
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return Q(**{f"due_at__{'lte' if upper else 'gte'}": moment})


def _activity_filters(params: Any, user: Any) -> tuple[list[Q], list[SortKey]]:
    """The query string of the activity list, each bad parameter named at once."""
    errors = Collector()
    conds: list[Q] = []
    if kind := params.get("kind", "").strip():
        if kind in ActivityKind.values:
            conds.append(Q(kind=kind))
        else:
            options = ", ".join(ActivityKind.values)
            errors.add("kind", _("must be one of: %(options)s") % {"options": options})
    for name in ("assignee", "owner"):
        raw = params.get(name, "").strip()
        if raw == "me":
            conds.append(Q(owner_id=user.pk))
        elif raw.isdigit():
            conds.append(Q(owner_id=int(raw)))
        elif raw:
            errors.add(name, _("must be a user id or “me”"))
    for name in ("deal", "contact", "company", "lead"):
        raw = params.get(name, "").strip()
        if raw.isdigit():
            conds.append(Q(**{f"{name}_id": int(raw)}))
        elif raw:
            errors.add(name, _("must be a whole number"))
    done = params.get("done", "").strip().lower()
    if done in {"true", "1", "yes"}:
        conds.append(Q(done_at__isnull=False))
    elif done in {"false", "0", "no"}:
        conds.append(Q(done_at__isnull=True))
    elif done:
        errors.add("done", _("must be true or false"))
    for name, upper in (("due_from", False), ("due_to", True)):
        raw = params.get(name, "").strip()
        if raw and (bound := _due_bound(errors, name, raw, upper=upper)) is not None:
            conds.append(bound)
    sort = params.get("sort", "").strip() or "due_at"
    if sort not in ACTIVITY_SORTS:
        errors.add("sort", _("cannot sort by %(name)s") % {"name": sort})
    errors.raise_if_any()
    return conds, ACTIVITY_SORTS[sort]


@activities.get("", response={200: ActivityPage, **ERRORS}, openapi_extra=ACTIVITY_LIST_DOC)
def list_activities(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Tasks, calls and meetings the caller may see; by due time unless sorted otherwise."""
    params = check_query(request.GET)
    conds, keys = _activity_filters(params, request.auth)
    qs = selectors.activities_visible_to(request.auth).annotate(
        due_key=Coalesce("due_at", Value(NO_DUE, output_field=DateTimeField()))
    )
    for cond in conds:
        qs = qs.filter(cond)
    if not 1 <= page.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    result = keyset_page(qs.prefetch_related("participants"), keys, page.cursor, page.limit)
    return page_body(result, activity_out)


@activities.post("", response={201: ActivityOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_activity(request: ApiRequest, payload: ActivityIn) -> Status[dict[str, Any]]:
    """Create a task, call or meeting; the assignee (``owner_id``) defaults to the caller."""
    activity = services.activity_create(
        actor=request.auth, data=patch_body(payload), channel=Channel.API
    )
    return Status(201, _written_activity(activity))


@activities.get("/{activity_id}", response={200: ActivityOut, **ERRORS})
def read_activity(request: ApiRequest, activity_id: int) -> dict[str, Any]:
    activity = selectors.get_activity_for_user(request.auth, activity_id)
    prefetch_related_objects([activity], "participants")
    return activity_out(activity)


@activities.patch("/{activity_id}", response={200: ActivityOut, **ERRORS})
def update_activity(request: ApiRequest, activity_id: int, payload: ActivityIn) -> dict[str, Any]:
    """Change only the keys sent; a new ``remind_at`` fires again."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    activity = services.activity_update(
        actor=request.auth, activity=activity, changes=patch_body(payload), channel=Channel.API
    )
    return _written_activity(activity)


@activities.delete("/{activity_id}", response={204: None, **ERRORS})
def delete_activity(request: ApiRequest, activity_id: int) -> Status[None]:
    """The assignee may delete their own activity; others need the right to delete."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    services.activity_delete(actor=request.auth, activity=activity, channel=Channel.API)
    return Status(204, None)


@activities.post(
    "/{activity_id}/complete",
    response={200: ActivityOut, **ERRORS},
    openapi_extra=IDEMPOTENCY_DOC,
)
@idempotent
def complete_activity(
    request: ApiRequest, activity_id: int, payload: ActivityCompleteIn | None = None
) -> dict[str, Any]:
    """Mark the activity done (the body may be omitted), or open again with ``done: false``."""
    activity = selectors.get_activity_for_user(request.auth, activity_id, write=True)
    done = payload.done if payload is not None else True
    activity = services.activity_complete(
        actor=request.auth, activity=activity, done=done, channel=Channel.API
    )
    return _written_activity(activity)
