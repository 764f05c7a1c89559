"""The activity form: what its inputs show and how a POST becomes the ``data`` the activity
services take.

The form speaks local wall-clock time (settings.TIME_ZONE) through ``datetime-local`` inputs
and offers reminder shortcuts ("15 min before"); both become aware datetimes here. What is
valid is the services' business: the form only says what it alone can know (a shortcut
without a due time, a duration that is not minutes), and still lets the service check the
rest, so every problem is shown at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voronka.accounts.selectors import users_active
from voronka.core.errors import Forbidden, ServiceValidationError
from voronka.customers.forms import FieldView
from voronka.sales.models import Activity, ActivityKind, CallDirection

KIND_ICONS: dict[str, str] = {
    ActivityKind.TASK: "bi-check2-square",
    ActivityKind.CALL: "bi-telephone",
    ActivityKind.MEETING: "bi-people",
}
REMIND_OFFSETS = {
    "due": dt.timedelta(0),
    "15m": dt.timedelta(minutes=15),
    "1h": dt.timedelta(hours=1),
    "1d": dt.timedelta(days=1),
}


def remind_choices() -> list[tuple[str, Any]]:
    return [
        ("", _("No reminder")),
        ("due", _("At due time")),
        ("15m", _("15 min before")),
        ("1h", _("1 hour before")),
        ("1d", _("1 day before")),
        ("custom", _("At a time I choose")),
    ]


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


TEXT_INPUTS = ("kind", "subject", "owner_id", "due_at", "remind", "remind_at", "description",
               "call_direction", "call_duration", "call_result", "recording_url", "starts_at",
               "ends_at", "place")  # fmt: skip
PLACED = set(TEXT_INPUTS) | {"participant_ids"}


@dataclass
class ActivityForm:
    """What the form shows: the values as typed and the errors by input name."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def fail(self, exc: ServiceValidationError) -> None:
        """Add the service's errors, except on inputs the form already said something about."""
        own = set(self.errors)
        for err in exc.errors:
            name = err.field
            if name == "remind_at" and self.values.get("remind") != "custom":
                name = "remind"  # the custom time is hidden: say it next to the choice
            if name == "due_at" and self.values.get("kind") == ActivityKind.MEETING:
                name = "starts_at"  # a meeting's due time is its start
            if name not in own:
                self.add(name, err.message)

    @property
    def unplaced(self) -> list[str]:
        return [f"{n}: {m}" for n, ms in self.errors.items() if n not in PLACED for m in ms]


class _FormRefused(Exception):
    """Rolls back a write the form had already refused (see :func:`save`)."""


def save(form: ActivityForm, write: Callable[[], Activity]) -> Activity | None:
    """Run the service and return what it wrote, or None with the errors in ``form``.

    When the form itself found a problem (a reminder shortcut without a due time), the
    service still runs, so every field's problem is shown at once, but inside a transaction
    that is then rolled back: nothing is written."""
    try:
        with transaction.atomic():
            activity = write()
            if form.errors:
                raise _FormRefused
    except ServiceValidationError as exc:
        form.fail(exc)
        return None
    except _FormRefused:
        return None
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    return activity


