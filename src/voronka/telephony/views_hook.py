"""The inbound webhook a PBX posts call events to: ``/telephony/hook/<token>/``.

No login and no cookie (so no CSRF); the token finds the integration and the provider's
signature proves the sender. A refused request answers 4xx with ``{"detail", "errors"}``
(the API's error shape), writes nothing but the integration's "last error", and the PBX
sees what to fix. Mango appends the event's path (``/events/call``) to the address; those
paths reach the same view."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from voronka.core.errors import ServiceValidationError
from voronka.telephony import adapters, selectors, services
from voronka.telephony.models import Provider

log = logging.getLogger("voronka.telephony")


def _error(status: int, detail: str, field: str = "") -> JsonResponse:
    errors = [{"field": field, "message": detail}] if field else []
    return JsonResponse(
        {"detail": detail, "errors": errors}, status=status,
        json_dumps_params={"ensure_ascii": False},
    )  # fmt: skip


def _hook_request(request: HttpRequest, rest: str) -> adapters.HookRequest:
    body = request.body  # read first: the form below is parsed from it
    form: dict[str, str] = {}
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = {key: str(value) for key, value in request.POST.items()}
    return adapters.HookRequest(
        method=request.method or "",
        path=rest,
        body=body,
        form=form,
        query={key: str(value) for key, value in request.GET.items()},
        headers=request.headers,
    )


@csrf_exempt
def hook(request: HttpRequest, token: str, rest: str = "") -> HttpResponse:
    """The PBX speaks no language of ours: what a call writes (task titles, timeline text)
    is in the CRM's own language, whatever its request's headers say."""
    with translation.override(settings.LANGUAGE_CODE):
        return _hook(request, token, rest)


def _hook(request: HttpRequest, token: str, rest: str) -> HttpResponse:
    integration = selectors.integration_by_token(token)
    if integration is None:
        return _error(404, _("no such telephony integration: check the address"))
    try:
        hook_request = _hook_request(request, rest)
    except RequestDataTooBig:
        return _error(413, _("the request body is too large"))
    if integration.provider == Provider.ZADARMA:
        echo = adapters.zadarma_echo(hook_request)
        if echo is not None:
            return HttpResponse(echo, content_type="text/plain; charset=utf-8")
    if not integration.active:
        return _error(403, _("this telephony integration is switched off"))
    try:
        events = adapters.parse(integration, hook_request)
        calls = services.hook_receive(integration=integration, events=events)
    except adapters.HookRejected as exc:
        services.integration_record(integration, error=f"{exc.status}: {exc.message}"
                                    + (f" ({exc.field})" if exc.field else ""))  # fmt: skip
        response = _error(exc.status, exc.message, exc.field)
        if exc.status == 405:
            response["Allow"] = "POST"
        return response
    except ServiceValidationError as exc:
        # Data the CRM cannot take (a number it cannot store, say): the PBX should not retry.
        services.integration_record(integration, error=f"422: {exc.detail}")
        return JsonResponse(
            {"detail": exc.detail,
             "errors": [{"field": e.field, "message": e.message} for e in exc.errors]},
            status=422, json_dumps_params={"ensure_ascii": False},
        )  # fmt: skip
    return JsonResponse({"ok": True, "calls": [c.pk for c in calls]})
