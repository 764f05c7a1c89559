"""What a PBX's call events do in the CRM.

Each event is applied to its :class:`Call` under a row lock, in one transaction, and the call
keeps the keys of the events it has seen: an event delivered twice changes nothing. A call
moves forward only (ringing → answered → completed or missed). While it rings, a
:class:`RingingAlert` tells the manager's browser to show the pop-up; it goes when the call
is answered or over.

When the call is over it is written to the CRM once (``Call.logged_at``):

- an incoming call lands in the inbox (a conversation per caller number, message kind
  "call"), which puts it on the contact's or lead's timeline and tells the manager;
- a call activity (done, with direction, duration and recording) on the contact or lead;
- an incoming call from an unknown number makes a lead whose source is the tracking
  number's channel (or "Phone"); a missed incoming call also makes a call-back task due in
  15 minutes and publishes ``call.missed``.

The responsible manager is the user of the extension that took (or was rung for) the call,
else the contact's owner, else the lead's, else the tracking number's default manager, else
the integration's."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from voronka.core.actors import OnBehalfOf, System
from voronka.core.models import Channel
from voronka.core.text import format_phone, normalize_phone
from voronka.inbox.services import Incoming, receive
from voronka.sales.models import Activity, ActivityKind, Lead
from voronka.sales.models import CallDirection as ActivityCallDirection
from voronka.sales.services.activities import (
    activity_complete,
    activity_create,
    activity_update,
)
from voronka.sales.services.leads import find_contact, lead_create
from voronka.telephony.adapters import CallEvent, State
from voronka.telephony.models import (
    FINAL_STATUSES,
    STATUS_RANK,
    Call,
    CallDirection,
    CallStatus,
    Extension,
    PbxIntegration,
    RingingAlert,
    TrackingNumber,
)
from voronka.telephony.services.setup import integration_record

log = logging.getLogger("voronka.telephony")

DEFAULT_SOURCE = "Phone"
CALLBACK_DELAY = dt.timedelta(minutes=15)
RINGING_TTL = dt.timedelta(minutes=10)  # the pop-up ignores older alerts
EVENTS_KEPT_WITH_DATA = 60  # a call's log keeps raw data of this many events, keys of all


# --- numbers and people -------------------------------------------------------------------------


def clean_number(raw: str) -> tuple[str, bool]:
    """(E.164, True) for a phone number; (the text as given, False) for anything else: a SIP
    address, "anonymous", an internal number."""
    text = (raw or "").strip()
    if not text or "@" in text or any(c.isalpha() for c in text):
        return text[:64], False
    try:
        return normalize_phone(text), True
    except ValueError:
        return text[:64], False


def _extension_user(integration: PbxIntegration, extension: str) -> Any:
    """The user behind an internal number: by the mapping, else by an e-mail in the event."""
    if not extension:
        return None
    row = (
        Extension.objects.filter(integration=integration, extension=extension, user__is_active=True)
        .select_related("user")
        .first()
    )
    if row is not None:
        return row.user
    if "@" in extension:
        return (
            get_user_model()
            .objects.filter(email__iexact=extension, is_active=True)
            .order_by("id")
            .first()
        )
    return None


def _responsible_id(call: Call, integration: PbxIntegration) -> int | None:
    """Who answers for a call nobody has taken yet."""
    return (
        call.manager_id
        or (call.contact.owner_id if call.contact else None)
        or (call.lead.owner_id if call.lead else None)
        or (call.tracking_number.default_owner_id if call.tracking_number else None)
        or integration.default_owner_id
    )


def _open_lead(phone: str) -> Lead | None:
    return (
        Lead.objects.filter(phone=phone, converted_at__isnull=True).order_by("-id").first()
        if phone
        else None
    )


# --- applying events ----------------------------------------------------------------------------


def hook_receive(*, integration: PbxIntegration, events: list[CallEvent]) -> list[Call]:
    """Apply the events of one webhook request and note that the PBX reached us."""
    calls = [call_event_apply(integration=integration, event=event) for event in events]
    integration_record(integration)
    return calls


def call_event_apply(*, integration: PbxIntegration, event: CallEvent) -> Call:
    """Apply one event to its call (made by the first event that names it). Idempotent: an
    event whose key the call has already seen returns the call unchanged."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                call = _locked_call(integration, event)
                if any(seen.get("key") == event.key for seen in call.events):
                    return call
                _apply(call, event, integration)
                return call
        except IntegrityError:
            # Two first events of one call raced to create it: the loser reads the winner's.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _locked_call(integration: PbxIntegration, event: CallEvent) -> Call:
    call = (
        Call.objects.select_for_update()
        .filter(integration=integration, external_id=event.call_id)
        .first()
    )
    if call is not None:
        return call
    started = event.started_at
    if started is None:
        # A call first heard of at its end began its duration ago.
        started = (event.ended_at or timezone.now()) - dt.timedelta(seconds=event.duration or 0)
    return Call.objects.create(
        integration=integration,
        external_id=event.call_id,
        direction=event.direction or CallDirection.IN,
        status=CallStatus.RINGING,
        started_at=started,
    )


