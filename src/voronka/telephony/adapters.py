"""What each cloud PBX posts, turned into :class:`CallEvent` values after its signature is
checked.

An adapter reads one webhook request (:class:`HookRequest`, no Django request, so the service
and the tests can build one) and either returns the events in it or raises
:class:`HookRejected` with an HTTP status and a message saying what to fix. Adapters only
parse and verify; what an event does to a call is decided in
:mod:`voronka.telephony.services.calls`.

- **Mango Office** (VPBX API): form fields ``vpbx_api_key``, ``sign``, ``json`` where
  ``sign = sha256(vpbx_api_key + json + vpbx_api_salt)`` in hex. The PBX appends the event's
  path to the address it is given: ``…/events/call`` (a call leg's state: Appeared, Connected,
  OnHold, Disconnected) and ``…/events/summary`` (the whole call once it is over).
- **Zadarma**: form fields of ``NOTIFY_*`` events; header ``Signature`` is
  ``base64(hex(hmac_sha1(data, secret)))`` where ``data`` joins fields that depend on the event
  (see ``ZADARMA_SIGNED``). A ``GET ?zd_echo=…`` proves the address and is answered with the
  same text.
- **Generic**: our own JSON (see docs/telephony.md) with ``X-Voronka-Signature`` =
  ``hex(hmac_sha256(body, secret))``."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from voronka.telephony.models import PbxIntegration, Provider

GENERIC_SIGNATURE_HEADER = "X-Voronka-Signature"
ZADARMA_SIGNATURE_HEADER = "Signature"
BODY_LIMIT = 256 * 1024  # a PBX event is a few hundred bytes


class State:
    """What an event says about the call (or one leg of it)."""

    RINGING = "ringing"  # rings (for ``extension`` when given)
    ANSWERED = "answered"  # answered (by ``extension`` when given)
    COMPLETED = "completed"  # over, after a conversation
    MISSED = "missed"  # over, nobody answered
    LEG_ENDED = "leg_ended"  # one leg hung up; the call may go on elsewhere (Mango)
    RECORDING = "recording"  # a recording is ready
    INFO = "info"  # kept in the call's log, changes nothing


@dataclass
class CallEvent:
    """One event about one call, in the PBX-neutral terms the service works with."""

    call_id: str
    key: str  # unique among the call's events: a redelivered event has the same key
    state: str
    direction: str = ""  # "in", "out", or "" when the event does not tell
    caller: str = ""  # as the PBX wrote it; normalized by the service
    called: str = ""
    extension: str = ""  # the internal number (or e-mail) of the employee involved
    duration: int | None = None
    started_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    recording_url: str = ""
    recording_ref: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class HookRequest:
    """The parts of a webhook request an adapter reads."""

    method: str
    path: str  # what follows the token in the URL, e.g. "events/call" (Mango)
    body: bytes
    form: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]  # looked up case-insensitively by the caller's mapping


class HookRejected(Exception):
    """The request is refused; nothing is written. ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field_name


def _bad(message: str, field_name: str = "") -> HookRejected:
    return HookRejected(400, message, field_name)


def _forbidden(message: str, field_name: str = "") -> HookRejected:
    return HookRejected(403, message, field_name)


