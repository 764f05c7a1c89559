"""Imports at /imports/: the list with the upload form, then one page per import."""

from django.urls import path

from voronka.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/preview/", views.import_preview, name="preview"),
    path("<int:pk>/check/", views.import_check, name="check"),
    path("<int:pk>/start/", views.import_start, name="start"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/report.csv", views.import_report, name="report"),
    path("<int:pk>/undo/", views.import_undo, name="undo"),
    path("<int:pk>/resume/", views.import_resume, name="resume"),
    path("<int:pk>/cancel/", views.import_cancel, name="cancel"),
]
