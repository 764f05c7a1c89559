from voronka.messaging.views import urlpatterns

app_name = "messaging"
__all__ = ["app_name", "urlpatterns"]
