"""The customer base's pages under /customers/. Contacts and companies share the views."""

from django.urls import path

from voronka.customers import urls_merge, views, views_cards, views_fields

app_name = "customers"


def _record_urls(kind: str, plural: str, list_name: str) -> list:
    k = {"kind": kind}
    return [
        path(f"{plural}/", views.record_list, k, name=list_name),
        path(f"{plural}/new/", views_cards.record_new, k, name=f"{kind}_new"),
        path(f"{plural}/bulk/", views.record_bulk, k, name=f"{kind}_bulk"),
        path(f"{plural}/export/", views.record_export, k, name=f"{kind}_export"),
        path(f"{plural}/views/", views.saved_view_create, k, name=f"{kind}_view_create"),
        path(
            f"{plural}/views/<int:pk>/delete/",
            views.saved_view_delete,
            k,
            name=f"{kind}_view_delete",
        ),
        path(f"{plural}/<int:pk>/", views_cards.record_card, k, name=kind),
        path(
            f"{plural}/<int:pk>/section/<slug:section>/",
            views_cards.record_section,
            k,
            name=f"{kind}_section",
        ),
        path(
            f"{plural}/<int:pk>/timeline/", views_cards.record_timeline, k, name=f"{kind}_timeline"
        ),
        path(f"{plural}/<int:pk>/notes/", views_cards.record_note, k, name=f"{kind}_note"),
        path(f"{plural}/<int:pk>/delete/", views_cards.record_delete, k, name=f"{kind}_delete"),
    ]


urlpatterns = [
    path("companies/lookup/", views.company_lookup, name="company_lookup"),
    *_record_urls("contact", "contacts", "contacts"),
    *_record_urls("company", "companies", "companies"),
    path("fields/", views_fields.custom_fields, name="custom_fields"),
    path("fields/<int:pk>/", views_fields.custom_field_edit, name="custom_field_edit"),
    path("fields/<int:pk>/delete/", views_fields.custom_field_delete, name="custom_field_delete"),
    *urls_merge.urlpatterns,
]
