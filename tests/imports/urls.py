"""The URL map of the import tests: the project's, with the imports API mounted.

src/voronka/api.py mounts the imports router once it is wired in; until then these tests
mount it on an API of their own under the same /api/v1/ prefix and "api" namespace."""

from __future__ import annotations

import os

from django.urls import path
from ninja import NinjaAPI

from voronka import urls as project_urls
from voronka.accounts.api import AUTH
from voronka.api import api as project_api
from voronka.core.api import StrictParser, install_error_handlers
from voronka.imports.api import imports

if any(registration[1] is imports for registration in project_api._router_registrations):
    urlpatterns = list(project_urls.urlpatterns)
else:
    os.environ.setdefault("NINJA_SKIP_REGISTRY", "1")
    test_api = NinjaAPI(
        title="Voronka API (imports tests)", version="test", urls_namespace="api", auth=AUTH,
        parser=StrictParser(),
    )  # fmt: skip
    install_error_handlers(test_api)
    test_api.add_router("/imports", imports)
    urlpatterns = [
        path("api/v1/", test_api.urls),
        *[p for p in project_urls.urlpatterns if str(p.pattern) != "api/v1/"],
    ]
