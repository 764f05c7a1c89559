from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "voronka.telephony"
    label = "telephony"
    verbose_name = "Telephony"
