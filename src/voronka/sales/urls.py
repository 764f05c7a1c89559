"""The sales pages under /sales/: each area's module brings its own URL patterns."""

from django.urls import path

from voronka.sales.feeds import calendar_feed_view
from voronka.sales.views import (
    activities,
    catalog,
    dashboard,
    deals,
    documents,
    kanban,
    leads,
    setup,
)

app_name = "sales"
urlpatterns: list = [
    path("calendar/<str:token>.ics", calendar_feed_view, name="calendar_feed"),
    *leads.urlpatterns,
    *deals.urlpatterns,
    *kanban.urlpatterns,
    *activities.urlpatterns,
    *catalog.urlpatterns,
    *setup.urlpatterns,
    *documents.urlpatterns,
    *dashboard.urlpatterns,
]