def _remember(call: Call, event: CallEvent) -> None:
    entry: dict[str, Any] = {
        "key": event.key,
        "state": event.state,
        "at": timezone.now().isoformat(),
    }
    if len(call.events) < EVENTS_KEPT_WITH_DATA:
        entry["data"] = event.raw
    call.events = [*call.events, entry]


def _fill(call: Call, event: CallEvent) -> None:
    """What the event tells about the call that it did not know yet."""
    if (
        event.direction in (CallDirection.IN, CallDirection.OUT)
        and call.status not in FINAL_STATUSES
    ):
        call.direction = event.direction
    if event.caller and not call.caller:
        call.caller = clean_number(event.caller)[0]
    if event.called and not call.called:
        call.called = clean_number(event.called)[0]
    if event.started_at and event.started_at < call.started_at:
        call.started_at = event.started_at
    if event.recording_url:
        call.recording_url = event.recording_url
    if event.recording_ref:
        call.recording_ref = event.recording_ref[:255]
    if call.tracking_number_id is None and call.direction == CallDirection.IN and call.called:
        call.tracking_number = TrackingNumber.objects.filter(number=call.called).first()
        if call.tracking_number is not None:
            call.source = call.tracking_number.source
    customer, is_phone = clean_number(call.customer_number)
    if is_phone and call.contact_id is None:
        call.contact = find_contact("", customer)
    if is_phone and call.contact_id is None and call.lead_id is None:
        call.lead = _open_lead(customer)


def _apply(call: Call, event: CallEvent, integration: PbxIntegration) -> None:
    _remember(call, event)
    _fill(call, event)
    user = _extension_user(integration, event.extension)
    if event.extension and event.state != State.LEG_ENDED:
        call.extension = event.extension[:64]
    rank = STATUS_RANK[CallStatus(call.status)]
    if event.state == State.RINGING:
        if user is not None and call.manager_id is None:
            call.manager = user
        call.save()
        if rank == 0 and call.direction == CallDirection.IN:
            target = user.pk if user is not None else _responsible_id(call, integration)
            if target:
                RingingAlert.objects.get_or_create(call=call, user_id=target)
        return
    if event.state == State.ANSWERED:
        if user is not None:
            call.manager = user
        if rank < 1:
            call.status = CallStatus.ANSWERED
            call.answered_at = event.answered_at or timezone.now()
        call.save()
        RingingAlert.objects.filter(call=call).delete()
        return
    if event.state == State.LEG_ENDED:
        # One employee's phone stopped ringing; the call may ring elsewhere. A leg without an
        # extension (the voice menu's) says nothing sure about the call: the summary ends it.
        call.save()
        if user is not None:
            RingingAlert.objects.filter(call=call, user=user).delete()
        return
    if event.state in (State.COMPLETED, State.MISSED):
        _finish(call, event, user, integration)
        return
    if event.state == State.RECORDING and call.activity_id and call.recording_url:
        activity_update(
            actor=System(), activity=Activity.objects.get(pk=call.activity_id),
            changes={"recording_url": call.recording_url}, channel=Channel.SYSTEM,
        )  # fmt: skip
    call.save()


