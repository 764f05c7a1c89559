"""URL map: the web UI per domain, the REST API under /api/v1, and /healthz."""

from django.urls import include, path

from voronka.api import api
from voronka.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("accounts/", include("voronka.accounts.urls")),
    path("customers/", include("voronka.customers.urls")),
    path("sales/", include("voronka.sales.urls")),
    path("inbox/", include("voronka.inbox.urls")),
    path("mail/", include("voronka.mail.urls")),
    path("telegram/", include("voronka.telegram.urls")),
    path("telephony/", include("voronka.telephony.urls")),
    path("channels/", include("voronka.channels.urls")),
    path("imports/", include("voronka.imports.urls")),
    path("messaging/", include("voronka.messaging.urls")),
    path("webhooks/", include("voronka.webhooks.urls")),
    path("automation/", include("voronka.automation.urls")),
    path("", include("voronka.web.urls")),
]
