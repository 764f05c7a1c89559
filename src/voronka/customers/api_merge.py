"""Merging duplicate contacts and companies over the REST API.

``POST /contacts/{id}/merge`` with ``{"others": [ids], "values": {field: choice}}`` merges the
others into the contact ``id`` and answers with it; ``/companies/{id}/merge`` does the same for
companies. Every record must be visible to the caller (404 otherwise) and the caller's role
must be allowed to edit (403). A bad body is a 422 naming the field; nothing is written."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import prefetch_related_objects
from ninja import Router
from pydantic import WithJsonSchema

from voronka.core.api import ApiRequest
from voronka.core.models import Channel
from voronka.core.schemas import ERRORS, StrictInput
from voronka.customers.api import company_out, contact_out
from voronka.customers.merge import company_merge, contact_merge
from voronka.customers.schemas import CompanyOut, ContactOut

LooseIds = Annotated[
    Any, WithJsonSchema({"type": "array", "items": {"type": "integer"}, "minItems": 1})
]
LooseChoices = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "description": 'per field: "survivor", the id of a merged record, "union" (e-mails, '
            'phones, tags, addresses; their default) or a value of its own ({"value": x} '
            'when x could be read as an id). Custom fields as "custom.<key>". Fields left '
            "out keep the survivor's value, or take another record's when it has none.",
        }
    ),
]


class MergeIn(StrictInput):
    others: LooseIds
    values: LooseChoices = None


MERGE_DOC = {
    "description": "Merge the records listed in `others` into this one, in one transaction. "
    "Their notes, deals, activities and leads (and a company's contacts) move here; e-mails, "
    "phones, tags and addresses are united; the others are deleted and a `merge` history "
    "entry lists their ids and values. Publishes `contact.merged` / `company.merged`."
}

contacts_merge = Router(tags=["contacts"])
companies_merge = Router(tags=["companies"])


@contacts_merge.post(
    "/{contact_id}/merge", response={200: ContactOut, **ERRORS}, openapi_extra=MERGE_DOC
)
def merge_contacts(request: ApiRequest, contact_id: int, payload: MergeIn) -> dict[str, Any]:
    """Merge duplicate contacts into this one and return it."""
    contact = contact_merge(
        actor=request.auth, survivor_id=contact_id, other_ids=payload.others,
        values=payload.values, channel=Channel.API,
    )  # fmt: skip
    prefetch_related_objects([contact], "emails", "phones", "tags")
    return contact_out(contact)


@companies_merge.post(
    "/{company_id}/merge", response={200: CompanyOut, **ERRORS}, openapi_extra=MERGE_DOC
)
def merge_companies(request: ApiRequest, company_id: int, payload: MergeIn) -> dict[str, Any]:
    """Merge duplicate companies into this one and return it."""
    company = company_merge(
        actor=request.auth, survivor_id=company_id, other_ids=payload.others,
        values=payload.values, channel=Channel.API,
    )  # fmt: skip
    prefetch_related_objects([company], "tags", "addresses")
    return company_out(company)