def _finish(call: Call, event: CallEvent, user: Any, integration: PbxIntegration) -> None:
    if call.status in FINAL_STATUSES:
        # Already over (a summary after the end event, say): only numbers may be refined.
        if event.duration is not None and event.state == call.status:
            call.duration = event.duration
        call.save()
        return
    if user is not None and (event.state == State.COMPLETED or call.manager_id is None):
        call.manager = user
    call.status = CallStatus(event.state)
    now = timezone.now()
    if event.answered_at and not call.answered_at and event.state == State.COMPLETED:
        call.answered_at = event.answered_at
    call.ended_at = event.ended_at or now
    if event.duration is not None:
        call.duration = event.duration
    elif call.status == CallStatus.COMPLETED and call.answered_at:
        call.duration = max(int((call.ended_at - call.answered_at).total_seconds()), 0)
    else:
        call.duration = 0
    call.save()
    RingingAlert.objects.filter(call=call).delete()
    _log(call, integration)


# --- writing a finished call to the CRM ---------------------------------------------------------


def duration_text(seconds: int | None) -> str:
    """2 min 05 s; 42 s."""
    seconds = max(int(seconds or 0), 0)
    minutes, rest = divmod(seconds, 60)
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": rest}
    return _("%(s)d s") % {"s": rest}


def call_summary(call: Call) -> str:
    """One line about the call, as the timeline and the activity say it."""
    incoming = call.direction == CallDirection.IN
    if call.status == CallStatus.MISSED:
        return _("Missed call") if incoming else _("Outgoing call, no answer")
    what = _("Incoming call") if incoming else _("Outgoing call")
    return _("%(what)s, %(duration)s") % {"what": what, "duration": duration_text(call.duration)}


def _subject(call: Call, shown: str) -> str:
    if call.direction == CallDirection.OUT:
        return _("Outgoing call to %(number)s") % {"number": shown}
    if call.status == CallStatus.MISSED:
        return _("Missed call from %(number)s") % {"number": shown}
    return _("Incoming call from %(number)s") % {"number": shown}


def _body(call: Call) -> str:
    lines = [call_summary(call)]
    if call.source:
        lines.append(_("Source: %(source)s") % {"source": call.source})
    if call.recording_url:
        lines.append(_("Recording: %(url)s") % {"url": call.recording_url})
    return "\n".join(lines)


def _new_lead(call: Call, phone: str, owner_id: int | None) -> Lead:
    tracking = call.tracking_number
    data: dict[str, Any] = {
        "phone": phone,
        "source": call.source or DEFAULT_SOURCE,
        "message": _body(call),
    }
    if tracking is not None:
        data["utm_source"] = tracking.utm_source
        data["utm_campaign"] = tracking.utm_campaign
    if owner_id:
        data["owner_id"] = owner_id
    return lead_create(actor=System(), data=data, channel=Channel.SYSTEM)


