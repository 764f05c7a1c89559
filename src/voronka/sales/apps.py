from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "voronka.sales"
    label = "sales"
    verbose_name = "Sales"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from voronka.core.custom_fields import register_entity
        from voronka.sales import timeline_provider

        register_entity("sales.deal", str(_("Deals")))
        register_entity("sales.lead", str(_("Leads")))
        timeline_provider.register()

        from voronka.core import periodic
        from voronka.sales.services import reminders_deliver_due

        periodic.register("sales.reminders", 15.0, reminders_deliver_due)

        from voronka.core import demo
        from voronka.sales import demo as sales_demo

        demo.register_step(sales_demo.load)

        from voronka.core.panels import Panel, register_panel

        for entity in ("contact", "company"):
            register_panel(Panel(entity, "deals", f"sales:{entity}_deals", order=10))
            register_panel(Panel(entity, "activities", f"sales:{entity}_activities", order=20))

        from voronka.sales import merge_movers

        merge_movers.register()
