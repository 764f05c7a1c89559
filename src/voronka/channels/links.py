"""The public addresses of forms and lead sources, as the administrator copies them.

Absolute URLs are built from the request, so they name the host people reached Voronka by."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from voronka.channels.models import LeadSource, WebForm


def public_links(request: HttpRequest, form: WebForm) -> dict[str, str]:
    """The hosted page, the embed script, the JSON endpoint, and the snippet for a website."""
    page = request.build_absolute_uri(reverse("channels:form_page", args=[form.token]))
    script = request.build_absolute_uri(reverse("channels:form_embed", args=[form.token]))
    submit = request.build_absolute_uri(reverse("channels:form_submit", args=[form.token]))
    snippet = f'<div id="voronka-form-{form.token}"></div>\n<script src="{script}" async></script>'
    return {"page_url": page, "script_url": script, "submit_url": submit, "snippet": snippet}


def hook_url(request: HttpRequest, source: LeadSource, secret: str = "") -> str:
    """The webhook address; with ``secret`` in it for senders that take only a URL."""
    url = request.build_absolute_uri(reverse("channels:hook", args=[source.token]))
    return f"{url}?{urlencode({'secret': secret})}" if secret else url
