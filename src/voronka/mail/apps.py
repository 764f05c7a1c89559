from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "voronka.mail"
    label = "mail"
    verbose_name = "Mail"
