from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "voronka.web"
    label = "web"
    verbose_name = "Web"
