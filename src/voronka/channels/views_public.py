"""The public side of channels: no login, reached by token.

- the hosted page of a form (a plain HTML form that works without JavaScript);
- the embed script, which draws the form into a div on any website;
- the JSON submit endpoint the script posts to, with CORS so another site may call it;
- the inbound lead webhook of a lead source.

None of them sets or reads a cookie, so CSRF protection (which guards a signed-in session)
does not apply; the rate limit and the honeypot keep robots out instead."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from voronka.channels import selectors
from voronka.channels.catalog import form_inputs
from voronka.channels.models import LeadSource, WebForm
from voronka.channels.services import (
    SpamDetected,
    Visit,
    form_submit,
    inbound_lead_receive,
    secret_matches,
)
from voronka.channels.services.submissions import CONSENT, HONEYPOT, UTM_KEYS
from voronka.channels.throttle import RateLimited
from voronka.core.errors import FieldError, ServiceValidationError

SECRET_HEADER = "X-Voronka-Secret"  # noqa: S105 (a header name)
JSON_TYPE = "application/json"


# --- helpers ------------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address. Behind N trusted reverse proxies (VORONKA_NUM_PROXIES), the
    N-th address from the right of X-Forwarded-For; otherwise the socket's peer."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "VORONKA_NUM_PROXIES", 0) or 0)
    if proxies > 0:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [p for p in chain if p]
        if chain:
            candidate = chain[-min(proxies, len(chain))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def error_json(status: int, detail: str, errors: list[FieldError] | tuple[()] = ()) -> JsonResponse:
    """The API's error shape, so one client handles both."""
    body = {"detail": detail, "errors": [{"field": e.field, "message": e.message} for e in errors]}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _invalid(exc: ServiceValidationError) -> JsonResponse:
    return error_json(400, exc.detail, exc.errors)


def _parse_json(request: HttpRequest) -> Any:
    """The JSON body; ServiceValidationError naming ``body`` when it is not JSON."""
    try:
        return json.loads(request.body or b"")
    except (ValueError, RecursionError) as exc:
        raise ServiceValidationError(
            [FieldError("body", _("the request body is not valid JSON"))],
            detail=_("malformed JSON body"),
        ) from exc


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type == JSON_TYPE or content_type.endswith("+json")


def _post_values(form: WebForm, post: Any) -> dict[str, Any]:
    """A form-encoded body as the service's values: lists for multi-selects."""
    values: dict[str, Any] = {key: post.get(key) for key in post}
    for item in form_inputs(form.fields):
        if item.widget == "multiselect":
            values[item.key] = post.getlist(item.key)
    return values


def _visit(request: HttpRequest, values: Mapping[str, Any]) -> Visit:
    utm = values.get("utm") if isinstance(values.get("utm"), Mapping) else {}
    utm = {key: utm.get(key) or values.get(key) for key in UTM_KEYS}  # type: ignore[union-attr]
    return Visit(
        ip=client_ip(request),
        referrer=values.get("referrer") or "",
        page_url=values.get("page_url") or request.headers.get("Referer", ""),
        user_agent=request.headers.get("User-Agent", ""),
        utm=utm,
    )


# --- CORS ---------------------------------------------------------------------------------------


def origin_allowed(form: WebForm, origin: str) -> bool:
    """Any site, unless the form names its sites. A request without an Origin header does
    not come from a browser page and is let through (the header proves nothing then)."""
    if not origin or not form.allowed_origins:
        return True
    return origin.rstrip("/").lower() in form.allowed_origins


def with_cors(response: HttpResponse, form: WebForm | None, origin: str) -> HttpResponse:
    if form is not None and form.allowed_origins:
        if origin and origin_allowed(form, origin):
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    else:
        response["Access-Control-Allow-Origin"] = "*"
    return response


