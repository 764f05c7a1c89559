from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "voronka.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from voronka.core import periodic
        from voronka.inbox import timeline_provider
        from voronka.inbox.services import deliver_due

        periodic.register("inbox.deliver", 5.0, deliver_due)
        timeline_provider.register()
