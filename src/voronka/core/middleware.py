"""Keep every answer under /api/ in the API's JSON error shape.

django-ninja answers a method an endpoint does not have with a plain-text 405; an integrator's
client expects ``{"detail", "errors"}`` like every other API error, so it is rewritten here."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            body = {
                "detail": _("method %(method)s is not allowed here") % {"method": request.method},
                "errors": [],
            }
            rewritten = HttpResponse(
                json.dumps(body), status=405, content_type="application/json; charset=utf-8"
            )
            if response.has_header("Allow"):
                rewritten["Allow"] = response["Allow"]
            return rewritten
        return response
