"""The URL map for the channels API tests.

Until voronka/api.py mounts the channels routers, the tests mount them on an API of their
own, configured like the real one (same authentication, parser and error handlers). Once
they are mounted, this is simply the project's URL map."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI

from voronka import urls as project_urls
from voronka.accounts.api import AUTH
from voronka.api import api as project_api
from voronka.channels.api import lead_sources, web_forms
from voronka.core.api import StrictParser, install_error_handlers


def _mounted() -> bool:
    return any(router is web_forms for _prefix, router in project_api._routers)


if _mounted():
    urlpatterns = list(project_urls.urlpatterns)
else:
    api = NinjaAPI(
        title="Voronka API (channels tests)", version="1", urls_namespace="api", auth=AUTH,
        parser=StrictParser(),
    )  # fmt: skip
    install_error_handlers(api)
    api.add_router("/web-forms", web_forms)
    api.add_router("/lead-sources", lead_sources)
    urlpatterns = [
        path("api/v1/", api.urls),
        *(p for p in project_urls.urlpatterns if not str(p.pattern).startswith("api/v1/")),
    ]
