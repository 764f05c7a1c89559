from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "voronka.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from voronka.core import demo, dispatch, periodic
        from voronka.core.panels import Panel, register_panel
        from voronka.inbox import demo as inbox_demo
        from voronka.inbox import services, timeline_provider

        periodic.register("inbox.deliver", 5.0, services.deliver_due)
        timeline_provider.register()
        demo.register_step(inbox_demo.load)
        register_panel(Panel("contact", "conversations", "inbox:contact_panel", order=25))
        dispatch.register_consumer(
            services.LEAD_CONVERTED_CONSUMER,
            services.on_lead_converted,
            events={"lead.converted"},
        )
