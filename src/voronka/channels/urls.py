"""The channels pages under /channels/: the administrator's web forms and lead sources, and
the public endpoints (hosted forms, the embed script, JSON submit, inbound webhooks)."""

from voronka.channels import views, views_public, views_sources

app_name = "channels"
urlpatterns: list = [
    *views.urlpatterns,
    *views_sources.urlpatterns,
    *views_public.urlpatterns,
]
