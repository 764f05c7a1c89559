"""API shapes of web forms, their submissions and lead sources.

Inputs are loose about types (see voronka.core.schemas): the services check every value and
name the field at fault (``fields[2].key``, ``allowed_origins[0]``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import WithJsonSchema

from voronka.core.schemas import LooseBool, LooseStr, StrictInput

LooseFields = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "description": "the inputs in order; key is a lead field (first_name, last_name, "
            "middle_name, email, phone, company_name, inn, region, message) or custom.<key> "
            "of a lead custom field",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "examples": ["email"]},
                    "label": {"type": "string", "description": "the field's own name when empty"},
                    "required": {"type": "boolean"},
                },
                "required": ["key"],
            },
        }
    ),
]
LooseOrigins = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "examples": ["https://example.com"]},
            "description": "websites that may send the form from a browser; empty: any",
        }
    ),
]


class FormFieldOut(Schema):
    key: str
    label: str
    required: bool


class WebFormOut(Schema):
    id: int
    name: str
    title: str
    fields: list[FormFieldOut]
    button_text: str
    consent_required: bool
    consent_text: str
    success_message: str
    redirect_url: str
    source: str
    allowed_origins: list[str]
    active: bool
    page_url: str
    embed_url: str
    submit_url: str
    snippet: str
    created_at: dt.datetime
    updated_at: dt.datetime


class WebFormPage(Schema):
    items: list[WebFormOut]
    next_cursor: str | None


class WebFormIn(StrictInput):
    name: LooseStr = None
    title: LooseStr = None
    fields: LooseFields = None
    button_text: LooseStr = None
    consent_required: LooseBool = None
    consent_text: LooseStr = None
    success_message: LooseStr = None
    redirect_url: LooseStr = None
    source: LooseStr = None
    allowed_origins: LooseOrigins = None
    active: LooseBool = None


class SubmissionOut(Schema):
    id: int
    form_id: int
    lead_id: int | None
    data: dict[str, Any]
    utm: dict[str, str]
    referrer: str
    page_url: str
    ip: str | None
    created_at: dt.datetime


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None


class LeadSourceOut(Schema):
    id: int
    name: str
    source: str
    active: bool
    url: str
    secret_hint: str
    last_used_at: dt.datetime | None
    created_at: dt.datetime


class LeadSourceWithSecretOut(LeadSourceOut):
    secret: str


class LeadSourcePage(Schema):
    items: list[LeadSourceOut]
    next_cursor: str | None


class LeadSourceIn(StrictInput):
    name: LooseStr = None
    source: LooseStr = None
    active: LooseBool = None
