from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "voronka.telegram"
    label = "telegram"
    verbose_name = "Telegram"
