"""API shapes of leads, pipelines, deals, products, activities, quotes and invoices.

Money is a decimal string in JSON ("1999.99"), never a float, so no kopeck is lost on the way;
input money may be a string or a number and is checked by the services, which name the field
at fault ("lines[0].unit_price"). Inputs are loose about types like the customers schemas
(see voronka.core.schemas) except where a service relies on the type: those fields are typed
here so a wrong type is a 422 naming the field rather than a 500."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, WithJsonSchema, field_validator

from voronka.core.schemas import LooseBool, LooseCustom, LooseDate, LooseId, LooseStr, StrictInput
from voronka.sales.models import ActivityKind, CallDirection, LeadStatus, StageKind


def _places(n: int) -> AfterValidator:
    """Always the same number of decimals ("0.00", not "0"), as the columns store them."""
    step = Decimal(1).scaleb(-n)
    return AfterValidator(lambda value: value.quantize(step, rounding=ROUND_HALF_UP))


Money = Annotated[
    Decimal,
    _places(2),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1999.99"]}),
]
Quantity = Annotated[
    Decimal,
    _places(3),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1.500"]}),
]
LooseMoney = Annotated[
    Any,
    WithJsonSchema(
        {"type": ["string", "number", "null"], "description": "a decimal; a string is safest"}
    ),
]
LooseIds = Annotated[Any, WithJsonSchema({"type": "array", "items": {"type": "integer"}})]
LooseDateTime = Annotated[Any, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})]
LooseInt = Annotated[Any, WithJsonSchema({"type": ["integer", "null"]})]
LooseTagNames = Annotated[
    Any, WithJsonSchema({"type": "array", "items": {"type": "string"}, "description": "tag names"})
]
LooseLines = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "description": "replaces every line; totals and the deal amount are computed",
            "items": {
                "type": "object",
                "properties": {
                    "product_id": {"type": ["integer", "null"]},
                    "name": {"type": "string", "description": "defaults to the product's name"},
                    "quantity": {"type": ["string", "number"]},
                    "unit": {"type": "string"},
                    "unit_price": {"type": ["string", "number"], "description": "without VAT"},
                    "discount_percent": {"type": ["string", "number"], "default": "0"},
                    "vat_rate": {
                        "type": ["string", "number", "null"],
                        "description": "percent; defaults to the product's rate",
                    },
                },
                "required": ["quantity", "unit_price"],
            },
        }
    ),
]
LoosePrices = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "number"]},
            "description": 'price per currency code, e.g. {"RUB": "1500.00"}; replaces all',
        }
    ),
]


def _enum(values: list[str]) -> Any:
    return WithJsonSchema({"type": "string", "enum": values})


class Page(Schema):
    next_cursor: str | None


# --- leads ----------------------------------------------------------------------------------


class LeadOut(Schema):
    id: int
    first_name: str
    middle_name: str
    last_name: str
    company_name: str
    inn: str
    email: str
    phone: str
    source: str
    region: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    message: str
    status: str
    junk_reason: str
    owner_id: int | None
    custom: dict[str, Any]
    converted_contact_id: int | None
    converted_company_id: int | None
    converted_deal_id: int | None
    converted_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(Page):
    items: list[LeadOut]


class LeadIn(StrictInput):
    first_name: LooseStr = None
    middle_name: LooseStr = None
    last_name: LooseStr = None
    company_name: LooseStr = None
    inn: LooseStr = None
    email: LooseStr = None
    phone: LooseStr = None
    source: LooseStr = None
    region: LooseStr = None
    utm_source: LooseStr = None
    utm_medium: LooseStr = None
    utm_campaign: LooseStr = None
    utm_term: LooseStr = None
    utm_content: LooseStr = None
    message: LooseStr = None
    status: Annotated[Any, _enum(LeadStatus.values)] = None
    junk_reason: LooseStr = None
    owner_id: LooseId = None
    custom: LooseCustom = None


class LeadConvertIn(StrictInput):
    """What ``lead_convert`` takes: whether to make a deal, and its title, pipeline, amount."""

    create_deal: bool = True
    deal_title: str = Field(default="", max_length=255)
    pipeline_id: LooseId = None
    amount: LooseMoney = None


class LeadConvertOut(Schema):
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    lead: LeadOut


# --- pipelines and stages -------------------------------------------------------------------

StageKindField = Annotated[str, _enum(StageKind.values)]


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    color: str
    kind: str
    instructions: list[str]
    required_fields: list[str]


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    stages: list[StageOut]
    created_at: dt.datetime


class PipelinePage(Page):
    items: list[PipelineOut]


class _StageFields(StrictInput):
    """Typed, because the stage services take these values as they come."""

    probability: int = 0
    color: str = Field(default="#3b5bdb", max_length=16)
    kind: StageKindField = StageKind.OPEN
    instructions: list[str] | str = Field(
        default_factory=list, description="checklist lines (a string is split into lines)"
    )
    required_fields: list[str] = Field(
        default_factory=list,
        description="amount, expected_close_date, company, contacts, lines, source or cf.<key>",
    )


class StageIn(_StageFields):
    name: str


class StagePatch(_StageFields):
    """Only the keys sent change; ``null`` is refused, as none of these may be empty."""

    name: str = Field(default="", max_length=128)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class PipelineIn(StrictInput):
    name: str
    stages: list[StageIn] = Field(default_factory=list)


class PipelinePatch(StrictInput):
    name: str | None = None
    is_default: Literal[True] | None = Field(
        default=None, description="true makes this the default pipeline of new deals"
    )


class StageOrderIn(StrictInput):
    stage_ids: list[int] = Field(description="every stage of the pipeline once, in the new order")


# --- deals ----------------------------------------------------------------------------------


class DealOut(Schema):
    id: int
    title: str
    pipeline_id: int
    stage_id: int
    stage_name: str
    status: Annotated[str, _enum(StageKind.values)]
    amount: Money
    currency: str
    company_id: int | None
    contact_ids: list[int]
    expected_close_date: dt.date | None
    probability: int | None
    owner_id: int | None
    source: str
    tags: list[str]
    custom: dict[str, Any]
    lost_reason_id: int | None
    lost_comment: str
    stage_entered_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealPage(Page):
    items: list[DealOut]


class DealLineOut(Schema):
    id: int
    product_id: int | None
    name: str
    quantity: Quantity
    unit: str
    unit_price: Money
    discount_percent: Money
    vat_rate: Money | None
    net_total: Money
    vat_total: Money
    total: Money


class StageVisitOut(Schema):
    stage_id: int
    stage_name: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    seconds_in_stage: int = Field(description="until it left, or until now if it is still there")


class ContactRefOut(Schema):
    id: int
    name: str


class DealDetailOut(DealOut):
    net_total: Money
    vat_total: Money
    lines: list[DealLineOut]
    contacts: list[ContactRefOut]
    stage_history: list[StageVisitOut]


class DealIn(StrictInput):
    title: LooseStr = None
    pipeline_id: LooseId = None
    stage_id: LooseId = None
    amount: LooseMoney = None
    currency: LooseStr = None
    company_id: LooseId = None
    contact_ids: LooseIds = None
    expected_close_date: LooseDate = None
    probability: LooseInt = None
    owner_id: LooseId = None
    source: LooseStr = None
    tags: LooseTagNames = None
    custom: LooseCustom = None
    lost_reason_id: LooseId = None
    lost_comment: LooseStr = None
    lines: LooseLines = None


class DealMoveIn(StrictInput):
    stage_id: LooseId
    lost_reason_id: LooseId = None
    lost_comment: str | None = Field(default=None, max_length=500)


# --- products -------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    unit: str
    category: str
    vat_rate: Money | None
    active: bool
    description: str
    prices: dict[str, Money]
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Page):
    items: list[ProductOut]


class ProductIn(StrictInput):
    sku: LooseStr = None
    name: LooseStr = None
    unit: LooseStr = None
    category: LooseStr = None
    vat_rate: LooseMoney = None
    active: LooseBool = None
    description: str | None = Field(default=None, max_length=10000)
    prices: LoosePrices = None


# --- activities -----------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    description: str
    owner_id: int | None = Field(description="the assignee")
    due_at: dt.datetime | None
    done: bool
    done_at: dt.datetime | None
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    lead_id: int | None
    call_direction: str
    call_duration: int | None
    call_result: str
    recording_url: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    place: str
    participant_ids: list[int]
    remind_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ActivityPage(Page):
    items: list[ActivityOut]


class ActivityIn(StrictInput):
    kind: Annotated[Any, _enum(ActivityKind.values)] = None
    subject: LooseStr = None
    description: LooseStr = None
    owner_id: LooseId = Field(default=None, description="the assignee; defaults to you")
    due_at: LooseDateTime = None
    contact_id: LooseId = None
    company_id: LooseId = None
    deal_id: LooseId = None
    lead_id: LooseId = None
    call_direction: Annotated[Any, _enum(["", *CallDirection.values])] = None
    call_duration: LooseInt = None
    call_result: LooseStr = None
    recording_url: LooseStr = None
    starts_at: LooseDateTime = None
    ends_at: LooseDateTime = None
    place: LooseStr = None
    participant_ids: LooseIds = None
    remind_at: LooseDateTime = None


class ActivityCompleteIn(StrictInput):
    done: bool = Field(default=True, description="false reopens the activity")


# --- quotes and invoices --------------------------------------------------------------------


class DocumentLineOut(Schema):
    id: int
    name: str
    quantity: Quantity
    unit: str
    unit_price: Money
    discount_percent: Money
    vat_rate: Money | None
    net_total: Money
    vat_total: Money
    total: Money


class DocumentOut(Schema):
    id: int
    kind: str
    number: str
    deal_id: int
    template_id: int | None
    status: str
    currency: str
    issue_date: dt.date
    valid_until: dt.date | None
    due_date: dt.date | None
    net_total: Money
    vat_total: Money
    total: Money
    paid_total: Money
    balance: Money
    is_overdue: bool
    customer_name: str
    customer_details: str
    notes: str
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentPage(Page):
    items: list[DocumentOut]


class VatOut(Schema):
    rate: Money
    amount: Money


class DocumentDetailOut(DocumentOut):
    lines: list[DocumentLineOut]
    vat_by_rate: list[VatOut]


class DocumentCreateIn(StrictInput):
    """What ``document_create`` takes; the lines are copied from the deal."""

    deal_id: int
    template_id: int | None = None
    notes: str = Field(default="", max_length=5000)


class QuoteCreateIn(DocumentCreateIn):
    valid_days: int = Field(default=14, ge=0, le=3650, description="valid until today + days")


class InvoiceCreateIn(DocumentCreateIn):
    due_days: int = Field(default=5, ge=0, le=3650, description="payment due today + days")


class DocumentSendIn(StrictInput):
    to: list[str] = Field(description="recipients' e-mail addresses")
    subject: str = Field(default="", max_length=255)
    message: str = Field(default="", max_length=10000)


class PaymentOut(Schema):
    id: int
    document_id: int
    amount: Money
    paid_on: dt.date
    method: str
    reference: str
    created_by_id: int | None
    created_at: dt.datetime


class PaymentPage(Page):
    items: list[PaymentOut]


class PaymentIn(StrictInput):
    amount: LooseMoney
    paid_on: dt.date | None = Field(default=None, description="defaults to today")
    method: str = Field(default="", max_length=64)
    reference: str = Field(default="", max_length=128)
