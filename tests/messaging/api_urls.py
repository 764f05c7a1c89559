"""The URL map for the messaging API tests: until voronka/api.py mounts the messaging routers,
they are mounted here on an API configured like the real one."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI

from voronka import urls as project_urls
from voronka.accounts.api import AUTH
from voronka.api import api as project_api
from voronka.core.api import StrictParser, install_error_handlers
from voronka.messaging.api import message_templates, messages


def _mounted() -> bool:
    return any(router is messages for _prefix, router in project_api._routers)


if _mounted():
    urlpatterns = list(project_urls.urlpatterns)
else:
    api = NinjaAPI(
        title="Voronka API (messaging tests)", version="1", urls_namespace="api", auth=AUTH,
        parser=StrictParser(),
    )  # fmt: skip
    install_error_handlers(api)
    api.add_router("/message-templates", message_templates)
    api.add_router("/messages", messages)
    urlpatterns = [
        path("api/v1/", api.urls),
        *(p for p in project_urls.urlpatterns if not str(p.pattern).startswith("api/v1/")),
    ]
