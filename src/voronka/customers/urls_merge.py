"""URLs of the duplicates page and of compare-and-merge, included into ``customers.urls`` (so
their names are ``customers:contact_duplicates``, ``customers:contact_merge`` …)."""

from django.urls import path

from voronka.customers import views_merge

urlpatterns = [
    path(
        "duplicates/contacts/",
        views_merge.duplicates,
        {"kind": "contact"},
        name="contact_duplicates",
    ),
    path(
        "duplicates/companies/",
        views_merge.duplicates,
        {"kind": "company"},
        name="company_duplicates",
    ),
    path("contacts/merge/", views_merge.merge_compare, {"kind": "contact"}, name="contact_merge"),
    path("companies/merge/", views_merge.merge_compare, {"kind": "company"}, name="company_merge"),
]