def _preflight(form: WebForm | None, origin: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return with_cors(response, form, origin)


# --- hosted page --------------------------------------------------------------------------------


def _page_context(
    request: HttpRequest,
    form: WebForm,
    *,
    values: Mapping[str, Any],
    errors: dict[str, list[str]],
    visit: Mapping[str, str],
) -> dict[str, Any]:
    inputs = form_inputs(form.fields, values=dict(values), errors=errors)
    shown = {i.key for i in inputs} | {CONSENT}
    return {
        "form": form,
        "inputs": inputs,
        "values": values,
        "errors": errors,
        "consent_checked": str(values.get(CONSENT, "")).lower() in {"on", "true", "1"},
        "other_errors": [m for k, msgs in errors.items() if k not in shown for m in msgs],
        "visit": visit,
        "honeypot": HONEYPOT,
        "action": request.path,
    }


def _visit_fields(request: HttpRequest) -> dict[str, str]:
    """UTM tags from the page address and where the visitor came from, carried as hidden
    inputs from the GET that showed the form to the POST that sends it."""
    out = {key: request.GET.get(key, "")[:255] for key in UTM_KEYS}
    out["referrer"] = request.headers.get("Referer", "")[:2000]
    out["page_url"] = request.build_absolute_uri()[:2000]
    return out


@csrf_exempt
@xframe_options_exempt
def form_page(request: HttpRequest, token: str) -> HttpResponse:
    form = selectors.public_form(token)
    if form is None:
        return render(request, "channels/public_closed.html", status=404)
    if request.method == "POST":
        values = _post_values(form, request.POST)
        visit_fields = {k: str(values.get(k) or "") for k in (*UTM_KEYS, "referrer", "page_url")}
        try:
            form_submit(form=form, values=values, visit=_visit(request, values))
        except SpamDetected:
            pass
        except RateLimited as exc:
            ctx = _page_context(request, form, values=values, errors={}, visit=visit_fields)
            ctx["other_errors"] = [_("Too many attempts. Wait a minute and send again.")]
            response = render(request, "channels/public_form.html", ctx, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except ServiceValidationError as exc:
            errors: dict[str, list[str]] = {}
            for err in exc.errors:
                errors.setdefault(err.field, []).append(err.message)
            ctx = _page_context(request, form, values=values, errors=errors, visit=visit_fields)
            return render(request, "channels/public_form.html", ctx, status=400)
        if form.redirect_url:
            return HttpResponseRedirect(form.redirect_url)
        return redirect("channels:form_thanks", token=form.token)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    ctx = _page_context(request, form, values={}, errors={}, visit=_visit_fields(request))
    return render(request, "channels/public_form.html", ctx)


@xframe_options_exempt
def form_thanks(request: HttpRequest, token: str) -> HttpResponse:
    form = WebForm.objects.filter(token=token).first()
    if form is None:
        raise Http404("no such form")
    return render(request, "channels/public_thanks.html", {"form": form})


# --- embed script and JSON submit -----------------------------------------------------------------


def embed_config(request: HttpRequest, form: WebForm) -> dict[str, Any]:
    """What the embed script needs to draw the form and talk to us."""
    return {
        "token": form.token,
        "mount_id": f"voronka-form-{form.token}",
        "submit_url": request.build_absolute_uri(
            reverse("channels:form_submit", args=[form.token])
        ),
        "title": form.title,
        "button": form.button_text or _("Send"),
        "fields": [i.as_json() for i in form_inputs(form.fields)],
        "consent": form.consent_text if form.consent_required else "",
        "honeypot": HONEYPOT,
        "texts": {
            "required": _("required"),
            "sending": _("Sending…"),
            "thanks": form.success_message or _("Thank you! We will get back to you soon."),
            "fix": _("Please correct the marked fields."),
            "network": _("Could not send the form. Check your connection and try again."),
            "busy": _("Too many attempts. Wait a minute and send again."),
            "closed": _("This form no longer accepts submissions."),
            "choose": _("Choose…"),
            "honeypot": _("Leave this field empty"),
            "yes": _("Yes"),
        },
    }


def form_embed(request: HttpRequest, token: str) -> HttpResponse:
    form = selectors.public_form(token)
    if form is None:
        body = "/* Voronka: this form does not exist or is switched off. */\n"
        return HttpResponse(body, status=404, content_type="text/javascript; charset=utf-8")
    config = json.dumps(embed_config(request, form), ensure_ascii=False)
    # "</" cannot end a script here (this is a .js file), but escape it anyway for copy-paste.
    script = render_to_string(
        "channels/embed.js",
        {"config": mark_safe(config.replace("</", "<\\/"))},  # noqa: S308
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Language"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _json_values(request: HttpRequest, form: WebForm) -> dict[str, Any]:
    if _is_json(request):
        payload = _parse_json(request)
        if not isinstance(payload, dict):
            raise ServiceValidationError.single("body", _("must be a JSON object"))
        return payload
    return _post_values(form, request.POST)


@csrf_exempt
def form_submit_json(request: HttpRequest, token: str) -> HttpResponse:
    """POST JSON (or a form-encoded body) → 201, or 400 with the fields at fault."""
    origin = request.headers.get("Origin", "")
    form = selectors.public_form(token)
    if request.method == "OPTIONS":
        return _preflight(form, origin)
    if form is None:
        detail = _("This form no longer accepts submissions.")
        return with_cors(error_json(404, detail), None, origin)
    if request.method != "POST":
        response = error_json(
            405, _("method %(method)s is not allowed here") % {"method": request.method}
        )
        response["Allow"] = "POST, OPTIONS"
        return with_cors(response, form, origin)
    if not origin_allowed(form, origin):
        return with_cors(error_json(403, _("this website may not send this form")), form, origin)
    try:
        values = _json_values(request, form)
        form_submit(form=form, values=values, visit=_visit(request, values))
    except SpamDetected:
        pass
    except RateLimited as exc:
        response = error_json(429, _("Too many attempts. Wait a minute and send again."))
        response["Retry-After"] = str(exc.retry_after)
        return with_cors(response, form, origin)
    except ServiceValidationError as exc:
        return with_cors(_invalid(exc), form, origin)
    body = {
        "ok": True,
        "message": form.success_message or _("Thank you! We will get back to you soon."),
        "redirect_url": form.redirect_url,
    }
    return with_cors(
        JsonResponse(body, status=201, json_dumps_params={"ensure_ascii": False}), form, origin
    )


# --- inbound lead webhook ---------------------------------------------------------------------


def _secret(request: HttpRequest) -> str:
    return request.headers.get(SECRET_HEADER, "") or request.GET.get("secret", "")


@csrf_exempt
def lead_hook(request: HttpRequest, token: str) -> HttpResponse:
    """POST JSON → 201 ``{"lead_id", "created": true}``; the same ``external_id`` again →
    200 with the same lead and ``"created": false``."""
    if request.method != "POST":
        response = error_json(
            405, _("method %(method)s is not allowed here") % {"method": request.method}
        )
        response["Allow"] = "POST"
        return response
    source: LeadSource | None = selectors.source_by_token(token)
    if source is None:
        return error_json(404, _("no such lead source"))
    if not secret_matches(source, _secret(request)):
        detail = _("wrong or missing secret: send it in the %(header)s header or ?secret=")
        return error_json(
            403,
            detail % {"header": SECRET_HEADER},
            [FieldError("secret", _("is wrong or missing"))],
        )
    if not source.active:
        return error_json(403, _("this lead source is switched off"))
    try:
        lead, created = inbound_lead_receive(source=source, payload=_parse_json(request))
    except ServiceValidationError as exc:
        return _invalid(exc)
    body = {"lead_id": lead.pk if lead else None, "created": created}
    return JsonResponse(body, status=201 if created else 200)


urlpatterns = [
    path("f/<str:token>/", form_page, name="form_page"),
    path("f/<str:token>/thanks/", form_thanks, name="form_thanks"),
    path("f/<str:token>/embed.js", form_embed, name="form_embed"),
    path("f/<str:token>/submit/", form_submit_json, name="form_submit"),
    path("hooks/<str:token>/", lead_hook, name="hook"),
]
