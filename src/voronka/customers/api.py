"""Contacts, companies, tags and search over the REST API.

Lists hand the query string straight to ``parse_list_query`` so the API filters, sorts and
pages exactly like the web UI. Single records come through ``get_<entity>_for_user``: a record
the user may not see answers 404 whatever the method."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from ninja import Query, Router, Status

from voronka.core.api import (
    IDEMPOTENCY_DOC,
    ApiRequest,
    PageParams,
    check_query,
    idempotent,
    json_response,
    page_body,
    query_doc,
    simple_page,
)
from voronka.core.errors import NotFound, ServiceValidationError
from voronka.core.models import Channel
from voronka.core.pagination import keyset_page
from voronka.core.schemas import ERRORS
from voronka.customers import selectors, services
from voronka.customers.models import Company, Contact, ContactEmail, ContactPhone, Tag
from voronka.customers.schemas import (
    CompanyIn,
    CompanyOut,
    CompanyPage,
    ContactIn,
    ContactOut,
    ContactPage,
    SearchOut,
    TagIn,
    TagOut,
    TagPage,
    TagPatch,
)

COMMON_FILTERS = (
    ("q", "string", "search text: name, e-mail, phone in any format, INN…"),
    ("owner", "string", "owner's user id, `me` or `none`"),
    ("team", "integer", "owner's team id"),
    ("tag", "string", "tag name; repeat for several (all must match)"),
    ("created_from", "string", "created on or after this date (YYYY-MM-DD)"),
    ("created_to", "string", "created on or before this date (YYYY-MM-DD)"),
    ("updated_from", "string", "updated on or after this date (YYYY-MM-DD)"),
    ("updated_to", "string", "updated on or before this date (YYYY-MM-DD)"),
    ("cf.<key>", "string", "custom field equals (text: contains); `.gte`/`.lte` for ranges"),
    ("cursor", "string", "next_cursor of the previous page"),
    ("limit", "integer", "page size, 1 to 500 (default 50)"),
)
CONTACT_LIST_DOC = query_doc(
    *COMMON_FILTERS,
    ("company", "integer", "company id"),
    ("source", "string", "lead source"),
    ("email_consent", "boolean", "agrees to e-mail marketing"),
    ("sms_consent", "boolean", "agrees to SMS marketing"),
    ("has_email", "boolean", "has at least one e-mail"),
    ("sort", "string", "last_name, first_name, created_at, updated_at, company, position or "
                       "cf.<key>; prefix `-` for descending"),
)  # fmt: skip
COMPANY_LIST_DOC = query_doc(
    *COMMON_FILTERS,
    ("industry", "string", "industry equals"),
    ("region", "string", "region equals"),
    ("size", "string", "size equals (1-10, 11-50, …)"),
    ("inn", "string", "INN equals"),
    ("sort", "string", "name, created_at, updated_at, region, industry, inn or cf.<key>; "
                       "prefix `-` for descending"),
)  # fmt: skip


def _body(payload: ContactIn | CompanyIn) -> dict[str, Any]:
    """Only the keys the client sent: PATCH changes nothing else."""
    return payload.model_dump(exclude_unset=True)


# --- contacts -------------------------------------------------------------------------------

contacts = Router(tags=["contacts"])


def contact_out(contact: Contact) -> dict[str, Any]:
    """The contact as the API shows it; expects emails, phones and tags prefetched."""
    return {
        "id": contact.pk,
        "first_name": contact.first_name,
        "middle_name": contact.middle_name,
        "last_name": contact.last_name,
        "emails": [{"email": e.email, "kind": e.kind} for e in contact.emails.all()],
        "phones": [{"phone": p.phone, "kind": p.kind} for p in contact.phones.all()],
        "company_id": contact.company_id,
        "position": contact.position,
        "birthday": contact.birthday,
        "owner_id": contact.owner_id,
        "source": contact.source,
        "email_consent": contact.email_consent,
        "sms_consent": contact.sms_consent,
        "tags": sorted((t.name for t in contact.tags.all()), key=str.casefold),
        "custom": dict(contact.custom or {}),
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def _written_contact(contact: Contact) -> dict[str, Any]:
    # The record just written by this user; it may now belong to someone they cannot see,
    # so it is rendered from the service's instance rather than fetched again by visibility.
    prefetch_related_objects([contact], "emails", "phones", "tags")
    return contact_out(contact)


# The columns of contact_out that live on the contact row itself.
CONTACT_COLUMNS = (
    "id", "first_name", "middle_name", "last_name", "company_id", "position", "birthday",
    "owner_id", "source", "email_consent", "sms_consent", "custom", "created_at", "updated_at",
)  # fmt: skip


def _contact_rows_out(rows: list[Any]) -> list[dict[str, Any]]:
    """``contact_out`` of a page read as plain values: the page's e-mails, phones and tags in
    one query each, no model instances (W4: about a third of a list request's CPU went into
    building contacts, companies, owners and their children as objects)."""
    ids = [row.id for row in rows]
    emails: dict[int, list[dict[str, str]]] = defaultdict(list)
    phones: dict[int, list[dict[str, str]]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        for contact_id, email, kind in (
            ContactEmail.objects.filter(contact_id__in=ids)
            .order_by("id")
            .values_list("contact_id", "email", "kind")
        ):
            emails[contact_id].append({"email": email, "kind": kind})
        for contact_id, phone, kind in (
            ContactPhone.objects.filter(contact_id__in=ids)
            .order_by("id")
            .values_list("contact_id", "phone", "kind")
        ):
            phones[contact_id].append({"phone": phone, "kind": kind})
        for contact_id, name in (
            Contact.tags.through.objects.filter(contact_id__in=ids)
            .order_by("tag__name_folded")
            .values_list("contact_id", "tag__name")
        ):
            tags[contact_id].append(name)
    return [
        {
            "id": row.id,
            "first_name": row.first_name,
            "middle_name": row.middle_name,
            "last_name": row.last_name,
            "emails": emails.get(row.id, []),
            "phones": phones.get(row.id, []),
            "company_id": row.company_id,
            "position": row.position,
            "birthday": row.birthday,
            "owner_id": row.owner_id,
            "source": row.source,
            "email_consent": row.email_consent,
            "sms_consent": row.sms_consent,
            "tags": sorted(tags.get(row.id, []), key=str.casefold),
            "custom": dict(row.custom or {}),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]


@contacts.get("", response={200: ContactPage, **ERRORS}, openapi_extra=CONTACT_LIST_DOC)
def list_contacts(request: ApiRequest) -> HttpResponse:
    """Contacts the caller may see, filtered, sorted and paged by cursor.

    The same rows, order and cursor as ``selectors.contact_list`` (same visibility, filters
    and keyset), read as values. The body is built here in ContactPage's exact shape and
    rendered by the API's own renderer, skipping ninja's re-validation of 50 dicts we built
    ourselves; tests/api/test_fast_paths.py checks it against the schema's output."""
    params = check_query(request.GET)
    query = selectors.parse_list_query(selectors.CONTACT_SPEC, params, request.auth)
    extra = [k.name for k in query.sort if k.name not in CONTACT_COLUMNS]
    qs = selectors.filtered_queryset(selectors.CONTACT_SPEC, request.auth, query)
    page = keyset_page(
        qs.values_list(*CONTACT_COLUMNS, *extra, named=True), query.sort, query.cursor,
        query.limit,
    )  # fmt: skip
    body = {"items": _contact_rows_out(page.items), "next_cursor": page.next_cursor}
    return json_response(request, body)


