"""Telephony addresses. The webhook answers with and without a trailing slash and with a
path after the token, since Mango appends "/events/call" to the address it is given."""

from django.urls import path, re_path

from voronka.telephony import views, views_hook

app_name = "telephony"
urlpatterns: list = [
    path("", views.integrations, name="integrations"),
    path("integrations/<int:pk>/", views.integration, name="integration"),
    path("integrations/<int:pk>/rotate/", views.integration_rotate, name="integration_rotate"),
    path("integrations/<int:pk>/delete/", views.integration_delete, name="integration_delete"),
    path("integrations/<int:pk>/extensions/", views.extension_add, name="extension_add"),
    path("extensions/<int:pk>/delete/", views.extension_delete, name="extension_delete"),
    path("numbers/", views.numbers, name="numbers"),
    path("numbers/<int:pk>/", views.number_edit, name="number_edit"),
    path("numbers/<int:pk>/delete/", views.number_delete, name="number_delete"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:pk>/", views.call, name="call"),
    path("ringing/", views.ringing, name="ringing"),
    path("ringing/<int:pk>/dismiss/", views.ringing_dismiss, name="ringing_dismiss"),
    path("hook/<str:token>/", views_hook.hook, name="hook"),
    re_path(r"^hook/(?P<token>[A-Za-z0-9_-]+)$", views_hook.hook),
    re_path(r"^hook/(?P<token>[A-Za-z0-9_-]+)/+(?P<rest>[A-Za-z0-9_/.-]+)$", views_hook.hook),
]
