from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "voronka.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        """Consume domain events and register the periodic jobs (scan dates and schedules,
        resume waits, deliver webhook calls)."""
        from voronka.automation import engine, services
        from voronka.core import periodic

        try:
            from voronka.core.dispatch import register_consumer
        except ImportError:  # the dispatcher lands with the webhooks part
            pass
        else:
            register_consumer("automation.rules", engine.consume)
        periodic.register("automation.scan_dates", 300, services.scan_dates)
        periodic.register("automation.resume_waits", 30, engine.resume_due)
        periodic.register("automation.http_calls", 30, services.deliver_http_calls)