def _log(call: Call, integration: PbxIntegration) -> None:
    """Write the finished call to the CRM, once: inbox message, lead, activity, task."""
    if call.logged_at is not None:
        return
    incoming = call.direction == CallDirection.IN
    missed = call.status == CallStatus.MISSED
    phone, is_phone = clean_number(call.customer_number)
    shown = format_phone(phone) if is_phone else (phone or _("unknown number"))
    manager_id = _responsible_id(call, integration)
    if is_phone and incoming and call.contact_id is None and call.lead_id is None:
        call.lead = _new_lead(call, phone, manager_id)
        manager_id = manager_id or call.lead.owner_id
    if is_phone and (call.contact_id or call.lead_id):
        message = receive(
            Incoming(
                kind="call",
                account=integration.account,
                external_id=f"call:{call.external_id}",
                external_key=phone,
                sender=shown,
                phone=phone,
                body_text=_body(call),
                meta={
                    "call_id": call.pk,
                    "direction": call.direction,
                    "status": call.status,
                    "duration": call.duration or 0,
                    "recording_url": call.recording_url,
                    "source": call.source,
                    "called": call.called,
                },
                when=call.started_at,
                source=call.source or DEFAULT_SOURCE,
                default_owner_id=manager_id,
                create_lead=False,
                lead_id=call.lead_id if call.contact_id is None else None,
                event=("call.missed" if missed else "message.received") if incoming else "",
                notify=incoming,
                direction="in" if incoming else "out",
            )
        )
        conversation = message.conversation
        call.conversation = conversation
        if call.contact_id is None and conversation.contact_id:
            call.contact_id = conversation.contact_id
        if call.contact_id is None and call.lead_id is None and conversation.lead_id:
            call.lead_id = conversation.lead_id
    if call.manager_id is None and manager_id:
        call.manager_id = manager_id
    link = (
        {"contact_id": call.contact_id}
        if call.contact_id
        else {"lead_id": call.lead_id}
        if call.lead_id
        else None
    )
    if link is not None:
        manager = (
            get_user_model().objects.filter(pk=call.manager_id).first() if call.manager_id else None
        )
        actor: Any = OnBehalfOf(manager) if manager is not None else System()
        activity = activity_create(
            actor=actor,
            data={
                "kind": ActivityKind.CALL,
                "subject": _subject(call, shown),
                "description": _body(call),
                "owner_id": call.manager_id,
                "due_at": call.started_at,
                "call_direction": ActivityCallDirection.MISSED if incoming and missed
                else ActivityCallDirection.INCOMING if incoming
                else ActivityCallDirection.OUTGOING,
                "call_duration": call.duration or 0,
                "call_result": call.get_status_display(),
                "recording_url": call.recording_url,
                **link,
            },
            channel=Channel.SYSTEM,
        )  # fmt: skip
        call.activity = activity_complete(actor=actor, activity=activity, channel=Channel.SYSTEM)
        if incoming and missed:
            due = timezone.now() + CALLBACK_DELAY
            call.callback_task = activity_create(
                actor=actor,
                data={
                    "kind": ActivityKind.TASK,
                    "subject": _("Call back %(number)s") % {"number": shown},
                    "description": _body(call),
                    "owner_id": call.manager_id,
                    "due_at": due,
                    "remind_at": due,
                    **link,
                },
                channel=Channel.SYSTEM,
            )
    call.logged_at = timezone.now()
    call.save()


# --- the pop-up ---------------------------------------------------------------------------------


def ringing_for(user: Any, *, limit: int = 3) -> list[RingingAlert]:
    """Calls ringing for the user now, newest first: one indexed query."""
    if user is None or not user.is_authenticated:
        return []
    since = timezone.now() - RINGING_TTL
    return list(
        RingingAlert.objects.filter(user_id=user.pk, created_at__gte=since)
        .select_related(
            "call",
            "call__contact",
            "call__contact__company",
            "call__lead",
            "call__tracking_number",
        )
        .order_by("-created_at", "-id")[:limit]
    )


def ringing_dismiss(*, user: Any, alert_id: int) -> None:
    """The user hides a pop-up card; the call goes on."""
    RingingAlert.objects.filter(pk=alert_id, user_id=user.pk).delete()


def alerts_expire(*, now: dt.datetime | None = None) -> int:
    """Drop alerts of calls whose end never came (a periodic job); the pop-up already ignores
    them, this only keeps the table small."""
    now = now or timezone.now()
    deleted, _rows = RingingAlert.objects.filter(created_at__lt=now - RINGING_TTL).delete()
    return deleted