@contacts.post("", response={201: ContactOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_contact(request: ApiRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    """Create a contact; the owner defaults to the caller."""
    contact = services.contact_create(
        actor=request.auth, data=_body(payload), channel=Channel.API, keep_children=True
    )
    return Status(201, _written_contact(contact))


@contacts.get("/{contact_id}", response={200: ContactOut, **ERRORS})
def read_contact(request: ApiRequest, contact_id: int) -> dict[str, Any]:
    return contact_out(selectors.get_contact_for_user(request.auth, contact_id))


@contacts.patch("/{contact_id}", response={200: ContactOut, **ERRORS})
def update_contact(request: ApiRequest, contact_id: int, payload: ContactIn) -> dict[str, Any]:
    """Change only the keys sent; emails, phones and tags given replace the old ones."""
    contact = selectors.get_contact_for_user(request.auth, contact_id, write=True)
    contact = services.contact_update(
        actor=request.auth, contact=contact, changes=_body(payload), channel=Channel.API
    )
    return _written_contact(contact)


@contacts.delete("/{contact_id}", response={204: None, **ERRORS})
def delete_contact(request: ApiRequest, contact_id: int) -> Status[None]:
    contact = selectors.get_contact_for_user(request.auth, contact_id, write=True)
    services.contact_delete(actor=request.auth, contact=contact, channel=Channel.API)
    return Status(204, None)


# --- companies ------------------------------------------------------------------------------

companies = Router(tags=["companies"])


def company_out(company: Company) -> dict[str, Any]:
    """The company as the API shows it; expects tags and addresses prefetched."""
    return {
        "id": company.pk,
        "name": company.name,
        "legal_name": company.legal_name,
        "inn": company.inn,
        "industry": company.industry,
        "size": company.size,
        "website": company.website,
        "phone": company.phone,
        "email": company.email,
        "region": company.region,
        "owner_id": company.owner_id,
        "tags": sorted((t.name for t in company.tags.all()), key=str.casefold),
        "addresses": [{"kind": a.kind, "address": a.address} for a in company.addresses.all()],
        "custom": dict(company.custom or {}),
        "created_at": company.created_at,
        "updated_at": company.updated_at,
    }


def _written_company(company: Company) -> dict[str, Any]:
    prefetch_related_objects([company], "tags", "addresses")
    return company_out(company)


@companies.get("", response={200: CompanyPage, **ERRORS}, openapi_extra=COMPANY_LIST_DOC)
def list_companies(request: ApiRequest) -> dict[str, Any]:
    """Companies the caller may see, filtered, sorted and paged by cursor."""
    params = check_query(request.GET)
    query = selectors.parse_list_query(selectors.COMPANY_SPEC, params, request.auth)
    return page_body(selectors.company_list(request.auth, query), company_out)


@companies.post("", response={201: CompanyOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_company(request: ApiRequest, payload: CompanyIn) -> Status[dict[str, Any]]:
    """Create a company; the owner defaults to the caller."""
    company = services.company_create(actor=request.auth, data=_body(payload), channel=Channel.API)
    return Status(201, _written_company(company))


@companies.get("/{company_id}", response={200: CompanyOut, **ERRORS})
def read_company(request: ApiRequest, company_id: int) -> dict[str, Any]:
    return company_out(selectors.get_company_for_user(request.auth, company_id))


@companies.patch("/{company_id}", response={200: CompanyOut, **ERRORS})
def update_company(request: ApiRequest, company_id: int, payload: CompanyIn) -> dict[str, Any]:
    """Change only the keys sent; tags and addresses given replace the old ones."""
    company = selectors.get_company_for_user(request.auth, company_id, write=True)
    company = services.company_update(
        actor=request.auth, company=company, changes=_body(payload), channel=Channel.API
    )
    return _written_company(company)


@companies.delete("/{company_id}", response={204: None, **ERRORS})
def delete_company(request: ApiRequest, company_id: int) -> Status[None]:
    company = selectors.get_company_for_user(request.auth, company_id, write=True)
    services.company_delete(actor=request.auth, company=company, channel=Channel.API)
    return Status(204, None)


# --- tags -----------------------------------------------------------------------------------

tags = Router(tags=["tags"])


def tag_out(tag: Tag) -> dict[str, Any]:
    return {"id": tag.pk, "name": tag.name, "color": tag.color}


def _get_tag(tag_id: int) -> Tag:
    tag = selectors.tags_all().filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(f"tag {tag_id} not found")
    return tag


@tags.get("", response={200: TagPage, **ERRORS})
def list_tags(request: ApiRequest, page: Query[PageParams]) -> dict[str, Any]:
    """Every tag (tags are shared by everyone), by name."""
    return page_body(simple_page(selectors.tags_all(), ["name_folded", "id"], page), tag_out)


@tags.post("", response={201: TagOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_tag(request: ApiRequest, payload: TagIn) -> Status[dict[str, Any]]:
    tag = services.tag_create(actor=request.auth, name=payload.name, color=payload.color)
    return Status(201, tag_out(tag))


@tags.get("/{tag_id}", response={200: TagOut, **ERRORS})
def read_tag(request: ApiRequest, tag_id: int) -> dict[str, Any]:
    return tag_out(_get_tag(tag_id))


@tags.patch("/{tag_id}", response={200: TagOut, **ERRORS})
def update_tag(request: ApiRequest, tag_id: int, payload: TagPatch) -> dict[str, Any]:
    tag = services.tag_update(
        actor=request.auth, tag=_get_tag(tag_id), name=payload.name, color=payload.color
    )
    return tag_out(tag)


@tags.delete("/{tag_id}", response={204: None, **ERRORS})
def delete_tag(request: ApiRequest, tag_id: int) -> Status[None]:
    """Administrators only: a tag may be on records the caller cannot see."""
    services.tag_delete(actor=request.auth, tag=_get_tag(tag_id))
    return Status(204, None)


# --- search ---------------------------------------------------------------------------------

search = Router(tags=["search"])


@search.get("", response={200: SearchOut, **ERRORS})
def search_all(request: ApiRequest, q: str = "", limit: int = 8) -> dict[str, Any]:
    """Contacts and companies matching ``q`` (a name, e-mail, phone in any format, INN…)."""
    if not 1 <= limit <= 50:
        raise ServiceValidationError.single("limit", "must be between 1 and 50")
    found_contacts = selectors.contact_search(request.auth, q, limit=limit)
    found_companies = selectors.company_search(request.auth, q, limit=limit)
    prefetch_related_objects(found_contacts, "tags")
    prefetch_related_objects(found_companies, "tags", "addresses")
    return {
        "contacts": [contact_out(c) for c in found_contacts],
        "companies": [company_out(c) for c in found_companies],
    }
