"""API shapes of contacts, companies, tags and search results.

Inputs are loose about types (see voronka.core.schemas): the services validate each value and
name the field at fault. PATCH bodies use the same schemas; only the keys sent are changed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import WithJsonSchema

from voronka.core.schemas import (
    LooseBool,
    LooseCustom,
    LooseDate,
    LooseId,
    LooseStr,
    LooseTags,
    StrictInput,
)
from voronka.customers.models import AddressKind, CompanySize, EmailKind, PhoneKind


def _list_schema(props: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "object", "properties": props},
            "description": description}  # fmt: skip


LooseEmails = Annotated[Any, WithJsonSchema(_list_schema(
    {"email": {"type": "string", "format": "email"},
     "kind": {"type": "string", "enum": EmailKind.values, "default": "work"}},
    "replaces all e-mails; a plain string is accepted as a work e-mail",
))]  # fmt: skip
LoosePhones = Annotated[Any, WithJsonSchema(_list_schema(
    {"phone": {"type": "string", "description": "any common format; stored as E.164"},
     "kind": {"type": "string", "enum": PhoneKind.values, "default": "mobile"}},
    "replaces all phones; a plain string is accepted as a mobile phone",
))]  # fmt: skip
LooseAddresses = Annotated[Any, WithJsonSchema(_list_schema(
    {"kind": {"type": "string", "enum": AddressKind.values, "default": "actual"},
     "address": {"type": "string", "maxLength": 500}},
    "replaces all addresses",
))]  # fmt: skip
LooseSize = Annotated[Any, WithJsonSchema({"type": "string", "enum": ["", *CompanySize.values]})]


class EmailOut(Schema):
    email: str
    kind: str


class PhoneOut(Schema):
    phone: str
    kind: str


class AddressOut(Schema):
    kind: str
    address: str


class ContactOut(Schema):
    id: int
    first_name: str
    middle_name: str
    last_name: str
    emails: list[EmailOut]
    phones: list[PhoneOut]
    company_id: int | None
    position: str
    birthday: dt.date | None
    owner_id: int | None
    source: str
    email_consent: bool
    sms_consent: bool
    tags: list[str]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactIn(StrictInput):
    first_name: LooseStr = None
    middle_name: LooseStr = None
    last_name: LooseStr = None
    emails: LooseEmails = None
    phones: LoosePhones = None
    company_id: LooseId = None
    position: LooseStr = None
    birthday: LooseDate = None
    owner_id: LooseId = None
    source: LooseStr = None
    email_consent: LooseBool = None
    sms_consent: LooseBool = None
    tags: LooseTags = None
    custom: LooseCustom = None


class CompanyOut(Schema):
    id: int
    name: str
    legal_name: str
    inn: str
    industry: str
    size: str
    website: str
    phone: str
    email: str
    region: str
    owner_id: int | None
    tags: list[str]
    addresses: list[AddressOut]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class CompanyIn(StrictInput):
    name: LooseStr = None
    legal_name: LooseStr = None
    inn: LooseStr = None
    industry: LooseStr = None
    size: LooseSize = None
    website: LooseStr = None
    phone: LooseStr = None
    email: LooseStr = None
    region: LooseStr = None
    owner_id: LooseId = None
    tags: LooseTags = None
    addresses: LooseAddresses = None
    custom: LooseCustom = None


class TagOut(Schema):
    id: int
    name: str
    color: str


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None


class TagIn(StrictInput):
    name: str
    color: str = "secondary"


class TagPatch(StrictInput):
    name: str | None = None
    color: str | None = None


class SearchOut(Schema):
    contacts: list[ContactOut]
    companies: list[CompanyOut]
