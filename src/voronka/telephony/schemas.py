"""API shapes of telephony: calls (read-only: the PBX writes them) and tracking numbers."""

from __future__ import annotations

import datetime as dt

from ninja import Schema

from voronka.core.schemas import LooseId, LooseStr, StrictInput


class CallOut(Schema):
    id: int
    integration_id: int | None
    external_id: str
    direction: str
    status: str
    caller: str
    called: str
    extension: str
    manager_id: int | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: int | None
    recording_url: str
    tracking_number_id: int | None
    source: str
    contact_id: int | None
    lead_id: int | None
    conversation_id: int | None
    activity_id: int | None
    callback_task_id: int | None


class CallPage(Schema):
    items: list[CallOut]
    next_cursor: str | None


class TrackingNumberIn(StrictInput):
    number: LooseStr = None
    source: LooseStr = None
    utm_source: LooseStr = None
    utm_campaign: LooseStr = None
    default_owner_id: LooseId = None


class TrackingNumberOut(Schema):
    id: int
    number: str
    source: str
    utm_source: str
    utm_campaign: str
    default_owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TrackingNumberPage(Schema):
    items: list[TrackingNumberOut]
    next_cursor: str | None