def local_input(moment: dt.datetime | None) -> str:
    """The value of a ``datetime-local`` input: local wall-clock time, minutes."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse_local(raw: str) -> dt.datetime | str | None:
    """A ``datetime-local`` value as an aware datetime in the active time zone; text that is
    not a date is passed on as typed so the service names the field."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        return raw
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_duration(raw: str) -> int | None:
    """Minutes ("5") or minutes and seconds ("5:30") as seconds; ValueError otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return None
    minutes, _sep, seconds = raw.partition(":")
    if not minutes.isdigit() or (seconds and (not seconds.isdigit() or int(seconds) >= 60)):
        raise ValueError(raw)
    return int(minutes) * 60 + (int(seconds) if seconds else 0)


def remind_choice(activity: Activity) -> str:
    if activity.remind_at is None:
        return ""
    base = activity.starts_at if activity.kind == ActivityKind.MEETING else activity.due_at
    base = base or activity.due_at
    for key, offset in REMIND_OFFSETS.items():
        if base is not None and base - offset == activity.remind_at:
            return key
    return "custom"


def initial_values(activity: Activity | None, **defaults: Any) -> dict[str, Any]:
    if activity is None:
        values: dict[str, Any] = {name: "" for name in TEXT_INPUTS}
        values.update(kind=ActivityKind.TASK, participant_ids=[])
        values.update({k: str(v) for k, v in defaults.items() if v is not None})
        return values
    a = activity
    return {
        "kind": a.kind,
        "subject": a.subject,
        "owner_id": str(a.owner_id or ""),
        "due_at": local_input(a.due_at),
        "remind": remind_choice(a),
        "remind_at": local_input(a.remind_at),
        "description": a.description,
        "call_direction": a.call_direction,
        "call_duration": duration_text(a.call_duration),
        "call_result": a.call_result,
        "recording_url": a.recording_url,
        "starts_at": local_input(a.starts_at),
        "ends_at": local_input(a.ends_at),
        "place": a.place,
        "participant_ids": [str(pk) for pk in a.participants.values_list("pk", flat=True)],
    }


def form_from_post(post: Any) -> ActivityForm:
    values: dict[str, Any] = {name: (post.get(name) or "").strip() for name in TEXT_INPUTS}
    values["description"] = post.get("description") or ""
    values["participant_ids"] = [v for v in post.getlist("participant_ids") if v]
    if values["kind"] not in ActivityKind.values:
        values["kind"] = values["kind"] or ActivityKind.TASK
    return ActivityForm(values=values)


def service_data(form: ActivityForm, *, instance: Activity | None) -> dict[str, Any]:
    """The form as the ``data`` the activity services take. Problems that only the form
    knows about (a reminder shortcut without a due time) are added to ``form.errors``."""
    v = form.values
    kind = v["kind"]
    data: dict[str, Any] = {
        "kind": kind,
        "subject": v["subject"],
        "description": v["description"],
        "owner_id": v["owner_id"] or None,
    }
    due = parse_local(v["due_at"])
    if kind == ActivityKind.MEETING:
        starts = parse_local(v["starts_at"] or v["due_at"])
        data.update(starts_at=starts, ends_at=parse_local(v["ends_at"]), place=v["place"])
        ids = v["participant_ids"]
        if all(str(i).isdigit() for i in ids):
            data["participant_ids"] = [int(i) for i in ids]
        else:
            form.add("participant_ids", _("Choose people from the list."))
        due = starts
    if kind == ActivityKind.CALL:
        data.update(
            call_direction=v["call_direction"],
            call_result=v["call_result"],
            recording_url=v["recording_url"],
        )
        try:
            data["call_duration"] = parse_duration(v["call_duration"])
        except ValueError:
            form.add("call_duration", _("Use minutes, or minutes:seconds such as 5:30."))
    data["due_at"] = due
    remind = v["remind"]
    if remind in REMIND_OFFSETS:
        if due is None:
            form.add("remind", _("Set a due time first, or choose the reminder time yourself."))
        elif isinstance(due, dt.datetime):
            data["remind_at"] = due - REMIND_OFFSETS[remind]
    elif remind == "custom":
        data["remind_at"] = parse_local(v["remind_at"])
        if data["remind_at"] is None:
            form.add("remind_at", _("Choose when to remind you."))
    else:
        data["remind_at"] = None
    if instance is not None:
        _drop_unchanged_times(data, instance)
    return data


def _drop_unchanged_times(data: dict[str, Any], instance: Activity) -> None:
    """The form shows times to the minute; a time left as it was is not a change (so a
    delivered reminder stays delivered, and the history shows no false edit)."""
    for name in ("due_at", "starts_at", "ends_at", "remind_at"):
        if name not in data:
            continue
        old, new = getattr(instance, name), data[name]
        if old is None or not isinstance(new, dt.datetime):
            continue
        if old.replace(second=0, microsecond=0) == new:
            del data[name]


def form_inputs(form: ActivityForm, *, quick: bool = False) -> dict[str, FieldView]:
    """The inputs by name, ready for ``customers/_input.html``; the quick form of a panel
    says "When", as its one time input is a task's due time and a meeting's start."""
    v, e = form.values, form.errors
    people = [(str(u.pk), str(u)) for u in users_active().order_by("last_name", "first_name", "id")]
    spec: list[tuple[str, Any, str, list[tuple[str, Any]], Any]] = [
        ("subject", _("Title"), "text", [], ""),
        ("owner_id", _("Assignee"), "select", [("", "—"), *people], ""),
        ("due_at", _("When") if quick else _("Due"), "datetime", [], ""),
        ("remind", _("Reminder"), "select", remind_choices(), ""),
        ("remind_at", _("Remind at"), "datetime", [], ""),
        ("description", _("Description"), "textarea", [], ""),
        ("call_direction", _("Direction"), "select", [("", "—"), *CallDirection.choices], ""),
        ("call_duration", _("Duration"), "text", [], _("Minutes, or minutes:seconds")),
        ("call_result", _("Result"), "text", [], ""),
        ("recording_url", _("Recording URL"), "url", [], ""),
        ("starts_at", _("Starts"), "datetime", [], ""),
        ("ends_at", _("Ends"), "datetime", [], ""),
        ("place", _("Place"), "text", [], ""),
        ("participant_ids", _("Participants"), "multiselect", people, ""),
    ]
    out = {}
    for name, label, widget, options, help_text in spec:
        out[name] = FieldView(
            name=name,
            label=label,
            widget=widget,
            value=v.get(name, ""),
            required=name == "subject",
            options=options,
            errors=e.get(name, []),
            help=help_text,
        )
    return out


def kinds() -> list[tuple[str, Any, str]]:
    return [(k.value, k.label, KIND_ICONS[k]) for k in ActivityKind]
