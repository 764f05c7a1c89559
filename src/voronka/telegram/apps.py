from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "voronka.telegram"
    label = "telegram"
    verbose_name = "Telegram"

    def ready(self) -> None:
        """Replies in Telegram conversations go through our sender; every worker polls the
        polling bots and takes kept updates into the inbox every 2 seconds."""
        from voronka.core import periodic
        from voronka.inbox.services import register_sender
        from voronka.telegram.services import run_due, send_reply

        register_sender("telegram", send_reply)
        periodic.register("telegram.poll", 2.0, run_due)