def _text(value: Any, name: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _bad(_("must be text"), name)
    text = str(value).strip()
    if len(text) > limit or "\x00" in text:
        raise _bad(_("is too long or holds a NUL character"), name)
    return text


def _int(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _bad(_("must be a whole number"), name) from None
    if number < 0 or number > 10**10:
        raise _bad(_("is out of range"), name)
    return number


def _unix(value: Any, name: str) -> dt.datetime | None:
    seconds = _int(value, name)
    if not seconds:
        return None
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _same(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


# --- Mango Office -------------------------------------------------------------------------------

MANGO_STATES = {
    "Appeared": State.RINGING,
    "Connected": State.ANSWERED,
    "Disconnected": State.LEG_ENDED,
    "OnHold": State.INFO,
}


def mango_sign(api_key: str, payload: str, salt: str) -> str:
    return hashlib.sha256((api_key + payload + salt).encode()).hexdigest()


def _party(data: Mapping[str, Any], name: str) -> dict[str, str]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise _bad(_("must be an object"), f"json.{name}")
    return {
        key: _text(value.get(key), f"json.{name}.{key}")
        for key in ("extension", "number", "line_number")
    }


def _mango_direction(frm: Mapping[str, str], to: Mapping[str, str]) -> str:
    """An employee's extension on one side only tells the direction; none means a customer is
    still in the voice menu (incoming); both means an internal call, which is no customer's."""
    if frm["extension"] and to["extension"]:
        return "internal"
    if frm["extension"]:
        return "out"
    return "in"


def _mango_call(data: Mapping[str, Any]) -> list[CallEvent]:
    entry_id = _text(data.get("entry_id"), "json.entry_id")
    state_name = _text(data.get("call_state"), "json.call_state", 32)
    if not entry_id:
        raise _bad(_("this field is required"), "json.entry_id")
    if state_name not in MANGO_STATES:
        raise _bad(
            _("must be one of: %(options)s") % {"options": ", ".join(MANGO_STATES)},
            "json.call_state",
        )
    frm, to = _party(data, "from"), _party(data, "to")
    direction = _mango_direction(frm, to)
    if direction == "internal":
        return []
    call_id = _text(data.get("call_id"), "json.call_id")
    seq = _int(data.get("seq"), "json.seq")
    at = _unix(data.get("timestamp"), "json.timestamp")
    incoming = direction == "in"
    return [
        CallEvent(
            call_id=entry_id,
            key=f"call:{call_id}:{seq}:{state_name}",
            state=MANGO_STATES[state_name],
            direction=direction,
            # An employee's own number is a SIP address: our side of a call is the line.
            caller=frm["number"] if incoming else (to["line_number"] or frm["number"]),
            called=(to["line_number"] or to["number"]) if incoming else to["number"],
            extension=to["extension"] if incoming else frm["extension"],
            started_at=at if state_name == "Appeared" else None,
            answered_at=at if state_name == "Connected" else None,
            raw=dict(data),
        )
    ]


def _mango_summary(data: Mapping[str, Any]) -> list[CallEvent]:
    entry_id = _text(data.get("entry_id"), "json.entry_id")
    if not entry_id:
        raise _bad(_("this field is required"), "json.entry_id")
    kind = _int(data.get("call_direction"), "json.call_direction")
    if kind not in (0, 1, 2):
        raise _bad(_("must be 0, 1 or 2"), "json.call_direction")
    if kind == 0:
        return []  # an internal call between employees
    result = _int(data.get("entry_result"), "json.entry_result")
    if result not in (0, 1):
        raise _bad(_("must be 0 or 1"), "json.entry_result")
    frm, to = _party(data, "from"), _party(data, "to")
    created = _unix(data.get("create_time"), "json.create_time")
    talk = _unix(data.get("talk_time"), "json.talk_time")
    end = _unix(data.get("end_time"), "json.end_time")
    incoming = kind == 1
    line = _text(data.get("line_number"), "json.line_number") or to["line_number"]
    return [
        CallEvent(
            call_id=entry_id,
            key="summary",
            state=State.COMPLETED if result == 1 else State.MISSED,
            direction="in" if incoming else "out",
            caller=frm["number"] if incoming else (line or frm["number"]),
            called=(line or to["number"]) if incoming else to["number"],
            extension=to["extension"] if incoming else frm["extension"],
            duration=int((end - talk).total_seconds()) if talk and end and end >= talk else 0,
            started_at=created,
            answered_at=talk,
            ended_at=end,
            raw=dict(data),
        )
    ]


def parse_mango(integration: PbxIntegration, request: HookRequest) -> list[CallEvent]:
    if request.method != "POST":
        raise HookRejected(405, _("send events with POST"))
    api_key = request.form.get("vpbx_api_key", "")
    sign = request.form.get("sign", "")
    payload = request.form.get("json", "")
    if not api_key or not sign or not payload:
        raise _bad(_("expected the form fields vpbx_api_key, sign and json"), "json")
    if not _same(integration.api_key, api_key):
        raise _forbidden(_("vpbx_api_key is not the key of this integration"), "vpbx_api_key")
    if not _same(mango_sign(integration.api_key, payload, integration.secret), sign.lower()):
        raise _forbidden(
            _("wrong signature: sign must be sha256(vpbx_api_key + json + salt)"), "sign"
        )
    try:
        data = json.loads(payload)
    except ValueError:
        raise _bad(_("json is not valid JSON"), "json") from None
    if not isinstance(data, dict):
        raise _bad(_("must be a JSON object"), "json")
    path = request.path.strip("/")
    if path.endswith("events/call") or (not path and "call_state" in data):
        return _mango_call(data)
    if path.endswith("events/summary") or (not path and "entry_result" in data):
        return _mango_summary(data)
    return []  # recording, dtmf, sms, …: signed, understood, not used


# --- Zadarma ------------------------------------------------------------------------------------

# The fields each event signs, in order, as Zadarma documents them.
ZADARMA_SIGNED: dict[str, tuple[str, ...]] = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}


def zadarma_sign(data: str, secret: str) -> str:
    """Zadarma's signature: base64 of the *hex* HMAC-SHA1 (as PHP's hash_hmac returns it)."""
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _zadarma_time(value: str, name: str) -> dt.datetime | None:
    """``call_start`` is "YYYY-MM-DD HH:MM:SS" in the PBX's time zone, taken to be ours."""
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=timezone.get_current_timezone()
        )
    except ValueError:
        raise _bad(_("must be a date and time like 2024-05-17 14:03:11"), name) from None


def _zadarma_event(event: str, form: Mapping[str, str]) -> list[CallEvent]:
    f = {name: _text(form.get(name), name) for name in (
        "pbx_call_id", "caller_id", "called_did", "destination", "internal", "disposition",
        "call_id_with_rec", "status_code", "is_recorded",
    )}  # fmt: skip
    if not f["pbx_call_id"]:
        raise _bad(_("this field is required"), "pbx_call_id")
    start = _zadarma_time(_text(form.get("call_start"), "call_start"), "call_start")
    duration = _int(form.get("duration"), "duration")
    base: dict[str, Any] = {"call_id": f["pbx_call_id"], "raw": dict(form), "started_at": start}
    if event == "NOTIFY_START":
        return [CallEvent(key=event, state=State.RINGING, direction="in", caller=f["caller_id"],
                          called=f["called_did"], **base)]  # fmt: skip
    if event == "NOTIFY_INTERNAL":
        return [CallEvent(key=f"{event}:{f['internal']}", state=State.RINGING, direction="in",
                          caller=f["caller_id"], called=f["called_did"],
                          extension=f["internal"], **base)]  # fmt: skip
    if event == "NOTIFY_ANSWER":
        return [CallEvent(key=event, state=State.ANSWERED, direction="in", caller=f["caller_id"],
                          extension=f["internal"] or f["destination"],
                          answered_at=timezone.now(), **base)]  # fmt: skip
    answered = f["disposition"] == "answered"
    if event in ("NOTIFY_END", "NOTIFY_OUT_END"):
        incoming = event == "NOTIFY_END"
        ended = start + dt.timedelta(seconds=duration or 0) if start else None
        return [CallEvent(
            key=event, state=State.COMPLETED if answered else State.MISSED,
            direction="in" if incoming else "out", caller=f["caller_id"],
            called=f["called_did"] if incoming else f["destination"], extension=f["internal"],
            duration=duration if answered else 0, ended_at=ended,
            recording_ref=f["call_id_with_rec"] if f["is_recorded"] == "1" else "", **base,
        )]  # fmt: skip
    if event == "NOTIFY_OUT_START":
        return [CallEvent(key=event, state=State.RINGING, direction="out", caller=f["caller_id"],
                          called=f["destination"], extension=f["internal"], **base)]  # fmt: skip
    if event == "NOTIFY_RECORD":
        return [CallEvent(key=f"{event}:{f['call_id_with_rec']}", state=State.RECORDING,
                          recording_ref=f["call_id_with_rec"], **base)]  # fmt: skip
    return []


def zadarma_echo(request: HookRequest) -> str | None:
    """The text to answer Zadarma's address check with, when this is one."""
    if request.method == "GET" and "zd_echo" in request.query:
        return request.query["zd_echo"][:255]
    return None


def parse_zadarma(integration: PbxIntegration, request: HookRequest) -> list[CallEvent]:
    if request.method != "POST":
        raise HookRejected(405, _("send events with POST (GET answers only ?zd_echo=)"))
    event = request.form.get("event", "")
    if not event:
        raise _bad(_("this field is required"), "event")
    signed = ZADARMA_SIGNED.get(event)
    if signed is None:
        return []  # IVR, SMS, speech recognition: not about a call's course
    data = "".join(request.form.get(name, "") for name in signed)
    given = request.headers.get(ZADARMA_SIGNATURE_HEADER, "")
    if not _same(zadarma_sign(data, integration.secret), given):
        raise _forbidden(
            _("wrong or missing Signature header (HMAC-SHA1 with the API secret)"), "Signature"
        )
    return _zadarma_event(event, request.form)


# --- generic JSON -------------------------------------------------------------------------------

GENERIC_STATES = {
    "ringing": State.RINGING,
    "answered": State.ANSWERED,
    "missed": State.MISSED,
    "completed": State.COMPLETED,
}


def generic_sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _generic_time(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _unix(value, "started_at")
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise _bad(_("must be an ISO 8601 date and time or a Unix time"), "started_at")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def parse_generic(integration: PbxIntegration, request: HookRequest) -> list[CallEvent]:
    if request.method != "POST":
        raise HookRejected(405, _("send events with POST"))
    given = request.headers.get(GENERIC_SIGNATURE_HEADER, "").strip().lower()
    if given.startswith("sha256="):
        given = given[len("sha256=") :]
    if not _same(generic_sign(request.body, integration.secret), given):
        raise _forbidden(
            _("wrong or missing %(header)s header (hex HMAC-SHA256 of the body)")
            % {"header": GENERIC_SIGNATURE_HEADER},
            GENERIC_SIGNATURE_HEADER,
        )
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):
        raise _bad(_("the request body is not valid JSON"), "body") from None
    if not isinstance(data, dict):
        raise _bad(_("must be a JSON object"), "body")
    event = _text(data.get("event"), "event", 32)
    if event not in GENERIC_STATES:
        raise _bad(
            _("must be one of: %(options)s") % {"options": ", ".join(GENERIC_STATES)}, "event"
        )
    call_id = _text(data.get("call_id"), "call_id")
    if not call_id:
        raise _bad(_("this field is required"), "call_id")
    direction = _text(data.get("direction"), "direction", 8) or "in"
    if direction not in ("in", "out"):
        raise _bad(_("must be in or out"), "direction")
    extension = _text(data.get("extension"), "extension", 64)
    recording_url = _text(data.get("recording_url"), "recording_url", 500)
    if recording_url and not recording_url.startswith(("http://", "https://")):
        raise _bad(_("must be an http or https address"), "recording_url")
    now = timezone.now()
    return [
        CallEvent(
            call_id=call_id,
            key=f"{event}:{extension}",
            state=GENERIC_STATES[event],
            direction=direction,
            caller=_text(data.get("from"), "from", 64),
            called=_text(data.get("to"), "to", 64),
            extension=extension,
            duration=_int(data.get("duration"), "duration"),
            started_at=_generic_time(data.get("started_at")),
            answered_at=now if event == "answered" else None,
            ended_at=now if event in ("missed", "completed") else None,
            recording_url=recording_url,
            raw=data,
        )
    ]


ADAPTERS: dict[str, Callable[[PbxIntegration, HookRequest], list[CallEvent]]] = {
    Provider.MANGO: parse_mango,
    Provider.ZADARMA: parse_zadarma,
    Provider.GENERIC: parse_generic,
}


def parse(integration: PbxIntegration, request: HookRequest) -> list[CallEvent]:
    """The events of one webhook request; HookRejected when it is not to be trusted or read."""
    if len(request.body) > BODY_LIMIT:
        raise HookRejected(413, _("the request body is too large"))
    if not integration.secret:
        raise _forbidden(_("this integration has no secret yet: set it on its page"))
    return ADAPTERS[integration.provider](integration, request)
