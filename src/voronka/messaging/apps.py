from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "voronka.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from voronka.core import dispatch, periodic
        from voronka.core.panels import Panel, register_panel
        from voronka.messaging import staff_mail, timeline_provider
        from voronka.messaging.delivery import deliver_due

        periodic.register("messaging.deliver", 3.0, deliver_due)
        timeline_provider.register()
        dispatch.register_consumer(
            staff_mail.CONSUMER, staff_mail.on_event, events=set(staff_mail.EVENTS)
        )
        register_panel(Panel("contact", "messages", "messaging:contact_messages", order=30))
