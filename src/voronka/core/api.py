"""API plumbing every domain router uses (authentication, errors, idempotency, pages) and the
custom field definitions endpoints.

Endpoints stay thin: parse input, fetch through a selector or access helper, call a service,
return a dict shaped like the response schema. Every failure becomes the same JSON error shape
(``{"detail": …, "errors": [{"field", "message"}]}``) through the handlers installed here."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.types import DictStrAny

from voronka.core.errors import FieldError, Forbidden, NotFound, ServiceValidationError
from voronka.core.models import Channel, CustomField, IdempotencyKey
from voronka.core.pagination import Page, SortKey, keyset_page
from voronka.core.schemas import (
    ERRORS,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPage,
    CustomFieldPatch,
)
from voronka.core.services import custom_field_create, custom_field_delete, custom_field_update


class ApiRequest(HttpRequest):
    """A request that passed authentication: ``auth`` is the user (see accounts.api.AUTH)."""

    auth: Any


def require_admin(user: Any) -> None:
    """Definitions (custom fields, teams) are not owned records: others get 403."""
    if not user.is_admin:
        raise Forbidden(_("only an administrator may do this"))


# --- input ----------------------------------------------------------------------------------

NUL_MESSAGE = "must not contain the NUL character"


def _nul_at(value: Any, path: str = "") -> str | None:
    """The field holding a NUL character, which PostgreSQL cannot store (nor search for)."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return name
            if found := _nul_at(item, name):
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if found := _nul_at(item, f"{path}[{i}]"):
                return found
    return None


class StrictParser(Parser):
    """JSON bodies and query strings without NUL characters, so bad input is a 4xx on every
    database rather than a 500 on PostgreSQL."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = json.loads(request.body)
        if field := _nul_at(data):
            # ninja wraps this in a 400; the handler below unwraps it into a 422.
            raise ServiceValidationError.single(field, NUL_MESSAGE)
        return cast(DictStrAny, data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> DictStrAny:
        check_query(data)
        return super().parse_querydict(data, list_fields, request)


def check_query(params: MultiValueDict[str, Any]) -> MultiValueDict[str, Any]:
    """The query string, refused when a parameter holds a NUL character."""
    for name, values in params.lists():
        if "\x00" in name or any("\x00" in str(v) for v in values):
            raise ServiceValidationError.single(name.replace("\x00", "") or "query", NUL_MESSAGE)
    return params


# --- errors ---------------------------------------------------------------------------------


def error_body(detail: str, errors: Iterable[FieldError] = ()) -> dict[str, Any]:
    return {"detail": detail, "errors": [{"field": e.field, "message": e.message} for e in errors]}


def _field_name(loc: Iterable[Any]) -> str:
    """("body", "payload", "emails", 0, "email") → "emails[0].email"."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    elif parts and parts[0] in {"query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return _("unknown field")
    if error.get("type") == "missing":
        return _("this field is required")
    return str(error.get("msg", _("invalid value")))


def install_error_handlers(api: NinjaAPI) -> None:
    """Every 4xx is ``{"detail", "errors"}``; bad input never reaches a 500."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ServiceValidationError)
    def service_invalid(request: HttpRequest, exc: ServiceValidationError) -> HttpResponse:
        return respond(request, 422, error_body(exc.detail, exc.errors))

    @api.exception_handler(NotFound)
    def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return respond(request, 404, error_body(_("not found")))

    @api.exception_handler(Http404)
    def http404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(_("not found")))

    @api.exception_handler(Forbidden)
    def forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
        return respond(request, 403, error_body(str(exc) or _("forbidden")))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request, 401,
            error_body(_("authentication required: send the header Authorization: Bearer <key>")),
        )  # fmt: skip
        response["WWW-Authenticate"] = 'Bearer realm="voronka"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, ServiceValidationError):
            return service_invalid(request, exc.__cause__)
        if exc.status_code == 400:
            # ninja raises this for a body that is not JSON.
            errors = [FieldError("body", _("the request body is not valid JSON"))]
            return respond(request, 400, error_body(_("malformed JSON body"), errors))
        return respond(request, exc.status_code, error_body(str(exc)))

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors):
            # /contacts/abc: no record has that id, so it is simply not found.
            return respond(request, 404, error_body(_("not found")))
        errors = [FieldError(_field_name(e.get("loc", ())), _message(e)) for e in exc.errors]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return respond(request, 422, error_body(detail, errors))


# --- idempotency ----------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        stored.body, status=stored.status_code, content_type="application/json; charset=utf-8"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _stored(user: Any, key: str, path: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key, path=path).first()


def _idempotency_key(request: HttpRequest) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if len(key) > 255:
        raise ServiceValidationError.single(IDEMPOTENCY_HEADER, _("is longer than 255 characters"))
    return key


def _record_first_answer(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Around ninja's whole operation (auth, view, rendering): keep the rendered 2xx answer in
    the same transaction as the record it created, so a retry can never create a second one."""

    @functools.wraps(run)
    def wrapper(request: ApiRequest, **kwargs: Any) -> HttpResponse:
        if not request.headers.get(IDEMPOTENCY_HEADER, "").strip():
            return run(request, **kwargs)
        try:
            with transaction.atomic():
                response = run(request, **kwargs)
                pending = getattr(request, "_voronka_idempotency", None)
                if pending and 200 <= response.status_code < 300:
                    IdempotencyKey.objects.create(
                        user=request.auth,
                        key=pending, path=request.path[:512],
                        status_code=response.status_code, body=response.content.decode(),
                    )  # fmt: skip
                elif not 200 <= response.status_code < 300:
                    transaction.set_rollback(True)
        except IntegrityError:
            # A concurrent request with the same key committed first: answer as it did.
            user = getattr(request, "auth", None)
            stored = _stored(user, request.headers[IDEMPOTENCY_HEADER].strip(), request.path[:512])
            if stored is None:
                raise
            return _replay(stored)
        return response

    return wrapper


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """For POST endpoints that create: an ``Idempotency-Key`` header makes a retry return the
    first answer (same status and body) instead of creating a second record.

    Put it under the ``@router.post`` decorator. Only 2xx answers are kept: a request that
    failed wrote nothing, so its retry runs again."""

    @functools.wraps(view)
    def wrapper(request: ApiRequest, *args: Any, **kwargs: Any) -> Any:
        key = _idempotency_key(request)
        if not key:
            return view(request, *args, **kwargs)
        stored = _stored(request.auth, key, request.path[:512])
        if stored is not None:
            return _replay(stored)
        request._voronka_idempotency = key  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    # ninja resolves string annotations in the wrapper's module; hand it the resolved ones.
    wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return decorate_view(_record_first_answer)(wrapper)


IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retrying with the same key returns the first answer "
            "instead of creating a second record.",
        }
    ]
}


# --- pages ----------------------------------------------------------------------------------


def patch_body(payload: Any) -> dict[str, Any]:
    """Only the keys the client sent: a PATCH changes nothing else."""
    return dict(payload.model_dump(exclude_unset=True))


class PageParams(Schema):
    cursor: str | None = None
    limit: int = 50


def json_response(request: HttpRequest, body: Any, status: int = 200) -> HttpResponse:
    """``body`` rendered exactly as ninja renders a validated answer (same renderer, encoder
    and content type), for hot endpoints that build their answer in the response schema's
    shape themselves and return it as an HttpResponse, which ninja passes through as is."""
    from voronka.api import api  # the instance that routes to us; imported late (cycle)

    return api.create_response(request, body, status=status)


def page_body(page: Page[Any], render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The one shape of every list answer."""
    return {"items": [render(item) for item in page.items], "next_cursor": page.next_cursor}


def simple_page(qs: Any, keys: list[str], params: PageParams) -> Page[Any]:
    """A keyset page of a small, unowned table (users, teams, tags, field definitions)."""
    if not 1 <= params.limit <= 500:
        raise ServiceValidationError.single("limit", _("must be between 1 and 500"))
    return keyset_page(qs, [SortKey(k) for k in keys], params.cursor, params.limit)


def query_doc(*params: tuple[str, str, str]) -> dict[str, Any]:
    """OpenAPI entries for query parameters parsed by a selector rather than by ninja."""
    return {
        "parameters": [
            {"in": "query", "name": name, "required": False, "schema": {"type": kind},
             "description": description}
            for name, kind, description in params
        ]
    }  # fmt: skip


# --- custom field definitions -----------------------------------------------------------------

custom_fields = Router(tags=["custom fields"])


def custom_field_out(field: CustomField) -> dict[str, Any]:
    return {
        "id": field.pk, "entity": field.entity, "key": field.key, "label": field.label,
        "type": field.type, "required": field.required, "options": list(field.options or []),
        "position": field.position, "created_at": field.created_at,
    }  # fmt: skip


def _get_field(field_id: int) -> CustomField:
    field = CustomField.objects.filter(pk=field_id).first()
    if field is None:
        raise NotFound(f"custom field {field_id} not found")
    return field


@custom_fields.get("", response={200: CustomFieldPage, **ERRORS})
def list_custom_fields(
    request: ApiRequest, page: Query[PageParams], entity: str | None = None
) -> dict[str, Any]:
    """Definitions of custom fields, optionally of one entity (customers.contact, …)."""
    qs = CustomField.objects.all()
    if entity:
        qs = qs.filter(entity=entity)
    return page_body(simple_page(qs, ["entity", "position", "id"], page), custom_field_out)


@custom_fields.post("", response={201: CustomFieldOut, **ERRORS}, openapi_extra=IDEMPOTENCY_DOC)
@idempotent
def create_custom_field(request: ApiRequest, payload: CustomFieldIn) -> Status[dict[str, Any]]:
    require_admin(request.auth)
    field = custom_field_create(**payload.model_dump(), actor=request.auth, channel=Channel.API)
    return Status(201, custom_field_out(field))


@custom_fields.get("/{field_id}", response={200: CustomFieldOut, **ERRORS})
def read_custom_field(request: ApiRequest, field_id: int) -> dict[str, Any]:
    return custom_field_out(_get_field(field_id))


@custom_fields.patch("/{field_id}", response={200: CustomFieldOut, **ERRORS})
def update_custom_field(
    request: ApiRequest, field_id: int, payload: CustomFieldPatch
) -> dict[str, Any]:
    require_admin(request.auth)
    field = custom_field_update(
        field=_get_field(field_id), changes=payload.model_dump(exclude_unset=True),
        actor=request.auth, channel=Channel.API,
    )  # fmt: skip
    return custom_field_out(field)


@custom_fields.delete("/{field_id}", response={204: None, **ERRORS})
def delete_custom_field(request: ApiRequest, field_id: int) -> Status[None]:
    require_admin(request.auth)
    custom_field_delete(field=_get_field(field_id), actor=request.auth, channel=Channel.API)
    return Status(204, None)
