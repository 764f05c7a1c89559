from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "voronka.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from voronka.core import dispatch, periodic
        from voronka.core.panels import Panel, register_panel
        from voronka.webhooks import services

        dispatch.register_consumer(services.CONSUMER, services.on_event)
        periodic.register("webhooks.deliveries", 1.0, services.deliveries_send_due)
        periodic.register("webhooks.stage_actions", 2.0, services.runs_send_due)
        register_panel(Panel("deal", "stage_actions", "webhooks:deal_stage_actions", order=5))
