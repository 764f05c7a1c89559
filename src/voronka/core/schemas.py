"""API shapes shared by every domain: errors, pages, custom field definitions.

Input schemas are deliberately loose about types (``Loose*`` below): the services validate every
value and name the field in their message ("emails[0].email", "custom.region"), which is clearer
than pydantic's. The JSON schema still documents the real type for the OpenAPI page. Unknown
top-level keys are rejected (``extra="forbid"``) so a typo never silently does nothing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, WithJsonSchema

from voronka.core.models import CustomFieldType

LooseStr = Annotated[Any, WithJsonSchema({"type": "string"})]
LooseBool = Annotated[Any, WithJsonSchema({"type": "boolean"})]
LooseId = Annotated[Any, WithJsonSchema({"type": ["integer", "null"]})]
LooseDate = Annotated[Any, WithJsonSchema({"type": ["string", "null"], "format": "date"})]
LooseTags = Annotated[
    Any, WithJsonSchema({"type": "array", "items": {"type": "string"}, "description": "tag names"})
]
LooseCustom = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "description": 'values keyed by custom field key; null or "" clears a value',
        }
    ),
]


class StrictInput(Schema):
    """Base of every request body: unknown keys are an error naming the key."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every 4xx answer: a summary and the fields at fault (empty when no field is)."""

    detail: str
    errors: list[FieldErrorOut]


# The error answers every operation may give, for the OpenAPI document.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    type: str
    required: bool
    options: list[str]
    position: int
    created_at: dt.datetime


class CustomFieldPage(Schema):
    items: list[CustomFieldOut]
    next_cursor: str | None


class CustomFieldIn(StrictInput):
    entity: str
    label: str
    type: Annotated[str, WithJsonSchema({"type": "string", "enum": CustomFieldType.values})]
    key: str = ""
    required: bool = False
    options: list[str] | None = None


class CustomFieldPatch(StrictInput):
    """Label, required flag and options may change; entity, key and type may not (the service
    says so by name when they are sent)."""

    label: str | None = None
    required: bool | None = None
    options: list[str] | None = None
    entity: LooseStr = None
    key: LooseStr = None
    type: LooseStr = None
