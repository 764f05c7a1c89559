from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "voronka.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # The outbox dispatcher runs in every worker; consumers register from their own apps.
        from voronka.core import dispatch

        dispatch.register_periodic()
