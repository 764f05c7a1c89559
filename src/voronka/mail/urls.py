"""The administrator's mail pages under /mail/: mailboxes, their settings and sync."""

from voronka.mail import views

app_name = "mail"
urlpatterns: list = [*views.urlpatterns]
