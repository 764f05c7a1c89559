from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "voronka.telephony"
    label = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        from voronka.core import periodic
        from voronka.telephony.services import alerts_expire

        periodic.register("telephony.alerts_expire", 600.0, alerts_expire)
